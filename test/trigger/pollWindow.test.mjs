// The trigger on a server that cannot list what changed (the `ecw` profile: eClinicalWorks' published
// CapabilityStatement, no `_lastUpdated` anywhere, enforced): the date-window strategy against the
// real sandbox, with the package's FhirClient over fetch. See trigger.n8n.test.mjs for the same in n8n.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { clearCapabilitiesCache } from '../../nodes/EClinicalWorks/fhir/client.ts';
import { InputError } from '../../nodes/EClinicalWorks/fhir/errors.ts';
import { clientFor, DAY, events, ids, poller, sandbox, stopSandboxes } from './_support.mjs';

const code = 'demo';
before(() => clearCapabilitiesCache());
after(stopSandboxes);

/** A sandbox and a trigger sharing one clock, so a test can move both days ahead. */
async function ecwWithClock(options = {}) {
	const clock = { now: Date.now() };
	const sb = await sandbox({ profile: 'ecw', now: () => clock.now, ...options });
	return { sb, clock };
}

const startOf = (visit) => Date.parse(visit.period.start);

test('eCW: the window strategy is picked at activation; activation emits nothing and sends no _lastUpdated', async () => {
	const { sb, clock } = await ecwWithClock();
	const p = await poller(sb, { now: () => clock.now });
	assert.equal(p.type, 'Encounter');
	const first = await p.poll();
	assert.deepEqual(first.changes, [], 'first activation emits nothing');
	assert.equal(p.state.strategy, 'window');
	const visits = Object.keys(p.state.visits);
	assert.ok(visits.length >= 9, 'the fixed visits of today and tomorrow are in the snapshot');
	const { start, end } = p.state.window;
	assert.equal(Math.round((Date.parse(end) - Date.parse(start)) / DAY), 14, 'default window: 14 days from the start of today');
	for (const id of visits) {
		const at = startOf(sb.admin.get(code, 'Encounter', id));
		assert.ok(at >= Date.parse(start) && at < Date.parse(end), `${id} lies in the window`);
	}
	assert.ok(p.client.requests.every((r) => !r.includes('_lastUpdated')), 'no _lastUpdated sent (the server would answer 400)');
	assert.ok(p.client.requests.some((r) => /Encounter\?date=ge/.test(r)), 'Encounter?date=ge..&date=lt..');
	assert.deepEqual(ids(await p.poll()), [], 'nothing changed, nothing emitted');
});

test('eCW: created, updated, rescheduled, cancelled, deleted: each exactly once; moved beyond the window is updated, not cancelled', async () => {
	const { sb, clock } = await ecwWithClock();
	const p = await poller(sb, { now: () => clock.now });
	await p.poll();

	const soon = sb.admin.createEncounter(code, { start: new Date(clock.now + 2 * DAY) });
	sb.admin.createEncounter(code, { start: new Date(clock.now + 20 * DAY) }); // beyond the window: not watched
	sb.admin.updateEncounter(code, 'en-1', { status: 'arrived' });
	const r1 = await p.poll();
	assert.deepEqual(events(r1).sort(), [`${soon.id}|created|`, 'en-1|updated|planned'].sort());
	assert.deepEqual(ids(await p.poll()), [], 'each change once');

	// rescheduled inside the window: updated; moved 30 days out: updated (the new date), not cancelled
	const moved = sb.admin.get(code, 'Encounter', 'en-2');
	sb.admin.updateEncounter(code, 'en-2', { period: { start: new Date(startOf(moved) + 3 * DAY).toISOString(), end: new Date(startOf(moved) + 3 * DAY + 1800_000).toISOString() } });
	sb.admin.updateEncounter(code, soon.id, { period: { start: new Date(clock.now + 30 * DAY).toISOString(), end: new Date(clock.now + 30 * DAY + 1800_000).toISOString() } });
	const r2 = await p.poll();
	assert.deepEqual(events(r2).sort(), ['en-2|updated|planned', `${soon.id}|updated|planned`].sort());
	const outside = r2.changes.find((c) => c.id === soon.id);
	assert.equal(Date.parse(outside.resource.period.start), Date.parse(new Date(clock.now + 30 * DAY).toISOString()), 'the item carries the new date');
	assert.equal(p.state.visits[soon.id], undefined, 'a visit moved out of the window leaves the snapshot');
	assert.deepEqual(ids(await p.poll()), [], 'the move is reported once');

	// cancelled, and deleted (told apart from a move by reading the visit by id: 404)
	const doomed = sb.admin.createEncounter(code, { start: new Date(clock.now + 4 * DAY), transport: 'Needs wheelchair transport' });
	sb.admin.cancelAppointment(code, 'en-3');
	const r3 = await p.poll();
	assert.deepEqual(events(r3).sort(), [`${doomed.id}|created|`, 'en-3|cancelled|planned'].sort());
	sb.admin.deleteRecord(code, 'Encounter', doomed.id);
	const r4 = await p.poll();
	assert.deepEqual(events(r4), [`${doomed.id}|deleted|planned`]);
	assert.equal(Date.parse(r4.changes[0].previousStart), Math.floor(startOf(doomed) / 60000) * 60000, 'the last known start');
	assert.deepEqual(ids(await p.poll()), []);
});

