import type { INodeProperties } from 'n8n-workflow';

import { DEFAULT_FILE_DEADLINE_MINUTES, DEFAULT_MAX_FILES, DEFAULT_MAX_LINE_MB, DEFAULT_MAX_RECORDS } from '../../fhir/bulk/limits';

/** Field descriptions of the Bulk Export operations. Each operation picks the ones it shows. */

/**
 * Default of "Parallel Downloads", from `npm run bench:parallel`: at 5 the node matched a plain
 * downloader at 5 (SMART's reference client's default), at 3 it took 1.24x that time, at 8 it
 * gained 2% more while loading the server more (docs/bulk-export.md).
 */
export const DEFAULT_PARALLEL_DOWNLOADS = 5;

/**
 * Files mode splits a file larger than this (MB) into parts that end at a line break. n8n's database
 * binary mode (its default in queue mode) holds each binary item in memory while it stores it, and
 * refuses items over its limit (512 MiB by default). `npm run measure:queue-bulk`, 1 GB on a worker:
 * 2 MB parts peaked at 100 MB above idle for one file and 120 MB for ~50 MB files 5 at a time
 * (4 MB: 97 and 159; 8 MB: 117 and 173; no parts: failed at 1.8 GB, and 677 MB).
 */
export const DEFAULT_FILE_PART_MB = 2;

export const levelField: INodeProperties = {
	displayName: 'Level',
	name: 'level',
	type: 'options',
	options: [
		{
			name: 'Group',
			value: 'group',
			description: 'Patients of one Group (a list the practice built). The only level eClinicalWorks offers.',
		},
		{ name: 'Patient', value: 'patient', description: 'All patients the app may read (not on eClinicalWorks)' },
		{ name: 'System', value: 'system', description: 'Everything the app may read (not on eClinicalWorks)' },
	],
	default: 'group',
	description: 'Which data the export covers',
};

export const groupField: INodeProperties = {
	displayName: 'Group',
	name: 'groupId',
	type: 'resourceLocator',
	default: { mode: 'list', value: '' },
	required: true,
	description:
		'The Group to export. eClinicalWorks: groups are built in the EMR registry and enabled for the app in the practice\'s eCW admin settings for FHIR apps (the menu\'s name differs between public sources).',
	displayOptions: { show: { level: ['group'] } },
	modes: [
		{
			displayName: 'From List',
			name: 'list',
			type: 'list',
			placeholder: 'Select a Group...',
			typeOptions: { searchListMethod: 'searchBulkGroups', searchable: true },
		},
		{
			displayName: 'ID',
			name: 'id',
			type: 'string',
			placeholder: 'e.g. 3f7c1a',
			validation: [
				{
					type: 'regex',
					properties: { regex: '^[A-Za-z0-9\\-.]{1,64}$', errorMessage: 'Use the Group id only (letters, digits, "-" and ".")' },
				},
			],
		},
	],
};

export const resourceTypesField: INodeProperties = {
	displayName: 'Resource Type Names or IDs',
	name: 'resourceTypes',
	type: 'multiOptions',
	typeOptions: { loadOptionsMethod: 'getExportableResourceTypes' },
	default: [],
	description:
		'Resource types to export (_type). Empty = every type the app may read. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
};

export const sinceFields: INodeProperties[] = [
	{
		displayName: 'Since',
		name: 'sinceMode',
		type: 'options',
		options: [
			{ name: 'Everything', value: 'none', description: 'No _since: export all data' },
			{ name: 'Changed Since a Date', value: 'date', description: 'Only resources changed after a date and time' },
			{
				name: 'Since Last Successful Export',
				value: 'lastSuccess',
				description:
					'Use the transactionTime of the last export of the same level, group and types that this workflow downloaded completely (kept in the workflow; production runs only). The first run exports everything.',
			},
		],
		default: 'none',
		description: 'Whether to export only resources changed since a point in time (_since)',
	},
	{
		displayName: 'Changed Since',
		name: 'sinceDate',
		type: 'dateTime',
		default: '',
		description: 'Resources changed after this date and time (the workflow\'s time zone unless the value has an offset)',
		displayOptions: { show: { sinceMode: ['date'] } },
	},
];

