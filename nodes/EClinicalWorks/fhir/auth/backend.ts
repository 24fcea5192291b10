import { normalizeBaseUrl } from '../client';
import { FhirError, InputError } from '../errors';
import type { HttpFunction } from '../http';
import { shareOfLimit } from '../pacer';
import { DEFAULT_ECW_SCOPES, describeUnsupported, fittedDefaultScopes, unsupportedScopes, withBulkScope, withoutBulkScope } from '../scopes';
import { isSigningAlgorithm } from './assertion';
import type { SigningAlgorithm } from './assertion';
import { discoverResourceTypes, discoverSmartConfiguration, isEcwHost } from './discovery';
import type { SmartConfiguration } from './discovery';
import { defaultKeyId } from './keys';
import { tokenCache, tokenCacheKey } from './tokenCache';
import type { CachedToken } from './tokenCache';
import { requestToken } from './tokenRequest';
import type { ClientAuthMethod } from './tokenRequest';

/**
 * What the backend-service credential means, shared by the credential (preAuthentication,
 * authenticate) and the node's transport, so both compute the same token cache key.
 */

export type Environment = 'ecwProduction' | 'ecwSandbox' | 'custom';

export const ECW_BASE_URL_TEMPLATES: Record<Exclude<Environment, 'custom'>, string> = {
	ecwProduction: 'https://fhir4.eclinicalworks.com/fhir/r4/{practiceCode}',
	ecwSandbox: 'https://staging-fhir.ecwcloud.com/fhir/r4/{practiceCode}',
};

export const ECW_RATE_LIMIT_PER_MINUTE = 250;

/** Header the transport puts on authorized requests so `authenticate` picks the right token; removed before sending. */
export const CONTEXT_HEADER_NAME = 'x-n8n-ecw-token-context';

export interface BackendSettings {
	environment: Environment;
	baseUrl: string;
	practiceCode?: string;
	/** Configured token URL ('' = discover). */
	tokenUrl: string;
	clientId: string;
	authMethod: ClientAuthMethod;
	privateKey: string;
	algorithm: SigningAlgorithm;
	keyId: string;
	jwksUrl: string;
	clientSecret: string;
	/** Final scope string of this token (bulk or not); with `fitScopes` the part the user configured. */
	scopes: string;
	/**
	 * Another SMART server with the default scopes: the node asks for what it reads that the server
	 * declares, in the form its scopes_supported offers (fitted when the token is minted).
	 */
	fitScopes: boolean;
	bulk: boolean;
	/** This process's pace: the credential's limit divided among the processes sharing it. */
	rateLimitPerMinute: number;
	isEcw: boolean;
	/** The token cache entry of this credential, practice and scope set. */
	cacheKey: string;
	/** This credential and practice, whatever the scopes (caches that must not be shared across credentials). */
	credentialKey: string;
}

export interface TokenContext {
	practiceCode?: string;
	bulk?: boolean;
}

const PRACTICE_CODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function str(value: unknown): string {
	return typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
}

export function validatePracticeCode(code: string, field = 'Practice Code'): string {
	if (!PRACTICE_CODE.test(code)) {
		throw new InputError(field, `"${code.slice(0, 70)}" is not a valid practice code`, 'Use the practice code exactly as eCW gives it (letters and digits, e.g. JAFJCD).');
	}
	return code;
}

/** Fills `{practiceCode}` in the base URL (template); the per-item practice code wins over the credential's default. */
export function resolveBaseUrl(environment: Environment, rawBaseUrl: string, defaultPracticeCode?: string, practiceCode?: string): { baseUrl: string; practiceCode?: string } {
	let template = rawBaseUrl.trim();
	if (template === '') {
		if (environment === 'custom') {
			throw new InputError('FHIR Base URL', 'is empty', 'Enter the FHIR R4 base URL of the server.');
		}
		template = ECW_BASE_URL_TEMPLATES[environment];
	}
	const code = (practiceCode?.trim() || defaultPracticeCode?.trim() || '') || undefined;
	if (/\{practiceCode\}/i.test(template)) {
		if (!code) {
			throw new InputError('Practice Code', 'is empty, and the FHIR Base URL contains {practiceCode}', 'Set the Practice Code in the credential, or in the node\'s Practice Code field.');
		}
		validatePracticeCode(code);
		template = template.replace(/\{practiceCode\}/gi, encodeURIComponent(code));
	} else if (practiceCode?.trim()) {
		throw new InputError('Practice Code', 'was set, but the credential\'s FHIR Base URL has no {practiceCode} placeholder', 'Write the credential\'s FHIR Base URL as https://fhir4.eclinicalworks.com/fhir/r4/{practiceCode}, or leave Practice Code empty.');
	}
	const baseUrl = normalizeBaseUrl(template);
	if (isEcwHost(baseUrl) && /\/fhir\/r4\/?$/i.test(new URL(baseUrl).pathname)) {
		throw new InputError('FHIR Base URL', 'has no practice code', 'The eCW FHIR base URL ends with the practice code, e.g. https://fhir4.eclinicalworks.com/fhir/r4/JAFJCD (or ends with {practiceCode}, filled from the Practice Code field).');
	}
	return { baseUrl, practiceCode: code };
}

