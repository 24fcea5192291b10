// The date-window comparison (trigger/strategies/visitSnapshot.ts), the visit fingerprint and the strategy
// choice, as plain functions: the cases the sandbox cannot produce (version ids that are not
// counters on Encounters, Appointment.created, states edited by hand).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SnapshotComparison, decodeEntry, encodeEntry, readWindowState } from '../../nodes/EClinicalWorks/trigger/strategies/visitSnapshot.ts';
import { visitFingerprint } from '../../nodes/EClinicalWorks/trigger/strategies/visitFingerprint.ts';
import { pickStrategy } from '../../nodes/EClinicalWorks/trigger/strategies/strategy.ts';
import { ECW_CAPABILITY_STATEMENT } from '../../sandbox/contracts/ecw.mjs';

const H = 3600_000;
const D0 = Date.parse('2026-03-02T05:00:00Z'); // midnight in New York
const windowAt = (day, days = 14) => ({
	startMs: D0 + day * 24 * H,
	endMs: D0 + (day + days) * 24 * H,
	start: new Date(D0 + day * 24 * H).toISOString(),
	end: new Date(D0 + (day + days) * 24 * H).toISOString(),
	filters: '|',
});
const enc = (id, startMs, extra = {}) => ({
	resourceType: 'Encounter',
	id,
	status: 'planned',
	subject: { reference: 'Patient/p1', display: 'Jane Doe' },
	participant: [{ individual: { reference: 'Practitioner/7' } }],
	location: [{ location: { reference: 'Location/3' } }],
	period: { start: new Date(startMs).toISOString(), end: new Date(startMs + H / 2).toISOString() },
	...extra,
});

/** Activation on day 0 with the given visits; returns the state. */
function activate(visits, window = windowAt(0)) {
	const c = new SnapshotComparison(undefined, window);
	for (const v of visits) assert.equal(c.offer(v), undefined, 'activation emits nothing');
	return c.commit({ complete: true, readAt: new Date(D0 + 8 * H).toISOString() });
}

test('fingerprint: what a dispatcher cares about changes it; server bookkeeping does not', () => {
	const base = enc('e1', D0 + 9 * H);
	const fp = visitFingerprint(base);
	assert.equal(fp.length, 10);
	assert.equal(visitFingerprint({ ...base, meta: { versionId: '9', lastUpdated: '2027-01-01T00:00:00Z' }, text: { div: 'x' } }), fp);
	assert.equal(visitFingerprint({ ...base, subject: { reference: 'Patient/p1', display: 'JANE DOE' } }), fp, 'display names are not the visit');
	assert.equal(visitFingerprint({ ...base, period: { start: '2026-03-02T09:00:00-05:00', end: '2026-03-02T09:30:00-05:00' } }), fp, 'the same instants written in another zone');
	for (const changed of [
		{ status: 'cancelled' },
		{ period: { start: new Date(D0 + 10 * H).toISOString(), end: base.period.end } },
		{ participant: [{ individual: { reference: 'Practitioner/8' } }] },
		{ location: [{ location: { reference: 'Location/4' } }] },
		{ reasonCode: [{ text: 'Needs wheelchair transport' }] },
		{ extension: [{ url: 'x', valueString: 'Needs a ride' }] },
		{ class: { code: 'VR' } },
	]) {
		assert.notEqual(visitFingerprint({ ...base, ...changed }), fp, JSON.stringify(changed));
	}
	const appt = { resourceType: 'Appointment', id: 'a', status: 'booked', start: '2026-03-02T09:00:00Z', participant: [{ actor: { reference: 'Patient/1' } }] };
	assert.notEqual(visitFingerprint({ ...appt, comment: 'wheelchair' }), visitFingerprint(appt));
});

test('snapshot entries: small and read back; a state edited by hand is read defensively', () => {
	const entry = { fingerprint: 'AbCdEfGhIj', startMs: D0 + 9 * H + 30_000, status: 'entered-in-error' };
	const text = encodeEntry(entry);
	assert.ok(text.length <= 36, text);
	assert.deepEqual(decodeEntry(text), { ...entry, startMs: D0 + 9 * H }, 'minutes are enough: windows start at midnight');
	assert.equal(readWindowState({ strategy: 'lastUpdated' }), undefined);
	const state = readWindowState({ strategy: 'window', window: { start: 'x' }, visits: { a: text, b: 42, c: 'nonsense' }, movedOut: ['m', 3] });
	assert.deepEqual(state, { strategy: 'window', window: { start: '', end: '' }, visits: { a: text }, movedOut: ['m'] });
});

test('no signal from the server (no version, no created): a new visit is created; one moved out and back is updated', () => {
	const state = activate([enc('e1', D0 + 9 * H), enc('e2', D0 + 30 * H)]);
	const c = new SnapshotComparison(state, windowAt(0));
	assert.equal(c.offer(enc('e1', D0 + 9 * H)), undefined, 'unchanged');
	assert.equal(c.offer(enc('new', D0 + 50 * H)).event, 'created');
	const [missing] = c.missing();
	assert.equal(missing.id, 'e2');
	const away = c.found(missing, enc('e2', D0 + 40 * 24 * H), false);
	assert.equal(away.event, 'updated', 'moved beyond the window: updated, not cancelled');
	assert.equal(away.previousStatus, 'planned');
	const next = c.commit({ complete: true, readAt: new Date(D0 + 9 * H).toISOString() });
	assert.deepEqual(Object.keys(next.visits).sort(), ['e1', 'new']);
	assert.deepEqual(next.movedOut, ['e2']);

	const back = new SnapshotComparison(next, windowAt(0));
	back.offer(enc('e1', D0 + 9 * H));
	back.offer(enc('new', D0 + 50 * H));
	assert.equal(back.offer(enc('e2', D0 + 60 * H)).event, 'updated', 'moved back in: updated, not created');
});

