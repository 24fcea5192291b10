// The package in a real n8n: installed like the Community Nodes screen does, credentials for every
// auth method and the example workflows imported, each run headless with
// `n8n execute --id ... --rawOutput` against the sandbox (ecw and smart profiles).
// Run through `npm run test:e2e` (scripts/e2e.mjs), which installs n8n and packs the package.
// Patient data and tokens are never printed: only counts and field names.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSandbox } from '../../sandbox/index.mjs';
import { freePort, info } from '../lib.mjs';
import { N8n, installPackage, listFiles, nodeItems } from '../n8n.mjs';
import { DEMO_PRACTICES, NODE_TYPE, loadExample, practiceTemplateCredential, writePracticeSheet, prepareFilesDir, sandboxCredentials, toImport, variant, webhookToManual } from '../fixtures.mjs';

const ctxFile = process.env.E2E_CONTEXT;
if (!ctxFile) throw new Error('run through `npm run test:e2e` (scripts/e2e.mjs): it installs n8n and packs the package first');
const ctx = JSON.parse(readFileSync(ctxFile, 'utf8'));
const TZ = 'America/New_York';
const PRACTICE = 'demo';

let userFolder, filesDir, n8n, ecw, smart, multi, creds;
const runs = new Map();

function runOf(id) {
	const r = runs.get(id);
	assert.ok(r, `workflow ${id} was not run`);
	return r;
}

/** Run one imported workflow; print its status and timing, never its data. */
async function execute(id) {
	const res = await n8n.execute(id);
	const runData = res.run?.data?.resultData?.runData ?? {};
	const summary = Object.entries(runData)
		.map(([name, tasks]) => `${name}: ${tasks[0]?.data?.main?.[0]?.length ?? 0}${tasks[0]?.error ? ' (error)' : ''}`)
		.join(', ');
	info(`n8n execute ${id}: exit ${res.code} in ${res.seconds.toFixed(1)}s; items per node: ${summary || '(no run data)'}`);
	for (const [name, tasks] of Object.entries(runData)) {
		// node error messages name the problem, never the data
		if (tasks[0]?.error) info(`  ${name} failed: ${tasks[0].error.message}${tasks[0].error.description ? ` (${String(tasks[0].error.description).slice(0, 200)})` : ''}`);
	}
	if (!res.run) {
		// print the log lines n8n wrote (no run data was parsed, so none can be in them)
		const tail = `${res.stdout}\n${res.stderr}`.split('\n').filter((l) => !l.trim().startsWith('"')).slice(-25).join('\n');
		info(`no run data parsed; n8n output tail:\n${tail}`);
	}
	runs.set(id, res);
	return res;
}

const cred = (profile, key) => creds[profile].find((c) => c.key === key);

function patientSearchNode(name, credential, mrn, position) {
	return {
		id: `e2e-${name}`.padEnd(36, '0'),
		name,
		type: NODE_TYPE,
		typeVersion: 1,
		position,
		onError: 'continueRegularOutput',
		credentials: { eClinicalWorksApi: { id: credential.id, name: credential.name } },
		parameters: { authentication: 'backendService', resource: 'patient', operation: 'search', criteria: { identifier: mrn }, returnAll: false, limit: 5, output: 'simplified' },
	};
}

const mrnOf = (patient) => patient.identifier.find((i) => /MR|mrn/i.test(JSON.stringify(i.type ?? {})) || i.system?.includes('564.1'))?.value ?? patient.identifier[0].value;

