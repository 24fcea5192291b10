import type { INodeProperties } from 'n8n-workflow';

/**
 * The optional per-item "Practice Code" field. `getFhirClient` reads a node parameter named
 * `practiceCode` when the node has one: add this field to the node's properties (after
 * Authentication) to let a workflow loop over practices item by item.
 */
export const practiceCodeField: INodeProperties = {
	displayName: 'Practice Code',
	name: 'practiceCode',
	type: 'string',
	default: '',
	placeholder: 'e.g. {{ $json.practiceCode }}',
	description:
		'The eClinicalWorks practice code for this item. Overrides the credential\'s default; needs a credential whose FHIR Base URL contains {practiceCode}. Leave empty to use the credential\'s practice.',
	displayOptions: { hide: { resource: ['utility'] } },
};
