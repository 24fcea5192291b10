// Shared set-up for the readiness tests: a ReadinessContext built on fetch against the sandbox, wired
// like the n8n adapter (transport/readiness.ts): observed transports, the shared token cache, pacing.
import { backendSettings, mintBackendToken, pacedHttp } from '../../nodes/EClinicalWorks/fhir/auth/backend.ts';
import { clearDiscoveryCache } from '../../nodes/EClinicalWorks/fhir/auth/discovery.ts';
import { tokenCache } from '../../nodes/EClinicalWorks/fhir/auth/tokenCache.ts';
import { FhirClient, clearCapabilitiesCache } from '../../nodes/EClinicalWorks/fhir/client.ts';
import { pacerFor, resetPacers } from '../../nodes/EClinicalWorks/fhir/pacer.ts';
import { RequestLog, observeHttp } from '../../nodes/EClinicalWorks/fhir/readiness/recorder.ts';
import { WORKFLOW_USES } from '../../nodes/EClinicalWorks/fhir/readiness/types.ts';
import { credentialFor, fetchHttp, realClock } from '../transport/_support.mjs';

export { credentialFor };

/** Every process-wide cache the package keeps, emptied (each test starts like a fresh n8n). */
export function freshProcess() {
	tokenCache.clear();
	clearDiscoveryCache();
	clearCapabilitiesCache();
	resetPacers();
}

export const DEFAULT_OPTIONS = {
	uses: [...WORKFLOW_USES],
	extraTypes: [],
	renewalBurst: 10,
	measureRateLimit: false,
	rateLimitBurst: 0,
	tryBulkExport: false,
	bulkGroupId: '',
	bulkPollFloorMs: 1000,
	bulkMaxWaitMs: 60_000,
};

function clientOf(data, context, log, clock) {
	const settings = backendSettings(data, context);
	const http = fetchHttp();
	const anonymous = observeHttp(http, log.observe, { now: clock.now });
	const pacer = pacerFor(settings.baseUrl, settings.rateLimitPerMinute);
	const tokenHttp = pacedHttp(anonymous, pacer, clock, { waitForNextMinuteOn429: settings.isEcw, jitterMs: 10 });
	const ensureToken = async () => {
		await tokenCache.get(settings.cacheKey, () => mintBackendToken(tokenHttp, settings, clock.now), clock.now);
	};
	// as the credential's authenticate() does: the cache's current token
	const signed = async (req) => http({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokenCache.peek(settings.cacheKey, clock.now())?.accessToken ?? ''}` } });
	const transport = {
		authorized: async (req) => {
			await ensureToken();
			return await observeHttp(signed, log.observe, { signed: true, now: clock.now, tokenTimes: () => tokenCache.peek(settings.cacheKey, clock.now()) })(req);
		},
		anonymous,
		invalidateToken: () => tokenCache.invalidate(settings.cacheKey),
		sleep: clock.sleep,
		now: clock.now,
	};
	const client = new FhirClient({ baseUrl: settings.baseUrl, transport, pacer, retry: { jitterMs: 10, baseDelayMs: 100, waitForNextMinuteOn429: settings.isEcw }, prepareAuthorized: ensureToken, practiceCode: settings.practiceCode, credentialKey: settings.credentialKey, knownEcw: settings.isEcw });
	client.configuredScopes = settings.scopes;
	return { client, settings };
}

/**
 * A ReadinessContext for a sandbox client (credential data as a user fills it in, see credentialFor).
 * `data` overrides credential fields, `options` the readiness options.
 */
export function readinessContext(sandbox, { clientId = 'sandbox-rs384', data = {}, options = {}, clock = realClock, practiceCode } = {}) {
	const client = sandbox.clients.find((c) => c.clientId === clientId);
	const credentialData = credentialFor(sandbox, client, data);
	const log = new RequestLog();
	const context = practiceCode ? { practiceCode } : {};
	const { client: fhir, settings } = clientOf(credentialData, context, log, clock);
	const rate = Number(settings.environment === 'custom' ? credentialData.customRateLimitPerMinute ?? 0 : credentialData.rateLimitPerMinute ?? 250);
	const key = settings.cacheKey;
	const progress = [];
	return {
		progress,
		settings,
		ctx: {
			client: fhir,
			bulkClient: async () => clientOf(credentialData, { ...context, bulk: true }, log, clock).client,
			credential: {
				kind: 'backendService',
				environment: settings.environment,
				baseUrl: settings.baseUrl,
				practiceCode: settings.practiceCode,
				clientId: settings.clientId,
				authMethod: settings.authMethod,
				algorithm: settings.authMethod === 'privateKeyJwt' ? settings.algorithm : undefined,
				tokenUrl: settings.tokenUrl,
				jwksUrl: settings.jwksUrl,
				scopes: settings.scopes,
				fitScopes: settings.fitScopes,
				isEcw: settings.isEcw,
				rateLimitPerMinute: rate,
				processes: 1,
				pacePerMinute: settings.rateLimitPerMinute,
			},
			tokens: {
				current: () => tokenCache.peek(key, clock.now()),
				forceRenewal: () => tokenCache.forceRenewal(key, clock.now()),
				mints: () => tokenCache.mints.get(key) ?? 0,
			},
			log,
			now: clock.now,
			sleep: clock.sleep,
			options: { ...DEFAULT_OPTIONS, ...options },
			onProgress: (m) => progress.push(m),
		},
	};
}

/** The result of one check by name. */
export function resultOf(run, name) {
	const found = run.results.find((r) => r.check === name);
	if (!found) throw new Error(`no check named ${name}: ${run.results.map((r) => r.check).join(', ')}`);
	return found;
}

/** Every check and its status, for assertion messages. */
export function statuses(run) {
	return Object.fromEntries(run.results.map((r) => [r.check, r.status]));
}

export const CHECK = {
	discovery: 'Discovery and SMART configuration',
	access: 'Authenticated read for this practice',
	scopes: 'Scopes',
	tokens: 'Token renewal under load',
	rate: 'Rate limit handling',
	errors: 'Error handling (401, 403, 429, 500)',
	bulk: 'Bulk export',
	redirect: 'Redirect URI',
	baa: 'Signed BAA',
	request: 'Production access request',
};
