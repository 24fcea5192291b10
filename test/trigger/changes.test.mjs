import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
	ChangeBatch,
	classify,
	emptyState,
	initialState,
	lastUpdatedQuery,
	readState,
} from '../../nodes/EClinicalWorks/fhir/changes.ts';

const rec = (id, lastUpdated, extra = {}) => ({ resourceType: 'Appointment', id, meta: { lastUpdated, ...(extra.meta ?? {}) }, ...extra });
const T = (s) => `2026-01-01T00:00:${String(s).padStart(2, '0')}Z`;

test('first activation starts at the server time, or at the newest record', () => {
	assert.deepEqual(initialState(T(5)), { cursor: T(5), atCursor: [], recent: [], known: [] });
	const s = initialState(undefined, [rec('a', T(3)), rec('b', T(4)), rec('c', T(4))]);
	assert.equal(s.cursor, T(4));
	assert.deepEqual(s.atCursor, [`b|${T(4)}`, `c|${T(4)}`]);
	assert.deepEqual(lastUpdatedQuery(s), [['_lastUpdated', `ge${T(4)}`]]);
	assert.deepEqual(lastUpdatedQuery(emptyState()), []);
});

test('records at the cursor timestamp that were already handled are dropped, new ones kept', () => {
	let state = { ...emptyState(), cursor: T(4), atCursor: [`b|${T(4)}`] };
	const batch = new ChangeBatch(state, { sorted: true });
	assert.equal(batch.offer(rec('b', T(4))), undefined);
	assert.equal(batch.offer(rec('c', T(4))).id, 'c');
	assert.equal(batch.offer(rec('d', T(6))).id, 'd');
	state = batch.commit({ complete: true });
	assert.equal(state.cursor, T(6));
	assert.deepEqual(state.atCursor, [`d|${T(6)}`]);
	// replaying the same result emits nothing
	const again = new ChangeBatch(state, { sorted: true });
	for (const r of [rec('c', T(4)), rec('d', T(6))]) assert.equal(again.offer(r), undefined);
	assert.equal(again.commit({ complete: true }).cursor, T(6));
});

test('a boundary shared by two pages: the cursor keeps every id read at its timestamp', () => {
	// page 1 ends with x at T(7); the poll is cut before page 2, which starts with y at T(7)
	const b1 = new ChangeBatch(emptyState(), { sorted: true });
	b1.offer(rec('w', T(6)));
	b1.offer(rec('x', T(7)));
	const s1 = b1.commit({ complete: false });
	assert.equal(s1.cursor, T(7));
	const b2 = new ChangeBatch(s1, { sorted: true });
	assert.equal(b2.offer(rec('x', T(7))), undefined);
	assert.equal(b2.offer(rec('y', T(7))).id, 'y');
	const s2 = b2.commit({ complete: true });
	assert.equal(s2.cursor, T(7));
	assert.deepEqual(s2.atCursor.sort(), [`x|${T(7)}`, `y|${T(7)}`]);
});

test('an interrupted unsorted read does not move the cursor; the recent list prevents duplicates', () => {
	const start = { ...emptyState(), cursor: T(1) };
	const b1 = new ChangeBatch(start, { sorted: false });
	assert.ok(b1.offer(rec('p', T(9))));
	const s1 = b1.commit({ complete: false });
	assert.equal(s1.cursor, T(1));
	const b2 = new ChangeBatch(s1, { sorted: false });
	assert.equal(b2.offer(rec('p', T(9))), undefined);
	assert.ok(b2.offer(rec('q', T(3))));
	const s2 = b2.commit({ complete: true });
	assert.equal(s2.cursor, T(9));
});

test('records out of order switch a "sorted" batch to unsorted', () => {
	const b = new ChangeBatch({ ...emptyState(), cursor: T(1) }, { sorted: true });
	b.offer(rec('a', T(5)));
	b.offer(rec('b', T(3)));
	assert.equal(b.isSorted, false);
	assert.equal(b.commit({ complete: false }).cursor, T(1));
});

