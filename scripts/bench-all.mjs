#!/usr/bin/env node
// The performance table in one command: runs the benchmarks one after the other (never two at once,
// so they do not compete for the CPU), passes their progress lines through, reads the
// `BENCH-RESULT {json}` line each one prints last, and prints one Markdown table where every figure
// stands beside the baseline it was measured against in the same run, with the machine's CPU count
// and load average. The table and the raw results are also written to bench/results/.
//
//   npm run bench                # about 4 minutes on 2 cores: bulk 250 MB x 3 rounds, Records 100,000,
//                                # search 10,000 patients x 5 rounds, tokens, trigger state
//   npm run bench -- --full      # bulk 1 GB x 3 rounds, Records 200,000, search x 7 rounds
//   npm run bench -- --only search,tokens
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ROOT } from './lib.mjs';

const argv = process.argv.slice(2);
const full = argv.includes('--full');
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1].split(',') : undefined;

const BENCHES = [
	{ key: 'bulk', script: 'scripts/bench-bulk.mjs', args: full ? ['1g', '--rounds', '3', '--records', '200000'] : ['250m', '--rounds', '3', '--records', '100000'] },
	{ key: 'search', script: 'scripts/bench-search.mjs', args: ['--rounds', full ? '7' : '5'] },
	{ key: 'tokens', script: 'scripts/bench-tokens.mjs', args: [] },
	{ key: 'state', script: 'scripts/measure-trigger-state.mjs', args: [] },
].filter((b) => !only || only.includes(b.key));

const started = Date.now();
const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');

