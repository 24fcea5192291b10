// The eClinicalWorks Trigger run by n8n-core's real poll machinery (test/helpers/n8n.mjs) against
// the sandbox: static data, manual "fetch test event", simplified/raw output, several practices,
// a poll cut by the sandbox's per-minute rate limit.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';

import { runPoll, shutdown } from '../helpers/n8n.mjs';
import { sandboxStarter } from '../helpers/sandboxes.mjs';
import { credentials } from '../helpers/sandboxCredentials.mjs';

const TYPE = 'n8n-nodes-eclinicalworks.eClinicalWorksTrigger';
const sandbox = sandboxStarter({ patients: 20, seed: 5, admin: true });
after(shutdown);

/**
 * Polls like an active workflow: the static data of the previous poll is handed to the next one.
 * `poll({}, { restart: true })` starts from what n8n had saved to the database instead: at activation
 * (ActiveWorkflowManager.add) and after each poll that emitted items.
 */
function trigger(sb, parameters, { practiceCode } = {}) {
	let staticData = {};
	let saved;
	const creds = credentials(sb, { practiceCode });
	return {
		async poll(extra = {}, { restart = false } = {}) {
			const result = await runPoll({ type: TYPE, parameters: { ...parameters, ...extra }, credentials: creds, staticData: restart ? saved : staticData });
			staticData = result.staticData;
			if (saved === undefined || result.staticDataSaved) saved = structuredClone(staticData);
			return result;
		},
		async manual() {
			return await runPoll({ type: TYPE, parameters, credentials: creds, staticData, mode: 'manual' });
		},
		get staticData() {
			return staticData;
		},
	};
}

const stateOf = (staticData, baseUrl, type) => staticData['node:Trigger']?.practices?.[baseUrl]?.[type];

test('smart profile, ten polls: activation emits nothing, then each change exactly once (created, cancelled), simplified', async () => {
	const sb = await sandbox({ profile: 'smart' });
	const t = trigger(sb, { event: 'appointmentChanged', options: { pageSize: 2 } });
	const first = await t.poll();
	assert.equal(first.items, null, 'activation does not flood');
	assert.ok(stateOf(t.staticData, sb.baseUrl, 'Appointment')?.cursor, 'cursor kept per base URL and type');

	const booked = sb.admin.createAppointment('demo', { comment: 'Needs wheelchair transport' });
	const expected = [`${booked.id}|created|`];
	const emitted = [];
	for (let i = 0; i < 10; i++) {
		for (let k = 0; k < i % 3; k++) expected.push(`${sb.admin.createAppointment('demo', {}).id}|created|`);
		if (i === 6) {
			sb.admin.cancelAppointment('demo', booked.id);
			expected.push(`${booked.id}|cancelled|booked`);
		}
		const r = await t.poll();
		if (r.json.length === 0) assert.equal(r.items, null, 'nothing new, nothing emitted');
		if (i === 0) {
			const item = r.json.find((j) => j.id === booked.id);
			assert.equal(item.source, 'Appointment');
			assert.equal(item.status, 'booked');
			assert.equal(item.transportNeeded, true);
			assert.ok(item.patientName, 'patient resolved for the simplified view');
			// the event fields, then the visit in the dispatcher's order (as Get Appointments)
			assert.deepEqual(Object.keys(item).slice(0, 6), ['event', 'previousStatus', 'practiceCode', 'patientName', 'patientPhone', 'patientAddress']);
		}
		emitted.push(...r.json.map((j) => `${j.id}|${j.event}|${j.previousStatus}`));
	}
	assert.deepEqual([...emitted].sort(), [...expected].sort());
});

