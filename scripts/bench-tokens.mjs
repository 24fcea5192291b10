#!/usr/bin/env node
// Token figures for issue 4: how many tokens a long run mints, and how many requests get a 401.
//   node --import tsx scripts/bench-tokens.mjs [--items 1000]
// 1. Plain FHIR client on a fake clock: 1,000 requests over 20 minutes against 300 s tokens (eCW).
// 2. In-process n8n (test/helpers/n8n.mjs reproduces the CLI's preAuthentication/authenticate rules):
//    1,000 items of "FHIR Resource > Get", token lifetime chosen so the run spans about 4 lifetimes.
// n8n's default for a credential with preAuthentication would reuse the stored token until a 401:
// one token per lifetime plus one failed request per lifetime after the first.
// The last line, `BENCH-RESULT {json}`, is what `npm run bench` reads.
import { startSandbox } from '../sandbox/index.mjs';
import { tokenCache } from '../nodes/EClinicalWorks/fhir/auth/tokenCache.ts';
import { clearDiscoveryCache } from '../nodes/EClinicalWorks/fhir/auth/discovery.ts';
import { clearCapabilitiesCache } from '../nodes/EClinicalWorks/fhir/client.ts';
import { resetPacers } from '../nodes/EClinicalWorks/fhir/pacer.ts';
import { credentialFor, clientFor, pickClient, fakeClock } from '../test/transport/_support.mjs';

const argIndex = process.argv.indexOf('--items');
const ITEMS = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 1000;

function reset() {
	tokenCache.clear();
	clearDiscoveryCache();
	clearCapabilitiesCache();
	resetPacers();
}

async function fakeClockRun() {
	reset();
	const clock = fakeClock();
	const sb = await startSandbox({ port: 0, profile: 'ecw', patients: 3, tokenLifetimeSeconds: 300, now: () => clock.now() });
	try {
		const { client } = clientFor(credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384'), { environment: 'ecwProduction' }), { clock });
		const start = clock.now();
		for (let i = 0; i < ITEMS; i++) {
			await client.read('Encounter', 'en-1');
			await clock.sleep((20 * 60_000) / ITEMS);
		}
		return { items: ITEMS, minutes: (clock.now() - start) / 60_000, lifetime: 300, tokens: sb.stats.tokenRequests, unauthorized: sb.stats.byStatus['401'] ?? 0, rateLimited: sb.stats.byStatus['429'] ?? 0 };
	} finally {
		await sb.stop();
	}
}

async function n8nRun() {
	const { runNode } = await import('../test/helpers/n8n.mjs');
	const type = 'n8n-nodes-eclinicalworks.eClinicalWorks';
	const parameters = { authentication: 'backendService', resource: 'fhirResource', operation: 'get', resourceType: 'Encounter', resourceId: 'en-1', output: 'raw' };
	const credential = (sb) => ({ ...credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384')), scopes: 'system/Encounter.read', accessToken: '' });
	// calibrate with the full item count on long-lived tokens (after a warm-up run)
	let sb = await startSandbox({ port: 0, profile: 'ecw', patients: 3, rateLimitPerMinute: null });
	let perRun;
	try {
		reset();
		await runNode({ type, parameters, credentials: { eClinicalWorksApi: credential(sb) }, inputItems: Array.from({ length: 200 }, () => ({})) });
		const t0 = Date.now();
		await runNode({ type, parameters, credentials: { eClinicalWorksApi: credential(sb) }, inputItems: Array.from({ length: ITEMS }, () => ({})) });
		perRun = (Date.now() - t0) / 1000;
	} finally {
		await sb.stop();
	}
	const lifetime = Math.max(0.5, Math.round((perRun / 4) * 10) / 10);
	sb = await startSandbox({ port: 0, profile: 'ecw', patients: 3, tokenLifetimeSeconds: lifetime, rateLimitPerMinute: null });
	try {
		reset();
		const t0 = Date.now();
		const result = await runNode({ type, parameters, credentials: { eClinicalWorksApi: credential(sb) }, inputItems: Array.from({ length: ITEMS }, () => ({})) });
		const seconds = (Date.now() - t0) / 1000;
		if (result.error) throw result.error;
		return { items: ITEMS, seconds, lifetime, lifetimes: seconds / lifetime, tokens: sb.stats.tokenRequests, unauthorized: sb.stats.byStatus['401'] ?? 0, preAuthenticationCalls: result.preAuthenticationCalls?.length };
	} finally {
		await sb.stop();
	}
}

const a = await fakeClockRun();
console.log(`plain client, fake clock: ${a.items} requests over ${a.minutes} min, ${a.lifetime} s tokens -> ${a.tokens} token requests, ${a.unauthorized} answered 401, ${a.rateLimited} answered 429`);
console.log(`  (n8n's default refresh-on-401 would mint ${Math.ceil((a.minutes * 60) / a.lifetime)} tokens and waste ${Math.ceil((a.minutes * 60) / a.lifetime) - 1} requests on 401)`);
const b = await n8nRun();
console.log(`in-process n8n: ${b.items} items in ${b.seconds.toFixed(1)} s = ${b.lifetimes.toFixed(1)} lifetimes of ${b.lifetime} s tokens -> ${b.tokens} token requests, ${b.unauthorized} answered 401, ${b.preAuthenticationCalls} preAuthentication call(s)`);
const n8nDefault = Math.ceil((a.minutes * 60) / a.lifetime);
console.log(`BENCH-RESULT ${JSON.stringify({ fakeClock: { ...a, n8nDefaultTokens: n8nDefault, n8nDefaultWasted: n8nDefault - 1 }, n8n: b })}`);
const { shutdown } = await import('../test/helpers/n8n.mjs');
await shutdown?.();
process.exit(0);
