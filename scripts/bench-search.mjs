// Benchmark: Patient Search, Return All at 100 per page, against the sandbox with 10,000 patients.
//
// Runs the eClinicalWorks node in-process (real n8n-core WorkflowExecute, the node's own transport
// through n8n's httpRequestWithAuthentication) and, in the same run against the same server, a
// plain loop of fetch calls over the same pages (one token, follow `next` links). Prints the ratio
// node / plain (target <= 1.2x), the token requests the node made (target 1) and peak memory.
//
//   npm run bench:search [-- --patients 10000 --rounds 3]
import { performance } from 'node:perf_hooks';
import { spawn } from 'node:child_process';
import { signAssertion } from '../sandbox/jwt.mjs';

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

async function timed(label, fn) {
	const t = performance.now();
	const r = await fn();
	const ms = performance.now() - t;
	log(`${label}: ${r.count} records in ${ms.toFixed(0)} ms`);
	return { ...r, ms };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
	log('warm-up (first token, capability statement, JIT)');
	await timed('warm-up plain', plainLoop);
	await resetStats();
	await timed('warm-up node', () => nodeRun('raw'));
	const firstRunTokens = await tokenRequests();

	const plain = [];
	const nodeRaw = [];
	const nodeSimple = [];
	// one page each: what an execution costs besides paging (n8n's workflow set-up, expression isolate, token, one request)
	const plainOnePage = [];
	const nodeOnePage = [];
	const ratiosRaw = [];
	const ratiosSimple = [];
	let nodeTokenRequests = 0;
	for (let round = 1; round <= ROUNDS; round++) {
		log(`round ${round}/${ROUNDS}`);
		// alternate the order so neither side always runs on a warmer (or busier) machine
		const steps = [
			['plain', async () => plain.push((await timed('  plain fetch loop   ', plainLoop)).ms)],
			['raw', async () => nodeRaw.push((await timed('  node (Raw output)  ', () => nodeRun('raw'))).ms)],
			['simplified', async () => nodeSimple.push((await timed('  node (Simplified)  ', () => nodeRun('simplified'))).ms)],
			['plain1', async () => plainOnePage.push((await timed('  plain, one page    ', () => plainLoop({ firstPageOnly: true }))).ms)],
			['node1', async () => nodeOnePage.push((await timed('  node, one page     ', () => nodeRun('raw', PAGE))).ms)],
		];
		if (round % 2 === 0) steps.reverse();
		for (const [name, step] of steps) {
			await resetStats();
			await step();
			if (!name.startsWith('plain')) nodeTokenRequests += await tokenRequests();
		}
		ratiosRaw.push(nodeRaw.at(-1) / plain.at(-1));
		ratiosSimple.push(nodeSimple.at(-1) / plain.at(-1));
	}
	const p = median(plain);
	const r = median(nodeRaw);
	const s = median(nodeSimple);
	const rr = median(ratiosRaw);
	const rs = median(ratiosSimple);
	console.log('\n=== Patient Search, Return All, %d patients, %d per page (%d pages), %d rounds', PATIENTS, PAGE, Math.ceil(PATIENTS / PAGE), ROUNDS);
	console.log(`plain fetch loop       median ${p.toFixed(0)} ms`);
	console.log(`node, Raw output       median ${r.toFixed(0)} ms   median per-round ratio ${rr.toFixed(2)}x  (target <= 1.2x) ${rr <= 1.2 ? 'OK' : 'ABOVE TARGET'}`);
	console.log(`node, Simplified       median ${s.toFixed(0)} ms   median per-round ratio ${rs.toFixed(2)}x`);
	console.log(`per-round ratios (raw): ${ratiosRaw.map((x) => x.toFixed(2)).join(' ')}`);
	const p1 = median(plainOnePage);
	const n1 = median(nodeOnePage);
	const marginal = (r - n1) / (p - p1);
	console.log(`one page: plain ${p1.toFixed(0)} ms, node ${n1.toFixed(0)} ms (n8n's per-execution cost: workflow set-up, expression isolate)`);
	console.log(`paging only (all pages minus one page), node / plain: ${marginal.toFixed(2)}x  (${((r - n1) / (Math.ceil(PATIENTS / PAGE) - 1)).toFixed(2)} vs ${((p - p1) / (Math.ceil(PATIENTS / PAGE) - 1)).toFixed(2)} ms per further page)`);
	console.log(`token requests by the node: ${firstRunTokens} for its first run, ${nodeTokenRequests} for the ${ROUNDS * 3} timed runs (target: 1 in total)`);
	console.log(`peak memory of this process (n8n + node + plain loop; the sandbox runs in its own process): rss ${mb(peakRss)}, heap ${mb(peakHeap)}`);
} finally {
	clearInterval(sampler);
	child.stdin.end();
	await shutdown();
}
