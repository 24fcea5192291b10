// The trigger's per-practice poll (nodes/EClinicalWorks/trigger/strategies/index.ts), `_lastUpdated`
// strategy, against the real sandbox, with the package's FhirClient over fetch (no n8n here; see
// trigger.n8n.test.mjs for that, and pollWindow.test.mjs for servers without `_lastUpdated`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { clearCapabilitiesCache } from '../../nodes/EClinicalWorks/fhir/client.ts';
import { clientFor, events, ids, poller, sandbox, stopSandboxes } from './_support.mjs';

after(stopSandboxes);
const code = 'demo';

before(() => clearCapabilitiesCache());

test('smart profile: Appointment source; created, updated, cancelled (previousStatus), each exactly once', async () => {
	const sb = await sandbox({ profile: 'smart' });
	const p = await poller(sb);
	assert.equal(p.source.type, 'Appointment');
	const first = await p.poll();
	assert.deepEqual(first.changes, [], 'first activation emits nothing');
	assert.ok(p.state.cursor, 'cursor from the server clock');

	const a = sb.admin.createAppointment(code, { status: 'booked' });
	const r1 = await p.poll();
	assert.deepEqual(ids(r1), [a.id]);
	assert.equal(r1.changes[0].event, 'created');
	assert.deepEqual(ids(await p.poll()), [], 'nothing new');

	sb.admin.updateAppointment(code, a.id, { status: 'arrived' });
	const r2 = await p.poll();
	assert.deepEqual(ids(r2), [a.id]);
	assert.equal(r2.changes[0].event, 'updated');
	assert.equal(r2.changes[0].previousStatus, 'booked');

	sb.admin.cancelAppointment(code, a.id);
	const r3 = await p.poll();
	assert.equal(r3.changes[0].event, 'cancelled');
	assert.equal(r3.changes[0].previousStatus, 'arrived');
});

test('ten polls with records created in between: every record exactly once', async () => {
	const sb = await sandbox({ profile: 'smart' });
	const p = await poller(sb, { pageSize: 3 });
	await p.poll();
	const created = [];
	const seen = [];
	for (let i = 0; i < 10; i++) {
		for (let k = 0; k < (i % 3) + 1; k++) created.push(sb.admin.createAppointment(code, {}).id);
		if (i === 4) sb.admin.updateAppointment(code, created[0], { comment: 'wheelchair' });
		seen.push(...ids(await p.poll()));
	}
	assert.equal(seen.filter((id) => id === created[0]).length, 2, 'created, then updated once');
	const rest = seen.filter((id) => id !== created[0]);
	assert.deepEqual([...rest].sort(), created.slice(1).sort());
	assert.equal(new Set(rest).size, rest.length, 'no duplicates');
});

test('records sharing the cursor timestamp across a page boundary: none missed, none repeated', async () => {
	let now = Date.now();
	const sb = await sandbox({ profile: 'smart', now: () => now });
	const p = await poller(sb, { pageSize: 2 });
	await p.poll();
	now += 1000;
	const a = sb.admin.createAppointment(code, {});
	const r1 = await p.poll();
	assert.deepEqual(ids(r1), [a.id]);
	assert.equal(p.state.cursor, new Date(now).toISOString());
	// b and c get exactly the cursor timestamp: a `gt` query would miss them. With 2 per page,
	// a and b fill the first page and c starts the second.
	const b = sb.admin.createAppointment(code, {});
	const c = sb.admin.createAppointment(code, {});
	now += 5;
	const d = sb.admin.createAppointment(code, {});
	const r2 = await p.poll();
	assert.deepEqual(ids(r2).sort(), [b.id, c.id, d.id].sort());
	assert.deepEqual(ids(await p.poll()), []);
});

test('a poll cut by a 429 after the first page resumes next time without losing or repeating', async () => {
	const sb = await sandbox({ profile: 'smart' });
	let armed = false;
	const client = await clientFor(sb, {
		afterResponse: (req, res) => {
			if (armed && res.status === 200 && /\/Appointment\?/.test(req.url)) {
				armed = false;
				sb.inject({ kind: '429', count: 3, retryAfter: 0 });
			}
		},
	});
	const p = await poller(sb, { pageSize: 2, client });
	await p.poll();
	const created = Array.from({ length: 5 }, () => sb.admin.createAppointment(code, {}).id);
	armed = true;
	const cut = await p.poll();
	assert.equal(cut.interrupted?.kind, 'rateLimit');
	assert.equal(cut.changes.length, 2, 'the first page is emitted');
	sb.clearFaults();
	const rest = await p.poll();
	assert.equal(rest.interrupted, undefined);
	assert.deepEqual([...ids(cut), ...ids(rest)].sort(), [...created].sort());
});

