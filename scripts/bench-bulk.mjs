#!/usr/bin/env node
// Bulk Export benchmark: an export of N bytes of NDJSON from the sandbox (in a child process, so
// its memory is not counted) downloaded by the node's Download operation in "Files" mode through
// the in-process n8n harness (filesystem binary data mode), in the same run against its baselines:
//   - n8n's floor: the same files through n8n's own `httpRequest` helper as streams into
//     `prepareBinaryData`, in the same n8n process (scripts/bench-floor.mjs): what any node pays;
//   - a bare Node process doing what n8n's filesystem mode does (axios stream to fs.writeFile);
//   - curl.
// Besides the defaults: Verify Files off (what the completeness checks cost) and Split Large Files
// "Always" (2 MB parts, what database mode needs). Then the Records mode rate and its memory per
// 100,000 records. CPU seconds (process.cpuUsage, all threads) beside wall time, and V8's GC time.
//
//   npm run bench:bulk                 # 100 MB, then 1 GB
//   npm run bench:bulk -- 250m         # one size (k, m, g suffixes; bytes otherwise)
//   npm run bench:bulk -- 100m 1g --parallel 3 --rounds 3 [--no-records] [--records 200000]
//   npm run bench:bulk -- 1g --variants node,floor --no-baselines   # only these, for a quick A/B
//   BENCH_CPU_PROF=dir                 # a .cpuprofile of every node and floor run in dir
//
// The last line, `BENCH-RESULT {json}`, is what `npm run bench` reads.

// Roles (internal): --role sandbox | --role node <json>.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { bareLoop, bareRecordsLoop, dirBytes, exportOnce, firstMessage, forkRole, PAD, RECORD_BYTES, secretToken, sleep, summarize } from './bulk-bench.mjs';
import { FLOOR_DOWNLOAD, FLOOR_RECORDS, floorNodeTypes } from './bench-floor.mjs';
import { ROOT } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const argv = process.argv.slice(2);
const roleAt = argv.indexOf('--role');
const role = roleAt >= 0 ? argv[roleAt + 1] : 'main';

const PER_FILE = 10000; // ~50 MB files
const variantKeys = argv.includes('--variants') ? argv[argv.indexOf('--variants') + 1].split(',') : undefined;

