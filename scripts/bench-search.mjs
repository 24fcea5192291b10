// Benchmark: Patient Search, Return All at 100 per page, against the sandbox with 10,000 patients.
//
// Runs the eClinicalWorks node in-process (real n8n-core WorkflowExecute, the node's own transport
// through n8n's httpRequestWithAuthentication) and, in the same run against the same server:
//   - n8n's floor: a minimal node (scripts/bench-floor.mjs) that pages through the same search with
//     n8n's own httpRequestWithAuthentication and the same credential (its token), n8n parsing the
//     JSON, one item per patient: what any node that pages through n8n's helpers pays;
//   - a plain loop of fetch calls over the same pages (one token, follow `next` links).
// Prints the ratios node / floor (target <= 1.1x) and node / plain, wall time and this process's CPU
// time (the sandbox runs in its own process), the token requests the node made and peak memory.
//
//   npm run bench:search [-- --patients 10000 --rounds 7]
//   BENCH_CPU_PROF=dir   a .cpuprofile of each node and floor run in dir
//
// The last line, `BENCH-RESULT {json}`, is what `npm run bench` reads.
import { performance } from 'node:perf_hooks';
import { spawn } from 'node:child_process';
import os from 'node:os';
import { signAssertion } from '../sandbox/jwt.mjs';
import { FLOOR_SEARCH, floorNodeTypes } from './bench-floor.mjs';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
	const i = args.indexOf(`--${name}`);
	return i >= 0 ? Number(args[i + 1]) : fallback;
};
const PATIENTS = arg('patients', 10_000);
const ROUNDS = arg('rounds', 7);
const PAGE = 100;
const QUERY = [['birthdate', 'ge1900-01-01'], ['_count', String(PAGE)]];

const log = (msg) => console.log(`[bench ${((performance.now()) / 1000).toFixed(1)}s] ${msg}`);

let peakRss = 0;
let peakHeap = 0;
const sampler = setInterval(() => {
	const m = process.memoryUsage();
	peakRss = Math.max(peakRss, m.rss);
	peakHeap = Math.max(peakHeap, m.heapUsed);
}, 20);
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