test('manual mode returns the most recent record and leaves the state alone', async () => {
	const sb = await sandbox({ profile: 'smart' });
	const p = await poller(sb, { event: 'patientChanged' });
	const newest = sb.admin.createPatient(code, { name: [{ family: 'Newest', given: ['Nora'] }] });
	const manual = await p.poll('manual');
	assert.deepEqual(ids(manual), [newest.id]);
	assert.equal(manual.state, undefined);
	assert.equal(p.state, undefined);
});

test('UUID version ids, no Appointment.created: an appointment first seen after activation is created, an older one updated', async () => {
	const sb = await sandbox({ profile: 'smart', quirks: { uuidVersionIds: true } });
	const p = await poller(sb);
	await p.poll();
	assert.equal(p.state.seed.length, 40, 'the ids existing at activation are remembered (all 40 here)');
	const fresh = sb.admin.createAppointment(code, { status: 'booked' });
	assert.match(fresh.meta.versionId, /^[0-9a-f]{8}-/, 'the server gives no counter');
	assert.equal(fresh.created, undefined);
	sb.admin.updateAppointment(code, 'ap-3', { comment: 'Needs wheelchair transport' });
	const r1 = await p.poll();
	assert.deepEqual(events(r1).sort(), [`${fresh.id}|created|`, 'ap-3|updated|'].sort());
	sb.admin.updateAppointment(code, fresh.id, { status: 'arrived' });
	assert.deepEqual(events(await p.poll()), [`${fresh.id}|updated|booked`]);
});

test('the ids remembered at activation are bounded (seedLimit); counter version ids need none', async () => {
	const uuid = await sandbox({ profile: 'smart', quirks: { uuidVersionIds: true } });
	const bounded = await poller(uuid, { limits: { seedLimit: 10 } });
	await bounded.poll();
	assert.equal(bounded.state.seed.length, 10);
	const counters = await poller(await sandbox({ profile: 'smart' }));
	await counters.poll();
	assert.equal(counters.state.seed, undefined, 'version 1 tells a new record by itself');
});

test('Practitioner and Location filters are sent typed, so a server that indexes references typed matches them', async () => {
	const sb = await sandbox({ profile: 'smart', quirks: { typedReferencesOnly: true } });
	// both forms are accepted in the fields
	const p = await poller(sb, { options: { practitioner: 'pr-2', location: 'Location/loc-2' } });
	await p.poll();
	const mine = sb.admin.createAppointment(code, { practitioner: 'pr-2', location: 'loc-2' });
	sb.admin.createAppointment(code, { practitioner: 'pr-1', location: 'loc-2' });
	assert.deepEqual(ids(await p.poll()), [mine.id]);
	const searches = p.client.requests.filter((r) => r.includes('/Appointment?'));
	assert.ok(searches.every((r) => r.includes('practitioner=Practitioner%2Fpr-2') && r.includes('location=Location%2Floc-2')));
});

test('with Visits Within (Days) the filters go through the shared visit query, typed as well', async () => {
	const sb = await sandbox({ profile: 'smart', quirks: { typedReferencesOnly: true } });
	const p = await poller(sb, { options: { practitioner: 'Practitioner/pr-2', daysAhead: 7 } });
	await p.poll();
	const mine = sb.admin.createAppointment(code, { practitioner: 'pr-2', start: new Date(sb.now() + 2 * 86_400_000) });
	sb.admin.createAppointment(code, { practitioner: 'pr-1', start: new Date(sb.now() + 2 * 86_400_000) });
	assert.deepEqual(ids(await p.poll()), [mine.id]);
	const searches = p.client.requests.filter((r) => r.includes('/Appointment?'));
	assert.ok(searches.length > 0 && searches.every((r) => r.includes('practitioner=Practitioner%2Fpr-2') && r.includes('date=')), searches.join('\n'));
});
