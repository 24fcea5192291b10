// Memory benchmark of the sandbox's bulk export: streams a ~100 MB and a ~1 GB export (each in a
// fresh child process running the sandbox) and prints the sandbox's peak RSS for each.
// Usage: npm run bench:sandbox [-- --small-mb 100 --large-mb 1000]
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { signAssertion } from '../sandbox/jwt.mjs';

const { values } = parseArgs({ options: { child: { type: 'boolean' }, 'small-mb': { type: 'string' }, 'large-mb': { type: 'string' } } });

if (values.child) {
	// child: run a sandbox, report peak RSS on request
	const { startSandbox } = await import('../sandbox/index.mjs');
	const opts = JSON.parse(process.env.BENCH_OPTS);
	const sb = await startSandbox(opts);
	let peak = process.memoryUsage().rss;
	const timer = setInterval(() => {
		peak = Math.max(peak, process.memoryUsage().rss);
	}, 20);
	process.on('message', async (m) => {
		if (m === 'peak') {
			// heap still in use once the export is over: what the server retained, as opposed to
			// RSS the allocator has not handed back yet
			globalThis.gc?.();
			process.send({ peak, heapAfterGc: process.memoryUsage().heapUsed });
		}
		if (m === 'stop') {
			clearInterval(timer);
			await sb.stop();
			process.exit(0);
		}
	});
	const c = sb.clients.find((x) => x.clientId === 'sandbox-rs384');
	process.send({ ready: true, baseUrl: sb.baseUrl, tokenUrl: sb.tokenUrl, client: { clientId: c.clientId, privateKeyPem: c.privateKeyPem, kid: c.kid }, rss: process.memoryUsage().rss });
} else {
	const self = fileURLToPath(import.meta.url);
	// ~6 kB per patient across Patient + 2 Encounters + 2 Appointments + Coverage (smart profile)
	const PATIENTS = 20_000;
	const runOne = async (targetMb) => {
		const bytesPerRepeat = PATIENTS * 6_000;
		const repeat = Math.max(1, Math.round((targetMb * 1e6) / bytesPerRepeat));
		const child = fork(self, ['--child'], { env: { ...process.env, BENCH_OPTS: JSON.stringify({ profile: 'smart', patients: PATIENTS, bulkRepeat: repeat, bulkDelayMs: 0, maxResourcesPerFile: 50_000 }) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--expose-gc'] });
		const info = await new Promise((r) => child.once('message', r));
		const assertion = signAssertion({ clientId: info.client.clientId, tokenUrl: info.tokenUrl, privateKeyPem: info.client.privateKeyPem, alg: 'RS384', kid: info.client.kid });
		const tok = await (await fetch(info.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'system/*.read', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }) })).json();
		const H = { authorization: `Bearer ${tok.access_token}` };
		const k = await fetch(`${info.baseUrl}/$export`, { headers: { ...H, accept: 'application/fhir+json', prefer: 'respond-async' } });
		const status = k.headers.get('content-location');
		let manifest;
		for (;;) {
			const r = await fetch(status, { headers: H });
			if (r.status === 200) {
				manifest = await r.json();
				break;
			}
			await r.arrayBuffer();
			await new Promise((res) => setTimeout(res, 50));
		}
		const t0 = Date.now();
		let bytes = 0;
		let lines = 0;
		// download 4 files at a time
		const queue = [...manifest.output];
		await Promise.all(Array.from({ length: 4 }, async () => {
			for (let o = queue.shift(); o; o = queue.shift()) {
				const r = await fetch(o.url, { headers: H });
				for await (const chunk of r.body) {
					bytes += chunk.length;
					for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines += 1;
				}
			}
		}));
		const secs = (Date.now() - t0) / 1000;
		child.send('peak');
		const { peak, heapAfterGc } = await new Promise((r) => child.once('message', r));
		child.send('stop');
		await new Promise((r) => child.once('exit', r));
		return { targetMb, repeat, files: manifest.output.length, resources: lines, mb: bytes / 1e6, secs, startRssMb: info.rss / 1e6, peakRssMb: peak / 1e6, heapAfterGcMb: heapAfterGc / 1e6 };
	};
	const rows = [];
	for (const mb of [Number(values['small-mb'] ?? 100), Number(values['large-mb'] ?? 1000)]) {
		const r = await runOne(mb);
		rows.push(r);
		console.log(`export ${r.mb.toFixed(0).padStart(5)} MB  ${String(r.resources).padStart(9)} resources in ${String(r.files).padStart(3)} files, ${r.secs.toFixed(1)} s (${(r.mb / r.secs).toFixed(0)} MB/s); sandbox RSS start ${r.startRssMb.toFixed(0)} MB, peak ${r.peakRssMb.toFixed(0)} MB, heap after GC ${r.heapAfterGcMb.toFixed(0)} MB`);
	}
	const [a, b] = rows;
	console.log(`peak RSS grows ${(b.peakRssMb - a.peakRssMb).toFixed(0)} MB for ${(b.mb / a.mb).toFixed(1)}x the export size`);
}