/** The Environment choices of both credentials (the presets above apply to the eCW ones). */
export const ENVIRONMENT_OPTIONS: Array<{ name: string; value: Environment }> = [
	{ name: 'eClinicalWorks Production', value: 'ecwProduction' },
	{ name: 'eClinicalWorks Sandbox (Staging)', value: 'ecwSandbox' },
	{ name: 'Other SMART on FHIR Server', value: 'custom' },
];

/** A stored Environment value; anything unknown is treated as another SMART server. */
export function environmentOf(value: unknown): Environment {
	return value === 'ecwSandbox' || value === 'custom' ? value : value === 'ecwProduction' ? 'ecwProduction' : 'custom';
}

function authMethodOf(value: unknown): ClientAuthMethod {
	if (value === 'clientSecretBasic' || value === 'clientSecretPost') return value;
	return 'privateKeyJwt';
}

/**
 * Default scopes earlier versions stored in every credential, whatever its environment: treated as
 * "not chosen by the user", so the defaults that fit the environment apply.
 */
const LEGACY_DEFAULT_SCOPES = ['system/Patient.read system/Encounter.read system/Practitioner.read system/Location.read system/Organization.read system/Coverage.read'];

/** The scopes the user configured for the environment ('' = the defaults). */
function configuredScopes(data: Record<string, unknown>, environment: Environment): string {
	const ecwField = str(data.scopes).replace(/\s+/g, ' ');
	if (environment !== 'custom') return LEGACY_DEFAULT_SCOPES.includes(ecwField) ? DEFAULT_ECW_SCOPES : ecwField;
	const custom = str(data.customScopes).replace(/\s+/g, ' ');
	if (custom) return custom;
	// a credential saved before the environment had its own Scopes field: the credential's hidden
	// "Scopes (Earlier Field)" carries the stored value through n8n's credential load
	return LEGACY_DEFAULT_SCOPES.includes(ecwField) || ecwField === DEFAULT_ECW_SCOPES ? '' : ecwField;
}

/**
 * "Processes Sharing This Limit": how many n8n processes spend the credential's rate limit at once.
 * Empty (credentials saved before the field existed) = 1.
 */
export function sharingProcesses(value: unknown): number {
	if (value === undefined || value === null || value === '') return 1;
	const count = Number(value);
	if (!Number.isInteger(count) || count < 1) {
		throw new InputError(
			'Processes Sharing This Limit',
			`"${String(value).slice(0, 20)}" is not a whole number of 1 or more`,
			'Enter how many n8n processes use this credential at the same time: 1 for a single n8n, or the number of queue-mode workers (plus 1 when the main process runs triggers for these practices).',
		);
	}
	return count;
}

