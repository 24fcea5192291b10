// The package on n8n in queue mode, laid out like a deployment: PostgreSQL and Redis (Debian's
// packages, installed when missing), a main process and 2 workers of the pinned n8n, each with its
// own user folder and its own copy of the packed package, one encryption key, binary data in the
// database (what n8n documents for queue mode). Executions are started the way production ones are
// (a webhook or the trigger on main) and are checked to run on the workers.
//
//   npm run test:e2e -- --suite queue          (also run by .ci/e2e)
//
// What it proves (issue 15): the example workflows through the queue; the trigger fires on main,
// each change reaches a worker once, across a restart of main (its position in PostgreSQL kept); 2 workers and 40 concurrent
// executions against one practice stay inside eCW's 250 requests a minute (the sandbox counts like
// eCW, token calls included) with "Processes Sharing This Limit"; a worker killed in the middle of
// an export loses nothing and the server gets no second export job. Patient data and tokens are
// never printed: counts, ids of the sandbox's synthetic records and timings only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSandbox } from '../../sandbox/index.mjs';
import { info, step } from '../lib.mjs';
import { DEMO_PRACTICES, loadExample, mrnOf, practiceTemplateCredential, prepareFilesDir, sampleIntakeForm, toImport, variant, writePracticeSheet } from '../fixtures.mjs';
import { smtpCredential, startMailServer } from '../mail.mjs';
import { readWorkbook } from '../workbook.mjs';
import { Executions, QueueCluster, itemsOf } from '../queue/cluster.mjs';
import { ensureServices, startPostgres, startRedis } from '../queue/services.mjs';
import { pidOfClient } from '../queue/sockets.mjs';
import { appointmentsWorkflow, checkpointedExportWorkflow, ecwCredential, exportWorkflow, triggerWorkflow, withWebhook } from '../queue/workflows.mjs';
import { measureExportRun, mib } from '../queue/measure.mjs';
import { listFiles } from '../n8n.mjs';

const ctxFile = process.env.E2E_CONTEXT;
if (!ctxFile) throw new Error('run through `npm run test:e2e -- --suite queue` (scripts/e2e.mjs): it installs n8n and packs the package first');
const ctx = JSON.parse(readFileSync(ctxFile, 'utf8'));
const TZ = 'America/New_York';
const TOKEN_PATH = '/oauth/oauth2/token';
/** The budget test: 40 executions, each reading LOAD_DAYS days of visits one day at a time (~10 requests), ~1.6x eCW's minute. */
const LOAD_PATIENTS = 2000;
const LOAD_DAYS = 10;
const LOAD_RUNS = 40;
/** "Processes Sharing This Limit" in the budget test; QUEUE_BUDGET_PROCESSES=1 shows the test failing without the setting. */
const BUDGET_PROCESSES = Number(process.env.QUEUE_BUDGET_PROCESSES || 2);
/** The 1 GB export: patients x copies of ~4950 bytes each, in one file. */
const BIG_PATIENTS = 1000;
const BIG_REPEAT = 202;

let work, filesDir, pg, redis, cluster, ex, mail;
let sandbox, load, crash, big;
let triggerSeen;
const creds = {};
const loadArrivals = [];
const crashFileRequests = [];

const WF = {
	dispatch: 'qDispatchEcw0001',
	intake: 'qIntake000000001',
	nightly: 'qNightly00000001',
	many: 'qManyPractices01',
	trigger: 'qTrigger00000001',
	load: 'qLoadAppts000001',
	crash: 'qCrashExport0001',
	big: 'qBigExport000001',
};

const minutes = (ms) => `${(ms / 60000).toFixed(1)} min`;

/** The most arrivals in one clock minute (how eCW and the sandbox count: 250 a minute, then 429 to its end). */
function busiestClockMinute(times) {
	const perMinute = new Map();
	for (const t of times) perMinute.set(Math.floor(t / 60000), (perMinute.get(Math.floor(t / 60000)) ?? 0) + 1);
	return Math.max(0, ...perMinute.values());
}