/** What runs in the n8n process each round, in this order (the defaults first). */
const VARIANTS = [
	{ key: 'node', label: 'node, Files, defaults (Verify Files on, Split Large Files Automatic)', mode: 'files' },
	{ key: 'floor', label: "n8n's floor: httpRequest stream -> prepareBinaryData, same process", mode: 'floor' },
	{ key: 'verifyOff', label: 'node, Files, Verify Files off', mode: 'files', extra: { downloadOptions: { verifyFiles: false } } },
	{ key: 'parts', label: 'node, Files, Split Large Files Always (2 MB parts, as database mode gets)', mode: 'files', extra: { splitFiles: 'always' } },
	{ key: 'bareInProcess', label: 'the bare process\'s code (axios -> fs.writeFile) run inside the n8n process', mode: 'bareInProcess' },
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
	// ballast: as much live heap as the n8n process holds at idle, kept alive to the end
	const ballast = [];
	for (let i = 0; process.memoryUsage().heapUsed < (job.ballastBytes ?? 0); i++) ballast.push({ i, text: `record ${i}`, list: [i, i + 1, i + 2] });
	const cpu0 = process.cpuUsage();
	const t0 = performance.now();
	const bytes = job.records ? await bareRecordsLoop(job.urls, job.bearer, job.parallel) : await bareLoop(job.urls, job.bearer, job.parallel);
	if (ballast.length === -1) console.log(ballast);
	const seconds = (performance.now() - t0) / 1000;
	const cpu = process.cpuUsage(cpu0);
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
	const { PerformanceObserver } = await import('node:perf_hooks');
	let gcMs = 0;
	new PerformanceObserver((list) => {
		for (const entry of list.getEntries()) gcMs += entry.duration;
	}).observe({ entryTypes: ['gc'] });
	// warm-up: loads n8n, the node, the credential and mints a token
	await runNode({ parameters: { resource: 'bulkExport', operation: 'checkStatus', statusUrl: job.statusUrl, serverRules: 'generic' }, credentials });
	global.gc?.();
	await sleep(300);
	const idle = process.memoryUsage.rss();
	process.send({ ready: true, idle, idleHeap: process.memoryUsage().heapUsed, binaryMode: engine.binaryDataMode });
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
		const gc0 = gcMs;
		const cpu0 = process.cpuUsage();
		const t0 = performance.now();
		let result;
		if (msg.mode === 'bareInProcess') {
			// the bare process's code, run in this n8n process: what n8n's heap and code alone cost
			const bytes = await bareLoop(msg.urls, msg.bearer, job.parallel);
			result = { itemsOf: () => [{ json: { bytes } }] };
		} else if (msg.mode === 'floor' || msg.mode === 'floorRecords') {
			result = await runNode({ type: msg.mode === 'floor' ? FLOOR_DOWNLOAD : FLOOR_RECORDS, nodeTypes: floorNodeTypes, parameters: { urls: JSON.stringify(msg.urls), bearer: msg.bearer, parallel: job.parallel } });
		} else {
			result = await runNode({ parameters: { ...base, outputMode: msg.mode, recordLimit: 0, ...(msg.extra ?? {}) }, credentials });
		}
		const seconds = (performance.now() - t0) / 1000;
		const cpuUsed = process.cpuUsage(cpu0);
		const cpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;
		const gcSeconds = (gcMs - gc0) / 1000;
		clearInterval(sampler);
		clearInterval(progress);
		peak = Math.max(peak, process.memoryUsage.rss());
		if (session) {
			const { profile } = await session.post('Profiler.stop');
			const { writeFileSync } = await import('node:fs');
			writeFileSync(path.join(process.env.BENCH_CPU_PROF, `download-${msg.key ?? msg.mode}-${Date.now()}.cpuprofile`), JSON.stringify(profile));
		}
		if (result.error) {
			process.send({ error: `${result.error.message} ${result.error.description ?? ''}` });
			return;
		}
		let items = result.itemsOf('Node');
		const count = items.length;
		const bytes = msg.mode === 'records' || msg.mode === 'floorRecords' ? 0 : items.reduce((n, i) => n + (i.json.bytes ?? 0), 0);
		let retained;
		if (msg.mode === 'records') {
			// what the output items hold while n8n keeps them (after the run, before and after letting go of them)
			global.gc?.();
			await sleep(200);
			const held = { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage.rss() };
			// what saving the execution adds: n8n's execution repository stores the run data as flatted
			// text (@n8n/db ExecutionRepository: stringify from 'flatted'); RSS right after, the text alive
			let save;
			try {
				const { stringify } = (await import('node:module')).createRequire(path.join(ROOT, 'package.json'))('flatted');
				const text = stringify(result.data);
				save = { chars: text.length, rss: process.memoryUsage.rss() - held.rss };
			} catch (error) {
				save = { error: error.message };
			}
			items = undefined;
			result = undefined;
			global.gc?.();
			await sleep(200);
			retained = { heap: held.heap - process.memoryUsage().heapUsed, rss: held.rss - idle, save };
		}
		// free the stored files before the next round (the harness removes its folder on exit)
		if (engine.binaryDataPath) rmSync(engine.binaryDataPath, { recursive: true, force: true });
		process.send({ done: true, seconds, cpuSeconds, gcSeconds, idle, peak, items: count, bytes, retained, binaryMode: engine.binaryDataMode });
	});
} else {
	await main();
}

// ------------------------------------------------------------------------------------------------


async function startSandboxChild(options) {
	const child = forkRole(SELF, ['--role', 'sandbox', JSON.stringify(options)]);
	return { child, info: await firstMessage(child, 'sandbox') };
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
			const written = label !== 'records' && m.binaryDir ? dirBytes(m.binaryDir) : undefined;
			console.log(`    ${label}: ${written !== undefined ? `${mb(written)} / ${mb(total)}  ` : ''}rss ${mb(m.rss)}  ${((performance.now() - t0) / 1000).toFixed(0)} s`);
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
		idleHeap: ready.idleHeap,
		binaryMode: ready.binaryMode,
		/** msg: { key, mode: 'files' | 'records' | 'floor', extra?, urls?, bearer? } */
		run: (msg, expected) =>
			new Promise((resolve, reject) => {
				current = { resolve, reject };
				t0 = performance.now();
				label = msg.key ?? msg.mode;
				total = expected;
				child.send(msg);
			}),
		stop: () => {
			child.send({ cmd: 'exit' });
		},
	};
}