export const serverRulesField: INodeProperties = {
	displayName: 'Server Rules',
	name: 'serverRules',
	type: 'options',
	options: [
		{
			name: 'Auto-Detect',
			value: 'auto',
			description: 'The eClinicalWorks rules for eClinicalWorks and healow hosts (or an eCW credential environment), Bulk Data 2.0 otherwise',
		},
		{
			name: 'eClinicalWorks',
			value: 'ecw',
			description: 'Group level, GET, only _type, _since and _outputFormat (other parameters rejected before sending)',
		},
		{ name: 'Bulk Data 2.0', value: 'generic', description: 'All levels, GET or POST, all parameters' },
	],
	default: 'auto',
	description: 'Which bulk export rules to check the fields against',
};

export const advancedParametersField: INodeProperties = {
	displayName: 'Export Parameters',
	name: 'exportParameters',
	type: 'collection',
	placeholder: 'Add Parameter',
	default: {},
	description: 'Bulk Data parameters beyond resource types and since. eClinicalWorks accepts only Output Format.',
	options: [
		{
			displayName: 'Elements',
			name: 'elements',
			type: 'string',
			default: '',
			placeholder: 'name,birthDate,address',
			description: 'Comma-separated element names to keep (_elements); not on eClinicalWorks',
		},
		{
			displayName: 'Kick-Off Method',
			name: 'method',
			type: 'options',
			options: [
				{ name: 'GET (Query Parameters)', value: 'GET' },
				{ name: 'POST (Parameters Body)', value: 'POST' },
			],
			default: 'GET',
			description: 'How to send the kick-off request. eClinicalWorks documents GET only.',
		},
		{
			displayName: 'Output Format',
			name: 'outputFormat',
			type: 'options',
			options: [
				{ name: 'FHIR NDJSON (Application/fhir+ndjson)', value: 'application/fhir+ndjson' },
				{ name: 'NDJSON (Application/ndjson)', value: 'application/ndjson' },
				{ name: 'Ndjson', value: 'ndjson' },
				{ name: 'Server Default', value: '' },
			],
			default: 'application/fhir+ndjson',
			description: 'The _outputFormat parameter',
		},
		{
			displayName: 'Type Filters',
			name: 'typeFilter',
			type: 'string',
			typeOptions: { multipleValues: true },
			default: [],
			placeholder: 'Observation?category=laboratory',
			description: 'One search per entry, ResourceType?parameters (_typeFilter); not on eClinicalWorks',
		},
	],
};

export const pollFields: INodeProperties[] = [
	{
		displayName: 'Poll Interval Floor (Seconds)',
		name: 'pollFloorSeconds',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 30,
		description:
			'Never check the status more often than this, whatever the server says. The server\'s Retry-After is followed when it is longer (eClinicalWorks sends 120).',
	},
	{
		displayName: 'Max Total Wait (Minutes)',
		name: 'maxWaitMinutes',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 60,
		description:
			'Stop waiting after this long and return the status URL and progress; the next run resumes the same export instead of starting another',
	},
];

export const statusUrlField: INodeProperties = {
	displayName: 'Status URL',
	name: 'statusUrl',
	type: 'string',
	default: '={{ $json.statusUrl }}',
	required: true,
	description: 'The status (poll) URL returned by Start or by a timed-out Export',
};

