import type { INodeProperties } from 'n8n-workflow';

/** Field descriptions shared by several operations. Each operation adds its own displayOptions. */

export const returnAllField: INodeProperties = {
	displayName: 'Return All',
	name: 'returnAll',
	type: 'boolean',
	default: false,
	description: 'Whether to return all results or only up to a given limit',
};

export function limitField(): INodeProperties {
	return {
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		description: 'Max number of results to return',
		displayOptions: { show: { returnAll: [false] } },
	};
}

export function outputField(simplifiedDescription: string, defaultValue: 'simplified' | 'raw' = 'simplified'): INodeProperties {
	return {
		displayName: 'Output',
		name: 'output',
		type: 'options',
		options: [
			{
				name: 'Simplified',
				value: 'simplified',
				description: simplifiedDescription,
			},
			{
				name: 'Raw FHIR Resource',
				value: 'raw',
				description: 'The FHIR R4 resource exactly as the server returned it',
			},
		],
		default: defaultValue,
		description: 'Flat fields for spreadsheets and messages, or the full FHIR resource',
	};
}

export const timeZoneField: INodeProperties = {
	displayName: 'Time Zone',
	name: 'timeZone',
	type: 'string',
	default: '',
	placeholder: 'America/New_York',
	description:
		'IANA time zone for the date range and for the start/end times in the output. Leave empty to use the workflow time zone.',
};

/** The Resource Type field: the types the server's CapabilityStatement offers for this interaction. */
export function resourceTypeField(interaction: 'search-type' | 'read'): INodeProperties {
	return {
		displayName: 'Resource Type Name or ID',
		name: 'resourceType',
		type: 'options',
		typeOptions: { loadOptionsMethod: interaction === 'read' ? 'getReadableResourceTypes' : 'getSearchableResourceTypes' },
		required: true,
		default: '',
		description: `FHIR resource type to ${interaction === 'read' ? 'read by ID' : 'search'}, e.g. Practitioner, Location, Encounter, Coverage. The list shows the types the server's CapabilityStatement lets you ${interaction === 'read' ? 'read' : 'search'}. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.`,
	};
}

/** How the node signs in: picks the credential (shared by the action node and the trigger). */
export const authenticationField: INodeProperties = {
	displayName: 'Authentication',
	name: 'authentication',
	type: 'options',
	options: [
		{
			name: 'Backend Service (System Access)',
			value: 'backendService',
			description: 'A registered backend app signs in on its own; no person logs in',
		},
		{
			name: 'User Login',
			value: 'userLogin',
			description: 'A person logs in to eClinicalWorks once; n8n keeps the session',
		},
	],
	default: 'backendService',
};