async function bareDownload(manifest, bearer, parallel, ballastBytes = 0, records = false) {
	const child = forkRole(SELF, ['--role', 'bare', JSON.stringify({ urls: manifest.output.map((f) => f.url), bearer, parallel, ballastBytes, records })]);
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
		const urls = manifest.output.map((f) => f.url);
		console.log(`    manifest: ${manifest.output.length} files, ${count} records (~${mb(total)})`);
		runner = await startRunner(info, statusUrl, parallel);
		console.log(`    n8n runner ready: binary data mode ${runner.binaryMode}, idle RSS ${mb(runner.idle)}`);
		console.log('  warm-up (curl, then the node and the floor once each)');
		await curlDownload(manifest, bearer, parallel, total);
		await runner.run({ key: 'warm-up node', mode: 'files' }, total);
		await runner.run({ key: 'warm-up floor', mode: 'floor', urls, bearer }, total);
		const runs = Object.fromEntries([...VARIANTS.map((v) => [v.key, []]), ['curl', []], ['bare', []], ['bareBallast', []]]);
		const chosen = variantKeys ? VARIANTS.filter((v) => variantKeys.includes(v.key)) : VARIANTS;
		for (let round = 1; round <= rounds; round++) {
			// alternate the order, so neither side always runs on a warmer (or busier) machine
			const order = round % 2 === 1 ? chosen : [...chosen].reverse();
			for (const variant of order) {
				console.log(`  round ${round}: ${variant.label}`);
				const run = await runner.run({ key: variant.key, mode: variant.mode, extra: variant.extra, urls, bearer }, total);
				console.log(`    ${mb(run.bytes)} in ${run.seconds.toFixed(2)} s (${mb(run.bytes / run.seconds)}/s), CPU ${run.cpuSeconds.toFixed(2)} s (GC ${run.gcSeconds.toFixed(2)} s), ${run.items} items, peak RSS ${mb(run.peak - runner.idle)} above idle`);
				runs[variant.key].push(run);
			}
			if (argv.includes('--no-baselines')) continue;
			console.log(`  round ${round}: curl, same files`);
			const curl = await curlDownload(manifest, bearer, parallel, total);
			console.log(`    ${mb(curl.bytes)} in ${curl.seconds.toFixed(2)} s (${mb(curl.bytes / curl.seconds)}/s), CPU ${curl.cpuSeconds.toFixed(2)} s`);
			if (runs.node.length && curl.bytes !== runs.node.at(-1).bytes) console.log(`    WARNING: byte counts differ (node ${runs.node.at(-1).bytes}, curl ${curl.bytes})`);
			runs.curl.push(curl);
			console.log(`  round ${round}: bare Node process (axios stream -> fs.promises.writeFile, what n8n's filesystem mode does), same files`);
			const bare = await bareDownload(manifest, bearer, parallel);
			console.log(`    ${mb(bare.bytes)} in ${bare.seconds.toFixed(2)} s (${mb(bare.bytes / bare.seconds)}/s), CPU ${bare.cpuSeconds.toFixed(2)} s`);
			runs.bare.push(bare);
			console.log(`  round ${round}: the same bare Node process holding ${mb(runner.idleHeap)} of live objects (the n8n process's heap at idle)`);
			const ballast = await bareDownload(manifest, bearer, parallel, runner.idleHeap);
			console.log(`    ${mb(ballast.bytes)} in ${ballast.seconds.toFixed(2)} s, CPU ${ballast.cpuSeconds.toFixed(2)} s`);
			runs.bareBallast.push(ballast);
		}
		const s = Object.fromEntries(Object.entries(runs).filter(([, list]) => list.length > 0).map(([key, list]) => [key, summarize(list, VARIANTS.some((v) => v.key === key) ? runner.idle : undefined)]));
		return { target, files: manifest.output.length, bytes: runs[chosen[0].key][0].bytes, idle: runner.idle, idleHeap: runner.idleHeap, rounds, parallel, ...s };
	} finally {
		runner?.stop();
		if (child.connected) child.disconnect();
	}
}