/** The highest number of arrivals in any 60-second window (times in ms, sorted). */
function busiestSixtySeconds(times) {
	let best = 0;
	let lo = 0;
	for (let hi = 0; hi < times.length; hi++) {
		while (times[hi] - times[lo] >= 60000) lo++;
		best = Math.max(best, hi - lo + 1);
	}
	return best;
}

before(async () => {
	step('queue mode: PostgreSQL and Redis (Debian packages)');
	await ensureServices();
	[pg, redis] = await Promise.all([startPostgres(), startRedis()]);
	work = mkdtempSync(path.join(os.tmpdir(), 'ecw-e2e-queue-'));
	filesDir = path.join(work, 'files');
	prepareFilesDir(filesDir);
	writePracticeSheet(filesDir);

	step('sandboxes (eCW contract) and the mail server');
	const common = { profile: 'ecw', timeZone: TZ, fastBulk: true, bulkDelayMs: 300 };
	sandbox = await startSandbox({ ...common, patients: 60, seed: 7, practices: ['demo', ...DEMO_PRACTICES, 'trig'], rejectedPractices: ['closed'] });
	// the budget test's practice: every arrival recorded with the process that sent it
	load = await startSandbox({
		...common,
		patients: LOAD_PATIENTS,
		seed: 11,
		practices: ['load'],
		onRequest: (entry) => loadArrivals.push({ at: Date.now(), path: entry.path, pid: pidOfClient(entry.remotePort, Number(new URL(load.origin).port), cluster.workers.concat(cluster.main).map((p) => p.pid).filter(Boolean)) }),
	});
	// the killed worker's export: ready after 2 s; file requests are recorded to find the worker downloading
	crash = await startSandbox({ ...common, patients: 200, seed: 5, practices: ['crash'], bulkDelayMs: 2000, maxResourcesPerFile: 100, onRequest: (e) => /\/bulkfiles\//.test(e.path) && crashFileRequests.push(e) });
	// one Patient file of about 1 GB: 1000 patients, each exported 202 times with 4000 bytes of padding
	big = await startSandbox({ ...common, patients: BIG_PATIENTS, seed: 3, practices: ['big'], bulkRepeat: BIG_REPEAT, bulkPaddingBytes: 4000, maxResourcesPerFile: 10_000_000 });
	mail = await startMailServer({ mailDirectory: path.join(work, 'mail') });
	info(`sandboxes: ${sandbox.origin} (examples, trigger), ${load.origin} (budget, ${LOAD_PATIENTS} patients), ${crash.origin} (killed worker), ${big.origin} (1 GB export)`);

	step('n8n in queue mode: main + 2 workers, the package installed into each');
	cluster = new QueueCluster({
		n8nBin: ctx.n8nBin,
		node: ctx.n8nNode,
		work,
		tgz: ctx.tgz,
		pg,
		redis,
		env: { N8N_RESTRICT_FILE_ACCESS_TO: filesDir, GENERIC_TIMEZONE: TZ, TZ },
	});
	await cluster.install();
	ex = new Executions(pg, ctx.n8nBin);

	creds.demo = ecwCredential(sandbox, { id: 'qEcwDemo', name: 'queue: eCW demo practice', practiceCode: 'demo' });
	creds.many = practiceTemplateCredential(sandbox, { id: 'qEcwTemplate', name: 'queue: practice code template' });
	creds.trig = ecwCredential(sandbox, { id: 'qEcwTrig', name: 'queue: eCW trigger practice', practiceCode: 'trig', processes: 3 });
	creds.load = ecwCredential(load, { id: 'qEcwLoad', name: 'queue: eCW load practice (2 workers share 250/min)', practiceCode: 'load', processes: BUDGET_PROCESSES });
	creds.crash = ecwCredential(crash, { id: 'qEcwCrash', name: 'queue: eCW crash practice', practiceCode: 'crash' });
	creds.big = ecwCredential(big, { id: 'qEcwBig', name: 'queue: eCW 1 GB export practice', practiceCode: 'big' });
	const smtp = smtpCredential(mail);
	const cli = cluster.cli();
	await cli.importCredentials(toImport([...Object.values(creds), smtp]), path.join(work, 'credentials.json'));
	rmSync(path.join(work, 'credentials.json'));

	const pt = sandbox.admin.get('demo', 'Patient', 'pt-3');
	const workflows = [
		withWebhook(variant(loadExample('tomorrows-appointments-to-dispatch-sheet'), { id: WF.dispatch, name: 'queue: dispatch sheet', credential: creds.demo, filesDir }), 'q-dispatch'),
		variant(loadExample('new-patient-intake-email'), { id: WF.intake, name: 'queue: new patient intake', credential: creds.demo, params: sampleIntakeForm(mrnOf(pt)) }),
		withWebhook(variant(loadExample('nightly-incremental-bulk-export'), { id: WF.nightly, name: 'queue: nightly export', credential: creds.demo, filesDir, params: { 'Bulk export since last run': { pollFloorSeconds: 1, maxWaitMinutes: 3 } } }), 'q-nightly'),
		withWebhook(variant(loadExample('many-practices-dispatch-sheet'), { id: WF.many, name: 'queue: many practices', credential: creds.many, filesDir }), 'q-many'),
		triggerWorkflow({ id: WF.trigger, name: 'queue: visits trigger', credential: creds.trig }),
		appointmentsWorkflow({ id: WF.load, name: 'queue: appointments under load', path: 'q-load', credential: creds.load }),
		checkpointedExportWorkflow({ id: WF.crash, name: 'queue: crash-safe export', path: 'q-crash', credential: creds.crash, parameters: { resourceTypes: ['Patient', 'Encounter'] } }),
		exportWorkflow({ id: WF.big, name: 'queue: 1 GB export in parts', path: 'q-big', credential: creds.big, parameters: { resourceTypes: ['Patient'], maxWaitMinutes: 10 } }),
	];
	await cli.importWorkflows(workflows, path.join(work, 'workflows'));
	info(`imported ${Object.keys(creds).length + 1} credentials and ${workflows.length} workflows into PostgreSQL`);

	await cluster.start('main');
	await Promise.all([cluster.start('worker-1'), cluster.start('worker-2')]);
	for (const id of Object.values(WF)) await cluster.activate(id);
	info(`published ${Object.values(WF).length} workflows on main (webhooks and the trigger are live)`);
});

after(async () => {
	if (cluster) {
		const ran = cluster.workers.map((w) => `${w.name} ran ${w.started.size}`).join(', ');
		info(`executions per worker: ${ran}; logs in ${path.join(work, 'logs')}${process.env.E2E_KEEP ? '' : ' (removed)'}`);
		await cluster.stopAll();
	}
	await Promise.all([sandbox?.stop(), load?.stop(), crash?.stop(), big?.stop(), mail?.stop()]);
	await Promise.all([pg?.stop(), redis?.stop()]);
	if (work && !process.env.E2E_KEEP) rmSync(work, { recursive: true, force: true });
});

/** On a failure of the export tests: each execution's nodes, their output (export state and file metadata, no records) and errors. */
async function dumpRuns(workflowId) {
	for (const e of await executionsOn(workflowId)) {
		const data = await ex.runData(e.id);
		info(`execution ${e.id} ${e.status} (${e.worker ?? 'no worker logged'}):`);
		for (const [node, runs] of Object.entries(data?.resultData?.runData ?? {})) {
			for (const [i, run] of runs.entries()) {
				const items = run.data?.main?.flat().filter(Boolean) ?? [];
				info(`  ${node}[${i}]: ${items.length} items ${JSON.stringify(items.slice(0, 2).map((it) => it.json)).slice(0, 600)}${run.error ? ` ERROR ${run.error.message}` : ''}`);
			}
		}
	}
	info(`crash sandbox requests: ${crash.stats.log.map((l) => `${l.method} ${l.path.replace(/^\/fhir\/r4\/crash/, '')} ${l.status}`).join(', ')}`);
}

/** The executions of a workflow, each with the worker that ran it. */
async function executionsOn(workflowId) {
	return (await ex.list(workflowId)).map((e) => ({ ...e, worker: cluster.workerOf(e.id) }));
}

describe(`n8n ${ctx.n8nVersion} in queue mode (main + 2 workers, PostgreSQL, Redis, binary data in the database)`, () => {
	test('the example workflows run through the queue, on the workers', async () => {
		const tomorrow = new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date(sandbox.now() + 86400000));
		const [dispatch, nightly, many] = await Promise.all([cluster.webhook('q-dispatch'), cluster.webhook('q-nightly'), cluster.webhook('q-many')]);
		const intake = await cluster.webhook('new-patient-intake', { mrn: mrnOf(sandbox.admin.get('demo', 'Patient', 'pt-3')) });
		for (const [name, res] of Object.entries({ dispatch, nightly, many, intake })) assert.equal(res.status, 200, `${name}: webhook answered ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
		for (const id of [WF.dispatch, WF.nightly, WF.many, WF.intake]) await ex.waitFinished(id, 1);

		const runs = {};
		for (const [key, id] of Object.entries({ dispatch: WF.dispatch, nightly: WF.nightly, many: WF.many, intake: WF.intake })) {
			const [run] = await executionsOn(id);
			runs[key] = { ...run, data: await ex.runData(run.id) };
			info(`${key}: execution ${run.id} ${run.status} on ${run.worker ?? '(not a worker)'}`);
			assert.equal(run.status, 'success', `${key}: ${JSON.stringify(runs[key].data?.resultData?.error?.message ?? '')}`);
			assert.ok(run.worker, `${key}: a worker logged "Worker started execution ${run.id}"`);
			assert.ok(cluster.main.lines.some((l) => l.includes(`Enqueued execution ${run.id} `)), `${key}: main enqueued it`);
		}

		const visits = itemsOf(runs.dispatch.data, "Get tomorrow's appointments");
		const rides = visits.filter((v) => v.transportNeeded);
		const [sheet] = await readWorkbook(path.join(filesDir, 'dispatch', `dispatch-${tomorrow}.xlsx`));
		assert.equal(sheet.rows.length, rides.length, 'dispatch workbook: one row per ride');
		assert.ok(rides.length >= 2);

		const files = itemsOf(runs.nightly.data, 'Bulk export since last run');
		const written = listFiles(path.join(filesDir, 'bulk'));
		assert.equal(written.length, files.length, 'every exported file written to disk by the worker');
		const patients = written.filter((f) => /(^|_)Patient-/.test(path.basename(f))).reduce((n, f) => n + readFileSync(f, 'utf8').trim().split('\n').length, 0);
		assert.equal(patients, sandbox.admin.get('demo', 'Group', 'grp-1').quantity, 'every patient of the group exported');
		const stored = await pg.query(`select count(*) || ' ' || coalesce(sum("fileSize"), 0) from binary_data where "sourceId" = '${runs.nightly.id}'`);
		const [count, bytes] = stored.split(' ').map(Number);
		info(`nightly export: ${files.length} files; binary data in PostgreSQL for the execution: ${count} rows, ${bytes} bytes`);
		assert.ok(count >= files.length, 'the files went to the database binary store');

		const allRides = await readWorkbook(path.join(filesDir, 'dispatch', `all-practices-${tomorrow}.xlsx`));
		assert.deepEqual([...new Set(allRides[0].rows.map((r) => r.Practice))].sort(), ['north', 'south']);
		const email = await mail.waitForEmail((e) => /New patient intake/.test(e.subject ?? ''));
		assert.ok(email, 'the intake email arrived');

		const workers = new Set(Object.values(runs).map((r) => r.worker));
		info(`examples ran on: ${[...workers].join(', ')}`);
	});

	test('the trigger polls on main; each change reaches a worker once, also across a restart of main', async () => {
		const triggerItems = async () => {
			const out = [];
			for (const e of await executionsOn(WF.trigger)) {
				if (['new', 'running', 'waiting'].includes(e.status)) continue;
				const data = await ex.runData(e.id);
				for (const item of itemsOf(data, 'Visit booked or changed') ?? []) out.push({ ...item, executionId: e.id, worker: e.worker, status: e.status });
			}
			return out;
		};
		const waitForItem = async (match, label, timeoutMs = 150000) => {
			const started = Date.now();
			for (;;) {
				const items = await triggerItems();
				if (items.some(match)) return items;
				if (Date.now() - started > timeoutMs) throw new Error(`${label}: not emitted within ${timeoutMs / 1000}s (items: ${JSON.stringify(items.map((i) => [i.event, i.id]))})`);
				await new Promise((r) => setTimeout(r, 2000));
			}
		};
		assert.deepEqual(await triggerItems(), [], 'activation emits nothing');

		const visit = sandbox.admin.createEncounter('trig', { start: sandbox.now() + 26 * 3600000, patient: 'pt-2', status: 'planned', reason: 'Queue suite visit' });
		const t1 = Date.now();
		await waitForItem((i) => i.id === visit.id && i.event === 'created', 'the new visit');
		info(`new visit ${visit.id}: emitted ${((Date.now() - t1) / 1000).toFixed(0)} s after it was booked (polls every minute)`);

		const position = async () => (await ex.staticData(WF.trigger))?.['node:Visit booked or changed'];
		const before = await position();
		assert.ok(before && Object.keys(before).length > 0, 'main saved the trigger\'s position in PostgreSQL');
		await cluster.stop('main');
		sandbox.admin.updateEncounter('trig', visit.id, { status: 'cancelled' });
		info('main stopped; the visit was cancelled while main was down; starting main again');
		await cluster.start('main');
		assert.deepEqual(await position(), before, 'the restart lost nothing of the trigger\'s position');
		const t2 = Date.now();
		let items = await waitForItem((i) => i.id === visit.id && i.event === 'cancelled', 'the cancellation');
		info(`cancellation: emitted ${((Date.now() - t2) / 1000).toFixed(0)} s after main came back`);
		info(`trigger items: ${items.map((i) => `${i.event} ${i.id} (execution ${i.executionId} on ${i.worker})`).join('; ')}`);
		assert.deepEqual(items.map((i) => `${i.event} ${i.id}`), [`created ${visit.id}`, `cancelled ${visit.id}`], 'each change exactly once, nothing else');
		for (const i of items) {
			assert.ok(i.worker, `execution ${i.executionId} ran on a worker`);
			assert.equal(i.status, 'success');
			assert.ok(cluster.main.lines.some((l) => l.includes(`Enqueued execution ${i.executionId} `)), 'the poll ran on main, which enqueued the execution');
		}
		triggerSeen = { visit: visit.id, items: items.length, at: Date.now() };
	});

	test(`budget: ${LOAD_RUNS} concurrent executions on 2 workers against one practice stay within eCW's 250 requests a minute (429s printed)`, async () => {
		// one item per day for the next LOAD_DAYS days: one search (and its pages) per day per execution
		const days = Array.from({ length: LOAD_DAYS }, (_, i) => new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date(load.now() + i * 86400000)));
		const lone = await cluster.webhook('q-load', { days });
		assert.equal(lone.status, 200);
		const expected = lone.body.map((v) => v.id).sort();
		assert.ok(expected.length > 100, `the practice has visits on those days (${expected.length})`);
		// start at the top of a clock minute, as eCW counts: unpaced, the burst would land in one minute
		await new Promise((r) => setTimeout(r, 60000 - (Date.now() % 60000) + 500));
		const t0 = Date.now();
		const runs = await Promise.all(Array.from({ length: LOAD_RUNS }, () => cluster.webhook('q-load', { days })));
		const took = Date.now() - t0;
		for (const [i, r] of runs.entries()) {
			assert.equal(r.status, 200, `run ${i}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
			assert.deepEqual(r.body.map((v) => v.id).sort(), expected, `run ${i}: every visit, none lost or doubled`);
		}
		const list = await executionsOn(WF.load);
		const perWorker = Object.fromEntries(cluster.workers.map((w) => [w.name, list.filter((e) => e.worker === w.name).length]));
		const fhir = loadArrivals.filter((a) => a.path !== TOKEN_PATH);
		const tokens = loadArrivals.filter((a) => a.path === TOKEN_PATH);
		const tokensPerWorker = Object.fromEntries(cluster.workers.map((w) => [w.name, tokens.filter((a) => a.pid === w.pid).length]));
		const busiest = busiestSixtySeconds(loadArrivals.map((a) => a.at));
		const busiestClock = busiestClockMinute(loadArrivals.map((a) => a.at));
		const refused = load.stats.byPractice.load.byStatus[429] ?? 0;
		info(`${LOAD_RUNS + 1} executions (${JSON.stringify(perWorker)}), ${expected.length} visits each, in ${minutes(took)}`);
		info(`practice "load": ${loadArrivals.length} requests (${fhir.length} FHIR, ${tokens.length} token); most in one clock minute: ${busiestClock} (eCW allows 250); most in any 60 s: ${busiest}; 429s: ${refused}`);
		info(`token requests per worker: ${JSON.stringify(tokensPerWorker)}${tokens.some((a) => !a.pid) ? ` (+${tokens.filter((a) => !a.pid).length} not attributed)` : ''}`);
		assert.equal(list.length, LOAD_RUNS + 1);
		assert.ok(list.every((e) => e.status === 'success' && e.worker), 'every execution succeeded on a worker');
		assert.ok(Object.values(perWorker).every((n) => n > 0), 'both workers ran executions');
		// Each worker paces to 125 in any 61 s at the moment it lets a request go; n8n then loads the
		// credential and sends, which on a loaded machine can take seconds, so arrivals can bunch (the
		// 60 s figure is printed, not asserted). Unshared (QUEUE_BUDGET_PROCESSES=1) this load got 39
		// answers 429 and the practice blocked to the end of the minute: a handful is the bound.
		assert.ok(refused <= 3, `at most a few 429s (${refused}); unshared, this load got 39`);
		if (refused === 0) assert.ok(busiestClock <= 250, `at most 250 requests in a clock minute (busiest ${busiestClock})`);
		assert.ok(loadArrivals.length > 250 && busiest > 200, `the load needed more than a minute's budget (${loadArrivals.length} requests, busiest 60 s: ${busiest}): unpaced, the workers would have gone over`);
		assert.ok(Object.values(tokensPerWorker).every((n) => n >= 1), 'each worker minted its own token');
	});

	test('Bulk Files mode: a 1 GB export downloaded on a worker into the database binary store, in parts, within 150 MB above idle', async () => {
		const m = await measureExportRun({ cluster, ex, pg, webhookPath: 'q-big', workflowId: WF.big });
		const items = itemsOf(m.data, 'Export') ?? [];
		const records = items.reduce((n, i) => n + (i.count ?? 0), 0);
		const bytes = items.reduce((n, i) => n + (i.bytes ?? 0), 0);
		info(`1 GB export on ${m.worker}: ${m.status} in ${m.seconds.toFixed(0)} s; ${items.length} parts, ${records} records, ${mib(bytes)}`);
		info(`${m.worker}: idle ${mib(m.idleRss)}, peak ${mib(m.peakRss)}: ${mib(m.aboveIdle)} above idle; PostgreSQL grew ${mib(m.dbGrowth)} (binary_data ${mib(m.binaryTableGrowth)}, ${m.binaryRows} rows holding ${mib(m.binaryBytes)})`);
		assert.equal(m.status, 'success', m.error);
		assert.equal(records, big.admin.get('big', 'Group', 'grp-1').quantity * BIG_REPEAT, 'every record, once');
		assert.ok(bytes > 0.9e9, `about 1 GB (${bytes} bytes)`);
		assert.equal(m.binaryBytes, bytes, 'every part is in PostgreSQL');
		assert.ok(items.every((i) => i.bytes <= 2 * 1024 * 1024 && i.parts === items.length), 'parts of at most 2 MiB (the default)');
		assert.ok(m.aboveIdle < 150 * 1024 * 1024, `worker peak ${mib(m.aboveIdle)} above idle (limit 150 MiB)`);
	});

	test('a worker killed in the middle of an export: Retry goes on from the last checkpoint with the same status URL, nothing lost, no second export job', async () => {
		const kickoffs = () => crash.stats.log.filter((l) => l.method === 'GET' && /\/\$export$/.test(l.path) && l.status === 202).length;
		const waitFor = async (what, check, timeoutMs) => {
			const started = Date.now();
			for (;;) {
				const value = await check();
				if (value) return value;
				if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs / 1000}s`);
				await new Promise((r) => setTimeout(r, 500));
			}
		};
		// the first file download is held back, long enough to find the worker holding it and kill it
		crash.inject({ kind: 'slow', path: '/bulkfiles/', delayMs: 30000, count: 1 });
		const t0 = Date.now();
		assert.equal((await cluster.webhook('q-crash')).status, 200);
		const waiting = await waitFor('the execution waiting between turns', async () => (await ex.list(WF.crash)).find((e) => e.status === 'waiting'), 60000);
		const stored = await ex.staticData(WF.crash);
		const inFlight = Object.values(stored?.global?.eClinicalWorksBulkExport?.rows ?? {}).find((r) => r.phase === 'running');
		info(`execution ${waiting.id} waits in the database after the kick-off (${((Date.now() - t0) / 1000).toFixed(0)} s); static data holds the status URL: ${inFlight ? 'yes' : 'no'}`);
		assert.ok(inFlight?.statusUrl, 'the status URL is in PostgreSQL while the execution waits');
		assert.equal(kickoffs(), 1);

		const file = await waitFor('the download after the wait', () => crashFileRequests[0], 180000).catch(async (e) => {
			await dumpRuns(WF.crash);
			throw e;
		});
		const pid = await waitFor('the worker holding the file request', () => pidOfClient(file.remotePort, Number(new URL(crash.origin).port), cluster.workers.map((w) => w.pid)), 5000);
		const victim = cluster.workers.find((w) => w.pid === pid);
		info(`execution ${waiting.id} resumed on ${victim.name} and is downloading (${((Date.now() - t0) / 1000).toFixed(0)} s): killing ${victim.name} (pid ${pid}, SIGKILL)`);
		await cluster.stop(victim.name, 'SIGKILL');
		crash.clearFaults();
		await cluster.start(victim.name);

		const killed = await waitFor('the killed execution marked crashed', async () => (await ex.list(WF.crash)).find((e) => e.id === waiting.id && !['running', 'waiting', 'new'].includes(e.status)), 120000);
		info(`execution ${waiting.id} is "${killed.status}" (${((Date.now() - t0) / 1000).toFixed(0)} s); its last checkpoint (the Wait) holds the status URL`);

		// what the user does: Executions > the crashed run > Retry (with the original workflow): it goes on from its last checkpoint
		await cluster.rest('POST', `/executions/${waiting.id}/retry`, { loadWorkflow: false });
		const rerun = await waitFor('the retry to finish', async () => (await ex.list(WF.crash)).find((e) => e.id !== waiting.id && !['new', 'running', 'waiting'].includes(e.status)), 180000);
		const data = await ex.runData(rerun.id);
		assert.equal(rerun.status, 'success', JSON.stringify(data?.resultData?.error?.message ?? ''));
		const files = itemsOf(data, 'Files');
		const patients = files.filter((f) => f.type === 'Patient').reduce((n, f) => n + f.count, 0);
		info(`retry ${rerun.id} (${rerun.mode}) on ${cluster.workerOf(rerun.id)}: ${files.length} files, ${patients} patients; export kick-offs on the server: ${kickoffs()}`);
		assert.equal(kickoffs(), 1, 'no second export job on the server');
		assert.equal(patients, crash.admin.get('crash', 'Group', 'grp-1').quantity, 'every patient of the group, from the first export');
		assert.ok(files.some((f) => f.type === 'Encounter' && f.count > 0));
	});

	test('the trigger emitted nothing more in the minutes since (every poll on main, nothing twice)', async (t) => {
		if (!triggerSeen) return t.skip('the trigger test did not run');
		const list = await ex.list(WF.trigger);
		let items = 0;
		for (const e of list) items += (itemsOf(await ex.runData(e.id), 'Visit booked or changed') ?? []).length;
		info(`${minutes(Date.now() - triggerSeen.at)} later: ${list.length} trigger executions, ${items} items`);
		assert.equal(items, triggerSeen.items);
	});
});
