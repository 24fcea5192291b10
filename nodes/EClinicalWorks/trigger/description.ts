import type { INodeProperties } from 'n8n-workflow';

import { authenticationField, outputField, timeZoneField } from '../actions/common/fields';
import { STATUS_GROUPS } from '../fhir/appointments';

/** Values of the `event` parameter. */
export const EVENT_APPOINTMENT = 'appointmentChanged';
export const EVENT_PATIENT = 'patientChanged';

export const triggerProperties: INodeProperties[] = [
	authenticationField,
	{
		displayName: 'Trigger On',
		name: 'event',
		type: 'options',
		noDataExpression: true,
		required: true,
		options: [
			{
				name: 'Appointment Created or Changed',
				value: EVENT_APPOINTMENT,
				description:
					'A visit is booked, changed or cancelled (Appointment, or eCW visits (Encounter) when the server has no Appointment resource)',
			},
			{
				name: 'Patient Created or Updated',
				value: EVENT_PATIENT,
				description:
					'A patient record is added or changed. Needs a server that searches patients by _lastUpdated (eClinicalWorks does not).',
			},
		],
		default: EVENT_APPOINTMENT,
	},
	{
		displayName: 'Practice Codes',
		name: 'practiceCodes',
		type: 'string',
		default: '',
		placeholder: 'e.g. ABCDEF, GHIJKL',
		description:
			"Practices to watch, separated by commas. Leave empty for the credential's practice. Each practice keeps its own position, so adding one later does not replay the others.",
	},
	outputField(
		'One flat item per record, the same fields as the eClinicalWorks node (for visits: start/end, status, patient, practitioner, location, transport needs), after the event fields',
	),
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { event: [EVENT_APPOINTMENT] } },
		options: [
			{
				displayName: 'Location ID',
				name: 'location',
				type: 'string',
				default: '',
				placeholder: 'e.g. 42',
				description: 'Only visits at this location (the Location ID, or a reference such as Location/42)',
			},
			{
				displayName: 'Page Size',
				name: 'pageSize',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 1000 },
				default: 100,
				description: 'How many records to ask the server for per page',
			},
			{
				displayName: 'Practitioner ID',
				name: 'practitioner',
				type: 'string',
				default: '',
				placeholder: 'e.g. 7',
				description: 'Only visits with this practitioner (the Practitioner ID, or a reference such as Practitioner/7)',
			},
			{
				displayName: 'Status',
				name: 'statuses',
				type: 'multiOptions',
				options: Object.entries(STATUS_GROUPS).map(([value, group]) => ({ name: group.label, value })),
				default: [],
				description:
					'Only visits whose status is now one of these (a visit that had one of them and is then cancelled, deleted or moved out of the watched window is still reported). Leave empty for all.',
			},
			{ ...timeZoneField, description: 'IANA time zone for "today" in Visits Within and for the start/end times in the output. Leave empty to use the workflow time zone.' },
			{
				displayName: 'Visits Within (Days)',
				name: 'daysAhead',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 0,
				description:
					'Only visits from the start of today up to this many days ahead (1 = today, 2 = today and tomorrow, 7 = this week). 0 = no limit on servers that list changed records (_lastUpdated); on servers that cannot, such as eClinicalWorks, the trigger reads this window each poll and 0 means 14 days.',
			},
		],
	},
	{
		displayName: 'Options',
		name: 'patientOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { event: [EVENT_PATIENT] } },
		options: [
			{
				displayName: 'Page Size',
				name: 'pageSize',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 1000 },
				default: 100,
				description: 'How many records to ask the server for per page',
			},
		],
	},
];
