// The package in a real n8n: installed like the Community Nodes screen does, credentials for every
// auth method and the example workflows imported, each run headless with
// `n8n execute --id ... --rawOutput` against the sandbox (ecw and smart profiles). Delivery is
// checked, not just execution: the intake email is read back from the mail server's inbox, the
// dispatch workbooks with a spreadsheet reader.
// Run through `npm run test:e2e` (scripts/e2e.mjs), which installs n8n and packs the package.
// Patient data and tokens are never printed: only counts and field names.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSandbox } from '../../sandbox/index.mjs';
import { ROOT, freePort, info } from '../lib.mjs';
import { N8n, installPackage, listFiles, nodeItems } from '../n8n.mjs';
import { CREDENTIAL_TYPE, DEMO_PRACTICES, credentialData, mrnOf, practiceTemplateCredential, writePracticeSheet, prepareFilesDir, sandboxCredentials, toImport } from '../fixtures.mjs';
import { smtpCredential, startMailServer } from '../mail.mjs';
import { readWorkbook } from '../workbook.mjs';
import { UNKNOWN_MRN, e2eWorkflows, screenshotReport } from './workflowList.mjs';

const ctxFile = process.env.E2E_CONTEXT;
if (!ctxFile) throw new Error('run through `npm run test:e2e` (scripts/e2e.mjs): it installs n8n and packs the package first');
const ctx = JSON.parse(readFileSync(ctxFile, 'utf8'));
const TZ = 'America/New_York';
const PRACTICE = 'demo';
const PACKAGE_VERSION = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;

let userFolder, filesDir, n8n, ecw, smart, multi, paced, mail, creds;
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

const rs384Of = (sandbox) => sandbox.clients.find((c) => c.alg === 'RS384' && c.scopes.includes('Group'));

/** The rows of a workbook's only sheet, named `sheet`. */
async function onlySheet(file, sheet) {
	const sheets = await readWorkbook(file);
	assert.deepEqual(sheets.map((s) => s.name), [sheet], `${path.basename(file)}: one sheet, "${sheet}"`);
	return sheets[0];
}

