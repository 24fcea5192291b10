import { sleep } from 'n8n-workflow';
import type {
	IExecuteFunctions,
	ILoadOptionsFunctions,
	IPollFunctions,
} from 'n8n-workflow';

import { backendSettings, encodeTokenContext, environmentOf, mintBackendToken, pacedHttp, resolveBaseUrl, scopesInUse, sharingProcesses, CONTEXT_HEADER_NAME, ECW_RATE_LIMIT_PER_MINUTE } from '../fhir/auth/backend';
import type { BackendSettings } from '../fhir/auth/backend';
import { isEcwHost } from '../fhir/auth/discovery';
import { tokenCache } from '../fhir/auth/tokenCache';
import { FhirClient } from '../fhir/client';
import { FhirError } from '../fhir/errors';
import type { HttpFunction, HttpTransport } from '../fhir/http';
import { pacerFor, shareOfLimit } from '../fhir/pacer';
import { redact } from '../fhir/redact';
import type { ResponsePolicy } from '../fhir/responseBody';
import { observeHttp } from '../fhir/readiness/recorder';
import type { RequestObserver } from '../fhir/readiness/recorder';
import { credentialSecrets, responseOptionsOf } from './credentialFields';
import type { ResponseOptions } from './credentialFields';
import { httpFunctionFrom, toOptions, toResponse } from './n8nHttp';
import { longWaitReporter } from './report';
import type { FullResponse } from './n8nHttp';

/**
 * The n8n adapter: builds a FhirClient whose transport uses n8n's own HTTP helpers (so the
 * instance's proxy and TLS settings apply) and the shared token cache.
 */

export type FhirContext = IExecuteFunctions | ILoadOptionsFunctions | IPollFunctions;

export interface FhirClientRequestOptions {
	/** Token for bulk export (eCW: adds system/Group.read, a separate cached token). */
	bulk?: boolean;
	/** Overrides the credential's default practice code (fills {practiceCode} in its base URL). */
	practiceCode?: string;
	/** Told of every request the client sends, token requests included (the readiness report's list). */
	observe?: RequestObserver;
}

export const BACKEND_CREDENTIAL = 'eClinicalWorksApi';
export const USER_LOGIN_CREDENTIAL = 'eClinicalWorksOAuth2Api';

/** A status carried by an error n8n threw (OAuth2 refresh failed, 401 after refresh). */
function statusOfError(error: unknown): number | undefined {
	const e = error as { httpCode?: unknown; response?: { status?: unknown }; cause?: { response?: { status?: unknown }; status?: unknown } };
	const status = Number(e?.httpCode ?? e?.response?.status ?? e?.cause?.response?.status ?? e?.cause?.status);
	return Number.isInteger(status) && status >= 400 ? status : undefined;
}

const NETWORK_CODES = /^(E[A-Z_]+|UND_ERR_[A-Z_]+|CERT_[A-Z_]+|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_[A-Z_]+|SELF_SIGNED_CERT_IN_CHAIN)$/;

function isNetworkError(error: unknown): boolean {
	const e = error as { code?: unknown; cause?: { code?: unknown; cause?: { code?: unknown } } } | undefined;
	return [e?.code, e?.cause?.code, e?.cause?.cause?.code].some((c) => typeof c === 'string' && NETWORK_CODES.test(c));
}

/** An error's message for ours: no secret, no query string, no long text. */
function messageOf(error: unknown, policy: ResponsePolicy): string {
	const text = error instanceof Error ? error.message : String(error);
	return redact(text, policy.secrets?.() ?? []).replace(/\s+/g, ' ').slice(0, 300);
}

/** Requests without any credential (other origins, token endpoint, discovery). */
function anonymousHttp(ctx: FhirContext, policy: ResponsePolicy): HttpFunction {
	return httpFunctionFrom(async (options) => await ctx.helpers.httpRequest(options), policy);
}