log(`starting sandbox with ${PATIENTS} patients (separate process, so its work and GC do not skew either loop)`);
// eCW profile, rate limit off so both loops run at full speed in the same minute.
const child = spawn(
	process.execPath,
	[
		'--input-type=module',
		'-e',
		`import { startSandbox } from ${JSON.stringify(new URL('../sandbox/index.mjs', import.meta.url).href)};
		const s = await startSandbox({ profile: 'ecw', patients: ${PATIENTS}, seed: 3, rateLimitPerMinute: null, admin: true });
		const c = s.clients.find((x) => x.clientId === 'sandbox-rs384');
		console.log(JSON.stringify({ origin: s.origin, baseUrl: s.baseUrl, tokenUrl: s.tokenUrl, client: c }));
		process.stdin.on('end', () => s.stop().then(() => process.exit(0)));
		process.stdin.resume();`,
	],
	{ stdio: ['pipe', 'pipe', 'inherit'] },
);
const sandbox = await new Promise((resolve, reject) => {
	let buffer = '';
	child.stdout.on('data', (chunk) => {
		buffer += chunk;
		const line = buffer.split('\n').find((l) => l.startsWith('{'));
		if (line) resolve(JSON.parse(line));
	});
	child.on('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
});
const client = sandbox.client;
// Token requests counted by the sandbox; the stats are reset first so the request log stays small.
const resetStats = async () => await fetch(`${sandbox.origin}/admin/stats/reset`, { method: 'POST' });
const tokenRequests = async () => (await (await fetch(`${sandbox.origin}/admin/stats`)).json()).tokenRequests;

// ---------------------------------------------------------------- plain fetch loop
async function plainToken() {
	const assertion = signAssertion({ clientId: client.clientId, tokenUrl: sandbox.tokenUrl, privateKeyPem: client.privateKeyPem, alg: client.alg, kid: client.kid });
	const body = new URLSearchParams({
		grant_type: 'client_credentials',
		scope: client.scopes,
		client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
		client_assertion: assertion,
	});
	const res = await fetch(sandbox.tokenUrl, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
	if (!res.ok) throw new Error(`token request failed: ${res.status}`);
	return (await res.json()).access_token;
}

async function plainLoop({ firstPageOnly = false } = {}) {
	const token = await plainToken();
	const headers = { authorization: `Bearer ${token}`, accept: 'application/fhir+json' };
	let url = `${sandbox.baseUrl}/Patient?${new URLSearchParams(QUERY)}`;
	const out = [];
	let pages = 0;
	while (url) {
		const res = await fetch(url, { headers });
		if (!res.ok) throw new Error(`page ${pages + 1} failed: ${res.status}`);
		const bundle = await res.json();
		pages++;
		for (const e of bundle.entry ?? []) if (e.search?.mode !== 'include') out.push(e.resource);
		url = firstPageOnly ? undefined : bundle.link?.find((l) => l.relation === 'next')?.url;
	}
	return { count: out.length, pages };
}

// ---------------------------------------------------------------- the node, in-process n8n
const { runNode, shutdown } = await import('../test/helpers/n8n.mjs');
const credentials = {
	eClinicalWorksApi: {
		environment: 'custom',
		baseUrl: sandbox.baseUrl,
		tokenUrl: sandbox.tokenUrl,
		clientId: client.clientId,
		authMethod: 'privateKeyJwt',
		privateKey: client.privateKeyPem,
		algorithm: client.alg,
		keyId: client.kid,
		clientSecret: '',
		scopes: client.scopes,
		customRateLimitPerMinute: 0,
	},
};

async function nodeRun(output, limit) {
	const result = await runNode({
		type: 'n8n-nodes-eclinicalworks.eClinicalWorks',
		parameters: {
			authentication: 'backendService',
			resource: 'patient',
			operation: 'search',
			criteria: { bornOnOrAfter: '1900-01-01' },
			returnAll: limit === undefined,
			limit,
			output,
		},
		credentials,
	});
	const error = result.nodeError('Node') ?? result.error;
	if (error) throw new Error(`node failed: ${error.message}`);
	return { count: result.itemsOf('Node').length };
}

/** n8n's floor: the same pages through n8n's httpRequestWithAuthentication, same credential. */
async function floorRun({ firstPageOnly = false } = {}) {
	const url = `${sandbox.baseUrl}/Patient?${new URLSearchParams(QUERY)}`;
	const result = await runNode({ type: FLOOR_SEARCH, nodeTypes: floorNodeTypes, parameters: { url, firstPageOnly }, credentials });
	const error = result.nodeError('Node') ?? result.error;
	if (error) throw new Error(`floor failed: ${error.message}`);
	return { count: result.itemsOf('Node').length };
}

let profiling = false;
async function timed(label, fn, profileName) {
	let session;
	if (profiling && profileName) {
		const inspector = await import('node:inspector/promises');
		session = new inspector.Session();
		session.connect();
		await session.post('Profiler.enable');
		await session.post('Profiler.start');
	}
	const c = process.cpuUsage();
	const t = performance.now();
	const r = await fn();
	const ms = performance.now() - t;
	const used = process.cpuUsage(c);
	const cpuMs = (used.user + used.system) / 1000;
	if (session) {
		const { profile } = await session.post('Profiler.stop');
		const { writeFileSync } = await import('node:fs');
		writeFileSync(`${process.env.BENCH_CPU_PROF}/search-${profileName}-${Date.now()}.cpuprofile`, JSON.stringify(profile));
	}
	log(`${label}: ${r.count} records in ${ms.toFixed(0)} ms, CPU ${cpuMs.toFixed(0)} ms`);
	return { ...r, ms, cpuMs };
}

const median = (xs) => {
	const s = [...xs].sort((a, b) => a - b);
	return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const range = (xs) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;

try {
	log('warm-up (first token, capability statement, JIT)');
	await timed('warm-up plain', plainLoop);
	await timed('warm-up floor', floorRun);
	await resetStats();
	await timed('warm-up node', () => nodeRun('raw'));
	const firstRunTokens = await tokenRequests();

	const runs = { plain: [], floor: [], raw: [], simplified: [], plain1: [], floor1: [], node1: [] };
	const ratios = { rawFloor: [], rawPlain: [], simplifiedFloor: [], floorPlain: [], rawFloorCpu: [] };
	let nodeTokenRequests = 0;
	for (let round = 1; round <= ROUNDS; round++) {
		log(`round ${round}/${ROUNDS}`);
		profiling = Boolean(process.env.BENCH_CPU_PROF);
		// alternate the order so neither side always runs on a warmer (or busier) machine
		const steps = [
			['plain', '  plain fetch loop   ', plainLoop],
			['floor', "  n8n's floor        ", floorRun],
			['raw', '  node (Raw output)  ', () => nodeRun('raw')],
			['simplified', '  node (Simplified)  ', () => nodeRun('simplified')],
			['plain1', '  plain, one page    ', () => plainLoop({ firstPageOnly: true })],
			['floor1', '  floor, one page    ', () => floorRun({ firstPageOnly: true })],
			['node1', '  node, one page     ', () => nodeRun('raw', PAGE)],
		];
		if (round % 2 === 0) steps.reverse();
		for (const [name, label, fn] of steps) {
			await resetStats();
			runs[name].push(await timed(label, fn, ['floor', 'raw', 'simplified'].includes(name) ? name : undefined));
			if (['raw', 'simplified', 'node1'].includes(name)) nodeTokenRequests += await tokenRequests();
		}
		const last = (name) => runs[name].at(-1);
		ratios.rawFloor.push(last('raw').ms / last('floor').ms);
		ratios.rawFloorCpu.push(last('raw').cpuMs / last('floor').cpuMs);
		ratios.rawPlain.push(last('raw').ms / last('plain').ms);
		ratios.simplifiedFloor.push(last('simplified').ms / last('floor').ms);
		ratios.floorPlain.push(last('floor').ms / last('plain').ms);
	}
	const m = Object.fromEntries(Object.entries(runs).map(([k, list]) => [k, { ms: median(list.map((x) => x.ms)), cpuMs: median(list.map((x) => x.cpuMs)) }]));
	const rm = Object.fromEntries(Object.entries(ratios).map(([k, list]) => [k, median(list)]));
	const pages = Math.ceil(PATIENTS / PAGE);
	console.log('\n=== Patient Search, Return All, %d patients, %d per page (%d pages), %d rounds', PATIENTS, PAGE, pages, ROUNDS);
	console.log(`machine: ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
	const row = (label, k) => console.log(`${label.padEnd(22)} median ${m[k].ms.toFixed(0)} ms, CPU ${m[k].cpuMs.toFixed(0)} ms`);
	row('plain fetch loop', 'plain');
	row("n8n's floor", 'floor');
	row('node, Raw output', 'raw');
	row('node, Simplified', 'simplified');
	console.log(`node (Raw) / n8n's floor: ${rm.rawFloor.toFixed(2)}x time (per-round ${range(ratios.rawFloor)}; target <= 1.1x ${rm.rawFloor <= 1.1 ? 'OK' : 'ABOVE TARGET'}), ${rm.rawFloorCpu.toFixed(2)}x CPU`);
	console.log(`node (Simplified) / n8n's floor: ${rm.simplifiedFloor.toFixed(2)}x time (per-round ${range(ratios.simplifiedFloor)})`);
	console.log(`node (Raw) / plain fetch: ${rm.rawPlain.toFixed(2)}x (per-round ${range(ratios.rawPlain)}); n8n's floor / plain fetch: ${rm.floorPlain.toFixed(2)}x`);
	console.log(`one page: plain ${m.plain1.ms.toFixed(0)} ms, floor ${m.floor1.ms.toFixed(0)} ms, node ${m.node1.ms.toFixed(0)} ms (an execution's set-up: workflow, token, one request)`);
	const perPage = (all, one) => (all - one) / (pages - 1);
	console.log(
		`paging only (all pages minus one page): node ${perPage(m.raw.ms, m.node1.ms).toFixed(2)} ms, floor ${perPage(m.floor.ms, m.floor1.ms).toFixed(2)} ms, plain ${perPage(m.plain.ms, m.plain1.ms).toFixed(2)} ms per further page; node / floor ${((m.raw.ms - m.node1.ms) / (m.floor.ms - m.floor1.ms)).toFixed(2)}x`,
	);
	console.log(`token requests by the node: ${firstRunTokens} for its first run, ${nodeTokenRequests} for the ${ROUNDS * 3} timed runs (target: 1 in total)`);
	console.log(`peak memory of this process (n8n + node + plain loop; the sandbox runs in its own process): rss ${mb(peakRss)}, heap ${mb(peakHeap)}`);
	console.log(`BENCH-RESULT ${JSON.stringify({ machine: { cpus: os.cpus().length, load: os.loadavg() }, patients: PATIENTS, pages, rounds: ROUNDS, medians: m, ratios: rm, spread: Object.fromEntries(Object.entries(ratios).map(([k, list]) => [k, [Math.min(...list), Math.max(...list)]])), tokens: { firstRun: firstRunTokens, timed: nodeTokenRequests } })}`);
} finally {
	clearInterval(sampler);
	child.stdin.end();
	await shutdown();
}
