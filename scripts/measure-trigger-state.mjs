// Measures the trigger's saved state (workflow static data) on a server without `_lastUpdated`:
// the date-window snapshot, per 1,000 visits and at the cap, against the raw Encounters it stands
// for (the baseline, same run). Also the ids remembered at activation on a `_lastUpdated` server with
// UUID version ids (the `created` seed), per 1,000 records.
//
// Runs the trigger's real per-practice poll (trigger/strategies/index.ts, the package's FhirClient over
// fetch) against the sandbox: `ecw` profile for the window, `smart` with uuidVersionIds for the seed.
//
//   npm run measure:trigger-state [-- --visits 1000,5000]
//
// The last line, `BENCH-RESULT {json}`, is what `npm run bench` reads.
import { performance } from 'node:perf_hooks';
import { DateTime } from 'luxon';

import { startSandbox } from '../sandbox/index.mjs';
import { signAssertion } from '../sandbox/jwt.mjs';
import { FhirClient } from '../nodes/EClinicalWorks/fhir/client.ts';
import { pollPractice } from '../nodes/EClinicalWorks/trigger/strategies/index.ts';
import { watchedSource, watchedType } from '../nodes/EClinicalWorks/trigger/source.ts';
import { pickStrategy } from '../nodes/EClinicalWorks/trigger/strategies/strategy.ts';
import { SNAPSHOT_CAP } from '../nodes/EClinicalWorks/trigger/strategies/visitSnapshot.ts';
import { SEED_LIMIT } from '../nodes/EClinicalWorks/fhir/changes.ts';

const args = process.argv.slice(2);
const at = args.indexOf('--visits');
const TARGETS = (at >= 0 ? args[at + 1] : `1000,${SNAPSHOT_CAP}`).split(',').map(Number);
/** Share of a practice's generated visits that fall in a 14-day window (visits spread over -30..+30 days). */
const WINDOW_SHARE = 14 / 61;

const log = (msg) => console.log(`[state ${(performance.now() / 1000).toFixed(1)}s] ${msg}`);
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

async function clientFor(sb) {
	const c = sb.clients.find((x) => x.clientId === 'sandbox-rs384');
	const assertion = signAssertion({ clientId: c.clientId, tokenUrl: sb.tokenUrl, privateKeyPem: c.privateKeyPem, alg: c.alg, kid: c.kid, now: Date.now() });
	const res = await fetch(sb.tokenUrl, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams({ grant_type: 'client_credentials', scope: c.scopes, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }),
	});
	const bearer = (await res.json()).access_token;
	const send = (auth) => async (req) => {
		const r = await fetch(req.url, { method: req.method, headers: { ...(req.headers ?? {}), ...(auth ? { authorization: `Bearer ${bearer}` } : {}) }, body: req.body });
		const headers = {};
		r.headers.forEach((v, k) => (headers[k] = v));
		return { status: r.status, headers, body: await r.text() };
	};
	const client = new FhirClient({ baseUrl: sb.baseUrl, transport: { authorized: send(true), anonymous: send(false), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) } });
	return { client };
}

async function activate(sb, client, { event = 'appointmentChanged', pageSize = 1000 } = {}) {
	const caps = await client.capabilities();
	const type = watchedType(caps, event);
	const strategy = pickStrategy(caps, type);
	const source = watchedSource(caps, { event, strategy, zone: sb.timeZone, simple: false, now: DateTime.now() });
	const result = await pollPractice({ client, source, state: undefined, mode: 'trigger', pageSize, maxPages: 50, limits: { snapshotCap: Number.MAX_SAFE_INTEGER } });
	return { source, state: result.state };
}

/** Raw JSON bytes of the window's Encounters, as the server sends them (the baseline). */
async function rawWindowBytes(client, source) {
	let bytes = 0;
	for await (const bundle of client.searchPages(source.type, source.query, { pageSize: 1000 })) {
		for (const entry of bundle.entry ?? []) if (entry.search?.mode !== 'include' && source.matches(entry.resource)) bytes += JSON.stringify(entry.resource).length;
	}
	return bytes;
}

const rows = [];
for (const target of TARGETS) {
	const patients = Math.ceil(target / (2 * WINDOW_SHARE));
	log(`window strategy: ecw sandbox with ${patients} patients (about ${target} visits in the next 14 days)`);
	const sb = await startSandbox({ port: 0, profile: 'ecw', patients, rateLimitPerMinute: null, seed: 7 });
	try {
		const { client } = await clientFor(sb);
		const { source, state } = await activate(sb, client);
		const visits = Object.keys(state.visits).length;
		const bytes = JSON.stringify(state).length;
		const raw = await rawWindowBytes(client, source);
		rows.push({ visits, bytes, raw });
		log(`  ${visits} visits: state ${kb(bytes)} (${kb((bytes / visits) * 1000)} per 1,000 visits), raw Encounters ${kb(raw)}, ratio state/raw ${(bytes / raw).toFixed(3)}`);
	} finally {
		await sb.stop();
	}
}

log(`seed (lastUpdated strategy, UUID version ids): smart sandbox, ${SEED_LIMIT} ids remembered at most`);
const smart = await startSandbox({ port: 0, profile: 'smart', quirks: { uuidVersionIds: true }, patients: Math.ceil(SEED_LIMIT / 2) + 10, seed: 7 });
let seedRow;
try {
	const { client } = await clientFor(smart);
	const { state } = await activate(smart, client);
	const withSeed = JSON.stringify(state).length;
	const withoutSeed = JSON.stringify({ ...state, seed: undefined }).length;
	seedRow = { ids: state.seed.length, bytes: withSeed - withoutSeed };
	log(`  ${seedRow.ids} ids: ${kb(seedRow.bytes)} (${kb((seedRow.bytes / seedRow.ids) * 1000)} per 1,000 ids)`);
} finally {
	await smart.stop();
}

console.log('\nTrigger state size (JSON in the workflow static data, per practice)');
console.log('| Visits in the window | State | Per 1,000 visits | Raw Encounters (baseline) | State / raw |');
console.log('| ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
	console.log(`| ${r.visits} | ${kb(r.bytes)} | ${kb((r.bytes / r.visits) * 1000)} | ${kb(r.raw)} | ${(r.bytes / r.raw).toFixed(3)} |`);
}
console.log(`\nCap: ${SNAPSHOT_CAP} visits per practice (window strategy); seed: ${SEED_LIMIT} ids, ${kb(seedRow.bytes)} at the limit.`);
console.log(`BENCH-RESULT ${JSON.stringify({ window: rows, cap: SNAPSHOT_CAP, seed: { ...seedRow, limit: SEED_LIMIT } })}`);