/** Runs one benchmark, its lines prefixed; resolves with its BENCH-RESULT. */
function run(bench) {
	return new Promise((resolve, reject) => {
		console.log(`\n[bench ${elapsed()}] ${bench.key}: node ${bench.script} ${bench.args.join(' ')} (load average ${load()})`);
		const child = spawn(process.execPath, ['--import', 'tsx', bench.script, ...bench.args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
		let result;
		let pending = '';
		const onLine = (line) => {
			if (line.startsWith('BENCH-RESULT ')) result = JSON.parse(line.slice('BENCH-RESULT '.length));
			else if (line.trim() !== '') console.log(`  [${bench.key} ${elapsed()}] ${line}`);
		};
		child.stdout.on('data', (chunk) => {
			const lines = (pending + chunk).split('\n');
			pending = lines.pop();
			lines.forEach(onLine);
		});
		child.stderr.on('data', (chunk) => process.stderr.write(chunk));
		child.on('exit', (code) => {
			if (pending) onLine(pending);
			if (code !== 0 || !result) reject(new Error(`${bench.script} exited ${code}${result ? '' : ' without a BENCH-RESULT line'}`));
			else resolve(result);
		});
	});
}

const s = (x) => `${x.toFixed(2)} s`;
const x2 = (a, b) => `${(a / b).toFixed(2)}x`;
const mb = (n) => `${Math.round(n / 1e6)} MB`;

function bulkRows(r) {
	const rows = [];
	for (const z of r.sizes) {
		const what = `Bulk Export, Files, ${mb(z.bytes)} in ${z.files} files, ${z.parallel} at a time (medians of ${z.rounds})`;
		rows.push([what, `node (defaults: Verify Files on, Split Large Files Automatic): ${s(z.node.seconds)}, CPU ${s(z.node.cpu)}`, `n8n's floor (httpRequest stream to prepareBinaryData, same process): ${s(z.floor.seconds)}, CPU ${s(z.floor.cpu)}`, `${x2(z.node.seconds, z.floor.seconds)} time, ${x2(z.node.cpu, z.floor.cpu)} CPU (target 1.2x)`]);
		rows.push(['', 'node, as above', `bare Node process (axios stream to fs.writeFile): ${s(z.bare.seconds)}, CPU ${s(z.bare.cpu)}`, `${x2(z.node.seconds, z.bare.seconds)} time, ${x2(z.node.cpu, z.bare.cpu)} CPU`]);
		rows.push(['', `the same bare process holding ${mb(z.idleHeap)} of live objects (n8n's idle heap): ${s(z.bareBallast.seconds)}, CPU ${s(z.bareBallast.cpu)}`, 'bare Node process, as above', `${x2(z.bareBallast.seconds, z.bare.seconds)} time, ${x2(z.bareBallast.cpu, z.bare.cpu)} CPU: what n8n's heap alone costs`]);
		rows.push(['', `Verify Files on: ${s(z.node.seconds)}, CPU ${s(z.node.cpu)}`, `Verify Files off: ${s(z.verifyOff.seconds)}, CPU ${s(z.verifyOff.cpu)}`, `${x2(z.node.seconds, z.verifyOff.seconds)} time, ${x2(z.node.cpu, z.verifyOff.cpu)} CPU`]);
		rows.push(['', `2 MB parts (Split Large Files Always, as database mode gets): ${s(z.parts.seconds)}, CPU ${s(z.parts.cpu)}`, 'one item per file (Automatic, filesystem mode)', `${x2(z.parts.seconds, z.node.seconds)} time, ${x2(z.parts.cpu, z.node.cpu)} CPU`]);
		rows.push(['', `node's peak memory above idle: ${mb(z.node.peakAbove)} (in parts ${mb(z.parts.peakAbove)})`, `n8n's floor: ${mb(z.floor.peakAbove)}`, `${x2(z.node.peakAbove, z.floor.peakAbove)} (target 150 MB)`]);
	}
	const rec = r.records;
	if (rec) {
		rows.push([`Bulk Export, Records, ${rec.records.toLocaleString('en-US')} Patient records (${mb(rec.bytes)}; medians of ${rec.rounds})`, `node: ${s(rec.seconds)}, CPU ${s(rec.cpu)} (${Math.round(rec.rate).toLocaleString('en-US')} records/s)`, `n8n's floor (httpRequest stream, lines parsed into items, same process): ${s(rec.floorSeconds)}, CPU ${s(rec.floorCpu)}`, `${x2(rec.seconds, rec.floorSeconds)} time, ${x2(rec.cpu, rec.floorCpu)} CPU`]);
		rows.push(['', 'node, as above', `bare Node process reading, parsing and keeping each line: ${s(rec.bareSeconds)}, CPU ${s(rec.bareCpu)}`, `${x2(rec.seconds, rec.bareSeconds)} time, ${x2(rec.cpu, rec.bareCpu)} CPU`]);
		rows.push(['', `memory per 100,000 records: ${mb(rec.per100k.rss)} after the run, +${mb(rec.per100k.saveRss)} while n8n saves the execution`, `the NDJSON: ${mb(rec.ndjsonPer100k)} per 100,000`, `${x2(rec.per100k.rss + rec.per100k.saveRss, rec.ndjsonPer100k)} (Max Records in Memory: 100,000 by default)`]);
	}
	return rows;
}

function searchRows(r) {
	const m = r.medians;
	return [
		[`Patient Search, Return All, ${r.patients.toLocaleString('en-US')} patients, ${r.pages} pages (medians of ${r.rounds})`, `node (Raw): ${m.raw.ms.toFixed(0)} ms, CPU ${m.raw.cpuMs.toFixed(0)} ms`, `n8n's floor (httpRequestWithAuthentication loop, same credential): ${m.floor.ms.toFixed(0)} ms, CPU ${m.floor.cpuMs.toFixed(0)} ms`, `${r.ratios.rawFloor.toFixed(2)}x time (rounds ${r.spread.rawFloor.map((v) => v.toFixed(2)).join('-')}), ${r.ratios.rawFloorCpu.toFixed(2)}x CPU (target 1.1x)`],
		['', `node (Simplified): ${m.simplified.ms.toFixed(0)} ms, CPU ${m.simplified.cpuMs.toFixed(0)} ms`, "n8n's floor, as above", `${r.ratios.simplifiedFloor.toFixed(2)}x time`],
		['', 'node (Raw), as above', `plain fetch loop: ${m.plain.ms.toFixed(0)} ms, CPU ${m.plain.cpuMs.toFixed(0)} ms`, `${r.ratios.rawPlain.toFixed(2)}x time (n8n's floor: ${r.ratios.floorPlain.toFixed(2)}x)`],
	];
}

function tokenRows(r) {
	const a = r.fakeClock;
	const b = r.n8n;
	return [
		[`Tokens, ${a.items.toLocaleString('en-US')} requests over ${a.minutes} min with ${a.lifetime} s tokens (fake clock)`, `${a.tokens} token requests, ${a.unauthorized} requests answered 401`, `n8n's refresh-on-401: ${a.n8nDefaultTokens} tokens, ${a.n8nDefaultWasted} requests answered 401`, `${x2(a.tokens, a.n8nDefaultTokens)} tokens, ${a.unauthorized} of ${a.n8nDefaultWasted} wasted requests`],
		[`Tokens, ${b.items.toLocaleString('en-US')} items in n8n over ${b.lifetimes.toFixed(1)} token lifetimes`, `${b.tokens} token requests, ${b.unauthorized} answered 401`, `refresh-on-401: ${Math.ceil(b.lifetimes)} tokens, ${Math.ceil(b.lifetimes) - 1} answered 401`, `${b.unauthorized} wasted requests`],
	];
}

function stateRows(r) {
	const rows = r.window.map((w, i) => [
		i === 0 ? 'Trigger state (workflow static data per practice), date-window snapshot' : '',
		`${w.visits.toLocaleString('en-US')} visits: ${(w.bytes / 1024).toFixed(1)} KB`,
		`the raw Encounters it stands for: ${(w.raw / 1024).toFixed(0)} KB`,
		`${(w.bytes / w.raw).toFixed(3)}x`,
	]);
	rows.push(['', `seed of ${r.seed.ids.toLocaleString('en-US')} ids: ${(r.seed.bytes / 1024).toFixed(1)} KB`, `cap ${r.seed.limit.toLocaleString('en-US')} ids`, `${((r.seed.bytes / r.seed.ids) * 1000 / 1024).toFixed(1)} KB per 1,000 ids`]);
	return rows;
}

const ROWS = { bulk: bulkRows, search: searchRows, tokens: tokenRows, state: stateRows };

const loadAtStart = load();
console.log(`[bench 0 s] ${BENCHES.length} benchmarks, ${full ? 'full' : 'quick'} sizes; ${os.cpus().length} CPUs, load average ${loadAtStart}`);
const results = {};
for (const bench of BENCHES) results[bench.key] = { ...(await run(bench)), loadAfter: load() };

const nodeVersion = process.versions.node;
const n8nCore = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/n8n-core/package.json'), 'utf8')).version;
const date = new Date().toISOString().slice(0, 10);
const lines = [
	`Performance, ${date}: ${os.cpus().length} CPUs, load average ${loadAtStart} at the start, ${load()} at the end; Node ${nodeVersion}, n8n-core ${n8nCore}; ${elapsed()} (${full ? 'npm run bench -- --full' : 'npm run bench'})`,
	'',
	'| Benchmark | Measured | Baseline, same run | Ratio |',
	'| --- | --- | --- | --- |',
];
for (const bench of BENCHES) for (const row of ROWS[bench.key](results[bench.key])) lines.push(`| ${row.join(' | ')} |`);
const table = lines.join('\n');
console.log(`\n${table}`);
const dir = path.join(ROOT, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
writeFileSync(path.join(dir, `bench-${stamp}.md`), `${table}\n`);
writeFileSync(path.join(dir, `bench-${stamp}.json`), JSON.stringify({ date, cpus: os.cpus().length, loadAtStart, results }, null, 2));
console.log(`\n[bench ${elapsed()}] written to bench/results/bench-${stamp}.md and .json`);
