// Bulk Export's state on n8n in queue mode (main + 2 workers, PostgreSQL, Redis) and on one regular
// n8n process (issue 21): where n8n keeps workflow static data for each way an execution starts
// (probe workflows), and the export state in an n8n Data Table through n8n's API: the nightly
// example incremental on workers, two runs at once giving one kick-off, a process killed in the
// middle of an export (then Retry, or the next run) collecting the same export with no second
// kick-off and no file twice, a process killed between the kick-off and its answer leaving a run
// that says so. Part of `npm run test:e2e -- --suite queue`; alone: `--suite queue-state`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSandbox } from '../../sandbox/index.mjs';
import { info, step } from '../lib.mjs';
import { loadExample, prepareFilesDir, toImport, variant } from '../fixtures.mjs';
import { listFiles } from '../n8n.mjs';
import { Executions, QueueCluster, itemsOf } from '../queue/cluster.mjs';
import { ensureServices, startPostgres, startRedis } from '../queue/services.mjs';
import { pidOfClient } from '../queue/sockets.mjs';
import { probeTable, probeWorkflow } from '../queue/probes.mjs';
import { allScopes, createApiKey, n8nApiCredential, startApiProxy, withStateCredential } from '../queue/state.mjs';
import { ecwCredential, withWebhook } from '../queue/workflows.mjs';

const ctxFile = process.env.E2E_CONTEXT;
if (!ctxFile) throw new Error('run through `npm run test:e2e -- --suite queue-state` (scripts/e2e.mjs)');
const ctx = JSON.parse(readFileSync(ctxFile, 'utf8'));
const TZ = 'America/New_York';
const EXPORT_NODE = 'Bulk export since last run';

let work, pg, redis, sandbox, crash;
/** Every kick-off that reached a sandbox: { at, practice, since, remotePort }. */
const kicks = [];
/** Every file request to the crash sandbox: { practice, remotePort }. */
const fileRequests = [];
const deployments = {};
const deploying = {};
/** The deployment of a mode, started on first use (so that `--only` runs just what it needs). */
async function deployment(mode) {
	if (mode === 'regular' && (deploying.queue || deployments.queue)) {
		// one deployment at a time on this machine
		const queue = await deploying.queue;
		await queue.cluster.stopAll();
		await queue.proxy.stop();
		delete deployments.queue;
		delete deploying.queue;
	}
	deploying[mode] ??= (async () => {
		step(mode === 'queue' ? 'queue mode: main + 2 workers, the package in each' : 'regular mode: one n8n process on its own database');
		return (deployments[mode] = await deploy(mode));
	})();
	return await deploying[mode];
}

