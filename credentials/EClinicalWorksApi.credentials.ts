import { sleep } from 'n8n-workflow';
import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IDataObject,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

import {
	backendSettings,
	CONTEXT_HEADER_NAME,
	credentialErrorText,
	decodeTokenContext,
	ECW_BASE_URL_TEMPLATES,
	ECW_RATE_LIMIT_PER_MINUTE,
	ENVIRONMENT_OPTIONS,
	mintBackendToken,
	pacedHttp,
} from '../nodes/EClinicalWorks/fhir/auth/backend';
import type { BackendSettings } from '../nodes/EClinicalWorks/fhir/auth/backend';
import { tokenCache } from '../nodes/EClinicalWorks/fhir/auth/tokenCache';
import { pacerFor } from '../nodes/EClinicalWorks/fhir/pacer';
import { DEFAULT_ECW_SCOPES } from '../nodes/EClinicalWorks/fhir/scopes';
import { httpFunctionFrom } from '../nodes/EClinicalWorks/transport/n8nHttp';
import { redact } from '../nodes/EClinicalWorks/fhir/redact';
import { credentialSecrets, rateLimitProcessesField, responseOptionFields, responseOptionsOf } from '../nodes/EClinicalWorks/transport/credentialFields';
import { BACKEND_PROBE_RULES, probeUrlExpression } from '../nodes/EClinicalWorks/transport/credentialTest';

const privateKeyJwt = { show: { authMethod: ['privateKeyJwt'] } };
const ecwEnvironments = ['ecwProduction', 'ecwSandbox'];
const clientSecret = { show: { authMethod: ['clientSecretBasic', 'clientSecretPost'] } };

/** The FHIR base URL, resolved as the node does, as an n8n expression body. */
const BASE_URL =
	'(($credentials.baseUrl || "").trim() || ($credentials.environment === "ecwSandbox" ? "' +
	ECW_BASE_URL_TEMPLATES.ecwSandbox +
	'" : "' +
	ECW_BASE_URL_TEMPLATES.ecwProduction +
	'")).replace("{practiceCode}", ($credentials.practiceCode || "").trim()).replace(/\\/+$/, "")';

/** The scopes the credential asks for, as an n8n expression body (another SMART server: its own field, else the earlier one). */
const SCOPES = '($credentials.environment === "custom" ? ($credentials.customScopes || $credentials.scopes) : $credentials.scopes)';

/** The base URL has {practiceCode} and the credential names no practice: each node item names its own. */
function needsNodePracticeCode(credentials: ICredentialDataDecryptedObject): boolean {
	const code = typeof credentials.practiceCode === 'string' ? credentials.practiceCode.trim() : '';
	if (code !== '') return false;
	const raw = typeof credentials.baseUrl === 'string' ? credentials.baseUrl.trim() : '';
	return raw === '' ? credentials.environment !== 'custom' : /\{practiceCode\}/i.test(raw);
}

/** A token minted this recently is not replaced after a failed request: a new one would not help. */
const RECENT_TOKEN_MS = 60_000;

const clock = { now: () => Date.now(), sleep: async (ms: number) => await sleep(ms) };

/**
 * The request's URL: `url` (+ `baseURL`) from n8n's httpRequest helpers, or `uri` (+ `baseUrl`) from
 * the legacy request helpers the HTTP Request node uses with a predefined credential type.
 */
function requestUrl(options: IHttpRequestOptions): URL | undefined {
	const legacy = options as unknown as { uri?: unknown; baseUrl?: unknown };
	const raw: unknown = options.url ?? legacy.uri;
	const base = options.baseURL ?? (typeof legacy.baseUrl === 'string' ? legacy.baseUrl : undefined);
	const text = typeof raw === 'string' ? raw : typeof raw === 'object' && raw instanceof URL ? raw.href : '';
	if (text === '' || !URL.canParse(text, base)) return undefined;
	return new URL(text, base);
}