test('server signals win: Appointment.created before activation means moved in (updated), after means booked (created)', () => {
	const appt = (id, created) => ({ resourceType: 'Appointment', id, status: 'booked', start: new Date(D0 + 20 * H).toISOString(), created, meta: { versionId: `uuid-${id}` } });
	const state = activate([]);
	const c = new SnapshotComparison(state, windowAt(0));
	assert.equal(c.offer(appt('old', new Date(D0 - 30 * 24 * H).toISOString())).event, 'updated');
	assert.equal(c.offer(appt('fresh', new Date(D0 + 8.5 * H).toISOString())).event, 'created');
	assert.equal(c.offer({ ...appt('counter'), meta: { versionId: '4' } }).event, 'updated', 'counter version above 1');
});

test('window moved on: visits that left are dropped silently, those reached are taken in unless changed since the last read', () => {
	const state = activate([enc('today', D0 + 9 * H), enc('later', D0 + 5 * 24 * H)]);
	const c = new SnapshotComparison(state, windowAt(1));
	c.offer(enc('later', D0 + 5 * 24 * H));
	assert.equal(c.offer(enc('reached', D0 + 14 * 24 * H + 2 * H, { meta: { lastUpdated: new Date(D0 - H).toISOString() } })), undefined);
	const fresh = c.offer(enc('booked', D0 + 14 * 24 * H + 3 * H, { meta: { lastUpdated: new Date(D0 + 20 * H).toISOString() } }));
	assert.equal(fresh.event, 'created');
	assert.deepEqual(c.missing(), [], 'yesterday\'s visit is not missing: its day passed');
	const next = c.commit({ complete: true, readAt: new Date(D0 + 33 * H).toISOString() });
	assert.deepEqual(Object.keys(next.visits).sort(), ['booked', 'later', 'reached']);
	assert.equal(next.window.start, windowAt(1).start);
	assert.equal(next.activatedAt, state.activatedAt);
});

test('an incomplete read keeps the covered window and every visit not read', () => {
	const state = activate([enc('a', D0 + 9 * H), enc('b', D0 + 10 * H)]);
	const c = new SnapshotComparison(state, windowAt(1));
	assert.equal(c.offer(enc('a', D0 + 9 * H, { status: 'arrived' })).event, 'updated');
	const next = c.commit({ complete: false, readAt: new Date(D0 + 30 * H).toISOString() });
	assert.deepEqual(next.window, state.window);
	assert.equal(next.readAt, state.readAt);
	assert.deepEqual(Object.keys(next.visits).sort(), ['a', 'b']);
	assert.equal(decodeEntry(next.visits.a).status, 'arrived');
});

test('new Location or Practitioner filters: the snapshot is taken again silently, activation time kept', () => {
	const state = activate([enc('e1', D0 + 9 * H)]);
	const c = new SnapshotComparison(state, { ...windowAt(0), filters: 'Location/4|' });
	assert.equal(c.takesSnapshot, true);
	assert.equal(c.offer(enc('other', D0 + 10 * H, { location: [{ location: { reference: 'Location/4' } }] })), undefined);
	assert.deepEqual(c.missing(), []);
	const next = c.commit({ complete: true, readAt: new Date(D0 + 12 * H).toISOString() });
	assert.deepEqual(Object.keys(next.visits), ['other']);
	assert.equal(next.filters, 'Location/4|');
	assert.equal(next.activatedAt, state.activatedAt);
});

test('strategy: _lastUpdated where declared; eCW visits by date window; eCW patients refused with a way out', () => {
	const smart = { rest: [{ mode: 'server', resource: [{ type: 'Appointment', searchParam: [{ name: '_lastUpdated' }, { name: 'date' }] }] }] };
	assert.equal(pickStrategy(smart, 'Appointment'), 'lastUpdated');
	assert.equal(pickStrategy({ rest: [{ mode: 'server', searchParam: [{ name: '_lastUpdated' }], resource: [{ type: 'Patient', searchParam: [{ name: 'name' }] }] }] }, 'Patient'), 'lastUpdated', 'declared for every type');
	assert.equal(pickStrategy({ rest: [{ mode: 'server', resource: [{ type: 'Patient' }] }] }, 'Patient'), 'lastUpdated', 'a type listed without parameters tells nothing: as before');
	assert.equal(pickStrategy(ECW_CAPABILITY_STATEMENT, 'Encounter'), 'window');
	assert.throws(() => pickStrategy(ECW_CAPABILITY_STATEMENT, 'Patient'), /Trigger On: .*no _lastUpdated search for Patient/);
	assert.throws(() => pickStrategy({ rest: [{ resource: [{ type: 'Encounter', searchParam: [{ name: 'patient' }] }] }] }, 'Encounter'), /neither _lastUpdated nor date/);
});