const practiceOf = (p) => /\/fhir\/r4\/([^/]+)\//.exec(p)?.[1];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what, check, timeoutMs, every = 500) {
	const started = Date.now();
	for (;;) {
		const value = await check();
		if (value) return value;
		if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs / 1000}s`);
		await sleep(every);
	}
}
const kicksOf = (practice) => kicks.filter((k) => k.practice === practice);
const patientsIn = (dir) =>
	listFiles(dir)
		.filter((f) => /_Patient-/.test(path.basename(f)))
		.flatMap((f) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l).id));

/**
 * One deployment (queue: main + 2 workers; regular: one process) on its own database, with the
 * probes, the nightly example per practice (webhook beside its schedule, the export state credential
 * added as the docs say) and a recording proxy in front of its API.
 */
async function deploy(mode) {
	const dir = path.join(work, mode);
	const filesDir = path.join(dir, 'files');
	mkdirSync(filesDir, { recursive: true });
	const database = mode === 'queue' ? pg.database : `n8n${mode}`;
	if (database !== pg.database) await pg.query(`create database ${database}`, 'postgres');
	const db = { ...pg, database, query: (sql) => pg.query(sql, database) };
	const cluster = new QueueCluster({ n8nBin: ctx.n8nBin, node: ctx.n8nNode, work: dir, tgz: ctx.tgz, pg: db, redis, mode, env: { N8N_RESTRICT_FILE_ACCESS_TO: filesDir, GENERIC_TIMEZONE: TZ, TZ } });
	await cluster.install();
	const p = mode === 'queue' ? 'q' : 'r';
	const stateCred = { id: `${p}sN8nApi`, name: `${mode}: export state (n8n API)` };
	const creds = {};
	for (const [key, sb, practice] of [['nightly', sandbox, `${p}night`], ['twice', sandbox, `${p}twice`], ['retry', crash, `${p}retry`], ['next', crash, `${p}next`], ['intent', crash, `${p}intent`]]) {
		creds[key] = ecwCredential(sb, { id: `${p}sEcw${key}`, name: `${mode}: eCW ${practice}`, practiceCode: practice });
	}
	const nightly = (key, extra = {}) => {
		const folder = path.join(filesDir, key);
		prepareFilesDir(folder);
		const wf = variant(loadExample('nightly-incremental-bulk-export'), { id: `${p}sNightly${key}`.padEnd(16, '0').slice(0, 16), name: `${mode}: nightly (${key})`, credential: creds[key], filesDir: folder, params: { [EXPORT_NODE]: { pollFloorSeconds: 1, maxWaitMinutes: 5, ...extra } } });
		return withWebhook(withStateCredential(wf, stateCred), `${p}s-${key}`);
	};
	const workflows = {
		nightly: nightly('nightly'),
		twice: nightly('twice'),
		retry: nightly('retry', { resourceTypes: ['Patient', 'Encounter'] }),
		next: nightly('next', { resourceTypes: ['Patient', 'Encounter'] }),
		intent: nightly('intent'),
		webhook: probeWorkflow('webhook', { id: `${p}sProbeWebhook00`, path: `${p}s-probe-webhook` }),
		schedule: probeWorkflow('schedule', { id: `${p}sProbeSchedule0` }),
		manual: probeWorkflow('manual', { id: `${p}sProbeManual000`, path: `${p}s-probe-manual` }),
		retried: probeWorkflow('retry', { id: `${p}sProbeRetry0000`, path: `${p}s-probe-retry` }),
		child: probeWorkflow('child', { id: `${p}sProbeChild0000` }),
		parent: probeWorkflow('parent', { id: `${p}sProbeParent000`, path: `${p}s-probe-parent`, childId: `${p}sProbeChild0000` }),
		wait: probeWorkflow('wait', { id: `${p}sProbeWait00000`, path: `${p}s-probe-wait` }),
	};
	const cli = cluster.cli();
	await cli.importCredentials(toImport(Object.values(creds)), path.join(dir, 'credentials.json'));
	await cli.importWorkflows(Object.values(workflows), path.join(dir, 'workflows'));
	await cluster.start('main');
	await Promise.all(cluster.workers.map((w) => cluster.start(w.name)));

	// what docs/bulk-export.md tells users: an API key with the Data Table scopes, a credential with it
	const proxy = await startApiProxy(cluster.baseUrl);
	const apiKey = await createApiKey(cluster);
	const probeKey = await createApiKey(cluster, { label: 'probes', scopes: await allScopes(cluster) });
	await cli.importCredentials(toImport([n8nApiCredential({ ...stateCred, baseUrl: proxy.url, apiKey })]), path.join(dir, 'state-credential.json'));
	rmSync(path.join(dir, 'state-credential.json'));
	for (const [key, wf] of Object.entries(workflows)) if (key !== 'schedule') await cluster.activate(wf.id, { triggers: key !== 'child' });
	info(`${mode}: ${Object.keys(workflows).length} workflows published; n8n's API behind a recording proxy at ${proxy.url}`);
	return { mode, cluster, ex: new Executions(db, ctx.n8nBin), workflows, creds, filesDir, proxy, probeKey, p };
}