function settingsOrUndefined(credentials: ICredentialDataDecryptedObject, context = {}): BackendSettings | undefined {
	try {
		return backendSettings(credentials as Record<string, unknown>, context);
	} catch {
		return undefined;
	}
}

export class EClinicalWorksApi implements ICredentialType {
	name = 'eClinicalWorksApi';

	displayName = 'eClinicalWorks (Backend Service) API';

	icon: Icon = { light: 'file:eclinicalworks.svg', dark: 'file:eclinicalworks.dark.svg' };

	documentationUrl = 'https://github.com/n8n-nodes-eclinicalworks/n8n-nodes-eclinicalworks#credentials';

	properties: INodeProperties[] = [
		{
			displayName: 'Environment',
			name: 'environment',
			type: 'options',
			options: ENVIRONMENT_OPTIONS,
			default: 'ecwProduction',
			description:
				'eClinicalWorks presets the FHIR base URL, token discovery and the 250 requests/minute pacing. Choose "Other" for Epic, Oracle Health, athenahealth or any SMART Backend Services server.',
		},
		{
			displayName: 'FHIR Base URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://fhir4.eclinicalworks.com/fhir/r4/{practiceCode}',
			description:
				'FHIR R4 base URL. For eClinicalWorks leave empty (the environment preset is used) or enter it ending with the practice code. {practiceCode} is replaced by the Practice Code below, or by the node\'s Practice Code field (one credential for many practices).',
			required: false,
		},
		{
			displayName: 'Practice Code',
			name: 'practiceCode',
			type: 'string',
			default: '',
			placeholder: 'JAFJCD',
			description:
				'Default eClinicalWorks practice code: it fills {practiceCode} in the FHIR base URL. Each practice gives its code when it enables your app. A node can override it per item.',
		},
		{
			displayName: 'Token URL',
			name: 'tokenUrl',
			type: 'string',
			default: '',
			placeholder: 'Discovered from {base}/.well-known/smart-configuration',
			description:
				'Leave empty to discover it from the FHIR server (eClinicalWorks requires discovery). Enter it for servers without SMART discovery.',
		},
		{
			displayName: 'Client ID',
			name: 'clientId',
			type: 'string',
			default: '',
			required: true,
			description: 'Client ID of the backend app registered with the server (eCW developer portal)',
		},
		{
			displayName: 'Authentication Method',
			name: 'authMethod',
			type: 'options',
			options: [
				{
					name: 'Private Key JWT (SMART Backend Services)',
					value: 'privateKeyJwt',
					description: 'Signed client assertion; the server reads your public key from the registered JWKS URL',
				},
			],
			default: 'privateKeyJwt',
			description: 'eClinicalWorks backend apps sign in with a key only (Private Key JWT), as its documents say',
			displayOptions: { show: { environment: ecwEnvironments } },
		},
		{
			displayName: 'Authentication Method',
			name: 'authMethod',
			type: 'options',
			options: [
				{
					name: 'Private Key JWT (SMART Backend Services)',
					value: 'privateKeyJwt',
					description: 'Signed client assertion; the server reads your public key from the registered JWKS URL',
				},
				{ name: 'Client Secret (HTTP Basic)', value: 'clientSecretBasic' },
				{ name: 'Client Secret (in Request Body)', value: 'clientSecretPost' },
			],
			default: 'privateKeyJwt',
			displayOptions: { show: { environment: ['custom'] } },
		},
		{
			displayName: 'Private Key',
			name: 'privateKey',
			type: 'string',
			typeOptions: { password: true, rows: 8 },
			default: '',
			required: true,
			placeholder: '-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----',
			description:
				'PEM private key (PKCS#8, PKCS#1 RSA, or EC P-384) whose public key is in the JWKS you registered. Use the node\'s "Generate Key Pair" operation to create one.',
			displayOptions: privateKeyJwt,
		},
		{
			displayName: 'Algorithm',
			name: 'algorithm',
			type: 'options',
			options: [{ name: 'RS384 (RSA Key)', value: 'RS384' }],
			default: 'RS384',
			description: 'Signing algorithm of the client assertion. eClinicalWorks documents RS384 only.',
			displayOptions: { show: { authMethod: ['privateKeyJwt'], environment: ecwEnvironments } },
		},
		{
			displayName: 'Algorithm',
			name: 'algorithm',
			type: 'options',
			options: [
				{ name: 'RS384 (RSA Key)', value: 'RS384' },
				{ name: 'ES384 (EC P-384 Key)', value: 'ES384' },
			],
			default: 'RS384',
			description: 'Signing algorithm of the client assertion (SMART Backend Services servers accept RS384 and ES384)',
			displayOptions: { show: { authMethod: ['privateKeyJwt'], environment: ['custom'] } },
		},
		{
			displayName: 'Key ID (Kid)',
			name: 'keyId',
			type: 'string',
			default: '',
			description:
				'The "kid" of the key in your JWKS. Leave empty to use the key\'s RFC 7638 thumbprint (what "Generate Key Pair" uses).',
			displayOptions: privateKeyJwt,
		},
		{
			displayName: 'JWKS URL (Jku)',
			name: 'jwksUrl',
			type: 'string',
			default: '',
			placeholder: 'https://example.com/.well-known/jwks.json',
			description:
				'Optional. Sent as the "jku" header; must be exactly the JWKS URL registered with the server. Leave empty unless the server asks for it.',
			displayOptions: privateKeyJwt,
		},
		{
			displayName: 'Client Secret',
			name: 'clientSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			displayOptions: clientSecret,
		},
		{
			displayName: 'Scopes',
			name: 'scopes',
			type: 'string',
			default: DEFAULT_ECW_SCOPES,
			description:
				'Space-separated scopes, each in a form eClinicalWorks lists in its SMART configuration (Coverage is offered only as system/Coverage.r). Register the same scopes for the app. system/Group.read is added automatically for bulk export only.',
			displayOptions: { show: { environment: ecwEnvironments } },
		},
		{
			displayName: 'Scopes',
			name: 'customScopes',
			type: 'string',
			default: '',
			placeholder: 'Leave empty to ask for what the node reads',
			description:
				'Space-separated scopes. Leave empty: the node asks for Patient, Appointment, Encounter, Practitioner, Location, Organization and Coverage read access, keeping only the types the server\'s CapabilityStatement lists, in the form its SMART configuration offers.',
			displayOptions: { show: { environment: ['custom'] } },
		},
		{
			// Credentials saved before "Other SMART" had its own Scopes field keep theirs here: n8n drops a
			// stored field no property shows, so this hidden one carries it for that environment.
			displayName: 'Scopes (Earlier Field)',
			name: 'scopes',
			type: 'hidden',
			default: '',
			displayOptions: { show: { environment: ['custom'] } },
		},
		{
			displayName: 'Rate Limit (Requests per Minute)',
			name: 'rateLimitPerMinute',
			type: 'number',
			default: ECW_RATE_LIMIT_PER_MINUTE,
			typeOptions: { minValue: 0 },
			description:
				'Client-side pacing per practice, token requests included. eClinicalWorks allows 250 per minute and blocks the rest of the minute after that. 0 = no pacing.',
			displayOptions: { show: { environment: ['ecwProduction', 'ecwSandbox'] } },
		},
		{
			displayName: 'Rate Limit (Requests per Minute)',
			name: 'customRateLimitPerMinute',
			type: 'number',
			default: 0,
			typeOptions: { minValue: 0 },
			description: 'Client-side pacing per FHIR base URL, token requests included. 0 = no pacing.',
			displayOptions: { show: { environment: ['custom'] } },
		},
		rateLimitProcessesField,
		...responseOptionFields,
		{
			displayName: 'Access Token',
			name: 'accessToken',
			type: 'hidden',
			typeOptions: { expirable: true, password: true },
			default: '',
		},
	];