test('eCW: the window sliding past visits (a new day) reports nothing; visits sliding in are taken in silently', async () => {
	const { sb, clock } = await ecwWithClock();
	const p = await poller(sb, { now: () => clock.now });
	const farOut = sb.admin.createEncounter(code, { start: new Date(clock.now + 20 * DAY) });
	clock.now += 1000;
	await p.poll();
	// booked before the activation read, for the day after the window: the window reaches it in 2 days
	const windowEnd = Date.parse(p.state.window.end);
	sb.admin.updateEncounter(code, farOut.id, { period: { start: new Date(windowEnd + 7200_000).toISOString(), end: new Date(windowEnd + 9000_000).toISOString() } }, { lastUpdated: clock.now - 500 });
	assert.ok(p.state.visits['en-1'], 'today\'s visit is watched');
	clock.now += 2 * DAY;
	const r = await p.poll();
	assert.deepEqual(r.changes, [], 'yesterday\'s visits left the window: not cancelled, not anything');
	assert.equal(p.state.visits['en-1'], undefined, 'and left the snapshot');
	assert.ok(p.state.visits[farOut.id], 'a visit the window reached is watched from now on');
	sb.admin.updateEncounter(code, farOut.id, { status: 'cancelled' });
	assert.deepEqual(events(await p.poll()), [`${farOut.id}|cancelled|planned`]);
});

test('eCW: a visit changed after the previous read that the window just reached is reported', async () => {
	const { sb, clock } = await ecwWithClock();
	const p = await poller(sb, { now: () => clock.now });
	await p.poll();
	const windowEnd = Date.parse(p.state.window.end);
	clock.now += DAY;
	// booked since the last poll (meta.lastUpdated after the previous read) for the day the window just reached
	const edge = sb.admin.createEncounter(code, { start: new Date(windowEnd + 7200_000) });
	assert.deepEqual(events(await p.poll()), [`${edge.id}|created|`]);
});

test('eCW: a poll cut by a 429 emits what it read, reports nothing as deleted, and the next poll completes', async () => {
	const { sb, clock } = await ecwWithClock();
	let armed = false;
	const client = await clientFor(sb, {
		afterResponse: (req, res) => {
			if (armed && res.status === 200 && /\/Encounter\?/.test(req.url)) {
				armed = false;
				sb.inject({ kind: '429', count: 5, retryAfter: 0 });
			}
		},
	});
	const p = await poller(sb, { client, pageSize: 5, now: () => clock.now });
	await p.poll();
	const watched = Object.keys(p.state.visits).sort();
	for (const id of watched) sb.admin.updateEncounter(code, id, { reasonCode: [{ text: 'Needs a ride (transport requested)' }] });
	armed = true;
	const cut = await p.poll();
	assert.equal(cut.interrupted?.kind, 'rateLimit');
	assert.ok(cut.changes.length > 0 && cut.changes.length < watched.length, 'the pages read are emitted');
	assert.ok(cut.changes.every((c) => c.event === 'updated'), 'nothing unread is taken for deleted');
	sb.clearFaults();
	const rest = await p.poll();
	assert.equal(rest.interrupted, undefined);
	assert.deepEqual([...ids(cut), ...ids(rest)].sort(), watched, 'every change once, none lost');
});