test('eCW profile: visits from Encounter by date window, raw output, status and day-window filters', async () => {
	const sb = await sandbox({ profile: 'ecw' });
	const t = trigger(sb, {
		event: 'appointmentChanged',
		output: 'raw',
		options: { daysAhead: 7, statuses: ['booked'] },
	});
	assert.equal((await t.poll()).items, null);
	const state = stateOf(t.staticData, sb.baseUrl, 'Encounter');
	assert.equal(state?.strategy, 'window', 'no _lastUpdated on eCW: the date-window strategy, picked at activation');
	assert.equal(Math.round((Date.parse(state.window.end) - Date.parse(state.window.start)) / 86400_000), 7);
	const soon = sb.admin.createEncounter('demo', { start: new Date(Date.now() + 2 * 86400_000) });
	sb.admin.createEncounter('demo', { start: new Date(Date.now() + 40 * 86400_000) }); // outside the window
	sb.admin.createEncounter('demo', { start: new Date(Date.now() + 86400_000), status: 'arrived' }); // other status
	const r = await t.poll();
	assert.deepEqual(r.json.map((j) => [j.event, j.resource.resourceType, j.resource.id]), [['created', 'Encounter', soon.id]]);
	// a cancellation of a watched (planned) visit is still reported although "cancelled" is not selected
	sb.admin.updateEncounter('demo', soon.id, { status: 'cancelled' });
	const c = await t.poll();
	assert.deepEqual(c.json.map((j) => [j.event, j.previousStatus]), [['cancelled', 'planned']]);
});

test('manual mode ("Fetch test event") returns the most recent record and persists nothing', async () => {
	const sb = await sandbox({ profile: 'smart' });
	const t = trigger(sb, { event: 'patientChanged' });
	const newest = sb.admin.createPatient('demo', { name: [{ use: 'official', family: 'Newest', given: ['Nora'] }] });
	const manual = await t.manual();
	assert.equal(manual.json.length, 1);
	assert.equal(manual.json[0].id, newest.id);
	assert.equal(manual.json[0].name, 'Nora Newest');
	assert.deepEqual(manual.staticData, {});
});