/** Reads the credential's data (as n8n hands it over) into settings for one practice and scope set. */
export function backendSettings(data: Record<string, unknown>, context: TokenContext = {}): BackendSettings {
	const environment = environmentOf(data.environment ?? (str(data.baseUrl) ? 'custom' : 'ecwProduction'));
	const { baseUrl, practiceCode } = resolveBaseUrl(environment, str(data.baseUrl), str(data.practiceCode), context.practiceCode);
	const isEcw = environment !== 'custom' || isEcwHost(baseUrl);
	const authMethod = authMethodOf(data.authMethod);
	if (environment !== 'custom' && authMethod !== 'privateKeyJwt') {
		throw new InputError(
			'Authentication Method',
			'Client Secret is not for eClinicalWorks backend apps: eClinicalWorks documents backend services with a signed key (Private Key JWT) only',
			'Set Authentication Method to Private Key JWT: make a key pair (Key Pair (Setup) > Generate Key Pair), register its JWKS URL with the app, and paste the private key.',
		);
	}
	const algorithmRaw = str(data.algorithm) || 'RS384';
	if (!isSigningAlgorithm(algorithmRaw)) {
		throw new InputError('Algorithm', `"${algorithmRaw}" is not supported`, 'Choose RS384 or ES384.');
	}
	if (isEcw && authMethod === 'privateKeyJwt' && algorithmRaw !== 'RS384') {
		throw new InputError(
			'Algorithm',
			`${algorithmRaw} is not accepted by eClinicalWorks, which documents RS384 only`,
			'Make an RSA key (Key Pair (Setup) > Generate Key Pair), register its JWKS with the app, and set Algorithm to RS384.',
		);
	}
	const configured = configuredScopes(data, environment);
	const fitScopes = !isEcw && configured === '';
	const baseScopes = configured || (isEcw ? DEFAULT_ECW_SCOPES : '');
	const bulk = context.bulk === true;
	const scopes = bulk ? withBulkScope(baseScopes) : isEcw ? withoutBulkScope(baseScopes) : baseScopes;
	const rateRaw = environment === 'custom' ? data.customRateLimitPerMinute ?? data.rateLimitPerMinute : data.rateLimitPerMinute;
	const rate = Number(rateRaw ?? (environment === 'custom' ? 0 : ECW_RATE_LIMIT_PER_MINUTE));
	const privateKey = typeof data.privateKey === 'string' ? data.privateKey : '';
	const clientSecret = typeof data.clientSecret === 'string' ? data.clientSecret : '';
	const settings: Omit<BackendSettings, 'cacheKey' | 'credentialKey'> = {
		environment,
		baseUrl,
		practiceCode,
		tokenUrl: str(data.tokenUrl),
		clientId: str(data.clientId),
		authMethod,
		privateKey,
		algorithm: algorithmRaw,
		keyId: str(data.keyId),
		jwksUrl: str(data.jwksUrl),
		clientSecret,
		scopes,
		fitScopes,
		bulk,
		rateLimitPerMinute: shareOfLimit(rate, sharingProcesses(data.rateLimitProcesses)),
		isEcw,
	};
	const identity = {
		tokenUrl: settings.tokenUrl,
		clientId: settings.clientId,
		authMethod,
		secret: authMethod === 'privateKeyJwt' ? privateKey : clientSecret,
		algorithm: authMethod === 'privateKeyJwt' ? settings.algorithm : undefined,
		keyId: authMethod === 'privateKeyJwt' ? settings.keyId : undefined,
		jwksUrl: authMethod === 'privateKeyJwt' ? settings.jwksUrl : undefined,
		baseUrl,
	};
	const cacheKey = tokenCacheKey({ ...identity, scopes: fitScopes ? `(fitted to the server)${bulk ? ' bulk' : ''}` : scopes });
	return { ...settings, cacheKey, credentialKey: tokenCacheKey({ ...identity, scopes: '' }) };
}

/** Encodes the token context for the header (practice code and bulk flag only; nothing secret). */
export function encodeTokenContext(context: TokenContext): string {
	const parts: string[] = [];
	if (context.practiceCode) parts.push(`practice=${encodeURIComponent(context.practiceCode)}`);
	if (context.bulk) parts.push('bulk=1');
	return parts.length ? parts.join(';') : 'default';
}

export function decodeTokenContext(value: unknown): TokenContext {
	const context: TokenContext = {};
	if (typeof value !== 'string') return context;
	for (const part of value.split(';')) {
		const [name, raw] = part.split('=');
		if (name === 'practice' && raw) context.practiceCode = decodeURIComponent(raw);
		if (name === 'bulk' && raw === '1') context.bulk = true;
	}
	return context;
}

/** Token and discovery calls: paced, 429 waited out, 5xx and network errors retried (authHttp.ts). */
export { pacedHttp } from './authHttp';

/**
 * The scopes to ask for. After discovery they are compared with the server's scopes_supported: eCW
 * refuses a scope it does not list (invalid_grant), so there the mismatch stops before the token
 * request, naming each scope and the form eCW offers. Elsewhere the list is only used to explain a
 * refusal (servers may accept scopes they do not list).
 */