/** Requests signed by n8n with the credential (the credential's `authenticate` adds the bearer token). */
function authorizedHttp(ctx: FhirContext, credentialType: string, extraHeaders: Record<string, string>, policy: ResponsePolicy, exceptStatus?: number[]): HttpFunction {
	return async (request) => {
		const options = toOptions({ ...request, headers: { ...(request.headers ?? {}), ...extraHeaders } });
		if (exceptStatus) options.ignoreHttpStatusErrors = { ignore: true, except: exceptStatus };
		const startedAt = Date.now();
		let raw: FullResponse | undefined;
		let failure: unknown;
		try {
			raw = (await ctx.helpers.httpRequestWithAuthentication.call(ctx, credentialType, options)) as FullResponse;
		} catch (error) {
			failure = error;
		}
		if (raw) return await toResponse(raw, request, policy, startedAt);
		const status = statusOfError(failure);
		if (status !== undefined) return { status, headers: {}, body: '' };
		if (isNetworkError(failure)) throw failure;
		// n8n refused before sending: e.g. an OAuth2 token that expired and cannot be refreshed
		throw new FhirError(`Signing in failed: ${messageOf(failure, policy)}`, {
			kind: 'auth',
			hint:
				credentialType === USER_LOGIN_CREDENTIAL
					? 'Open the credential and reconnect (log in again). Keep offline_access in its scope so n8n can refresh the login.'
					: 'Check the credential, then test it.',
		});
	};
}

export function authenticationOf(ctx: FhirContext, itemIndex: number): string {
	try {
		if (typeof (ctx as IExecuteFunctions).getInputData === 'function') {
			return (ctx as IExecuteFunctions).getNodeParameter('authentication', itemIndex, 'backendService') as string;
		}
		return (ctx as ILoadOptionsFunctions).getNodeParameter('authentication', 'backendService') as string;
	} catch {
		return 'backendService';
	}
}

/** The node's optional "Practice Code" field (per item), '' when the node has none. */
export function practiceCodeParameter(ctx: FhirContext, itemIndex: number): string {
	try {
		const value =
			typeof (ctx as IExecuteFunctions).getInputData === 'function'
				? (ctx as IExecuteFunctions).getNodeParameter('practiceCode', itemIndex, '')
				: (ctx as ILoadOptionsFunctions).getNodeParameter('practiceCode', '');
		return typeof value === 'string' || typeof value === 'number' ? String(value).trim() : '';
	} catch {
		return '';
	}
}

async function credentialData(ctx: FhirContext, type: string, itemIndex: number): Promise<Record<string, unknown>> {
	return (await (ctx as IExecuteFunctions).getCredentials(type, itemIndex)) as Record<string, unknown>;
}

const clock = { now: () => Date.now(), sleep: async (ms: number) => await sleep(ms) };

/**
 * Builds the backend-service client for resolved settings (no credential access here). `response`:
 * the credential's bounds on one answer and whether errors quote the server; `observe`: told of every
 * request (the production readiness report lists them).
 */