before(async () => {
	userFolder = mkdtempSync(path.join(os.tmpdir(), 'ecw-e2e-n8n-'));
	filesDir = path.join(userFolder, 'files');
	for (const profile of ['ecw', 'smart']) prepareFilesDir(path.join(filesDir, profile));
	info(`n8n user folder ${userFolder}`);
	const t = Date.now();
	await installPackage(userFolder, ctx.tgz);
	info(`package installed in .n8n/nodes (${((Date.now() - t) / 1000).toFixed(1)}s)`);

	const common = { patients: 60, seed: 7, timeZone: TZ, bulkDelayMs: 300, pollRetryAfterSeconds: 1, fastBulk: true, practices: [PRACTICE] };
	[ecw, smart, multi] = await Promise.all([
		startSandbox({ ...common, profile: 'ecw' }),
		startSandbox({ ...common, profile: 'smart' }),
		// three practices behind one eCW-like server; "closed" has not enabled the app
		startSandbox({ ...common, profile: 'ecw', practices: DEMO_PRACTICES, rejectedPractices: ['closed'] }),
	]);
	info(`sandboxes: ecw ${ecw.origin}, smart ${smart.origin}, practices ${multi.origin}`);
	creds = {
		ecw: sandboxCredentials(ecw, { tag: 'e2eEcw', label: 'e2e ecw', broken: true }),
		smart: sandboxCredentials(smart, { tag: 'e2eSmart', label: 'e2e smart' }),
		multi: [practiceTemplateCredential(multi, { id: 'e2eManyPractices', name: 'e2e practices (practice code template)' })],
	};
	prepareFilesDir(path.join(filesDir, 'multi'));
	writePracticeSheet(path.join(filesDir, 'multi'));

	n8n = new N8n({
		bin: ctx.n8nBin,
		node: ctx.n8nNode,
		userFolder,
		env: { N8N_RUNNERS_BROKER_PORT: String(await freePort()), N8N_RESTRICT_FILE_ACCESS_TO: filesDir, GENERIC_TIMEZONE: TZ, TZ },
	});
	const t2 = Date.now();
	await n8n.importCredentials(toImport([...creds.ecw, ...creds.smart, ...creds.multi]), path.join(userFolder, 'credentials.json'));
	info(`imported ${creds.ecw.length + creds.smart.length + creds.multi.length} credentials (${((Date.now() - t2) / 1000).toFixed(1)}s)`);

	// --- workflows ---
	const pt = ecw.admin.get(PRACTICE, 'Patient', 'pt-3');
	const ptSmart = smart.admin.get(PRACTICE, 'Patient', 'pt-3');
	const wfs = [];
	const matrix = { id: 'e2eAuthMatrix001', name: 'e2e: patient search with every auth method', active: false, settings: { executionOrder: 'v1' }, connections: {}, nodes: [] };
	matrix.nodes.push({ id: 'e2e-manual-0000000000000000000000001', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} });
	const targets = [];
	for (const profile of ['ecw', 'smart']) {
		for (const c of creds[profile]) {
			const name = `${profile} ${c.key}`;
			targets.push({ node: name, type: 'main', index: 0 });
			matrix.nodes.push(patientSearchNode(name, c, mrnOf(profile === 'ecw' ? pt : ptSmart), [300, targets.length * 120]));
		}
	}
	matrix.connections.Start = { main: [targets] };
	wfs.push(matrix);

	const dispatch = loadExample('tomorrows-appointments-to-dispatch-sheet');
	for (const profile of ['ecw', 'smart']) {
		wfs.push(variant(dispatch, { id: `e2eDispatch${profile}`.padEnd(16, '0'), name: `e2e: dispatch sheet (${profile})`, credential: cred(profile, 'rs384'), filesDir: path.join(filesDir, profile) }));
	}
	const intake = variant(loadExample('new-patient-intake-email'), { id: 'e2eIntake0000000', name: 'e2e: new patient intake', credential: cred('ecw', 'es384'), filesDir: path.join(filesDir, 'ecw') });
	wfs.push(webhookToManual(intake, { mrn: mrnOf(pt) }));
	const nightly = loadExample('nightly-incremental-bulk-export');
	wfs.push(variant(nightly, { id: 'e2eNightlyEcw000', name: 'e2e: nightly export (ecw)', credential: cred('ecw', 'basic'), filesDir: path.join(filesDir, 'ecw'), params: { 'Bulk export since last run': { pollFloorSeconds: 1, maxWaitMinutes: 3 } } }));
	wfs.push(
		variant(nightly, {
			id: 'e2eExportSmart00',
			name: 'e2e: system export (smart)',
			credential: cred('smart', 'post'),
			filesDir: path.join(filesDir, 'smart'),
			params: { 'Bulk export since last run': { level: 'system', sinceMode: 'none', resourceTypes: ['Patient', 'Appointment'], pollFloorSeconds: 1, maxWaitMinutes: 3 } },
		}),
	);
	wfs.push(variant(loadExample('many-practices-dispatch-sheet'), { id: 'e2eManyPractice0', name: 'e2e: many practices', credential: creds.multi[0], filesDir: path.join(filesDir, 'multi') }));
	const t3 = Date.now();
	await n8n.importWorkflows(wfs, path.join(userFolder, 'workflows'));
	info(`imported ${wfs.length} workflows (${((Date.now() - t3) / 1000).toFixed(1)}s)`);
});

after(async () => {
	await Promise.all([ecw?.stop(), smart?.stop(), multi?.stop()]);
	if (userFolder && !process.env.E2E_KEEP) rmSync(userFolder, { recursive: true, force: true });
});