async function scopesFor(http: HttpFunction, settings: BackendSettings, discovered: SmartConfiguration | undefined, now: () => number): Promise<string> {
	let scopes = settings.scopes;
	if (settings.fitScopes) {
		const resourceTypes = await discoverResourceTypes(http, settings.baseUrl, { now });
		const fitted = fittedDefaultScopes({ resourceTypes, scopesSupported: discovered?.scopesSupported });
		scopes = settings.bulk ? withBulkScope(fitted) : fitted;
	}
	const supported = discovered?.scopesSupported;
	if (settings.isEcw && supported && supported.length > 0) {
		const missing = unsupportedScopes(scopes, supported);
		if (missing.length > 0) {
			throw new InputError(
				'Scopes',
				describeUnsupported(missing),
				'Ask only for scopes the server lists in its SMART configuration (scopes_supported), in the form it lists them, and register the same scopes for the app.',
			);
		}
	}
	return scopes;
}

/**
 * The scopes a token for these settings asks for and the server's scopes_supported, without minting
 * one (discovery and the CapabilityStatement are cached, so after the first token this costs nothing).
 */
export async function scopesInUse(http: HttpFunction, settings: BackendSettings, now: () => number = Date.now): Promise<{ scopes: string; supported?: string[]; defaults: boolean }> {
	const discovered = await discoverSmartConfiguration(http, settings.baseUrl, { now, ecw: settings.isEcw }).catch(() => undefined);
	const scopes = await scopesFor(http, settings, discovered, now);
	const defaults = settings.fitScopes || withoutBulkScope(settings.scopes) === DEFAULT_ECW_SCOPES;
	return { scopes, supported: discovered?.scopesSupported, defaults };
}

/** Discovers the token URL when needed and mints one token. */
export async function mintBackendToken(http: HttpFunction, settings: BackendSettings, now: () => number = Date.now): Promise<CachedToken> {
	let tokenUrl = settings.tokenUrl;
	let discovered: SmartConfiguration | undefined;
	if (!tokenUrl) {
		discovered = await discoverSmartConfiguration(http, settings.baseUrl, { now, ecw: settings.isEcw });
		tokenUrl = discovered.tokenEndpoint;
	} else if (settings.fitScopes || settings.isEcw) {
		// the token URL is given, but the scopes are chosen (or checked) from what the server offers
		discovered = await discoverSmartConfiguration(http, settings.baseUrl, { now, ecw: settings.isEcw }).catch(() => undefined);
	}
	const scopes = await scopesFor(http, settings, discovered, now);
	let keyId = settings.keyId;
	if (settings.authMethod === 'privateKeyJwt' && !keyId && settings.privateKey) keyId = defaultKeyId(settings.privateKey, settings.algorithm);
	let token;
	try {
		token = await requestToken(http, {
			tokenUrl,
			clientId: settings.clientId,
			authMethod: settings.authMethod,
			scopes,
			privateKey: settings.privateKey,
			algorithm: settings.algorithm,
			keyId,
			jwksUrl: settings.jwksUrl,
			clientSecret: settings.clientSecret,
			now,
			discovered: !settings.tokenUrl,
			ecw: settings.isEcw,
		});
	} catch (error) {
		throw withScopeComparison(error, scopes, discovered?.scopesSupported);
	}
	return { accessToken: token.accessToken, expiresAt: token.expiresAt, obtainedAt: token.obtainedAt, scope: token.scope, requested: scopes };
}

/** A scope refusal, with what the server's scopes_supported says about the scopes asked for. */
function withScopeComparison(error: unknown, scopes: string, supported: string[] | undefined): unknown {
	if (!(error instanceof FhirError) || !supported?.length || !/invalid_scope|invalid_grant/.test(error.message)) return error;
	const missing = unsupportedScopes(scopes, supported);
	if (missing.length === 0) return error;
	return new FhirError(error.message, {
		kind: error.kind,
		status: error.status,
		outcome: error.outcome,
		request: error.request,
		hint: `${describeUnsupported(missing)}. ${error.hint ?? ''}`.trim(),
	});
}

/** A fresh token for these settings from the shared cache (minting when needed). */
export async function backendAccessToken(http: HttpFunction, settings: BackendSettings, now: () => number = Date.now): Promise<string> {
	return await tokenCache.get(settings.cacheKey, async () => await mintBackendToken(http, settings, now), now);
}

/** One line for the person who set up the credential: the step, what went wrong and what to do. */
export function credentialErrorText(error: unknown): string {
	if (error instanceof InputError) return `Credential setting ${error.message}. ${error.fix}`;
	if (error instanceof FhirError) return [error.message, error.outcome?.summary ? `Server said: ${error.outcome.summary}` : '', error.hint ?? ''].filter(Boolean).join('. ');
	return error instanceof Error ? error.message : String(error);
}
