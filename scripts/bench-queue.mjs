#!/usr/bin/env node
// Throughput of queue mode against one n8n process, in one run: 200 executions of Get Appointments
// (a webhook -> the eClinicalWorks node, Return All, tomorrow's visits of an eCW-like sandbox
// practice), first on n8n in regular mode (one process), then in queue mode (main + 2 workers,
// PostgreSQL and Redis), each against the same sandbox and the same PostgreSQL setup. Prints
// executions per second of each and the ratio. Pacing is off (no per-minute limit in the sandbox,
// Rate Limit 0 in the credential): this measures n8n and the node, not eCW's budget.
//
//   npm run bench:queue                      # 200 executions, 20 in flight
//   npm run bench:queue -- --runs 400 --in-flight 40 --workers 2 --concurrency 10
//
// Figures depend on the machine: on a 2-core machine the three n8n processes, PostgreSQL and Redis
// share the same two cores; the ratio says what queue mode costs or gains there, not on a cluster.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSandbox } from '../sandbox/index.mjs';
import { assertNode24, info, step } from './lib.mjs';
import { installN8n } from './install-n8n.mjs';
import { buildAndPack } from './n8n.mjs';
import { startStack } from './queue/stack.mjs';
import { ecwCredential, webhookNode, credentialRef } from './queue/workflows.mjs';
import { NODE_TYPE } from './fixtures.mjs';

const argv = process.argv.slice(2);
const opt = (name, fallback) => (argv.includes(`--${name}`) ? Number(argv[argv.indexOf(`--${name}`) + 1]) : fallback);
const RUNS = opt('runs', 200);
const IN_FLIGHT = opt('in-flight', 20);
const WORKERS = opt('workers', 2);
const CONCURRENCY = opt('concurrency', 10);
const WARMUP = 10;

function workflow(credential) {
	const hook = webhookNode('bench-appointments');
	const get = {
		id: 'b0000000-0000-4000-8000-000000000002',
		name: 'Get appointments',
		type: NODE_TYPE,
		typeVersion: 1,
		position: [300, 0],
		credentials: credentialRef(credential),
		parameters: { authentication: 'backendService', resource: 'appointment', operation: 'getMany', dateRange: 'tomorrow', source: 'auto', returnAll: true, filters: {}, options: {} },
	};
	return { id: 'benchQueueAppts1', name: 'bench: Get Appointments', active: false, settings: { executionOrder: 'v1' }, nodes: [hook, get], connections: { Webhook: { main: [[{ node: get.name, type: 'main', index: 0 }]] } } };
}

/** `count` webhook calls, `inFlight` at a time; resolves the latencies (ms) and the item counts. */
async function drive(cluster, count, inFlight) {
	const latencies = [];
	const items = [];
	let next = 0;
	let failed = 0;
	const lane = async () => {
		while (next < count) {
			next++;
			const t = performance.now();
			const res = await cluster.webhook('bench-appointments');
			latencies.push(performance.now() - t);
			if (res.status !== 200 || !Array.isArray(res.body)) failed++;
			else items.push(res.body.length);
		}
	};
	const t0 = performance.now();
	await Promise.all(Array.from({ length: inFlight }, lane));
	return { seconds: (performance.now() - t0) / 1000, latencies, items, failed };
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function phase(label, stackOptions, sandbox, credential) {
	const stack = await startStack({ ...stackOptions, credentials: [credential], workflows: [workflow(credential)], label });
	try {
		step(`${label}: ${WARMUP} warm-up executions, then ${RUNS} timed (${IN_FLIGHT} in flight)`);
		const warm = await drive(stack.cluster, WARMUP, Math.min(WARMUP, IN_FLIGHT));
		if (warm.failed) throw new Error(`${label}: ${warm.failed} warm-up executions failed`);
		const requests0 = sandbox.stats.requests;
		const run = await drive(stack.cluster, RUNS, IN_FLIGHT);
		const sorted = [...run.latencies].sort((a, b) => a - b);
		const perWorker = stack.cluster.workers.map((w) => `${w.name} ${w.started.size}`).join(', ');
		const result = {
			label,
			seconds: run.seconds,
			perSecond: RUNS / run.seconds,
			p50: pct(sorted, 50),
			p95: pct(sorted, 95),
			failed: run.failed,
			items: [...new Set(run.items)],
			requests: sandbox.stats.requests - requests0,
			perWorker,
		};
		info(`${label}: ${RUNS} executions in ${result.seconds.toFixed(1)} s = ${result.perSecond.toFixed(2)}/s; latency p50 ${result.p50.toFixed(0)} ms, p95 ${result.p95.toFixed(0)} ms; ${result.failed} failed; items per execution ${result.items.join('/')}${perWorker ? `; ran on ${perWorker} (incl. warm-up)` : ''}`);
		return result;
	} finally {
		await stack.stop();
	}
}

async function main() {
	assertNode24();
	step('n8n (installed once into .cache/) and the packed package');
	const n8n = await installN8n();
	const packDir = mkdtempSync(path.join(os.tmpdir(), 'ecw-bench-queue-'));
	const tgz = await buildAndPack(packDir, { skipBuild: argv.includes('--skip-build') });
	const sandbox = await startSandbox({ profile: 'ecw', patients: 200, seed: 9, practices: ['bench'], rateLimitPerMinute: null, timeZone: 'America/New_York' });
	const credential = ecwCredential(sandbox, { id: 'benchEcw', name: 'bench: eCW practice', practiceCode: 'bench', processes: 1, rateLimitPerMinute: 0 });
	const env = { GENERIC_TIMEZONE: 'America/New_York', TZ: 'America/New_York' };
	try {
		const regular = await phase('regular mode (1 process)', { n8nBin: n8n.bin, tgz, mode: 'regular', env }, sandbox, credential);
		const queue = await phase(`queue mode (main + ${WORKERS} workers, concurrency ${CONCURRENCY})`, { n8nBin: n8n.bin, tgz, mode: 'queue', workers: WORKERS, concurrency: CONCURRENCY, env }, sandbox, credential);
		console.log('\nGet Appointments, tomorrow, through a production webhook (response when the execution ends)');
		console.log(`${'mode'.padEnd(44)} ${'executions/s'.padStart(13)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'failed'.padStart(7)}`);
		for (const r of [regular, queue]) console.log(`${r.label.padEnd(44)} ${r.perSecond.toFixed(2).padStart(13)} ${r.p50.toFixed(0).padStart(8)} ${r.p95.toFixed(0).padStart(8)} ${String(r.failed).padStart(7)}`);
		console.log(`\nqueue / regular throughput: ${(queue.perSecond / regular.perSecond).toFixed(2)}x (${RUNS} executions each, ${IN_FLIGHT} in flight, ${os.availableParallelism?.() ?? os.cpus().length} CPU cores shared by every process)`);
		if (regular.failed || queue.failed) process.exitCode = 1;
	} finally {
		await sandbox.stop();
		rmSync(packDir, { recursive: true, force: true });
	}
}

main().then(
	// a lingering keep-alive socket must not hold the script after its figures are printed
	() => process.exit(process.exitCode ?? 0),
	(e) => {
		console.error(`\nbench:queue failed: ${e.stack || e.message}`);
		process.exitCode = 1;
		process.exit(1);
	},
);
