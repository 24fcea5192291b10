import type { INodeProperties } from 'n8n-workflow';

import type { ResourceModule } from '../types';
import * as checkReadiness from './checkReadiness.operation';
import * as getCapabilities from './getCapabilities.operation';

const operationField: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['server'] } },
	options: [
		{
			name: 'Check Production Readiness',
			value: 'checkReadiness',
			description:
				'The evidence eClinicalWorks\' production review asks for, from this credential and practice: discovery, scopes, an authenticated read, token renewal under load, rate limit and error handling, bulk export and the redirect URI. Returns one item per check and a report file. At most 20 requests without the opt-in options; no patient data.',
			action: 'Check production readiness',
		},
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
	properties: [operationField, ...getCapabilities.description, ...checkReadiness.description],
	operations: {
		getCapabilities: getCapabilities.execute,
		checkReadiness: checkReadiness.execute,
	},
};