test('eCW profile, "Fetch test event": a visit of the window for appointments; patients fail and say why and what to use', async () => {
	const sb = await sandbox({ profile: 'ecw' });
	const visit = sb.admin.createEncounter('demo', { start: new Date(Date.now() + 3 * 86400_000), transport: 'Needs wheelchair transport' });
	const appointments = await trigger(sb, { event: 'appointmentChanged' }).manual();
	assert.deepEqual(appointments.json.map((j) => [j.id, j.source, j.transportNeeded]), [[visit.id, 'Encounter (eCW visit)', true]]);
	assert.ok(appointments.json[0].patientName, 'names read for the simplified view');
	assert.deepEqual(appointments.staticData, {});
	for (const run of [() => trigger(sb, { event: 'patientChanged' }).manual(), () => trigger(sb, { event: 'patientChanged' }).poll()]) {
		await assert.rejects(run(), (error) => {
			assert.match(error.message, /Trigger On: this server's CapabilityStatement declares no _lastUpdated search for Patient/);
			assert.match(error.description, /Appointment Created or Changed.*Bulk Export/);
			return true;
		});
	}
});

test('eCW profile: each change exactly once across restarts of n8n (from the static data saved to the database)', async () => {
	const sb = await sandbox({ profile: 'ecw' });
	const t = trigger(sb, { event: 'appointmentChanged', output: 'raw' });
	assert.equal((await t.poll()).items, null, 'activation: n8n saves the snapshot');
	const a = sb.admin.createEncounter('demo', { start: new Date(Date.now() + 2 * 86400_000) });
	assert.deepEqual((await t.poll()).json.map((j) => `${j.resource.id}|${j.event}`), [`${a.id}|created`]);
	assert.equal((await t.poll({}, { restart: true })).items, null, 'after a restart: not emitted again');
	sb.admin.updateEncounter('demo', a.id, { status: 'cancelled' });
	const b = sb.admin.createEncounter('demo', { start: new Date(Date.now() + 3 * 86400_000) });
	const r = await t.poll({}, { restart: true });
	assert.deepEqual(r.json.map((j) => `${j.resource.id}|${j.event}|${j.previousStatus}`).sort(), [`${a.id}|cancelled|planned`, `${b.id}|created|`].sort());
	assert.equal((await t.poll({}, { restart: true })).items, null);
	const size = JSON.stringify(t.staticData).length;
	assert.ok(size < 4000, `small state for a small practice (${size} bytes)`);
});

test('several practices: one state per base URL, practice code on items, a practice that has not enabled the app fails alone', async () => {
	const sb = await sandbox({ profile: 'ecw', practices: ['alpha', 'beta', 'gamma', 'closed'], rejectedPractices: ['closed'] });
	const t = trigger(sb, { event: 'appointmentChanged', output: 'raw', practiceCodes: 'alpha, beta, gamma' });
	assert.equal((await t.poll()).items, null);
	const practices = t.staticData['node:Trigger'].practices;
	assert.deepEqual(Object.keys(practices).sort(), ['alpha', 'beta', 'gamma'].map((code) => sb.baseUrlFor(code)).sort(), 'three practices, three states');
	const b = sb.admin.createEncounter('beta', { start: new Date(Date.now() + 86400_000) });
	const a = sb.admin.createEncounter('alpha', { start: new Date(Date.now() + 86400_000) });
	const r = await t.poll({ practiceCodes: 'alpha,beta,gamma,closed' });
	assert.equal(r.error, undefined, 'the rejected practice does not hold back the others');
	assert.deepEqual(r.json.map((j) => [j.practiceCode, j.resource.id, j.event]), [['alpha', a.id, 'created'], ['beta', b.id, 'created']]);
	const failed = await runPoll({ type: TYPE, parameters: { event: 'appointmentChanged', practiceCodes: 'closed' }, credentials: credentials(sb, { practiceCode: 'alpha' }), throwOnError: false });
	assert.match(String(failed.error?.message), /Practice closed/, 'nothing to emit and a practice failed: the error names it');
});

test('a poll cut by the per-minute rate limit emits what it read; the next poll resumes', async () => {
	// Frozen sandbox clock at second 59 of a minute: Retry-After is 1 s and stays so while frozen.
	let now = Math.floor(Date.now() / 60000) * 60000 + 59_000;
	const sb = await sandbox({ profile: 'smart', rateLimitPerMinute: 2, now: () => now });
	const t = trigger(sb, { event: 'appointmentChanged', output: 'raw', options: { pageSize: 2 } });
	assert.equal((await t.poll()).items, null); // metadata + one search: this minute's 2 requests
	const created = Array.from({ length: 5 }, () => sb.admin.createAppointment('demo', {}).id);
	now += 60_000; // a fresh minute: 2 requests = 2 pages of 2, the third page gets 429s
	const cut = await t.poll();
	assert.equal(cut.json.length, 4, 'the pages read before the 429 are emitted');
	now += 60_000;
	const rest = await t.poll({ options: { pageSize: 10 } });
	const all = [...cut.json, ...rest.json].map((j) => j.resource.id);
	assert.deepEqual([...all].sort(), [...created].sort(), 'nothing lost, nothing twice');
});

test('a visit changed while a poll pages through a sorted result: the visit after the page shift is not skipped (found by the fault soak)', async () => {
	// The sandbox pages a sorted search by offset over the live result, as servers with LIMIT/OFFSET
	// paging do: a record changed between two page requests moves to the end, the later pages shift
	// by one, and the record at the shift was skipped while the cursor moved past it.
	let onRequest = null;
	const sb = await sandbox({ profile: 'smart', onRequest: (request) => onRequest?.(request) });
	const t = trigger(sb, { event: 'appointmentChanged', output: 'raw', options: { pageSize: 2 } });
	assert.equal((await t.poll()).items, null);
	const made = [];
	for (let i = 0; i < 5; i++) {
		await new Promise((resolve) => setTimeout(resolve, 3)); // five distinct timestamps
		made.push(sb.admin.createAppointment('demo', {}).id);
	}
	await new Promise((resolve) => setTimeout(resolve, 3));
	let searches = 0;
	onRequest = (request) => {
		if (request.path.endsWith('/Appointment') && ++searches === 2) {
			onRequest = null;
			sb.admin.updateAppointment('demo', made[0], { comment: 'Changed while the trigger was reading' });
		}
	};
	const emitted = [];
	for (let i = 0; i < 3; i++) emitted.push(...(await t.poll()).json.map((j) => `${j.resource.id} v${j.resource.meta.versionId}`));
	assert.deepEqual([...emitted].sort(), [...made.map((id) => `${id} v1`), `${made[0]} v2`].sort(), 'each version once, none skipped');
});