async function benchRecords(parallel, wanted, recordRounds) {
	// realistic record sizes (no padding): Patient records as the sandbox writes them
	const patients = 1000;
	const repeat = Math.max(1, Math.round(wanted / patients));
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
		console.log('    bare Node process: the same files read line by line, each line parsed and kept (what Records output does, without n8n)');
		const bare = await bareDownload(manifest, bearer, parallel, 0, true);
		console.log(`    ${bare.bytes} records in ${bare.seconds.toFixed(2)} s, CPU ${bare.cpuSeconds.toFixed(2)} s`);
		const urls = manifest.output.map((f) => f.url);
		// the node and n8n's floor alternate, the median of each is compared
		const nodeRuns = [];
		const floorRuns = [];
		for (let round = 1; round <= recordRounds; round++) {
			const pair = [
				['node', async () => nodeRuns.push(await runner.run({ key: 'records', mode: 'records', extra: { downloadOptions: { maxRecords: count } } }, count * 960))],
				['floor', async () => floorRuns.push(await runner.run({ key: 'floor records', mode: 'floorRecords', urls, bearer }, count * 960))],
			];
			for (const [name, step] of round % 2 ? pair : pair.reverse()) {
				await step();
				const r = (name === 'node' ? nodeRuns : floorRuns).at(-1);
				console.log(`    round ${round}, ${name === 'node' ? 'node' : "n8n's floor (httpRequest stream, lines parsed into items, same process)"}: ${r.items} records in ${r.seconds.toFixed(2)} s, CPU ${r.cpuSeconds.toFixed(2)} s`);
			}
		}
		// memory from the first run, in a process that had not held records before (RSS does not shrink back)
		const node = nodeRuns[0];
		const floor = summarize(floorRuns);
		const nodeMedian = summarize(nodeRuns);
		const rate = node.items / nodeMedian.seconds;
		const save = node.retained.save;
		const per100k = { heap: (node.retained.heap / node.items) * 1e5, rss: (node.retained.rss / node.items) * 1e5, saveRss: save.error ? NaN : (save.rss / node.items) * 1e5, saveChars: save.error ? NaN : (save.chars / node.items) * 1e5 };
		console.log(`    node: ${node.items} records, median ${nodeMedian.seconds.toFixed(2)} s = ${Math.round(rate)} records/s, CPU ${nodeMedian.cpu.toFixed(2)} s; peak RSS ${mb(node.peak - runner.idle)} above idle; node / n8n's floor ${ratio(nodeMedian.seconds, floor.seconds)}x time, ${ratio(nodeMedian.cpu, floor.cpu)}x CPU; node / bare ${ratio(nodeMedian.seconds, bare.seconds)}x time, ${ratio(nodeMedian.cpu, bare.cpuSeconds)}x CPU`);
		console.log(`    held by the output items: heap ${mb(node.retained.heap)} (${mb(per100k.heap)} per 100,000 records), RSS above idle ${mb(node.retained.rss)} (${mb(per100k.rss)} per 100,000); the NDJSON was ${mb((curl.bytes / count) * 1e5)} per 100,000`);
		console.log(save.error ? `    saving the execution (flatted): failed: ${save.error}` : `    saving the execution (flatted text, as n8n stores it): ${(save.chars / 1e6).toFixed(0)} M characters, RSS +${mb(save.rss)} (${mb(per100k.saveRss)} per 100,000 records)`);
		return { records: node.items, seconds: nodeMedian.seconds, cpu: nodeMedian.cpu, rate, floorSeconds: floor.seconds, floorCpu: floor.cpu, rounds: recordRounds, curlSeconds: curl.seconds, bareSeconds: bare.seconds, bareCpu: bare.cpuSeconds, bytes: curl.bytes, peakAbove: node.peak - runner.idle, per100k, ndjsonPer100k: (curl.bytes / count) * 1e5 };
	} finally {
		runner?.stop();
		if (child.connected) child.disconnect();
	}
}

function ratio(a, b) {
	return (a / b).toFixed(2);
}