export function backendClient(
	ctx: FhirContext,
	settings: BackendSettings,
	{ response = responseOptionsOf({}), observe }: { response?: ResponseOptions; observe?: RequestObserver } = {},
): FhirClient {
	const pacer = pacerFor(settings.baseUrl, settings.rateLimitPerMinute);
	let lastToken: string | undefined;
	const policy: ResponsePolicy = {
		...response,
		secrets: () => [settings.clientSecret, lastToken, tokenCache.peek(settings.cacheKey)?.accessToken],
	};
	const anonymous = observeHttp(anonymousHttp(ctx, policy), observe);
	const tokenHttp = pacedHttp(anonymous, pacer, clock, { waitForNextMinuteOn429: settings.isEcw });
	const contextHeader = encodeTokenContext({ practiceCode: settings.practiceCode, bulk: settings.bulk });
	const signed = observeHttp(authorizedHttp(ctx, BACKEND_CREDENTIAL, { [CONTEXT_HEADER_NAME]: contextHeader }, policy), observe, {
		signed: true,
		tokenTimes: () => tokenCache.peek(settings.cacheKey),
	});
	const built: { client?: FhirClient } = {};
	const ensureToken = async () => {
		lastToken = await tokenCache.get(settings.cacheKey, async () => await mintBackendToken(tokenHttp, settings, clock.now), clock.now);
		// a 403 is explained with the scopes the token holds
		if (built.client) built.client.configuredScopes = (tokenCache.peek(settings.cacheKey, clock.now())?.scope ?? tokenCache.peek(settings.cacheKey, clock.now())?.requested) ?? settings.scopes;
	};
	const transport: HttpTransport = {
		authorized: async (request) => {
			await ensureToken();
			return await signed(request);
		},
		anonymous,
		invalidateToken: () => tokenCache.invalidate(settings.cacheKey, lastToken),
		sleep: clock.sleep,
		now: clock.now,
	};
	const client = new FhirClient({
		baseUrl: settings.baseUrl,
		transport,
		pacer,
		retry: { waitForNextMinuteOn429: settings.isEcw },
		prepareAuthorized: ensureToken,
		practiceCode: settings.practiceCode,
		credentialKey: settings.credentialKey,
		knownEcw: settings.isEcw,
		onLongWait: longWaitReporter(ctx),
	});
	client.configuredScopes = settings.scopes;
	built.client = client;
	client.scopesInUse = async () => await scopesInUse(tokenHttp, settings, clock.now);
	return client;
}

export function userLoginClient(ctx: FhirContext, data: Record<string, unknown>, options: FhirClientRequestOptions): FhirClient {
	const environment = environmentOf(data.environment);
	const { baseUrl, practiceCode } = resolveBaseUrl(environment, String(data.baseUrl ?? ''), String(data.practiceCode ?? ''), options.practiceCode);
	const isEcw = environment !== 'custom' || isEcwHost(baseUrl);
	const rate = Number(data.rateLimitPerMinute ?? (isEcw ? ECW_RATE_LIMIT_PER_MINUTE : 0));
	const pacer = pacerFor(baseUrl, shareOfLimit(rate, sharingProcesses(data.rateLimitProcesses)));
	const policy: ResponsePolicy = { ...responseOptionsOf(data), secrets: () => credentialSecrets(data) };
	// 401 is left to n8n: it refreshes the OAuth2 token and retries once.
	const transport: HttpTransport = {
		authorized: observeHttp(authorizedHttp(ctx, USER_LOGIN_CREDENTIAL, {}, policy, [401]), options.observe, { signed: true }),
		anonymous: observeHttp(anonymousHttp(ctx, policy), options.observe),
		sleep: clock.sleep,
		now: clock.now,
	};
	const credentialId = ctx.getNode().credentials?.[USER_LOGIN_CREDENTIAL]?.id ?? '';
	const client = new FhirClient({
		baseUrl,
		transport,
		pacer,
		retry: { waitForNextMinuteOn429: isEcw },
		practiceCode,
		credentialKey: `user|${credentialId}`,
		knownEcw: isEcw,
		onLongWait: longWaitReporter(ctx),
	});
	client.configuredScopes = typeof data.scope === 'string' ? data.scope : undefined;
	return client;
}

/**
 * The FHIR client for one item: the node's Authentication choice, its credential, and the practice
 * code (per item) and token kind (bulk or not) asked for.
 */
export async function getFhirClient(
	this: FhirContext,
	itemIndex = 0,
	options: FhirClientRequestOptions = {},
): Promise<FhirClient> {
	const authentication = authenticationOf(this, itemIndex);
	const practiceCode = options.practiceCode?.trim() || practiceCodeParameter(this, itemIndex) || undefined;
	if (authentication === 'userLogin') {
		return userLoginClient(this, await credentialData(this, USER_LOGIN_CREDENTIAL, itemIndex), { ...options, practiceCode });
	}
	const data = await credentialData(this, BACKEND_CREDENTIAL, itemIndex);
	return backendClient(this, backendSettings(data, { practiceCode, bulk: options.bulk }), { response: responseOptionsOf(data), observe: options.observe });
}
