import { updateDisplayOptions } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { isSigningAlgorithm } from '../../fhir/auth/assertion';
import { publicJwksFromPrivateKey } from '../../fhir/auth/keys';
import { InputError } from '../../fhir/errors';

const properties: INodeProperties[] = [
	{
		displayName:
			'Outputs the public JWKS for the private key in the selected eClinicalWorks credential: host it at the JWKS URL registered with the server. Nothing secret is output.',
		name: 'publicJwksNotice',
		type: 'notice',
		default: '',
	},
];

const displayOptions = { show: { resource: ['utility'], operation: ['getPublicJwks'] } };

export const description = updateDisplayOptions(displayOptions, properties);

async function credentialKey(this: IExecuteFunctions, itemIndex: number): Promise<{ privateKey: string; algorithm: string; keyId: string; jwksUrl: string; authMethod: string }> {
	const authentication = this.getNodeParameter('authentication', itemIndex, 'backendService') as string;
	if (authentication !== 'backendService') {
		throw new InputError('Authentication', 'is User Login; a public JWKS exists only for Backend Service credentials', 'Set Authentication to Backend Service and choose the credential.');
	}
	const data = await this.getCredentials('eClinicalWorksApi', itemIndex);
	return {
		privateKey: typeof data.privateKey === 'string' ? data.privateKey : '',
		algorithm: typeof data.algorithm === 'string' ? data.algorithm : 'RS384',
		keyId: typeof data.keyId === 'string' ? data.keyId : '',
		jwksUrl: typeof data.jwksUrl === 'string' ? data.jwksUrl : '',
		authMethod: typeof data.authMethod === 'string' ? data.authMethod : 'privateKeyJwt',
	};
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const key = await credentialKey.call(this, itemIndex);
	if (key.authMethod !== 'privateKeyJwt') {
		throw new InputError('Authentication Method', 'of the credential uses a client secret, not a key', 'Only Private Key JWT credentials have a public JWKS.');
	}
	if (!isSigningAlgorithm(key.algorithm)) {
		throw new InputError('Algorithm', `"${key.algorithm}" is not supported`, 'Choose RS384 or ES384 in the credential.');
	}
	const result = publicJwksFromPrivateKey(key.privateKey, key.algorithm, key.keyId || undefined);
	return [
		{
			json: {
				algorithm: key.algorithm,
				kid: result.kid,
				jwks: result.jwks,
				jwksJson: JSON.stringify(result.jwks, null, 2),
				jwksUrl: key.jwksUrl || undefined,
			},
			pairedItem: { item: itemIndex },
		},
	];
}