async function main() {
	const value = (name, fallback) => (argv.includes(`--${name}`) ? Number(argv[argv.indexOf(`--${name}`) + 1]) : fallback);
	const parallel = value('parallel', 3);
	const rounds = value('rounds', 3);
	const recordCount = value('records', 200_000);
	const sizes = argv.filter((a, i) => !a.startsWith('--') && !['--parallel', '--rounds', '--records', '--variants'].includes(argv[i - 1])).map(parseSize);
	const targets = sizes.length ? sizes : [100e6, 1e9];
	const results = [];
	if (!argv.includes('--records-only')) for (const target of targets) results.push(await benchSize(target, parallel, rounds));
	const records = argv.includes('--no-records') ? undefined : await benchRecords(parallel, recordCount, rounds);

	const machine = { cpus: os.cpus().length, load: os.loadavg() };
	console.log('\n=== Summary (medians of the rounds, spread min-max)');
	console.log(`  machine: ${machine.cpus} CPUs, load average ${machine.load.map((l) => l.toFixed(1)).join(' ')} (other processes compete with the node, not with curl)`);
	for (const r of results) {
		const line = (label, x) => `    ${label.padEnd(46)} ${x.seconds.toFixed(2)} s (${x.secondsSpread}), CPU ${x.cpu.toFixed(2)} s (${x.cpuSpread})${Number.isFinite(x.gc) ? `, GC ${x.gc.toFixed(2)} s` : ''}${x.peakAbove !== undefined ? `, peak RSS ${mb(x.peakAbove)} above idle` : ''}`;
		console.log(`  ${mb(r.bytes)} in ${r.files} files, ${r.parallel} at a time, ${r.rounds} rounds; n8n idle RSS ${mb(r.idle)}`);
		for (const v of VARIANTS) if (r[v.key]) console.log(line(v.label.split(' (')[0].split(':')[0], r[v.key]));
		if (r.node && r.floor) console.log(`    node / n8n's floor: ${ratio(r.node.seconds, r.floor.seconds)}x time, ${ratio(r.node.cpu, r.floor.cpu)}x CPU (target 1.2x)`);
		if (!r.bare || !r.verifyOff || !r.parts || !r.bareInProcess) continue;
		console.log(line('bare Node process (axios -> fs.writeFile)', r.bare));
		console.log(line(`bare Node process + ${mb(r.idleHeap)} live heap`, r.bareBallast));
		console.log(line('curl', r.curl));
		console.log(`    node / bare Node process: ${ratio(r.node.seconds, r.bare.seconds)}x time, ${ratio(r.node.cpu, r.bare.cpu)}x CPU; n8n's floor / bare Node process: ${ratio(r.floor.seconds, r.bare.seconds)}x time, ${ratio(r.floor.cpu, r.bare.cpu)}x CPU`);
		console.log(`    the bare code inside the n8n process / in its own process: ${ratio(r.bareInProcess.seconds, r.bare.seconds)}x time, ${ratio(r.bareInProcess.cpu, r.bare.cpu)}x CPU (what running inside n8n costs the same code)`);
		console.log(`    the bare process holding n8n's idle heap / without: ${ratio(r.bareBallast.seconds, r.bare.seconds)}x time, ${ratio(r.bareBallast.cpu, r.bare.cpu)}x CPU (the garbage collector marks the live heap again for every ~20 MB of socket buffers)`);
		console.log(`    node / curl: ${ratio(r.node.seconds, r.curl.seconds)}x time`);
		console.log(`    Verify Files on / off: ${ratio(r.node.seconds, r.verifyOff.seconds)}x time, ${ratio(r.node.cpu, r.verifyOff.cpu)}x CPU; 2 MB parts / whole files: ${ratio(r.parts.seconds, r.node.seconds)}x time, ${ratio(r.parts.cpu, r.node.cpu)}x CPU`);
		console.log(`    node peak RSS above idle: ${mb(r.node.peakAbove)} (target 150 MB); in parts ${mb(r.parts.peakAbove)}`);
	}
	if (records) {
		console.log(`  Records mode: ${Math.round(records.rate)} records/s (${records.records} records, ${mb(records.bytes)}, in ${records.seconds.toFixed(2)} s, CPU ${records.cpu.toFixed(2)} s; curl fetched the same files in ${records.curlSeconds.toFixed(2)} s)`);
		console.log(`    node / n8n's floor (same process, lines parsed into items): ${ratio(records.seconds, records.floorSeconds)}x time, ${ratio(records.cpu, records.floorCpu)}x CPU`);
		console.log(`    node / bare Node process (read, parse and keep each line): ${ratio(records.seconds, records.bareSeconds)}x time, ${ratio(records.cpu, records.bareCpu)}x CPU`);
		console.log(`    memory the output items hold per 100,000 records: heap ${mb(records.per100k.heap)}, RSS ${mb(records.per100k.rss)}, and saving the execution adds ${mb(records.per100k.saveRss)} (NDJSON ${mb(records.ndjsonPer100k)})`);
	}
	console.log(`BENCH-RESULT ${JSON.stringify({ machine, sizes: results, records })}`);
	process.exit(0);
}
