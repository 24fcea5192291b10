#!/usr/bin/env node
// Bulk Export benchmark: an export of N bytes of NDJSON from the sandbox (in a child process, so
// its memory is not counted) downloaded by the node's Download operation in "Files" mode through
// the in-process n8n harness (filesystem binary data mode), against curl downloading the same files
// with the same parallelism in the same run, with the completeness checks (Verify Files) on and off,
// in parts and one item per file; then the Records mode rate.
//
//   npm run bench:bulk                 # 100 MB, then 1 GB
//   npm run bench:bulk -- 250m         # one size (k, m, g suffixes; bytes otherwise)
//   npm run bench:bulk -- 100m 1g --parallel 3 --rounds 3 [--no-records]
//
// Roles (internal): --role sandbox | --role node <json>.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { exportOnce, firstMessage, forkRole, median, PAD, RECORD_BYTES, secretToken, sleep } from './bulk-bench.mjs';
import { ROOT } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const argv = process.argv.slice(2);
const roleAt = argv.indexOf('--role');
const role = roleAt >= 0 ? argv[roleAt + 1] : 'main';

const PER_FILE = 10000; // ~50 MB files

/** Beside the default run (parts of 2 MB, Verify Files on): the checks off, and one item per file with and without them. */
const CHECK_VARIANTS = [
	{ label: 'Verify Files off', extra: { downloadOptions: { verifyFiles: false } } },
	{ label: 'one item per file (Split 0), Verify Files on', extra: { filePartMb: 0 } },
	{ label: 'one item per file (Split 0), Verify Files off', extra: { filePartMb: 0, downloadOptions: { verifyFiles: false } } },
];

function parseSize(text) {
	const m = /^(\d+(?:\.\d+)?)([kmg]?)b?$/i.exec(text);
	if (!m) throw new Error(`bad size ${text}`);
	const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2].toLowerCase()];
	return Math.round(Number(m[1]) * mult);
}
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