	/**
	 * n8n calls this when the stored token is empty, on a credential test, and after a failed request
	 * of a node that uses this credential through n8n's request helpers (the HTTP Request node with
	 * this credential type: n8n then retries the request once if this returns a token). With an empty
	 * stored token the shared cache's token is used (minted if needed). With a stored token: mint a
	 * new one, unless the current one was minted in the last minute. n8n calls this after any failed
	 * request (a 404 or a 429 too), and a freshly minted token that was refused would not be helped by
	 * another: returning no token keeps the request's own error and costs no token request (eCW counts
	 * those against its 250 a minute) and no repeated request.
	 */
	async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject): Promise<IDataObject> {
		if (needsNodePracticeCode(credentials)) {
			// One credential for many practices: the node signs in per item, for the item's practice
			// (its transport mints the token before this runs). There is nothing to sign in to here.
			return { accessToken: '' };
		}
		const data = credentials as Record<string, unknown>;
		const failed = (error: unknown) => new Error(redact(credentialErrorText(error), credentialSecrets(data)));
		let settings: BackendSettings;
		let response;
		try {
			settings = backendSettings(data);
			response = responseOptionsOf(data);
		} catch (error) {
			throw failed(error);
		}
		const http = httpFunctionFrom(async (options: IHttpRequestOptions) => await this.helpers.httpRequest(options), { ...response, secrets: () => credentialSecrets(data) });
		const paced = pacedHttp(http, pacerFor(settings.baseUrl, settings.rateLimitPerMinute), clock, { waitForNextMinuteOn429: settings.isEcw });
		const mint = async () => await mintBackendToken(paced, settings);
		const stored = typeof credentials.accessToken === 'string' ? credentials.accessToken : '';
		try {
			if (stored === '') return { accessToken: await tokenCache.get(settings.cacheKey, mint) };
			const current = tokenCache.peek(settings.cacheKey);
			if (current && Date.now() - current.obtainedAt < RECENT_TOKEN_MS) return {};
			tokenCache.invalidate(settings.cacheKey, stored);
			return { accessToken: (await tokenCache.refresh(settings.cacheKey, mint)).accessToken };
		} catch (error) {
			throw failed(error);
		}
	}

	/**
	 * Adds the bearer token: the shared cache's current token for this credential, practice and scope
	 * set (kept fresh by the node's transport), else the stored one. Only for the FHIR server's own
	 * origin: a request elsewhere never gets the token. A request that does not come from this
	 * package's nodes (they name their token context in a header and pace themselves), e.g. the HTTP
	 * Request node with this credential type, waits for its turn in the practice's rate limit first.
	 */
	async authenticate(credentials: ICredentialDataDecryptedObject, requestOptions: IHttpRequestOptions): Promise<IHttpRequestOptions> {
		const headers: IDataObject = { ...(requestOptions.headers ?? {}) };
		let contextValue: unknown;
		for (const name of Object.keys(headers)) {
			if (name.toLowerCase() === CONTEXT_HEADER_NAME) {
				contextValue = headers[name];
				delete headers[name];
			}
		}
		const context = decodeTokenContext(contextValue);
		const settings = settingsOrUndefined(credentials, context);
		const url = requestUrl(requestOptions);
		if (!settings || !url || url.origin !== new URL(settings.baseUrl).origin) {
			return { ...requestOptions, headers };
		}
		if (contextValue === undefined) await pacerFor(settings.baseUrl, settings.rateLimitPerMinute)?.acquire(clock);
		const cached = tokenCache.peek(settings.cacheKey)?.accessToken;
		const isDefaultContext = !context.practiceCode && !context.bulk;
		const token = cached ?? (isDefaultContext && typeof credentials.accessToken === 'string' ? credentials.accessToken : '');
		if (token) headers.Authorization = `Bearer ${token}`;
		return { ...requestOptions, headers };
	}

	/** After the token (preAuthentication), one search that proves this practice lets this app read (credentialTest.ts). */
	test: ICredentialTestRequest = {
		request: {
			method: 'GET',
			url: probeUrlExpression(BASE_URL, SCOPES),
			headers: { Accept: 'application/fhir+json' },
		},
		rules: BACKEND_PROBE_RULES,
	};
}
