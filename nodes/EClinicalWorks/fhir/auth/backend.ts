import { normalizeBaseUrl } from '../client';
import { FhirError, InputError } from '../errors';
import type { HttpFunction } from '../http';
import { headerValue } from '../http';
import { rateLimitDelay, retryPolicy } from '../retry';
import type { RetryPolicy } from '../retry';
import type { Pacer } from '../pacer';
import { DEFAULT_ECW_SCOPES, DEFAULT_GENERIC_SCOPES, withBulkScope, withoutBulkScope } from '../scopes';
import { isSigningAlgorithm } from './assertion';
import type { SigningAlgorithm } from './assertion';
import { discoverSmartConfiguration, isEcwHost } from './discovery';
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
	/** Final scope string of this token (bulk or not). */
	scopes: string;
	bulk: boolean;
	rateLimitPerMinute: number;
	isEcw: boolean;
	cacheKey: string;
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
		throw new InputError('FHIR Base URL', 'has no practice code', 'The eCW FHIR base URL ends with the practice code: https://fhir4.eclinicalworks.com/fhir/r4/<practice code> (or use {practiceCode} and the Practice Code field).');
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

/** Reads the credential's data (as n8n hands it over) into settings for one practice and scope set. */
export function backendSettings(data: Record<string, unknown>, context: TokenContext = {}): BackendSettings {
	const environment = environmentOf(data.environment ?? (str(data.baseUrl) ? 'custom' : 'ecwProduction'));
	const { baseUrl, practiceCode } = resolveBaseUrl(environment, str(data.baseUrl), str(data.practiceCode), context.practiceCode);
	const isEcw = environment !== 'custom' || isEcwHost(baseUrl);
	const authMethod = authMethodOf(data.authMethod);
	const algorithmRaw = str(data.algorithm) || 'RS384';
	if (!isSigningAlgorithm(algorithmRaw)) {
		throw new InputError('Algorithm', `"${algorithmRaw}" is not supported`, 'Choose RS384 or ES384.');
	}
	const configuredScopes = str(data.scopes) || (isEcw ? DEFAULT_ECW_SCOPES : DEFAULT_GENERIC_SCOPES);
	const bulk = context.bulk === true;
	const scopes = bulk ? withBulkScope(configuredScopes) : isEcw ? withoutBulkScope(configuredScopes) : configuredScopes;
	const rateRaw = environment === 'custom' ? data.customRateLimitPerMinute ?? data.rateLimitPerMinute : data.rateLimitPerMinute;
	const rate = Number(rateRaw ?? (environment === 'custom' ? 0 : ECW_RATE_LIMIT_PER_MINUTE));
	const privateKey = typeof data.privateKey === 'string' ? data.privateKey : '';
	const clientSecret = typeof data.clientSecret === 'string' ? data.clientSecret : '';
	const settings: Omit<BackendSettings, 'cacheKey'> = {
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
		bulk,
		rateLimitPerMinute: Number.isFinite(rate) && rate > 0 ? Math.floor(rate) : 0,
		isEcw,
	};
	const cacheKey = tokenCacheKey({
		tokenUrl: settings.tokenUrl,
		clientId: settings.clientId,
		authMethod,
		secret: authMethod === 'privateKeyJwt' ? privateKey : clientSecret,
		algorithm: authMethod === 'privateKeyJwt' ? settings.algorithm : undefined,
		keyId: authMethod === 'privateKeyJwt' ? settings.keyId : undefined,
		jwksUrl: authMethod === 'privateKeyJwt' ? settings.jwksUrl : undefined,
		scopes,
		baseUrl,
	});
	return { ...settings, cacheKey };
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

/**
 * An HttpFunction for token and discovery calls: waits for the practice's pacer first (they count
 * on eCW) and waits out a 429 like the FHIR client does (Retry-After, else the next minute on eCW).
 */
export function pacedHttp(
	http: HttpFunction,
	pacer: Pacer | null,
	clock: { now: () => number; sleep: (ms: number) => Promise<void> },
	retry?: Partial<RetryPolicy>,
): HttpFunction {
	const policy = retryPolicy(retry);
	return async (request) => {
		for (let waits = 0; ; waits++) {
			if (pacer) await pacer.acquire(clock);
			const response = await http(request);
			if (response.status !== 429 || waits >= policy.maxRateLimitRetries) return response;
			const wait = rateLimitDelay(headerValue(response.headers, 'retry-after'), waits + 1, policy, clock.now());
			if (pacer) pacer.pauseUntil(clock.now() + wait);
			else await clock.sleep(wait);
		}
	};
}

/** Discovers the token URL when needed and mints one token. */
export async function mintBackendToken(http: HttpFunction, settings: BackendSettings, now: () => number = Date.now): Promise<CachedToken> {
	let tokenUrl = settings.tokenUrl;
	if (!tokenUrl) {
		tokenUrl = (await discoverSmartConfiguration(http, settings.baseUrl, { now, ecw: settings.isEcw })).tokenEndpoint;
	}
	let keyId = settings.keyId;
	if (settings.authMethod === 'privateKeyJwt' && !keyId && settings.privateKey) keyId = defaultKeyId(settings.privateKey, settings.algorithm);
	const token = await requestToken(http, {
		tokenUrl,
		clientId: settings.clientId,
		authMethod: settings.authMethod,
		scopes: settings.scopes,
		privateKey: settings.privateKey,
		algorithm: settings.algorithm,
		keyId,
		jwksUrl: settings.jwksUrl,
		clientSecret: settings.clientSecret,
		now,
	});
	return { accessToken: token.accessToken, expiresAt: token.expiresAt, obtainedAt: token.obtainedAt };
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