// ------------------------------------------------------------------------------------------------
if (role === 'sandbox') {
	const { startSandbox } = await import('../sandbox/index.mjs');
	const options = JSON.parse(argv[roleAt + 2]);
	const sb = await startSandbox(options);
	process.send({ baseUrl: sb.baseUrl, origin: sb.origin, tokenUrl: sb.tokenUrl, practice: sb.practices[0], clients: sb.clients });
	process.on('disconnect', () => sb.stop().then(() => process.exit(0)));
} else if (role === 'bare') {
	// baseline: what n8n does under the hood (axios stream -> fs.promises.writeFile), in a bare Node process
	const job = JSON.parse(argv[roleAt + 2]);
	const { createRequire } = await import('node:module');
	const requireFrom = createRequire(path.join(ROOT, 'node_modules/@n8n/backend-network/package.json'));
	const axios = requireFrom('axios');
	const fs = await import('node:fs');
	const dir = mkdtempSync(path.join(tmpdir(), 'bench-bare-'));
	const cpu0 = process.cpuUsage();
	const t0 = performance.now();
	let next = 0;
	let bytes = 0;
	await Promise.all(
		Array.from({ length: job.parallel }, async () => {
			while (next < job.urls.length) {
				const i = next++;
				const res = await axios.request({ url: job.urls[i], responseType: 'stream', headers: { authorization: `Bearer ${job.bearer}`, accept: 'application/fhir+ndjson' }, maxRedirects: 0 });
				const file = path.join(dir, `${i}.ndjson`);
				await fs.promises.writeFile(file, res.data);
				bytes += statSync(file).size;
			}
		}),
	);
	const seconds = (performance.now() - t0) / 1000;
	const cpu = process.cpuUsage(cpu0);
	rmSync(dir, { recursive: true, force: true });
	process.send({ seconds, bytes, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
	process.disconnect();
} else if (role === 'node') {
	// the n8n process under test: downloads on request, reports idle RSS (after warm-up) and peak RSS
	const job = JSON.parse(argv[roleAt + 2]);
	const { runNode, shutdown, engine } = await import('../test/helpers/n8n.mjs');
	const c = job.client;
	const credentials = {
		eClinicalWorksApi: {
			environment: 'custom',
			baseUrl: `${job.origin}/fhir/r4/{practiceCode}`,
			practiceCode: job.practice,
			tokenUrl: job.tokenUrl,
			authMethod: 'clientSecretBasic',
			clientId: c.clientId,
			clientSecret: c.clientSecret,
			scopes: c.scopes,
		},
	};
	const base = { resource: 'bulkExport', operation: 'download', source: 'statusUrl', statusUrl: job.statusUrl, serverRules: 'generic', parallelDownloads: job.parallel };
	// warm-up: loads n8n, the node, the credential and mints a token
	await runNode({ parameters: { resource: 'bulkExport', operation: 'checkStatus', statusUrl: job.statusUrl, serverRules: 'generic' }, credentials });
	global.gc?.();
	await sleep(300);
	const idle = process.memoryUsage.rss();
	process.send({ ready: true, idle, binaryMode: engine.binaryDataMode });
	process.on('message', async (msg) => {
		if (msg.cmd === 'exit') {
			await shutdown();
			process.exit(0);
		}
		global.gc?.();
		await sleep(200);
		// process.memoryUsage.rss() is cheap; process.memoryUsage() walks the heap
		let peak = process.memoryUsage.rss();
		const sampler = setInterval(() => {
			peak = Math.max(peak, process.memoryUsage.rss());
		}, 50);
		const progress = setInterval(() => process.send({ progress: true, rss: process.memoryUsage.rss(), binaryDir: engine.binaryDataPath }), 2000);
		let session;
		if (process.env.BENCH_CPU_PROF) {
			const inspector = await import('node:inspector/promises');
			session = new inspector.Session();
			session.connect();
			await session.post('Profiler.enable');
			await session.post('Profiler.start');
		}
		const cpu0 = process.cpuUsage();
		const t0 = performance.now();
		const result = await runNode({ parameters: { ...base, outputMode: msg.mode, recordLimit: 0, ...(msg.extra ?? {}) }, credentials });
		const seconds = (performance.now() - t0) / 1000;
		const cpuUsed = process.cpuUsage(cpu0);
		const cpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;
		clearInterval(sampler);
		clearInterval(progress);
		peak = Math.max(peak, process.memoryUsage.rss());
		if (session) {
			const { profile } = await session.post('Profiler.stop');
			const { writeFileSync } = await import('node:fs');
			writeFileSync(path.join(process.env.BENCH_CPU_PROF, `download-${msg.mode}-${Date.now()}.cpuprofile`), JSON.stringify(profile));
		}
		if (result.error) {
			process.send({ error: `${result.error.message} ${result.error.description ?? ''}` });
			return;
		}
		const items = result.itemsOf('Node');
		const bytes = msg.mode === 'files' ? items.reduce((n, i) => n + (i.json.bytes ?? 0), 0) : 0;
		// free the stored files before the next round (the harness removes its folder on exit)
		if (engine.binaryDataPath) rmSync(engine.binaryDataPath, { recursive: true, force: true });
		process.send({ done: true, seconds, cpuSeconds, idle, peak, items: items.length, bytes, binaryMode: engine.binaryDataMode });
	});
} else {
	await main();
}

// ------------------------------------------------------------------------------------------------
async function startSandboxChild(options) {
	const child = forkRole(SELF, ['--role', 'sandbox', JSON.stringify(options)]);
	return { child, info: await firstMessage(child, 'sandbox') };
}

function dirBytes(dir) {
	let n = 0;
	try {
		for (const e of readdirSync(dir, { withFileTypes: true })) {
			const p = path.join(dir, e.name);
			n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
		}
	} catch {
		// racing with writes
	}
	return n;
}

async function curlDownload(manifest, bearer, parallel, total) {
	const dir = mkdtempSync(path.join(tmpdir(), 'bench-curl-'));
	const args = ['-s', '-S', '--fail', '--parallel', '--parallel-max', String(parallel), '-H', `Authorization: Bearer ${bearer}`, '-H', 'Accept: application/fhir+ndjson'];
	manifest.output.forEach((f, i) => args.push('-o', path.join(dir, `${i}.ndjson`), f.url));
	const t0 = performance.now();
	const timer = setInterval(() => console.log(`    curl: ${mb(dirBytes(dir))} / ${mb(total)}  ${((performance.now() - t0) / 1000).toFixed(0)} s`), 2000);
	// bash's `time` reports curl's CPU seconds (user + sys) on the last line of stderr
	let stderr = '';
	const quoted = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
	const child = spawn('bash', ['-c', `TIMEFORMAT='%U %S'; time curl ${quoted}`], { stdio: ['ignore', 'ignore', 'pipe'] });
	child.stderr.on('data', (d) => (stderr += d));
	const code = await new Promise((resolve) => child.on('exit', resolve));
	clearInterval(timer);
	const seconds = (performance.now() - t0) / 1000;
	const cpuLine = stderr.trim().split('\n').at(-1).split(' ').map(Number);
	const cpuSeconds = cpuLine.length === 2 && cpuLine.every(Number.isFinite) ? cpuLine[0] + cpuLine[1] : NaN;
	const bytes = dirBytes(dir);
	rmSync(dir, { recursive: true, force: true });
	if (code !== 0) throw new Error(`curl exited ${code}: ${stderr.slice(0, 300)}`);
	return { seconds, bytes, cpuSeconds };
}

async function startRunner(info, statusUrl, parallel) {
	const job = { ...info, client: info.clients.find((x) => x.clientId === 'sandbox-secret'), statusUrl, parallel };
	delete job.clients;
	const child = forkRole(SELF, ['--role', 'node', JSON.stringify(job)], ['--expose-gc', ...(process.env.BENCH_NODE_FLAGS ? process.env.BENCH_NODE_FLAGS.split(' ') : [])]);
	const ready = await new Promise((resolve, reject) => {
		child.once('message', resolve);
		child.once('exit', (code) => reject(new Error(`node runner exited ${code}`)));
	});
	let current;
	let t0 = 0;
	let label = '';
	let total = 0;
	child.on('message', (m) => {
		if (!current) return;
		if (m.progress) {
			const written = label === 'files' && m.binaryDir ? dirBytes(m.binaryDir) : undefined;
			console.log(`    node (${label}): ${written !== undefined ? `${mb(written)} / ${mb(total)}  ` : ''}rss ${mb(m.rss)}  ${((performance.now() - t0) / 1000).toFixed(0)} s`);
		} else if (m.error) {
			current.reject(new Error(m.error));
			current = undefined;
		} else if (m.done) {
			current.resolve(m);
			current = undefined;
		}
	});
	return {
		idle: ready.idle,
		binaryMode: ready.binaryMode,
		download: (mode, expected, extra) =>
			new Promise((resolve, reject) => {
				current = { resolve, reject };
				t0 = performance.now();
				label = mode;
				total = expected;
				child.send({ mode, extra });
			}),
		stop: () => {
			child.send({ cmd: 'exit' });
		},
	};
}

async function bareDownload(manifest, bearer, parallel) {
	const child = forkRole(SELF, ['--role', 'bare', JSON.stringify({ urls: manifest.output.map((f) => f.url), bearer, parallel })]);
	return await new Promise((resolve, reject) => {
		child.once('message', resolve);
		child.once('exit', (code) => code && reject(new Error(`bare runner exited ${code}`)));
	});
}

async function benchSize(target, parallel, rounds) {
	const records = Math.max(PER_FILE, Math.round(target / RECORD_BYTES));
	const patients = 1000;
	const repeat = Math.ceil(records / patients);
	console.log(`\n=== ${mb(target)} export: ${patients} patients x ${repeat} copies, ~${PER_FILE} records per file, ${parallel} parallel downloads, ${rounds} rounds`);
	const { child, info } = await startSandboxChild({ port: 0, profile: 'smart', patients, seed: 3, bulkDelayMs: 0, bulkRepeat: repeat, bulkPaddingBytes: PAD, maxResourcesPerFile: PER_FILE, tokenLifetimeSeconds: 3600 });
	let runner;
	try {
		const bearer = await secretToken(info.tokenUrl, info.clients.find((x) => x.clientId === 'sandbox-secret'));
		const { statusUrl, manifest } = await exportOnce(info.baseUrl, bearer);
		const count = manifest.output.reduce((n, f) => n + f.count, 0);
		const total = count * RECORD_BYTES;
		console.log(`    manifest: ${manifest.output.length} files, ${count} records (~${mb(total)})`);
		runner = await startRunner(info, statusUrl, parallel);
		console.log(`    n8n runner ready: binary data mode ${runner.binaryMode}, idle RSS ${mb(runner.idle)}`);
		console.log('  warm-up (curl)');
		await curlDownload(manifest, bearer, parallel, total);
		const nodeRuns = [];
		const curlRuns = [];
		const bareRuns = [];
		// the completeness checks (Verify Files) on and off, in parts (the default) and one item per file
		const variants = CHECK_VARIANTS.map((v) => ({ ...v, runs: [] }));
		for (let round = 1; round <= rounds; round++) {
			console.log(`  round ${round}: node, Output "Files"`);
			const node = await runner.download('files', total);
			console.log(`    ${mb(node.bytes)} in ${node.seconds.toFixed(2)} s (${mb(node.bytes / node.seconds)}/s), CPU ${node.cpuSeconds.toFixed(2)} s, ${node.items} items, peak RSS ${mb(node.peak)} = ${mb(node.peak - runner.idle)} above idle`);
			nodeRuns.push(node);
			for (const variant of variants) {
				console.log(`  round ${round}: node, Output "Files", ${variant.label}`);
				const run = await runner.download('files', total, variant.extra);
				console.log(`    ${mb(run.bytes)} in ${run.seconds.toFixed(2)} s, CPU ${run.cpuSeconds.toFixed(2)} s, ${run.items} items, peak RSS ${mb(run.peak - runner.idle)} above idle`);
				variant.runs.push(run);
			}
			console.log(`  round ${round}: curl, same files`);
			const curl = await curlDownload(manifest, bearer, parallel, total);
			console.log(`    ${mb(curl.bytes)} in ${curl.seconds.toFixed(2)} s (${mb(curl.bytes / curl.seconds)}/s), CPU ${curl.cpuSeconds.toFixed(2)} s`);
			if (curl.bytes !== node.bytes) console.log(`    WARNING: byte counts differ (node ${node.bytes}, curl ${curl.bytes})`);
			curlRuns.push(curl);
			console.log(`  round ${round}: bare Node (axios stream -> fs.promises.writeFile, what n8n's filesystem mode does), same files`);
			const bare = await bareDownload(manifest, bearer, parallel);
			console.log(`    ${mb(bare.bytes)} in ${bare.seconds.toFixed(2)} s (${mb(bare.bytes / bare.seconds)}/s), CPU ${bare.cpuSeconds.toFixed(2)} s`);
			bareRuns.push(bare);
		}
		const nodeSeconds = median(nodeRuns.map((r) => r.seconds));
		const curlSeconds = median(curlRuns.map((r) => r.seconds));
		const peakAbove = Math.max(...nodeRuns.map((r) => r.peak)) - runner.idle;
		const nodeCpu = median(nodeRuns.map((r) => r.cpuSeconds));
		const curlCpu = median(curlRuns.map((r) => r.cpuSeconds));
		const bareSeconds = median(bareRuns.map((r) => r.seconds));
		const bareCpu = median(bareRuns.map((r) => r.cpuSeconds));
		const checks = variants.map((v) => ({ label: v.label, seconds: median(v.runs.map((r) => r.seconds)), cpu: median(v.runs.map((r) => r.cpuSeconds)), peakAbove: Math.max(...v.runs.map((r) => r.peak)) - runner.idle }));
		return { checks, bareSeconds, bareCpu, target, files: manifest.output.length, bytes: nodeRuns[0].bytes, nodeSeconds, curlSeconds, ratio: nodeSeconds / curlSeconds, best: Math.min(...nodeRuns.map((r) => r.seconds)) / Math.min(...curlRuns.map((r) => r.seconds)), nodeCpu, curlCpu, peakAbove, idle: runner.idle };
	} finally {
		runner?.stop();
		if (child.connected) child.disconnect();
	}
}

async function benchRecords(parallel) {
	// realistic record sizes (no padding): 200,000 Patient records
	const patients = 1000;
	const repeat = Number(process.env.BENCH_RECORDS_REPEAT ?? 200);
	console.log(`\n=== Records mode: ${patients * repeat} Patient records without padding`);
	const { child, info } = await startSandboxChild({ port: 0, profile: 'smart', patients, seed: 3, bulkDelayMs: 0, bulkRepeat: repeat, maxResourcesPerFile: 20000, tokenLifetimeSeconds: 3600 });
	let runner;
	try {
		const bearer = await secretToken(info.tokenUrl, info.clients.find((x) => x.clientId === 'sandbox-secret'));
		const { statusUrl, manifest } = await exportOnce(info.baseUrl, bearer);
		const count = manifest.output.reduce((n, f) => n + f.count, 0);
		runner = await startRunner(info, statusUrl, parallel);
		const curl = await curlDownload(manifest, bearer, parallel, count * 960);
		console.log(`    curl: ${mb(curl.bytes)} (${count} records) in ${curl.seconds.toFixed(2)} s`);
		const node = await runner.download('records', count * 960);
		const rate = node.items / node.seconds;
		console.log(`    node: ${node.items} records in ${node.seconds.toFixed(2)} s = ${Math.round(rate)} records/s (RSS above idle ${mb(node.peak - runner.idle)}: n8n keeps every output item in memory)`);
		return { records: node.items, seconds: node.seconds, rate, curlSeconds: curl.seconds, bytes: curl.bytes };
	} finally {
		runner?.stop();
		if (child.connected) child.disconnect();
	}
}

async function main() {
	const parallelAt = argv.indexOf('--parallel');
	const parallel = parallelAt >= 0 ? Number(argv[parallelAt + 1]) : 3;
	const roundsAt = argv.indexOf('--rounds');
	const rounds = roundsAt >= 0 ? Number(argv[roundsAt + 1]) : 3;
	const sizes = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--parallel' && argv[i - 1] !== '--rounds').map(parseSize);
	const targets = sizes.length ? sizes : [100e6, 1e9];
	const results = [];
	if (!argv.includes('--records-only')) for (const target of targets) results.push(await benchSize(target, parallel, rounds));
	const records = argv.includes('--no-records') ? undefined : await benchRecords(parallel);
	if (argv.includes('--records-only')) {
		process.exit(0);
	}

	console.log('\n=== Summary');
	console.log(`  machine: ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (other processes compete with the node, not with curl)`);
	for (const r of results) {
		console.log(
			`  ${mb(r.bytes).padStart(10)} in ${r.files} files: node ${r.nodeSeconds.toFixed(2)} s, curl ${r.curlSeconds.toFixed(2)} s (medians), ratio ${r.ratio.toFixed(3)} (target <= 1.1); ` +
				`best-of ratio ${r.best.toFixed(3)}; CPU node ${r.nodeCpu.toFixed(2)} s, curl ${r.curlCpu.toFixed(2)} s; ` +
				`bare Node baseline ${r.bareSeconds.toFixed(2)} s (CPU ${r.bareCpu.toFixed(2)} s), node/bare ratio ${(r.nodeSeconds / r.bareSeconds).toFixed(3)}; ` +
				`node peak RSS ${mb(r.peakAbove)} above idle ${mb(r.idle)} (target < 150 MB)`,
		);
		for (const c of r.checks) {
			console.log(`  ${''.padStart(10)} ${c.label}: ${c.seconds.toFixed(2)} s, node/bare ${(c.seconds / r.bareSeconds).toFixed(3)}, CPU ${c.cpu.toFixed(2)} s, peak RSS ${mb(c.peakAbove)} above idle`);
		}
		const [partsOff, wholeOn, wholeOff] = r.checks;
		console.log(
			`  ${''.padStart(10)} Verify Files cost: in parts ${(r.nodeSeconds / partsOff.seconds).toFixed(3)}x time, ${(r.nodeCpu / partsOff.cpu).toFixed(3)}x CPU; ` +
				`one item per file ${(wholeOn.seconds / wholeOff.seconds).toFixed(3)}x time, ${(wholeOn.cpu / wholeOff.cpu).toFixed(3)}x CPU`,
		);
	}
	if (records) console.log(`  Records mode: ${Math.round(records.rate)} records/s (${records.records} records, ${mb(records.bytes)}, in ${records.seconds.toFixed(2)} s; curl fetched the same files in ${records.curlSeconds.toFixed(2)} s)`);
	process.exit(0);
}