describe(`n8n ${ctx.n8nVersion} with the packed package`, () => {
	test('patient search works with every auth method, on both profiles; a wrong key id fails clearly', async () => {
		const res = await execute('e2eAuthMatrix001');
		assert.equal(res.code, 0, 'n8n execute exit code');
		assert.ok(res.run, 'run data parsed from --rawOutput');
		for (const profile of ['ecw', 'smart']) {
			const sandbox = profile === 'ecw' ? ecw : smart;
			const expected = sandbox.admin.get(PRACTICE, 'Patient', 'pt-3');
			for (const c of creds[profile].filter((x) => x.key !== 'broken')) {
				const items = nodeItems(res.run, `${profile} ${c.key}`);
				assert.ok(items, `${profile} ${c.key}: node ran`);
				assert.equal(items.length, 1, `${profile} ${c.key}: one patient for the MRN (got ${JSON.stringify(items.map((i) => Object.keys(i)))})`);
				assert.equal(items[0].id, 'pt-3', `${profile} ${c.key}: the right patient`);
				assert.equal(items[0].mrn, mrnOf(expected));
				for (const field of ['name', 'birthDate', 'gender', 'phone', 'address']) assert.ok(field in items[0], `${profile} ${c.key}: field ${field}`);
				assert.ok(!('error' in items[0]));
			}
		}
		const broken = nodeItems(res.run, 'ecw broken');
		assert.equal(broken?.length, 1, 'the broken credential outputs one error item (continue on error)');
		const message = String(broken[0].error ?? '');
		info(`broken credential error: ${message}`);
		assert.match(message, /invalid_client|key|kid/i, 'the error says what is wrong');
		assert.doesNotMatch(JSON.stringify(broken[0]), /BEGIN (RSA |EC )?PRIVATE KEY|eyJ[A-Za-z0-9_-]{20,}\./, 'no key or token in the error');
	});

	for (const profile of ['ecw', 'smart']) {
		test(`example "tomorrow's appointments to the dispatch sheet" (${profile}: ${profile === 'ecw' ? 'Encounter fallback' : 'Appointment'})`, async () => {
			const id = `e2eDispatch${profile}`.padEnd(16, '0');
			const res = await execute(id);
			assert.equal(res.code, 0);
			const visits = nodeItems(res.run, "Get tomorrow's appointments");
			assert.ok(visits?.length >= 4, `tomorrow's visits found (${visits?.length})`);
			const sources = new Set(visits.map((v) => v.source));
			info(`${profile}: ${visits.length} visits tomorrow, source ${[...sources].join(', ')}; fields: ${Object.keys(visits[0]).join(', ')}`);
			assert.equal(sources.size, 1);
			assert.match([...sources][0], profile === 'ecw' ? /encounter/i : /appointment/i);
			const sandbox = profile === 'ecw' ? ecw : smart;
			const tomorrow = new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date(sandbox.now() + 86400000));
			for (const v of visits) assert.equal(v.date, tomorrow, 'every visit is tomorrow in the practice time zone');
			const transport = nodeItems(res.run, 'Needs transport');
			assert.ok(transport.length >= 2, `at least the two fixed transport visits (${transport.length})`);
			assert.equal(transport.length, visits.filter((v) => v.transportNeeded).length);
			const files = listFiles(path.join(filesDir, profile, 'dispatch'));
			assert.equal(files.length, 1, 'one CSV written');
			const lines = readFileSync(files[0], 'utf8').trim().split('\n');
			assert.match(lines[0], /Date.*Time.*Patient.*MRN.*Phone/);
			assert.equal(lines.length - 1, transport.length, 'one CSV row per visit needing transport');
			info(`${profile}: ${path.basename(files[0])}: ${lines.length - 1} rows, columns ${lines[0]}`);
		});
	}

	test('example "new patient intake email": patient by MRN, summary file, email node disabled', async () => {
		const res = await execute('e2eIntake0000000');
		assert.equal(res.code, 0);
		const found = nodeItems(res.run, 'Find patient by MRN');
		assert.equal(found?.length, 1);
		assert.equal(found[0].id, 'pt-3');
		const workflow = res.run.workflowData ?? JSON.parse(readFileSync(path.join(userFolder, 'workflows', 'e2eIntake0000000.json'), 'utf8'));
		assert.equal(workflow.nodes.find((n) => n.name === 'Email the front desk').disabled, true, 'the email node is disabled (no SMTP account needed)');
		const files = listFiles(path.join(filesDir, 'ecw', 'intake'));
		assert.equal(files.length, 1);
		const text = readFileSync(files[0], 'utf8');
		const expected = ecw.admin.get(PRACTICE, 'Patient', 'pt-3');
		assert.ok(text.includes(expected.name[0].family), 'summary names the patient');
		assert.ok(text.includes(mrnOf(expected)));
		info(`intake summary: ${text.split('\n').length} lines`);
	});

	test('example "nightly incremental bulk export" (ecw, Group): files on disk, second run only exports changes', async () => {
		const res = await execute('e2eNightlyEcw000');
		assert.equal(res.code, 0);
		const items = nodeItems(res.run, 'Bulk export since last run');
		assert.ok(items?.length >= 3, `one item per file (${items?.length})`);
		info(`export files: ${items.map((i) => `${i.type ?? '?'}:${i.count}`).join(', ')}; fields: ${Object.keys(items[0]).join(', ')}`);
		const written = listFiles(path.join(filesDir, 'ecw', 'bulk'));
		assert.equal(written.length, items.length, 'every file written to disk');
		let patients = 0;
		for (const f of written) {
			const lines = readFileSync(f, 'utf8').trim().split('\n');
			for (const l of lines) JSON.parse(l);
			if (/(^|_)Patient-/.test(path.basename(f))) patients += lines.length;
		}
		const group = ecw.admin.get(PRACTICE, 'Group', 'grp-1');
		assert.equal(patients, group.quantity, 'every patient of the group exported');

		// change one patient, run again: only the change comes back (_since = last transactionTime)
		await new Promise((r) => setTimeout(r, 1100));
		ecw.admin.updatePatient(PRACTICE, 'pt-2', { telecom: [{ system: 'phone', value: '555-0100', use: 'home' }] });
		const res2 = await execute('e2eNightlyEcw000');
		assert.equal(res2.code, 0);
		const items2 = nodeItems(res2.run, 'Bulk export since last run');
		const patientFile = items2.find((i) => /Patient/.test(i.type ?? i.fileName));
		info(`second run: ${items2.map((i) => `${i.type ?? i.state ?? '?'}:${i.count ?? i.records ?? ''}`).join(', ')}`);
		assert.ok(patientFile, 'the changed patient is exported');
		assert.equal(patientFile.count, 1, 'only the changed patient');
	});

	test('bulk export, system level (smart profile)', async () => {
		const res = await execute('e2eExportSmart00');
		assert.equal(res.code, 0);
		const items = nodeItems(res.run, 'Bulk export since last run');
		const types = new Set(items.map((i) => i.type));
		assert.ok(types.has('Patient') && types.has('Appointment'), `Patient and Appointment files (${[...types]})`);
		const written = listFiles(path.join(filesDir, 'smart', 'bulk'));
		assert.equal(written.length, items.length);
	});
	test('example "many practices, one dispatch sheet": Practice Code per item, the practice without the app fails alone', async () => {
		const res = await execute('e2eManyPractice0');
		assert.equal(res.code, 0);
		const perItem = nodeItems(res.run, "Tomorrow's appointments per practice");
		assert.ok(perItem?.length > 0, 'visits and error items');
		const failed = perItem.filter((i) => i.error);
		assert.equal(failed.length, 1, 'only the practice without the app fails');
		assert.match(String(failed[0].error), /closed/, 'the error names the practice');
		for (const practice of ['north', 'south']) assert.ok(multi.stats.byPractice[practice].requests > 0, `${practice} was asked`);
		const dir = path.join(filesDir, 'multi', 'dispatch');
		const combined = listFiles(dir).filter((f) => path.basename(f).startsWith('all-practices-'));
		const failures = listFiles(dir).filter((f) => path.basename(f).startsWith('failed-practices-'));
		assert.equal(combined.length, 1, 'one combined dispatch sheet');
		assert.equal(failures.length, 1, 'one failed-practices sheet');
		const rows = readFileSync(combined[0], 'utf8').trim().split('\n');
		assert.match(rows[0], /Practice.*Date.*Time.*Patient.*MRN/);
		const practices = new Set(rows.slice(1).map((r) => r.split(',')[0].replace(/"/g, '')));
		assert.deepEqual([...practices].sort(), ['north', 'south'], 'rows from both practices that answered, labelled');
		assert.equal(rows.length - 1, perItem.length - failed.length, 'one row per visit');
		const failedText = readFileSync(failures[0], 'utf8');
		assert.match(failedText, /^"?closed"?,/m, 'the closed practice is listed with its error');
		assert.doesNotMatch(failedText, /^"?(north|south)"?,/m, 'practices that answered are not listed as failed');
		info(`many practices: ${rows.length - 1} visits from north and south in one sheet; closed reported as failed`);
	});
});
