import type { INodeProperties } from 'n8n-workflow';

/** The fields of Server > Check Production Readiness (without displayOptions: the operation adds them). */

export const readinessProperties: INodeProperties[] = [
	{
		displayName:
			'Checks this credential and practice against eClinicalWorks\' production checklist and returns a report (HTML and Markdown files). Without the opt-in options it makes at most 20 requests and reads no patient beyond one page of one entry.',
		name: 'readinessNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Your Workflows Use',
		name: 'workflowUses',
		type: 'multiOptions',
		options: [
			{ name: 'Bulk Export', value: 'bulkExport', description: 'Group or system exports' },
			{ name: 'FHIR Resource (Get, Search)', value: 'fhirResource', description: 'Any resource type: list them under Options > Other Resource Types' },
			{ name: 'Get Appointments', value: 'appointments', description: 'Appointments, or eCW visits (Encounter), with patient, provider and location' },
			{ name: 'Get Full Record', value: 'fullRecord', description: 'Patient $everything' },
			{ name: 'Patient (Search, Get)', value: 'patient' },
			{ name: 'Trigger (New or Changed Records)', value: 'trigger' },
		],
		default: ['patient', 'fullRecord', 'appointments', 'fhirResource', 'bulkExport', 'trigger'],
		description: 'What your workflows do with the node: the report checks the token covers what they read. Leave all ticked if unsure.',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Bulk Export Group ID',
				name: 'bulkGroupId',
				type: 'string',
				default: '',
				description: 'The Group the Try a Bulk Export option exports (eClinicalWorks exports Groups only). Empty: the first Group the app may list; on other servers a system-level export.',
			},
			{
				displayName: 'Bulk Max Wait (Minutes)',
				name: 'bulkMaxWaitMinutes',
				type: 'number',
				default: 3,
				typeOptions: { minValue: 1, maxValue: 30 },
				description: 'The longest Try a Bulk Export waits for its one status poll (eClinicalWorks asks for 120 s between polls)',
			},
			{
				displayName: 'Bulk Poll Floor (Seconds)',
				name: 'bulkPollFloorSeconds',
				type: 'number',
				default: 30,
				typeOptions: { minValue: 0, maxValue: 600 },
				description: 'Never poll the export status more often than this, as the Bulk Export operation\'s Poll Floor (keep 30 or more for eClinicalWorks)',
			},
			{
				displayName: 'Measure the Rate Limit',
				name: 'measureRateLimit',
				type: 'boolean',
				default: false,
				description: 'Whether to send a burst of reads to show the pacing keeps under the limit with no 429. It spends the practice\'s budget (by default the pace plus 10 requests, about a minute): run it outside working hours.',
			},
			{
				displayName: 'N8n Version',
				name: 'n8nVersion',
				type: 'string',
				default: '',
				placeholder: 'e.g. 2.40.7',
				description: 'Shown in the report (n8n does not tell nodes its version; it is under Help > About n8n)',
			},
			{
				displayName: 'Other Resource Types',
				name: 'resourceTypes',
				type: 'string',
				default: '',
				placeholder: 'e.g. Observation, Condition',
				description: 'Types your FHIR Resource operations read, comma-separated: the report checks the token covers them',
			},
			{
				displayName: 'Put Report in Field',
				name: 'binaryPropertyName',
				type: 'string',
				default: 'report',
				description: 'Binary field of the first output item for the HTML report; the Markdown report goes in the same name followed by Markdown',
			},
			{
				displayName: 'Rate Limit Burst Size',
				name: 'rateLimitBurst',
				type: 'number',
				default: 0,
				typeOptions: { minValue: 0, maxValue: 600 },
				description: 'Reads in the measured burst. 0: the pace plus 10, so the pacing must hold some back.',
			},
			{
				displayName: 'Reads Across the Token Renewal',
				name: 'renewalBurst',
				type: 'number',
				default: 10,
				typeOptions: { minValue: 2, maxValue: 50 },
				description: 'Concurrent reads sent around the forced token renewal',
			},
			{
				displayName: 'Report Format',
				name: 'reportFormat',
				type: 'options',
				options: [
					{ name: 'HTML and Markdown', value: 'both' },
					{ name: 'HTML', value: 'html' },
					{ name: 'Markdown', value: 'markdown' },
				],
				default: 'both',
			},
			{
				displayName: 'Try a Bulk Export',
				name: 'tryBulkExport',
				type: 'boolean',
				default: false,
				description: 'Whether to start a small export (Patient only), check its status once and cancel it. No file is downloaded.',
			},
		],
	},
];