test('eCW: more visits in the window than the cap: a clear error at activation and at a later poll, state untouched', async () => {
	const { sb, clock } = await ecwWithClock({ patients: 200 });
	const p = await poller(sb, { now: () => clock.now, limits: { snapshotCap: 20 } });
	await assert.rejects(p.poll(), (error) => {
		assert.ok(error instanceof InputError);
		assert.match(error.message, /^Visits Within \(Days\): the 14-day window holds more than 20 visits/);
		assert.match(error.fix, /Visits Within \(Days\) lower|one Location or Practitioner/);
		return true;
	});
	assert.equal(p.state, undefined);
	const roomy = await poller(sb, { now: () => clock.now, options: { daysAhead: 1 }, limits: { snapshotCap: 20 } });
	await roomy.poll();
	const saved = roomy.state;
	const today = Date.parse(saved.window.start);
	for (let i = 0; i < 20; i++) sb.admin.createEncounter(code, { start: new Date(today + 3600_000 + 60_000 * i) });
	await assert.rejects(roomy.poll(), /holds more than 20 visits/);
	assert.deepEqual(roomy.state, saved, 'the state is kept as it was');
});

test('eCW: patients cannot be watched: activation and "Fetch test event" fail and say why and what to use instead', async () => {
	const sb = await sandbox({ profile: 'ecw' });
	const p = await poller(sb, { event: 'patientChanged' });
	for (const mode of ['trigger', 'manual']) {
		await assert.rejects(p.poll(mode), (error) => {
			assert.ok(error instanceof InputError);
			assert.match(error.message, /no _lastUpdated search for Patient/);
			assert.match(error.fix, /Appointment Created or Changed/);
			assert.match(error.fix, /Bulk Export/);
			return true;
		});
	}
});

test('eCW: "Fetch test event" for visits returns one visit of the window and saves nothing', async () => {
	const { sb, clock } = await ecwWithClock();
	const p = await poller(sb, { now: () => clock.now, options: { statuses: ['booked'] } });
	const newest = sb.admin.createEncounter(code, { start: new Date(clock.now + 3 * DAY) });
	const manual = await p.poll('manual');
	assert.deepEqual(ids(manual), [newest.id], 'the visit changed most recently');
	assert.equal(manual.state, undefined);
	assert.equal(p.state, undefined);
});

test('eCW: changing the Location filter of an active trigger takes a new snapshot silently (no flood of "created")', async () => {
	const { sb, clock } = await ecwWithClock();
	const first = await poller(sb, { now: () => clock.now, options: { location: 'loc-1' } });
	await first.poll();
	const changed = await poller(sb, { now: () => clock.now, options: { location: 'Location/loc-2' } });
	changed.state = first.state;
	assert.deepEqual(ids(await changed.poll()), [], 'the visits at loc-2 are not news');
	assert.ok(Object.keys(changed.state.visits).length > 0);
	const there = sb.admin.createEncounter(code, { start: new Date(clock.now + DAY), location: 'loc-2' });
	sb.admin.createEncounter(code, { start: new Date(clock.now + DAY), location: 'loc-1' });
	assert.deepEqual(events(await changed.poll()), [`${there.id}|created|`]);
});

test('eCW: a missing visit the server will not read (500) is kept and checked again; the poll goes on', async () => {
	const { sb, clock } = await ecwWithClock();
	const p = await poller(sb, { now: () => clock.now });
	await p.poll();
	const soon = sb.admin.createEncounter(code, { start: new Date(clock.now + 2 * DAY) });
	await p.poll();
	sb.admin.updateEncounter(code, soon.id, { period: { start: new Date(clock.now + 30 * DAY).toISOString(), end: new Date(clock.now + 30 * DAY + 1800_000).toISOString() } });
	const fresh = sb.admin.createEncounter(code, { start: new Date(clock.now + 3 * DAY) });
	sb.inject({ kind: '500', path: `/Encounter/${soon.id}$`, count: 100 });
	const r1 = await p.poll();
	assert.deepEqual(events(r1), [`${fresh.id}|created|`], 'the other changes are emitted');
	assert.ok(p.state.visits[soon.id], 'the unread visit keeps its entry');
	sb.clearFaults();
	assert.deepEqual(events(await p.poll()), [`${soon.id}|updated|planned`]);
});