before(async () => {
	userFolder = mkdtempSync(path.join(os.tmpdir(), 'ecw-e2e-n8n-'));
	filesDir = path.join(userFolder, 'files');
	for (const profile of ['ecw', 'smart', 'failing']) prepareFilesDir(path.join(filesDir, profile));
	info(`n8n user folder ${userFolder}`);
	const t = Date.now();
	await installPackage(userFolder, ctx.tgz);
	info(`package installed in .n8n/nodes (${((Date.now() - t) / 1000).toFixed(1)}s)`);

	const common = { patients: 60, seed: 7, timeZone: TZ, bulkDelayMs: 300, pollRetryAfterSeconds: 1, fastBulk: true, practices: [PRACTICE] };
	[ecw, smart, multi, paced] = await Promise.all([
		// admin: the readiness report provokes 401/403/429/500 through the sandbox's fault switches
		startSandbox({ ...common, profile: 'ecw', admin: true }),
		startSandbox({ ...common, profile: 'smart' }),
		// three practices behind one eCW-like server; "closed" has not enabled the app
		startSandbox({ ...common, profile: 'ecw', practices: DEMO_PRACTICES, rejectedPractices: ['closed'] }),
		// Custom API Call's pacing: a server that allows 3 requests a minute (token requests included), as eCW allows 250
		startSandbox({ ...common, profile: 'ecw', rateLimitPerMinute: 3 }),
	]);
	info(`sandboxes: ecw ${ecw.origin}, smart ${smart.origin}, practices ${multi.origin}`);
	mail = await startMailServer({ mailDirectory: path.join(userFolder, 'mail') });
	info(`mail server: SMTP ${mail.smtpHost}:${mail.smtpPort}, inbox ${mail.inboxUrl}`);
	creds = {
		ecw: sandboxCredentials(ecw, { tag: 'e2eEcw', label: 'e2e ecw', broken: true }),
		smart: [
			...sandboxCredentials(smart, { tag: 'e2eSmart', label: 'e2e smart' }),
			// saved before "Other SMART" had its own Scopes field: its scopes are in `scopes`; the client is
			// registered for system/Patient.read only, so the defaults would be refused
			{ key: 'earlier-scopes', id: 'e2eSmartEarlierScope', name: 'e2e smart (saved with the earlier Scopes field)', type: 'eClinicalWorksApi', data: { ...credentialData(smart, smart.client('sandbox-patient-only')), scopes: 'system/Patient.read' } },
		],
		multi: [practiceTemplateCredential(multi, { id: 'e2eManyPractices', name: 'e2e practices (practice code template)' })],
		// the HTTP Request node with the credential (Custom API Call): own credentials, so the token it stores is its own
		customApi: [
			{ key: 'customApi', id: 'e2eCustomApi', name: 'e2e custom API call', type: CREDENTIAL_TYPE, data: credentialData(ecw, rs384Of(ecw)) },
			{ key: 'paced', id: 'e2eCustomApiPaced', name: 'e2e custom API call, 3 a minute', type: CREDENTIAL_TYPE, data: credentialData(paced, rs384Of(paced), { rateLimitPerMinute: 3 }) },
		],
		// the id the intake example's Send Email node references
		mail: [smtpCredential(mail)],
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
	const allCreds = [...creds.ecw, ...creds.smart, ...creds.multi, ...creds.customApi, ...creds.mail];
	await n8n.importCredentials(toImport(allCreds), path.join(userFolder, 'credentials.json'));
	info(`imported ${allCreds.length} credentials (${((Date.now() - t2) / 1000).toFixed(1)}s)`);

	const wfs = e2eWorkflows({ ctx, ecw, smart, multi, paced, creds, filesDir });
	const t3 = Date.now();
	await n8n.importWorkflows(wfs, path.join(userFolder, 'workflows'));
	info(`imported ${wfs.length} workflows (${((Date.now() - t3) / 1000).toFixed(1)}s)`);
});

after(async () => {
	await Promise.all([ecw?.stop(), smart?.stop(), multi?.stop(), paced?.stop(), mail?.stop()]);
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
			assert.deepEqual(files.map((f) => path.basename(f)), [`dispatch-${tomorrow}.xlsx`], 'one workbook, named for tomorrow');
			const rides = await onlySheet(files[0], 'Rides');
			assert.deepEqual(rides.columns, ['Date', 'Time', 'Patient', 'MRN', 'Phone', 'Pick-up address', 'Clinic', 'Clinic address', 'Level of service', 'Need', 'Note', 'Visit ID']);
			assert.equal(rides.rows.length, transport.length, 'one row per ride');
			for (const visit of transport) {
				const row = rides.rows.find((r) => r['Visit ID'] === visit.id);
				assert.ok(row, `a row for visit ${visit.id}`);
				assert.deepEqual(
					[row.Date, row.Time, row.Patient, row.MRN, row.Phone, row['Pick-up address'], row.Clinic, row['Clinic address'], row['Level of service'], row.Need],
					[visit.date, visit.time, visit.patientName, visit.patientMrn, visit.patientPhone, visit.patientAddress, visit.locationName, visit.locationAddress, visit.levelOfService, visit.needs],
					`visit ${visit.id}: the row holds the visit's values`,
				);
				assert.ok(row.Patient && row.Phone && row['Pick-up address'] && row['Clinic address'], 'patient, phone, pick-up and drop-off addresses filled');
				assert.ok(['ambulatory', 'wheelchair', 'stretcher', 'ambulance'].includes(row['Level of service']), `a dispatcher's level of service (${row['Level of service']})`);
				assert.doesNotMatch(row.Need, /^(wheelchair|stretcher|ambulance).*\btransport\b/, 'no generic transport beside a vehicle');
			}
			assert.ok(rides.rows.some((r) => /ambulette/.test(r.Note) && r['Level of service'] === 'wheelchair'), 'the ambulette ride is a wheelchair ride');
			info(`${profile}: ${path.basename(files[0])}: sheet "${rides.name}", ${rides.rows.length} rows, columns ${rides.columns.join(' | ')}`);
		});
	}

	test('example "new patient intake email": patient by MRN, the email arrives at the mail server', async () => {
		const res = await execute('e2eIntake0000000');
		assert.equal(res.code, 0);
		const found = nodeItems(res.run, 'Find patient by MRN');
		assert.equal(found?.length, 1);
		assert.equal(found[0].id, 'pt-3');
		const sent = nodeItems(res.run, 'Email the front desk');
		assert.equal(sent?.length, 1, 'the Send Email node ran (enabled) and sent one email');
		const expected = ecw.admin.get(PRACTICE, 'Patient', 'pt-3');
		const mrn = mrnOf(expected);
		const email = await mail.waitForEmail((e) => e.subject?.includes(`(MRN ${mrn})`));
		assert.ok(email, 'the intake email is in the inbox');
		assert.equal(email.subject, `New patient intake: ${found[0].name} (MRN ${mrn})`);
		assert.deepEqual(email.to.map((t) => t.address), ['front-desk@clinic.example']);
		assert.deepEqual(email.from.map((f) => f.address), ['n8n@clinic.example']);
		const body = email.text;
		assert.ok(body.includes(`Name: ${found[0].name}`), 'the body names the patient');
		assert.ok(body.includes(expected.name[0].family));
		assert.ok(body.includes(`MRN: ${mrn}`));
		assert.ok(body.includes(`Phone: ${found[0].phone}`));
		assert.ok(body.includes(`Address: ${found[0].address}`));
		assert.match(body, /Please call the patient/);
		assert.equal((await mail.emails()).length, 1, 'exactly one email');
		info(`intake email: ${body.split('\n').length} lines, to ${email.to.map((t) => t.address).join(', ')}`);
	});

	test('example "production readiness report by email": every check passes on the ecw sandbox, the report arrives as HTML and Markdown attachments', async () => {
		const before = (await mail.emails()).length;
		const res = await execute('e2eReadinessEcw0');
		assert.equal(res.code, 0);
		const items = nodeItems(res.run, 'Check production readiness');
		assert.equal(items?.length, 11, 'the summary and one item per check');
		const [summary, ...checks] = items;
		const notPassing = checks.filter((c) => c.status !== 'pass' && c.status !== 'not-checkable');
		assert.deepEqual(notPassing, [], 'every check the node can run passes');
		assert.equal(summary.status, 'pass');
		assert.deepEqual(checks.filter((c) => c.status === 'not-checkable').map((c) => c.check), ['Signed BAA', 'Production access request']);
		assert.match(checks.find((c) => c.check.startsWith('Error handling')).evidence, /^Provoked live on the package's sandbox/);
		const email = await mail.waitForEmail((e) => e.subject?.startsWith('Production readiness:'));
		assert.ok(email, 'the report email is in the inbox');
		assert.equal((await mail.emails()).length, before + 1, 'one email for the run (Execute Once)');
		assert.equal(email.subject, `Production readiness: pass (${summary.evidence})`);
		assert.deepEqual(email.to.map((t) => t.address), ['integration-lead@clinic.example']);
		for (const c of checks) assert.ok(email.text.includes(`- ${c.check}: ${c.status}`), `the body lists ${c.check}`);
		const files = (email.attachments ?? []).map((a) => a.fileName ?? a.filename).sort();
		assert.deepEqual(files, [summary.reportFile.replace(/\.html$/, '.md'), summary.reportFile].sort(), 'the HTML and Markdown report attached');
		const html = (await mail.attachment(email, summary.reportFile)).toString('utf8');
		const md = (await mail.attachment(email, summary.reportFile.replace(/\.html$/, '.md'))).toString('utf8');
		for (const text of [html, md]) {
			assert.ok(text.includes(`n8n-nodes-eclinicalworks ${PACKAGE_VERSION}`), 'names the package and its version');
			assert.ok(text.includes(ctx.n8nVersion), 'names the n8n version');
			for (const c of checks) assert.ok(text.includes(c.check.replace(/&/g, '&amp;')), `the report holds ${c.check}`);
			assert.doesNotMatch(text, /PRIVATE KEY|Bearer /);
		}
		info(`readiness report: ${summary.evidence} Attachments ${files.join(', ')} (${html.length} and ${md.length} bytes)`);
		await screenshotReport(html);
	});

	/** The one email an intake run sent (subject starting with `prefix`), after `before` emails. */
	async function intakeEmail(prefix, before) {
		const email = await mail.waitForEmail((e) => e.subject?.startsWith(prefix));
		assert.ok(email, `an email "${prefix}..." arrived`);
		assert.equal((await mail.emails()).length, before + 1, 'exactly one email for the intake');
		assert.deepEqual(email.to.map((t) => t.address), ['front-desk@clinic.example']);
		return email;
	}

	test('intake failure path: an MRN no patient has sends the front desk a "no patient found" alert', async () => {
		const before = (await mail.emails()).length;
		const res = await execute('e2eIntakeNone000');
		assert.equal(res.code, 0);
		assert.deepEqual(nodeItems(res.run, 'Find patient by MRN'), [{}], 'no patient (an empty item, so the workflow goes on)');
		assert.equal(nodeItems(res.run, 'Intake summary'), undefined, 'no intake summary');
		const email = await intakeEmail('Intake: no patient found', before);
		assert.equal(email.subject, `Intake: no patient found for MRN ${UNKNOWN_MRN}`);
		assert.match(email.text, /has no patient with that MRN/);
		assert.match(email.text, /complete the intake by hand/);
	});

	test('intake failure path: an MRN two charts share sends one "more than one patient" alert listing both', async () => {
		const before = (await mail.emails()).length;
		const res = await execute('e2eIntakeMany000');
		assert.equal(res.code, 0);
		const found = nodeItems(res.run, 'Find patient by MRN');
		assert.equal(found?.length, 2, 'both charts found');
		const mrn = found[0].mrn;
		const email = await intakeEmail('Intake: more than one patient', before);
		assert.equal(email.subject, `Intake: more than one patient matches MRN ${mrn}`);
		for (const patient of found) assert.ok(email.text.includes(`(patient ID ${patient.id})`), `the alert lists ${patient.id}`);
		assert.match(email.text, /Find the right chart/);
	});

	test('intake failure path: a look-up that fails (sign-in refused) sends a "look-up failed" alert with the reason', async () => {
		const before = (await mail.emails()).length;
		const res = await execute('e2eIntakeFail000');
		assert.equal(res.code, 0, 'the failure is handled by the workflow');
		const found = nodeItems(res.run, 'Find patient by MRN');
		assert.equal(found?.length, 1, 'one error item (On Error: Continue)');
		assert.match(String(found[0].error), /invalid_client|key id|kid/i);
		assert.equal(nodeItems(res.run, 'Alert: no patient found'), undefined, 'not taken for "no patient found"');
		const email = await intakeEmail('Intake: the patient look-up failed', before);
		assert.match(email.text, /invalid_client|key id|kid/i, 'the email says why');
		assert.doesNotMatch(email.text, /BEGIN (RSA |EC )?PRIVATE KEY|eyJ[A-Za-z0-9_-]{20,}\./, 'no key or token in the email');
	});

	for (const [id, node, what] of [
		['e2eDispatchFail0', "Get tomorrow's appointments", 'dispatch sheet'],
		['e2eNightlyFail00', 'Bulk export since last run', 'nightly export'],
	]) {
		test(`${what} failure path: a refused sign-in fails the run with the reason (n8n marks it failed), and writes no file`, async () => {
			const res = await execute(id);
			assert.notEqual(res.code, 0, 'n8n execute reports the failure');
			const output = `${res.stdout}\n${res.stderr}`;
			assert.match(output, /invalid_client|key id|kid/i, `the reason is in n8n's output`);
			assert.match(output, new RegExp(node.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'naming the node that failed');
			assert.deepEqual(listFiles(path.join(filesDir, 'failing')).filter((f) => !f.endsWith('practices.csv')), [], 'no partial or empty file');
		});
	}

	test('Custom API Call: the HTTP Request node with the credential signs in, reads FHIR, never sends the token to another origin, and renews a refused token', async () => {
		const tokensBefore = ecw.stats.tokenRequests;
		const res = await execute('e2eCustomApi0000');
		assert.equal(res.code, 0);
		const [bundle] = nodeItems(res.run, 'FHIR server') ?? [];
		assert.equal(bundle?.resourceType, 'Bundle', 'the FHIR server answered with the token n8n attached');
		assert.equal(bundle.entry?.[0]?.resource?.id, 'pt-3');
		assert.equal(ecw.stats.tokenRequests, tokensBefore + 1, 'one token request');
		assert.ok(nodeItems(res.run, 'Another origin')?.[0]?.error, 'the other origin answered 404 (no FHIR there)');
		assert.equal(ecw.stats.authHeaderSeenOnOtherOrigin, 0, 'no Authorization header on another origin');
		assert.equal(ecw.stats.tokenRequests, tokensBefore + 1, 'the 404 cost no new token (the token was minted a moment ago)');

		// the server drops every token; the next run (a new n8n process) uses the token n8n stored, gets a 401, and renews it
		ecw.inject({ kind: 'revoke-tokens' });
		const unauthorizedBefore = ecw.stats.byStatus[401] ?? 0;
		const again = await execute('e2eCustomApi0000');
		assert.equal(again.code, 0);
		assert.equal(nodeItems(again.run, 'FHIR server')?.[0]?.resourceType, 'Bundle', 'read again with a renewed token');
		assert.equal((ecw.stats.byStatus[401] ?? 0) - unauthorizedBefore, 1, 'the stored token was refused once');
		assert.equal(ecw.stats.tokenRequests, tokensBefore + 2, 'and renewed with one token request');
		assert.equal(ecw.stats.authHeaderSeenOnOtherOrigin, 0);
	});

	test('Custom API Call is paced: 3 requests a minute allowed, a token and 3 requests sent, no 429 (the last one waits for the next minute)', async () => {
		const started = Date.now();
		const res = await execute('e2eCustomApiPace');
		assert.equal(res.code, 0);
		for (const name of ['Request 1', 'Request 2', 'Request 3']) assert.equal(nodeItems(res.run, name)?.[0]?.resourceType, 'Bundle', `${name} answered`);
		assert.equal(paced.stats.byStatus[429] ?? 0, 0, 'the server never had to refuse a request');
		const sent = paced.stats.log.map((e) => Date.parse(e.t));
		assert.ok(sent.length >= 4, `sign-in (discovery, token) and 3 FHIR requests: ${sent.length}`);
		assert.ok(sent.at(-1) - sent[0] >= 55_000, `the last request waited for the next window (${((sent.at(-1) - sent[0]) / 1000).toFixed(0)} s after the first)`);
		info(`paced: ${sent.length} requests over ${((Date.now() - started) / 1000).toFixed(0)} s, no 429`);
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
		const rides = perItem.filter((i) => !i.error && i.transportNeeded);
		const dir = path.join(filesDir, 'multi', 'dispatch');
		const tomorrow = new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date(multi.now() + 86400000));
		assert.deepEqual(listFiles(dir).map((f) => path.basename(f)).sort(), [`all-practices-${tomorrow}.xlsx`, `failed-practices-${tomorrow}.xlsx`], 'the combined workbook and the failed practices in a second file');
		const combined = await onlySheet(path.join(dir, `all-practices-${tomorrow}.xlsx`), 'Rides');
		assert.deepEqual(combined.columns, ['Practice', 'Practice name', 'Date', 'Time', 'Patient', 'MRN', 'Phone', 'Pick-up address', 'Clinic', 'Clinic address', 'Provider', 'Level of service', 'Need', 'Note', 'Reason', 'Visit ID']);
		assert.equal(combined.rows.length, rides.length, 'one row per ride');
		assert.deepEqual([...new Set(combined.rows.map((r) => r.Practice))].sort(), ['north', 'south'], 'rides from both practices that answered, labelled');
		for (const row of combined.rows) {
			assert.equal(row['Practice name'], `${row.Practice[0].toUpperCase()}${row.Practice.slice(1)} Clinic`, 'the name from practices.csv');
			assert.equal(row.Date, tomorrow);
			assert.ok(row.Patient && row.Phone && row['Pick-up address'] && row['Clinic address'] && row['Level of service'] && row.Need && row['Visit ID'], `a ride row is filled (${Object.keys(row).filter((k) => !row[k]).join(', ')} empty)`);
			const visit = rides.find((v) => v.id === row['Visit ID'] && v.patientName === row.Patient);
			assert.ok(visit, 'the row is one of the rides read, by its visit ID');
			assert.deepEqual(
				[row.Time, row.MRN, row['Clinic address'], row['Level of service'], row.Need],
				[visit.time, visit.patientMrn, visit.locationAddress, visit.levelOfService, visit.needs],
				`visit ${visit.id}: the row holds the visit's values`,
			);
		}
		const failures = await onlySheet(path.join(dir, `failed-practices-${tomorrow}.xlsx`), 'Failed practices');
		assert.deepEqual(failures.columns, ['Practice', 'Error', 'What to do']);
		assert.deepEqual(failures.rows.map((r) => r.Practice), ['closed'], 'only the practice without the app is listed');
		assert.match(failures.rows[0].Error, /closed/, 'with its error');
		assert.ok(failures.rows[0]['What to do'], 'and what to do');
		info(`many practices: ${combined.rows.length} rides from north and south in one workbook; closed in failed-practices`);
	});
});
