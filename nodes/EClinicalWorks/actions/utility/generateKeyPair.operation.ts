import { updateDisplayOptions } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { generateKeyPair } from '../../fhir/auth/keys';
import type { SigningAlgorithm } from '../../fhir/auth/assertion';
import { InputError } from '../../fhir/errors';

const properties: INodeProperties[] = [
	{
		displayName:
			'The private key appears in this node\'s output and so in the execution log. Copy it into the credential, then delete this execution (or run it with execution saving turned off).',
		name: 'keyPairNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'For Server',
		name: 'keyServer',
		type: 'options',
		options: [
			{ name: 'eClinicalWorks (RS384)', value: 'ecw', description: 'An RSA key: eClinicalWorks documents RS384 only' },
			{ name: 'Other SMART on FHIR Server', value: 'other', description: 'RS384 (RSA) or ES384 (EC P-384)' },
		],
		default: 'ecw',
		description: 'The server the key is for: it decides which signing algorithms can be used',
	},
	// shown for eClinicalWorks too (RS384 only), so a value set through JSON or the API reaches the
	// node and is refused there instead of being dropped by n8n and silently replaced
	{
		displayName: 'Algorithm',
		name: 'keyAlgorithm',
		type: 'options',
		options: [{ name: 'RS384 (RSA)', value: 'RS384' }],
		default: 'RS384',
		description: 'Signing algorithm: eClinicalWorks documents RS384 only; set the same one in the credential',
		displayOptions: { show: { keyServer: ['ecw'] } },
	},
	{
		displayName: 'Algorithm',
		name: 'keyAlgorithm',
		type: 'options',
		options: [
			{ name: 'RS384 (RSA)', value: 'RS384' },
			{ name: 'ES384 (EC P-384)', value: 'ES384' },
		],
		default: 'RS384',
		description: 'Signing algorithm; set the same one in the credential',
		displayOptions: { show: { keyServer: ['other'] } },
	},
	{
		displayName: 'RSA Key Size',
		name: 'keySize',
		type: 'options',
		options: [
			{ name: '2048 Bits', value: 2048 },
			{ name: '3072 Bits', value: 3072 },
		],
		default: 2048,
		displayOptions: { hide: { keyAlgorithm: ['ES384'] } },
	},
	{
		displayName: 'Key ID (Kid)',
		name: 'keyId',
		type: 'string',
		default: '',
		description: 'Leave empty to use the key\'s RFC 7638 thumbprint (the credential uses the same default)',
	},
];

const displayOptions = { show: { resource: ['utility'], operation: ['generateKeyPair'] } };

export const description = updateDisplayOptions(displayOptions, properties);

/**
 * Whether the node runs as an AI agent's tool: n8n runs a tool through a context that says so
 * (`isToolExecution`, n8n 1.x agents and sub-node tools), and names the tool variant of a node
 * `...Tool` (every version, also n8n 2.x agents that run tools as engine requests).
 */
function runsAsTool(ctx: IExecuteFunctions): boolean {
	const isToolExecution = (ctx as { isToolExecution?: () => boolean }).isToolExecution;
	if (typeof isToolExecution === 'function' && isToolExecution.call(ctx) === true) return true;
	return /Tool$/.test(ctx.getNode().type);
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	if (runsAsTool(this)) {
		throw new InputError(
			'Operation',
			'Generate Key Pair does not run as an AI agent tool: its output holds a private key, which would be handed to the model',
			'Make the key pair in a workflow of its own: add an eClinicalWorks node (not a tool), Resource Key Pair (Setup), Operation Generate Key Pair, run it, copy the private key into the credential, then delete that execution. Or use the openssl commands in the documentation (docs/credentials.md, Key pair with openssl).',
		);
	}
	const server = this.getNodeParameter('keyServer', itemIndex, 'ecw') as string;
	const requested = String(this.getNodeParameter('keyAlgorithm', itemIndex, 'RS384') ?? 'RS384');
	if (server !== 'other' && requested !== 'RS384') {
		// set through JSON or the API (the editor hides Algorithm for eClinicalWorks): refuse, never replace
		throw new InputError(
			'Algorithm',
			`is "${requested.slice(0, 20)}", but For Server is "${server.slice(0, 20)}": eClinicalWorks documents RS384 only`,
			'Set For Server to "Other SMART on FHIR Server" for an ES384 key, or set Algorithm to RS384 for eClinicalWorks.',
		);
	}
	const algorithm = requested as SigningAlgorithm;
	if (algorithm !== 'RS384' && algorithm !== 'ES384') {
		throw new InputError('Algorithm', `"${String(algorithm).slice(0, 20)}" is not supported`, 'Choose RS384 or ES384.');
	}
	const keySize = Number(this.getNodeParameter('keySize', itemIndex, 2048));
	if (algorithm === 'RS384' && keySize !== 2048 && keySize !== 3072) {
		throw new InputError('RSA Key Size', 'must be 2048 or 3072', 'Choose 2048 or 3072 bits.');
	}
	const kid = String(this.getNodeParameter('keyId', itemIndex, '') ?? '').trim();
	const pair = generateKeyPair({ algorithm, modulusLength: keySize as 2048 | 3072, kid: kid || undefined });
	return [
		{
			json: {
				algorithm: pair.algorithm,
				kid: pair.kid,
				privateKeyPem: pair.privateKeyPem,
				jwks: pair.jwks,
				jwksJson: JSON.stringify(pair.jwks, null, 2),
				instructions: [
					'1. Host jwksJson at an HTTPS URL the FHIR server can reach (e.g. https://your-domain/.well-known/jwks.json).',
					'2. Register that JWKS URL with your app (eClinicalWorks developer portal: your backend app\'s JWKS URL; ask eCW to allow-list it).',
					`3. In the eClinicalWorks credential: Authentication Method = Private Key JWT, Algorithm = ${pair.algorithm}, Key ID = ${pair.kid} (or leave empty), Private Key = privateKeyPem.`,
					'4. Save and test the credential. Then delete this execution: it holds the private key.',
				],
			},
			pairedItem: { item: itemIndex },
		},
	];
}
