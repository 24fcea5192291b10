import type { INodeProperties } from 'n8n-workflow';

import type { ResourceModule } from '../types';
import * as everything from './everything.operation';
import * as get from './get.operation';
import * as search from './search.operation';

const operationField: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['patient'] } },
	options: [
		{
			name: 'Get',
			value: 'get',
			description: 'Get one patient by FHIR patient ID',
			action: 'Get a patient',
		},
		{
			name: 'Get Full Record',
			value: 'everything',
			description:
				"Get everything the server holds about one patient (FHIR $everything): visits, conditions, medications, coverage, ... Only where the server offers it.",
			action: 'Get the full record of a patient',
		},
		{
			name: 'Search',
			value: 'search',
			description:
				'Find patients by name, birth date, gender, phone, MRN or ID. At least one criterion is required.',
			action: 'Search patients',
		},
	],
	default: 'search',
};

export const patientResource: ResourceModule = {
	displayName: 'Patient',
	value: 'patient',
	description: 'Find patients and read their demographics or full record',
	properties: [operationField, ...search.description, ...get.description, ...everything.description],
	operations: {
		search: search.execute,
		get: get.execute,
		everything: everything.execute,
	},
};