before(async () => {
	step('PostgreSQL and Redis');
	await ensureServices();
	[pg, redis] = await Promise.all([startPostgres(), startRedis()]);
	work = mkdtempSync(path.join(os.tmpdir(), 'ecw-e2e-queue-state-'));
	const onKick = (e) => /\$export$/.test(e.path) && kicks.push({ at: Date.now(), practice: practiceOf(e.path), since: new URLSearchParams(e.query).get('_since'), remotePort: e.remotePort });
	const common = { profile: 'ecw', timeZone: TZ, fastBulk: true, bulkDelayMs: 300 };
	sandbox = await startSandbox({ ...common, patients: 60, seed: 7, practices: ['qnight', 'qtwice', 'rnight', 'rtwice'], onRequest: onKick });
	// exports ready after 2 s, 100 resources a file: a download long enough to kill the process holding it
	crash = await startSandbox({
		...common,
		patients: 200,
		seed: 5,
		bulkDelayMs: 2000,
		maxResourcesPerFile: 100,
		practices: ['qretry', 'qnext', 'qintent', 'rretry', 'rnext', 'rintent'],
		onRequest: (e) => {
			onKick(e);
			if (/\/bulkfiles\//.test(e.path)) fileRequests.push({ practice: practiceOf(e.path) ?? e.path, remotePort: e.remotePort, path: e.path });
		},
	});
});

after(async () => {
	for (const d of Object.values(deployments)) {
		await d.cluster.stopAll();
		await d.proxy.stop();
	}
	await Promise.all([sandbox?.stop(), crash?.stop()]);
	await Promise.all([pg?.stop(), redis?.stop()]);
	if (work && !process.env.E2E_KEEP) rmSync(work, { recursive: true, force: true });
});

describe(`n8n ${ctx.n8nVersion} in queue mode: Bulk Export state`, () => {
	test('where workflow static data persists, by how the execution started (docs/queue-mode.md)', async () => {
		const d = await deployment('queue');
		const t = await probeTable(d);
		for (const kind of ['webhook', 'schedule', 'retried', 'parent']) {
			assert.ok(d.cluster.workers.some((w) => w.name === t[kind].ranOn), `${kind}: ran on a worker (${t[kind].ranOn})`);
		}
		assert.equal(t.manual.ranOn, 'main', 'manual runs stay on main');
		// n8n 2.40.7: a new execution on a worker starts with empty static data and saves what it leaves
		assert.deepEqual(t.webhook.seen, [0, 0]);
		assert.equal(t.webhook.saved, 1);
		assert.deepEqual(t.schedule.seen, [0, 0]);
		assert.deepEqual(t.retried.seen, [0, 0], 'a Retry starts from the stored copy of the workflow, without static data');
		assert.deepEqual(t.parent.seen, [0, 1], 'a sub-workflow is loaded from the database with its static data');
		assert.deepEqual(t.manual.seen, [1, 1], 'the editor reads what a production run saved, and saves nothing');
		assert.equal(t.manual.saved, 1);
		assert.deepEqual(t.wait.seen, [0, 0], 'after the Wait the worker starts from empty static data again');
	});
});

/** The export state rows of a deployment, read through n8n's API (never printed: keys and times only). */
async function stateRows(d) {
	const headers = { 'X-N8N-API-KEY': d.probeKey };
	const tables = await (await fetch(`${d.cluster.baseUrl}/api/v1/data-tables?limit=100`, { headers })).json();
	const table = tables.data.find((t) => t.name === 'eclinicalworks_bulk_export_state');
	if (!table) return [];
	return (await (await fetch(`${d.cluster.baseUrl}/api/v1/data-tables/${table.id}/rows?limit=100`, { headers })).json()).data;
}
const rowOf = async (d, practice) => (await stateRows(d)).find((r) => r.exportKey.includes(`/${practice}|`));

/** Kills the process running an execution in the middle of a request to the crash sandbox, then starts it again. */
async function killHolder(d, remotePort) {
	const pids = d.mode === 'queue' ? d.cluster.workers.map((w) => w.pid) : [d.cluster.main.pid];
	const pid = await waitFor('the process holding the request', () => pidOfClient(remotePort, Number(new URL(crash.origin).port), pids), 5000, 100);
	const victim = d.mode === 'queue' ? d.cluster.workers.find((w) => w.pid === pid).name : 'main';
	info(`${d.mode}: killing ${victim} (pid ${pid}, SIGKILL)`);
	await d.cluster.stop(victim, 'SIGKILL');
	crash.clearFaults();
	await d.cluster.start(victim);
	return victim;
}

/** The execution marked crashed (n8n does that when the process starts again). */
const crashedRun = (d, workflowId, id) => waitFor('the killed execution marked crashed', async () => (await d.ex.list(workflowId)).find((e) => e.id === id && !['running', 'new', 'waiting'].includes(e.status)), 180000, 1000);

/** Starts a nightly run and returns its execution once it reached the crash sandbox (`what`: file or kick-off). */
async function runUntil(d, key, what) {
	const wf = d.workflows[key];
	const practice = `${d.p}${key}`;
	const seen = what === 'file' ? fileRequests.length : kicks.length;
	void d.cluster.webhook(`${d.p}s-${key}`, {}, { timeoutMs: 600000 }).catch(() => null);
	const hit = await waitFor(`the ${what} request of ${practice}`, () => (what === 'file' ? fileRequests.slice(seen).find((f) => f.practice === practice) : kicks.slice(seen).find((k) => k.practice === practice)), 120000, 100);
	const [run] = (await d.ex.list(wf.id)).filter((e) => ['new', 'running'].includes(e.status)).slice(-1);
	return { hit, run };
}

function registerStateCases(mode) {
	const d = () => deployment(mode);
	const where = (dep, id) => dep.cluster.workerOf(id) ?? dep.mode;

	test(`${mode}: the nightly example twice: the second run sends _since = the first run's transactionTime (state in a Data Table)`, async () => {
		const dep = await d();
		const wf = dep.workflows.nightly;
		const practice = `${dep.p}night`;
		assert.equal((await dep.cluster.webhook(`${dep.p}s-nightly`)).status, 200);
		const [first] = await dep.ex.waitFinished(wf.id, 1);
		const files1 = itemsOf(await dep.ex.runData(first.id), EXPORT_NODE);
		assert.equal(first.status, 'success');
		const transactionTime = files1[0].transactionTime;
		const group = sandbox.admin.get(practice, 'Group', 'grp-1').quantity;
		assert.equal(files1.filter((f) => f.type === 'Patient').reduce((n, f) => n + f.count, 0), group, 'first run: every patient');
		await sleep(1100);
		sandbox.admin.updatePatient(practice, 'pt-2', { telecom: [{ system: 'phone', value: '555-0100', use: 'home' }] });
		const callsBefore = dep.proxy.calls.length;
		assert.equal((await dep.cluster.webhook(`${dep.p}s-nightly`)).status, 200);
		const [, second] = await dep.ex.waitFinished(wf.id, 2);
		const calls = dep.proxy.calls.length - callsBefore;
		const files2 = itemsOf(await dep.ex.runData(second.id), EXPORT_NODE);
		const sent = kicksOf(practice).map((k) => k.since);
		info(`${mode} nightly: run 1 on ${where(dep, first.id)} (${files1.length} files), run 2 on ${where(dep, second.id)} sent _since ${sent[1]} (${files2.map((f) => `${f.type}:${f.count}`).join(', ')}); ${calls} calls to n8n's API in run 2`);
		assert.deepEqual(sent, [null, transactionTime], 'the second kick-off sends the first export\'s transactionTime');
		assert.equal(files2.find((f) => f.type === 'Patient')?.count, 1, 'only the changed patient');
		if (mode === 'queue') assert.ok(dep.cluster.workerOf(first.id) && dep.cluster.workerOf(second.id), 'both on workers');
		const row = await rowOf(dep, practice);
		assert.equal(row.lastTransactionTime, files2[0].transactionTime);
		assert.deepEqual([row.phase, row.owner], ['', '']);
	});

	test(`${mode}: two runs of the nightly example at once: one kick-off, the other starts nothing and says so`, async () => {
		const dep = await d();
		const wf = dep.workflows.twice;
		const practice = `${dep.p}twice`;
		// (the webhook answers 500 "no item" for a run whose Files only passes nothing on: the execution succeeded)
		await Promise.all([dep.cluster.webhook(`${dep.p}s-twice`), dep.cluster.webhook(`${dep.p}s-twice`)]);
		const runs = await dep.ex.waitFinished(wf.id, 2);
		const outputs = await Promise.all(runs.map(async (r) => ({ r, items: itemsOf(await dep.ex.runData(r.id), EXPORT_NODE) })));
		info(`${mode} twice: ${outputs.map((o) => `execution ${o.r.id} on ${where(dep, o.r.id)} ${o.r.status}: ${o.items.length} items${o.items[0]?.state ? ` (${o.items[0].state})` : ''}`).join('; ')}; kick-offs: ${kicksOf(practice).length}`);
		assert.equal(kicksOf(practice).length, 1, 'one export on the server');
		assert.ok(runs.every((r) => r.status === 'success'));
		const other = outputs.find((o) => o.items.length === 1 && /elsewhere$/.test(o.items[0].state));
		assert.ok(other, 'one run reports the other');
		assert.ok(outputs.some((o) => o !== other && o.items.some((i) => i.kind === 'output')), 'the other has the files');
		assert.match(other.items[0].message, /This run started nothing/);
	});

	test(`${mode}: killed in the middle of the download, then Retry: the same export is collected, no second kick-off, each file once`, async () => {
		const dep = await d();
		const practice = `${dep.p}retry`;
		crash.inject({ kind: 'slow', path: '/bulkfiles/', practice, delayMs: 30000, count: 1 });
		const { hit, run } = await runUntil(dep, 'retry', 'file');
		const t0 = Date.now();
		await killHolder(dep, hit.remotePort);
		const crashed = await crashedRun(dep, dep.workflows.retry.id, run.id);
		assert.deepEqual(listFiles(path.join(dep.filesDir, 'retry', 'bulk')), [], 'the killed run delivered no file');
		await dep.cluster.rest('POST', `/executions/${crashed.id}/retry`, { loadWorkflow: false });
		const retry = await waitFor('the retry to finish', async () => (await dep.ex.list(dep.workflows.retry.id)).find((e) => e.id !== crashed.id && !['new', 'running', 'waiting'].includes(e.status)), 300000, 1000);
		const ids = patientsIn(path.join(dep.filesDir, 'retry', 'bulk'));
		info(`${mode} retry: execution ${crashed.id} ${crashed.status}; retry ${retry.id} ${retry.status} on ${where(dep, retry.id)} ${((Date.now() - t0) / 1000).toFixed(0)} s after the kill; ${ids.length} patients written; kick-offs: ${kicksOf(practice).length}`);
		assert.equal(retry.status, 'success');
		assert.equal(kicksOf(practice).length, 1, 'no second export on the server');
		assert.equal(ids.length, crash.admin.get(practice, 'Group', 'grp-1').quantity, 'every patient');
		assert.equal(new Set(ids).size, ids.length, 'none twice');
	});

	test(`${mode}: killed in the middle of the download, then the next run (not a Retry): it collects the same export, no second kick-off`, async () => {
		const dep = await d();
		const practice = `${dep.p}next`;
		crash.inject({ kind: 'slow', path: '/bulkfiles/', practice, delayMs: 30000, count: 1 });
		const { hit, run } = await runUntil(dep, 'next', 'file');
		await killHolder(dep, hit.remotePort);
		await crashedRun(dep, dep.workflows.next.id, run.id);
		const t0 = Date.now();
		assert.equal((await dep.cluster.webhook(`${dep.p}s-next`)).status, 200);
		const list = await dep.ex.list(dep.workflows.next.id);
		const next = list.at(-1);
		const ids = patientsIn(path.join(dep.filesDir, 'next', 'bulk'));
		info(`${mode} next run: ${next.id} ${next.status} on ${where(dep, next.id)} in ${((Date.now() - t0) / 1000).toFixed(0)} s; ${ids.length} patients; kick-offs: ${kicksOf(practice).length}`);
		assert.equal(next.status, 'success');
		assert.equal(kicksOf(practice).length, 1);
		assert.equal(ids.length, crash.admin.get(practice, 'Group', 'grp-1').quantity);
		assert.equal(new Set(ids).size, ids.length);
	});

	test(`${mode}: killed after sending the kick-off, before the answer: the next run starts nothing and says what happened and what to do`, async () => {
		const dep = await d();
		const practice = `${dep.p}intent`;
		crash.inject({ kind: 'slow', path: '\\$export$', practice, delayMs: 20000, count: 1 });
		const { hit, run } = await runUntil(dep, 'intent', 'kick-off');
		await killHolder(dep, hit.remotePort);
		await crashedRun(dep, dep.workflows.intent.id, run.id);
		const row = await rowOf(dep, practice);
		assert.deepEqual([row.phase, row.statusUrl, row.owner], ['starting', '', String(run.id)], 'the intent was recorded before the kick-off');
		await dep.cluster.webhook(`${dep.p}s-intent`);
		const next = (await dep.ex.waitFinished(dep.workflows.intent.id, 2)).at(-1);
		const data = await dep.ex.runData(next.id);
		const error = data.resultData.runData[EXPORT_NODE]?.[0]?.error;
		info(`${mode} interrupted kick-off: next run ${next.id} ${next.status}: "${error?.message}"`);
		assert.equal(next.status, 'error');
		assert.match(error.message, new RegExp(`execution ${run.id} \\(at .*\\) sent the kick-off of this export and stopped before it recorded the server's answer`));
		assert.match(error.description, /Start Again After an Interrupted Kick-Off/);
		assert.equal(kicksOf(practice).length, 1, 'no second kick-off');
	});

	test(`${mode}: what stays unprotected: the time between the server's answer to the kick-off and the write that records its status URL`, async () => {
		const dep = await d();
		const writes = dep.proxy.calls.filter((c) => c.method === 'PATCH' && c.phase === 'running' && c.done);
		const windows = [];
		for (const k of kicks.filter((k) => k.practice?.startsWith(dep.p))) {
			const w = writes.find((c) => c.at >= k.at);
			if (w && w.done - k.at < 60000) windows.push(w.done - k.at);
		}
		windows.sort((a, b) => a - b);
		const median = windows[Math.floor(windows.length / 2)];
		info(`${mode}: kick-off arrival to status URL recorded: ${windows.length} exports, median ${median} ms, max ${windows.at(-1)} ms (${windows.join(', ')})`);
		assert.ok(windows.length >= 2);
		assert.ok(windows.at(-1) < 5000, 'a few requests at most');
	});
}

describe(`n8n ${ctx.n8nVersion} in queue mode: Bulk Export state in a Data Table`, () => registerStateCases('queue'));

describe(`n8n ${ctx.n8nVersion}, one regular process: the same`, () => {
	test('regular: where workflow static data persists', async () => {
		const t = await probeTable(await deployment('regular'));
		assert.deepEqual(t.webhook.seen, [0, 1]);
		assert.deepEqual(t.schedule.seen, [0, 1]);
		assert.deepEqual(t.parent.seen, [0, 1]);
		assert.deepEqual(t.manual.seen, [1, 1]);
		assert.equal(t.manual.saved, 1, 'manual runs are not saved');
		assert.deepEqual(t.retried.seen, [0, 0], 'a Retry starts without static data here too');
		assert.deepEqual(t.wait.seen, [0, 0], 'and so does an execution resumed after a Wait');
	});

	registerStateCases('regular');
});