test('events: created, updated, cancelled with the previous status', () => {
	const b1 = new ChangeBatch({ ...emptyState(), cursor: T(0) }, { sorted: true });
	const c1 = b1.offer(rec('a', T(1), { status: 'booked' }));
	assert.equal(c1.event, 'created');
	assert.equal(c1.previousStatus, undefined);
	const s1 = b1.commit({ complete: true });
	const b2 = new ChangeBatch(s1, { sorted: true });
	const c2 = b2.offer(rec('a', T(2), { status: 'arrived' }));
	assert.equal(c2.event, 'updated');
	assert.equal(c2.previousStatus, 'booked');
	const c3 = b2.offer(rec('a', T(3), { status: 'cancelled' }));
	assert.equal(c3.event, 'cancelled');
	assert.equal(c3.previousStatus, 'arrived');
	// first sighting: version 1 is created, a later version updated...
	assert.equal(classify({ meta: { versionId: '1' } }, { known: false }), 'created');
	assert.equal(classify({ meta: { versionId: '3' } }, { known: false }), 'updated');
	assert.equal(classify({ meta: { versionId: '1' } }, { known: true }), 'updated');
	// ...unless the appointment was booked after the cursor (then edited before the poll)
	assert.equal(classify({ created: T(6), meta: { versionId: '2' } }, { known: false }, { cursor: T(5) }), 'created');
	// Appointment.created older than the cursor: an update of an old record never seen before
	assert.equal(classify({ created: T(0) }, { known: false }, { cursor: T(5) }), 'updated');
	assert.equal(classify({ created: T(6) }, { known: false }, { cursor: T(5) }), 'created');
	assert.equal(classify({ status: 'cancelled' }, { known: true, status: 'cancelled' }), 'updated');
});

test('state is bounded and read back defensively', () => {
	const b = new ChangeBatch(emptyState(), { sorted: true, limits: { recent: 3, known: 2 } });
	for (let i = 0; i < 10; i++) b.offer(rec(`r${i}`, T(i)));
	const s = b.commit({ complete: true });
	assert.equal(s.recent.length, 3);
	assert.equal(s.known.length, 2);
	assert.deepEqual(s.known.map(([id]) => id), ['r8', 'r9']);
	assert.deepEqual(readState(JSON.parse(JSON.stringify(s))), s);
	assert.deepEqual(readState(undefined), emptyState());
	assert.deepEqual(readState({ cursor: 'nonsense', atCursor: [1, 'x'], known: [['a'], ['b', 'c']] }), {
		atCursor: ['x'],
		recent: [],
		known: [['b', 'c']],
	});
});

test('the server time becomes the cursor only when there is none yet', () => {
	const s = new ChangeBatch(emptyState(), { sorted: true }).commit({ complete: true, serverTime: T(8) });
	assert.equal(s.cursor, T(8));
	const kept = new ChangeBatch({ ...emptyState(), cursor: T(2) }, { sorted: true }).commit({ complete: true, serverTime: T(8) });
	assert.equal(kept.cursor, T(2));
});

test('records older than the cursor are dropped (a server that ignores _lastUpdated)', () => {
	const b = new ChangeBatch({ ...emptyState(), cursor: T(5) }, { sorted: false });
	assert.equal(b.offer(rec('old', T(4))), undefined);
	assert.ok(b.offer(rec('new', T(6))));
	assert.equal(b.commit({ complete: true }).cursor, T(6));
});

test('the cursor never passes the server time at which the read started', () => {
	const b = new ChangeBatch({ ...emptyState(), cursor: T(1) }, { sorted: false });
	b.setCeiling(T(5));
	assert.ok(b.offer(rec('a', T(5))));
	assert.ok(b.offer(rec('late', T(8)))); // changed while the pages were read
	const s = b.commit({ complete: true });
	assert.equal(s.cursor, T(5));
	assert.deepEqual(s.atCursor, [`a|${T(5)}`]);
	// next poll reads `late` again (ge T5) but does not emit it twice
	const again = new ChangeBatch(s, { sorted: false });
	assert.equal(again.offer(rec('a', T(5))), undefined);
	assert.equal(again.offer(rec('late', T(8))), undefined);
	assert.equal(again.commit({ complete: true }).cursor, T(8));
});
