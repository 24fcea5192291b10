import type { INodeProperties } from 'n8n-workflow';

import type { ResourceModule } from '../types';
import * as generateKeyPair from './generateKeyPair.operation';
import * as getPublicJwks from './getPublicJwks.operation';

const operationField: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['utility'] } },
	options: [
		{
			name: 'Generate Key Pair',
			value: 'generateKeyPair',
			description:
				'Create a private key (paste it into the credential) and its public JWKS (host it at the JWKS URL you register with eClinicalWorks)',
			action: 'Generate a key pair',
		},
		{
			name: 'Get Public JWKS',
			value: 'getPublicJwks',
			description: 'The public JWKS of the selected credential\'s private key, to host at the registered JWKS URL',
			action: 'Get the public JWKS',
		},
	],
	default: 'generateKeyPair',
};

export const utilityResource: ResourceModule = {
	displayName: 'Key Pair (Setup)',
	value: 'utility',
	description: 'Set up a backend app: make a key pair and the JWKS to register',
	properties: [operationField, ...generateKeyPair.description, ...getPublicJwks.description],
	operations: {
		generateKeyPair: generateKeyPair.execute,
		getPublicJwks: getPublicJwks.execute,
	},
};
