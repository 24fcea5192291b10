import type { INodeProperties } from 'n8n-workflow';

import type { ResourceModule } from '../types';
import * as getCapabilities from './getCapabilities.operation';

const operationField: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['server'] } },
	options: [
		{
			name: 'Get Capabilities',
			value: 'getCapabilities',
			description:
				'What the FHIR server offers (its CapabilityStatement): resource types, search parameters and operations. Use it to see which searches are possible.',
			action: 'Get server capabilities',
		},
	],
	default: 'getCapabilities',
};

export const serverResource: ResourceModule = {
	displayName: 'Server',
	value: 'server',
	description: 'Information about the FHIR server itself',
	properties: [operationField, ...getCapabilities.description],
	operations: {
		getCapabilities: getCapabilities.execute,
	},
};
