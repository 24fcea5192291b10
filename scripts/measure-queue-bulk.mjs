#!/usr/bin/env node
// Bulk Export in Files mode on a queue-mode worker, binary data in PostgreSQL (n8n's default in
// queue mode): a 1 GB export measured for the worker's peak RSS above idle, PostgreSQL's growth
// and the time, with "Split Files Larger Than (MB)" off (0: one binary item per file, as before the
// setting) and at its default, for one 1 GB file and for the same data in ~50 MB files.
//
//   npm run measure:queue-bulk                       # 1 GB; parts off, 2 (default) and 8 MB; one file and ~50 MB files
//   npm run measure:queue-bulk -- --parts 0,8,32 --layouts one
//
// One worker, so every run lands on it, restarted before each run and warmed up with a 10 MB export
// (a process's RSS does not shrink back after a peak, and the first execution loads code). A
// measurement, not a test: it prints figures.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSandbox } from '../sandbox/index.mjs';
import { assertNode24, info, step } from './lib.mjs';
import { installN8n } from './install-n8n.mjs';
import { buildAndPack } from './n8n.mjs';
import { startStack } from './queue/stack.mjs';
import { measureExportRun, mib } from './queue/measure.mjs';
import { ecwCredential, exportWorkflow } from './queue/workflows.mjs';

const argv = process.argv.slice(2);
const list = (name, fallback) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1].split(',') : fallback);
const PARTS = list('parts', ['0', '2', '8']).map(Number);
const LAYOUTS = list('layouts', ['one', 'many']);
const PATIENTS = 1000;
const REPEAT = 202; // x ~4950 bytes a record: ~1 GB

async function main() {
	assertNode24();
	step('n8n (installed once into .cache/) and the packed package');
	const n8n = await installN8n();
	const packDir = mkdtempSync(path.join(os.tmpdir(), 'ecw-measure-queue-'));
	const tgz = await buildAndPack(packDir, { skipBuild: argv.includes('--skip-build') });
	// one practice per layout: a single ~1 GB Patient file, or files of 10,000 records (~50 MB)
	const layouts = { one: 10_000_000, many: 10_000 };
	const sandboxes = {};
	for (const layout of LAYOUTS) {
		sandboxes[layout] = await startSandbox({ profile: 'ecw', fastBulk: true, bulkDelayMs: 300, patients: PATIENTS, seed: 3, practices: [layout], bulkRepeat: REPEAT, bulkPaddingBytes: 4000, maxResourcesPerFile: layouts[layout] });
	}
	// a small export run first on each fresh worker, so "idle" is a worker that has already loaded what an export needs
	sandboxes.warm = await startSandbox({ profile: 'ecw', fastBulk: true, bulkDelayMs: 300, patients: 100, seed: 3, practices: ['warm'], bulkRepeat: 20, bulkPaddingBytes: 4000 });
	const runs = [];
	for (const layout of LAYOUTS) for (const parts of PARTS) runs.push({ layout, parts, path: `measure-${layout}-${parts}`, id: `measure${layout}${parts}`.padEnd(16, '0').slice(0, 16) });
	const credentials = [...LAYOUTS, 'warm'].map((layout) => ecwCredential(sandboxes[layout], { id: `measureEcw${layout}`, name: `measure: ${layout}`, practiceCode: layout, processes: 1 }));
	const workflows = runs.map((r) =>
		exportWorkflow({ id: r.id, name: `measure: ${r.layout} file(s), parts ${r.parts} MB`, path: r.path, credential: credentials[LAYOUTS.indexOf(r.layout)], parameters: { resourceTypes: ['Patient'], maxWaitMinutes: 10, filePartMb: r.parts } }),
	);
	workflows.push(exportWorkflow({ id: 'measureWarmUp001', name: 'measure: warm-up (10 MB)', path: 'measure-warm', credential: credentials.at(-1), parameters: { resourceTypes: ['Patient'], maxWaitMinutes: 10, filePartMb: 1 } }));
	const stack = await startStack({ n8nBin: n8n.bin, tgz, mode: 'queue', workers: 1, concurrency: 5, credentials, workflows, env: { GENERIC_TIMEZONE: 'America/New_York' } });
	const results = [];
	try {
		for (const r of runs) {
			step(`1 GB export, ${r.layout === 'one' ? 'one file' : 'files of ~50 MB'}, Split Files Larger Than ${r.parts} MB`);
			// a fresh worker each time: a process's RSS does not shrink back after a peak
			await stack.cluster.stop('worker-1');
			await stack.cluster.start('worker-1');
			const warm = await stack.cluster.webhook('measure-warm');
			if (warm.status !== 200) throw new Error(`warm-up export failed: HTTP ${warm.status}`);
			const m = await measureExportRun({ cluster: stack.cluster, ex: stack.ex, pg: stack.pg, webhookPath: r.path, workflowId: r.id });
			const items = (m.data?.resultData?.runData?.Export?.[0]?.data?.main?.[0] ?? []).map((i) => i.json);
			const bytes = items.reduce((n, i) => n + (i.bytes ?? 0), 0);
			const outcome = m.status === 'success' ? `${items.length} items, ${mib(bytes)}` : `${m.status}: ${String(m.error ?? '').slice(0, 120)}`;
			info(`${outcome}; ${m.seconds.toFixed(0)} s; worker idle ${mib(m.idleRss)}, peak ${mib(m.peakRss)} (${mib(m.aboveIdle)} above idle); PostgreSQL +${mib(m.dbGrowth)} (binary_data +${mib(m.binaryTableGrowth)}, ${m.binaryRows} rows, ${mib(m.binaryBytes)} stored)`);
			results.push({ ...r, m, outcome });
			// the next run starts with a database without this run's binary data
			await stack.pg.query(`delete from binary_data where "sourceId" = '${m.executionId}'`);
			await stack.pg.query('vacuum full binary_data');
		}
	} finally {
		await stack.stop();
		for (const sb of Object.values(sandboxes)) await sb.stop();
		rmSync(packDir, { recursive: true, force: true });
	}
	console.log(`\n1 GB Bulk Export (${PATIENTS * REPEAT} Patient records) on a queue-mode worker, binary data in PostgreSQL (n8n ${n8n.version})`);
	console.log(`${'files'.padEnd(14)} ${'split (MB)'.padStart(10)} ${'outcome'.padEnd(44)} ${'seconds'.padStart(8)} ${'RSS above idle'.padStart(15)} ${'PostgreSQL growth'.padStart(18)}`);
	for (const r of results) {
		console.log(`${(r.layout === 'one' ? 'one 1 GB file' : '~50 MB files').padEnd(14)} ${String(r.parts || 'off').padStart(10)} ${r.outcome.slice(0, 44).padEnd(44)} ${r.m.seconds.toFixed(0).padStart(8)} ${mib(r.m.aboveIdle).padStart(15)} ${mib(r.m.dbGrowth).padStart(18)}`);
	}
}

main().then(
	// a lingering keep-alive socket must not hold the script after its figures are printed
	() => process.exit(process.exitCode ?? 0),
	(e) => {
		console.error(`\nmeasure:queue-bulk failed: ${e.stack || e.message}`);
		process.exitCode = 1;
		process.exit(1);
	},
);
