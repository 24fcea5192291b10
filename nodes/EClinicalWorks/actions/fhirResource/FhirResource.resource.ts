import type { INodeProperties } from 'n8n-workflow';

import type { ResourceModule } from '../types';
import * as get from './get.operation';
import * as search from './search.operation';

const operationField: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['fhirResource'] } },
	options: [
		{
			name: 'Get',
			value: 'get',
			description: 'Read one record of any FHIR resource type (Practitioner, Location, Coverage, ...) by its ID',
			action: 'Get a FHIR resource',
		},
		{
			name: 'Search',
			value: 'search',
			description:
				'Search any FHIR resource type the server offers with FHIR search parameters (name/value pairs)',
			action: 'Search FHIR resources',
		},
	],
	default: 'search',
};

export const fhirResourceResource: ResourceModule = {
	displayName: 'FHIR Resource',
	value: 'fhirResource',
	description: 'Any resource type the server offers: Practitioner, Location, Organization, Coverage, Encounter, ...',
	properties: [operationField, ...search.description, ...get.description],
	operations: {
		search: search.execute,
		get: get.execute,
	},
};
