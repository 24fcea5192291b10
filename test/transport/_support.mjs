// Shared helpers for the transport tests: a real-HTTP HttpTransport built on fetch (no mocking),
// wired to the package's token cache exactly like the n8n adapter does.
import { backendSettings, mintBackendToken, pacedHttp } from '../../nodes/EClinicalWorks/fhir/auth/backend.ts';
import { tokenCache } from '../../nodes/EClinicalWorks/fhir/auth/tokenCache.ts';
import { FhirClient } from '../../nodes/EClinicalWorks/fhir/client.ts';
import { pacerFor } from '../../nodes/EClinicalWorks/fhir/pacer.ts';
import { DEFAULT_ECW_SCOPES } from '../../nodes/EClinicalWorks/fhir/scopes.ts';
import { DEFAULT_RESPONSE_LIMITS, finishResponse } from '../../nodes/EClinicalWorks/fhir/responseBody.ts';
import { responseOptionsOf } from '../../nodes/EClinicalWorks/transport/credentialFields.ts';
import { Readable } from 'node:stream';

/** Requests on the wire right now (the fake clock does not jump while one is in flight). */
let inFlight = 0;

/**
 * HttpFunction on fetch: no automatic redirects, lower-case headers. Like the n8n adapter, every body
 * arrives as a (decompressed) stream and is finished by the package's own `finishResponse`: success
 * bodies read within the bounds (`policy`, default: the credential defaults), error bodies cut and
 * redacted; a stream when one was asked for.
 */
export function fetchHttp({ log, policy = { limits: DEFAULT_RESPONSE_LIMITS } } = {}) {
	return async (req) => {
		inFlight++;
		const controller = new AbortController();
		const timer = req.timeoutMs ? setTimeout(() => controller.abort(), req.timeoutMs) : undefined;
		const startedAt = Date.now();
		try {
			const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body, redirect: 'manual', signal: controller.signal });
			const headers = {};
			res.headers.forEach((v, k) => (headers[k] = v));
			const body = res.body ? Readable.fromWeb(res.body) : '';
			log?.push({ method: req.method, url: req.url, status: res.status, authorization: req.headers?.authorization });
			return await finishResponse(req, { status: res.status, headers, body }, policy, startedAt);
		} catch (e) {
			// the package's own errors (a bound) as they are; fetch wraps socket errors
			if (e?.name === 'FhirError') throw e;
			// surface the socket error's code like n8n does
			const err = new Error('fetch failed');
			err.code = e?.cause?.code ?? e?.code ?? 'ECONNREFUSED';
			throw err;
		} finally {
			inFlight--;
			if (timer) clearTimeout(timer);
		}
	};
}

export const realClock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

/** Fake clock: sleep advances time instantly (and yields), for pacing and retry tests. */
export function fakeClock(start = Date.UTC(2026, 0, 5, 15, 0, 10)) {
	const c = {
		t: start,
		slept: [],
		now: () => c.t,
		sleep: async (ms) => {
			// real time does not jump while requests are on the wire: let them land first
			while (inFlight > 0) await new Promise((r) => setTimeout(r, 1));
			c.slept.push(ms);
			c.t += Math.max(0, ms);
			await new Promise((r) => setImmediate(r));
		},
	};
	return c;
}

/**
 * Credential data (as n8n would hand it over) for a sandbox client, the way a user fills it in: the
 * eClinicalWorks Sandbox environment with the default scopes on the ecw profile, "Other SMART server"
 * with empty (fitted) scopes on the smart profile; the token URL is discovered. Pacing off unless given.
 */
export function credentialFor(sandbox, client, extra = {}) {
	const ecw = sandbox.profile === 'ecw';
	const base = {
		environment: ecw ? 'ecwSandbox' : 'custom',
		baseUrl: sandbox.baseUrl,
		clientId: client.clientId,
		authMethod: { private_key_jwt: 'privateKeyJwt', client_secret_basic: 'clientSecretBasic', client_secret_post: 'clientSecretPost' }[client.authMethod],
		privateKey: client.privateKeyPem ?? '',
		algorithm: client.alg ?? 'RS384',
		keyId: client.kid ?? '',
		clientSecret: client.clientSecret ?? '',
		...(ecw ? { scopes: DEFAULT_ECW_SCOPES, rateLimitPerMinute: 0 } : { customScopes: '', customRateLimitPerMinute: 0 }),
	};
	return { ...base, ...extra };
}

/** A FhirClient over fetch with the same token handling as the n8n adapter (bearer header set here). */
export function clientFor(data, { clock = realClock, context = {}, log, retry, maxPages, onLongWait, pacer: ownPacer } = {}) {
	const settings = backendSettings(data, context);
	let last;
	const policy = { ...responseOptionsOf(data), secrets: () => [settings.clientSecret, last] };
	const http = fetchHttp({ log, policy });
	// `pacer`: a pacer of its own, as another n8n process would have (default: this process's shared one)
	const pacer = ownPacer ?? pacerFor(settings.baseUrl, settings.rateLimitPerMinute);
	const tokenHttp = pacedHttp(http, pacer, clock, { waitForNextMinuteOn429: settings.isEcw, jitterMs: 10 });
	let client;
	const ensureToken = async () => {
		last = await tokenCache.get(settings.cacheKey, () => mintBackendToken(tokenHttp, settings, clock.now), clock.now);
		if (client) client.configuredScopes = tokenCache.peek(settings.cacheKey, clock.now())?.scope ?? settings.scopes;
	};
	const transport = {
		authorized: async (req) => {
			await ensureToken();
			return await http({ ...req, headers: { ...req.headers, authorization: `Bearer ${last}` } });
		},
		anonymous: http,
		invalidateToken: () => tokenCache.invalidate(settings.cacheKey, last),
		sleep: clock.sleep,
		now: clock.now,
	};
	client = new FhirClient({ baseUrl: settings.baseUrl, transport, pacer, retry: { jitterMs: 10, baseDelayMs: 20, waitForNextMinuteOn429: settings.isEcw, ...retry }, maxPages, prepareAuthorized: ensureToken, practiceCode: settings.practiceCode, credentialKey: settings.credentialKey, knownEcw: settings.isEcw, onLongWait });
	client.configuredScopes = settings.scopes;
	return { client, settings, transport };
}

export function pickClient(sandbox, authMethod, alg) {
	const c = sandbox.clients.find((x) => x.authMethod === authMethod && (!alg || x.alg === alg));
	if (!c) throw new Error(`sandbox has no ${authMethod} ${alg ?? ''} client`);
	return c;
}