export const downloadFields: INodeProperties[] = [
	{
		displayName: 'Output',
		name: 'outputMode',
		type: 'options',
		options: [
			{
				name: 'Files',
				value: 'files',
				description:
					'One item per file with the NDJSON as binary data, streamed to n8n\'s binary storage (a large file in parts where n8n needs them, see below)',
			},
			{
				name: 'Records',
				value: 'records',
				description: 'One item per FHIR resource, read line by line (use a Limit for large exports; at most Max Records in Memory)',
			},
		],
		default: 'files',
		description: 'How the exported data is returned',
	},
	{
		displayName: 'Binary Property',
		name: 'binaryProperty',
		type: 'string',
		default: 'data',
		description: 'Name of the binary property that holds each file',
		displayOptions: { show: { outputMode: ['files'] } },
	},
	{
		displayName: 'Split Large Files',
		name: 'splitFiles',
		type: 'options',
		options: [
			{
				name: 'Automatic',
				value: 'auto',
				description:
					"Split where n8n holds each binary item in memory while storing it (binary data in the database, n8n's default in queue mode, S3, Azure or memory); keep files whole where n8n streams them to disk (filesystem mode). Found out at run time.",
			},
			{ name: 'Always', value: 'always', description: 'Split every file larger than the size below' },
			{ name: 'Never', value: 'never', description: 'One item per file, whatever its size' },
		],
		default: 'auto',
		description:
			'Whether a large file is output as several items (parts), each ending at a line break, so every part is a valid NDJSON file (fileName Patient-1.part-001.ndjson, with part and parts)',
		displayOptions: { show: { outputMode: ['files'] } },
	},
	{
		displayName: 'Split Files Larger Than (MB)',
		name: 'filePartMb',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: DEFAULT_FILE_PART_MB,
		description:
			"The size of a part. Where binary data is kept in the database, n8n holds each item in memory while it stores it and refuses items over its size limit: small parts keep both in check. 0 = one item per file, whatever its size.",
		displayOptions: { show: { outputMode: ['files'], splitFiles: ['auto', 'always'] } },
	},
	{
		displayName: 'Limit',
		name: 'recordLimit',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 10000,
		description:
			'Max number of records to return; 0 = no limit. n8n keeps all items in memory: use Output "Files" for large exports.',
		displayOptions: { show: { outputMode: ['records'] } },
	},
	{
		displayName: 'Parallel Downloads',
		name: 'parallelDownloads',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 16 },
		default: DEFAULT_PARALLEL_DOWNLOADS,
		description:
			'Files downloaded at the same time. Each file is retried on network errors, 429 and 5xx. 5 is as fast as a standalone Bulk Data client; more mostly loads the server.',
	},
	{
		displayName: 'Error Files',
		name: 'errorFiles',
		type: 'options',
		options: [
			{
				name: 'Output as Items',
				value: 'items',
				description: 'Files mode: one item per error file; Records mode: one item per OperationOutcome with errorFile: true',
			},
			{ name: 'Show a Warning', value: 'warning', description: 'Count the errors and show a warning on the node' },
		],
		default: 'items',
		description: 'What to do with the error files (error[]) the server reports: they are never dropped',
	},
	{
		displayName: 'Download Options',
		name: 'downloadOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		description: 'Limits on what a server may make the node hold or wait for, and the completeness checks',
		options: [
			{
				displayName: 'Attempts per File',
				name: 'fileAttempts',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 20 },
				default: 5,
				description:
					'How many times a file is fetched before the download fails: after a network error, a 429 or 5xx, or a file that did not arrive whole (with backoff between attempts)',
			},
			{
				displayName: 'File Timeout (Minutes)',
				name: 'fileTimeoutMinutes',
				type: 'number',
				typeOptions: { minValue: 0.1 },
				default: DEFAULT_FILE_DEADLINE_MINUTES,
				description:
					'The longest one download of one file may take, first byte to last, however slowly the server keeps sending. Past it the download stops with an error.',
			},
			{
				displayName: 'Max Files',
				name: 'maxFiles',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: DEFAULT_MAX_FILES,
				description:
					'The most files one export may list (output, deleted and error files). A larger export stops before any download, with an error: each file is a request and at least one item.',
			},
			{
				displayName: 'Max Line Size (MB)',
				name: 'maxLineMb',
				type: 'number',
				typeOptions: { minValue: 0.001 },
				default: DEFAULT_MAX_LINE_MB,
				description:
					'The longest NDJSON line (one resource) the node reads. A line is held in memory while it is read; a longer one stops the download with an error.',
			},
			{
				displayName: 'Max Records in Memory',
				name: 'maxRecords',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: DEFAULT_MAX_RECORDS,
				description:
					'Output "Records" only: the most records the node outputs as items. n8n keeps every item in memory and again while it saves the execution (about 1 GB per 100,000 records), so a larger export stops with an error that says to use Output "Files". Sized for a 2 GB n8n process.',
			},
			{
				displayName: 'Verify Files',
				name: 'verifyFiles',
				type: 'boolean',
				default: true,
				description:
					"Whether to compare each file with the export's record count and check every line, fetching a file again when it did not arrive whole. Turn off only for a server whose counts are known to be wrong: a file cut short then goes unnoticed.",
			},
		],
	},
];
