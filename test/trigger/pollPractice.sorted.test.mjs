// The sorted path of the per-practice poll (servers that declare and apply `_sort=_lastUpdated`),
// and the guards on what the server really applied. The sandbox does not sort, so this runs against
// a small in-memory stand-in for FhirClient (an object with the client's search methods, no HTTP).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { pollPractice } from '../../nodes/EClinicalWorks/trigger/strategies/index.ts';
import { FhirError } from '../../nodes/EClinicalWorks/fhir/errors.ts';

const T = (s) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

/** A stand-in server: records in memory, `_lastUpdated=ge`, `_sort=_lastUpdated`, pages with self/next links. */
function standIn({ declareSort = true, applySort = true, applyLastUpdated = true, now = T(0) } = {}) {
	const records = [];
	const state = { now, failAfterPages: Infinity, requests: 0 };
	const client = {
		baseUrl: 'https://fhir.example/r4/X',
		async searchParams() {
			return declareSort ? ['_lastUpdated', '_sort'] : ['_lastUpdated'];
		},
		async capabilities() {
			return { resourceType: 'CapabilityStatement', rest: [{ mode: 'server', resource: [{ type: 'Patient' }] }] };
		},
		async *searchPages(type, query, { pageSize = 50 } = {}) {
			const q = new URLSearchParams(query);
			const ge = applyLastUpdated ? q.get('_lastUpdated')?.replace(/^ge/, '') : undefined;
			let rows = records.filter((r) => !ge || Date.parse(r.meta.lastUpdated) >= Date.parse(ge));
			const sort = applySort ? q.get('_sort') : null;
			if (sort === '_lastUpdated') rows = [...rows].sort((a, b) => Date.parse(a.meta.lastUpdated) - Date.parse(b.meta.lastUpdated));
			if (sort === '-_lastUpdated') rows = [...rows].sort((a, b) => Date.parse(b.meta.lastUpdated) - Date.parse(a.meta.lastUpdated));
			const self = new URLSearchParams(query.filter(([k]) => (k !== '_sort' || applySort) && (k !== '_lastUpdated' || applyLastUpdated)));
			for (let at = 0, page = 0; at < rows.length || page === 0; at += pageSize, page++) {
				if (page >= state.failAfterPages) throw new FhirError('rate limited', { kind: 'rateLimit', status: 429 });
				state.requests++;
				const link = [{ relation: 'self', url: `${client.baseUrl}/${type}?${self}` }];
				if (at + pageSize < rows.length) link.push({ relation: 'next', url: `${client.baseUrl}/${type}?page=${page + 1}` });
				yield {
					resourceType: 'Bundle',
					meta: { lastUpdated: state.now },
					link,
					entry: rows.slice(at, at + pageSize).map((resource) => ({ resource, search: { mode: 'match' } })),
				};
			}
		},
	};
	const add = (id, s, version = '1') => {
		const i = records.findIndex((r) => r.id === id);
		if (i >= 0) records.splice(i, 1);
		records.push({ resourceType: 'Patient', id, meta: { versionId: version, lastUpdated: T(s) } });
		state.now = T(Math.max(s, Date.parse(state.now) / 1000 - Date.UTC(2026, 0, 1) / 1000));
	};
	return { client, add, state };
}

const source = { type: 'Patient', query: [], followUp: [], bounded: false, matches: () => true };

function poller(s, { pageSize = 2, maxPages = 50 } = {}) {
	let state;
	return {
		async poll(mode = 'trigger') {
			const r = await pollPractice({ client: s.client, source, state, mode, pageSize, maxPages });
			if (mode === 'trigger') state = r.state;
			return r;
		},
		get state() {
			return state;
		},
	};
}
const ids = (r) => r.changes.map((c) => c.id);

test('sorted server: a page limit per poll moves the cursor to the last record read; the next poll goes on', async () => {
	const s = standIn();
	const p = poller(s, { pageSize: 2, maxPages: 2 });
	await p.poll();
	for (let i = 1; i <= 7; i++) s.add(`p${i}`, i);
	s.add('p8', 7); // shares p7's timestamp
	const r1 = await p.poll();
	assert.deepEqual(ids(r1), ['p1', 'p2', 'p3', 'p4']);
	assert.equal(p.state.cursor, T(4));
	const r2 = await p.poll(); // p4 again (dropped: read at the cursor), p5, p6, p7
	assert.deepEqual(ids(r2), ['p5', 'p6', 'p7']);
	assert.equal(p.state.cursor, T(7));
	assert.deepEqual(ids(await p.poll()), ['p8'], 'same timestamp as the cursor, not yet read: emitted');
	assert.deepEqual(ids(await p.poll()), []);
});

test('sorted server cut by a 429 mid-way: the cursor stops at what was read, nothing lost or repeated', async () => {
	const s = standIn();
	const p = poller(s, { pageSize: 2 });
	await p.poll();
	for (let i = 1; i <= 5; i++) s.add(`p${i}`, i);
	s.state.failAfterPages = 1;
	const cut = await p.poll();
	assert.equal(cut.interrupted?.kind, 'rateLimit');
	assert.deepEqual(ids(cut), ['p1', 'p2']);
	assert.equal(p.state.cursor, T(2));
	s.state.failAfterPages = Infinity;
	assert.deepEqual(ids(await p.poll()), ['p3', 'p4', 'p5']);
});

test('a server that declares _sort but does not apply it (self link) is read to the end before the cursor moves', async () => {
	const s = standIn({ applySort: false });
	const p = poller(s, { pageSize: 2, maxPages: 1 });
	await p.poll();
	for (const [id, sec] of [['late', 9], ['early', 3], ['mid', 5]]) s.add(id, sec);
	const r = await p.poll();
	assert.deepEqual(ids(r).sort(), ['early', 'late', 'mid'], 'page limit ignored: unsorted results must be read in full');
	assert.equal(p.state.cursor, T(9));
});

test('manual mode on a sorted server: one search, the newest record', async () => {
	const s = standIn();
	for (const [id, sec] of [['a', 3], ['b', 8], ['c', 5]]) s.add(id, sec);
	const before = s.state.requests;
	const r = await poller(s).poll('manual');
	assert.deepEqual(ids(r), ['b']);
	assert.equal(s.state.requests - before, 1);
});

test('a server that ignores _lastUpdated on an unbounded search stops the poll with a clear message', async () => {
	const s = standIn({ applyLastUpdated: false });
	const p = poller(s);
	await p.poll();
	s.add('x', 4);
	await assert.rejects(p.poll(), (error) => error instanceof FhirError && /ignores _lastUpdated/.test(error.message));
});

test('more records at one timestamp than a poll reads: each poll still gets further', async () => {
	const s = standIn();
	const p = poller(s, { pageSize: 2, maxPages: 1 });
	await p.poll();
	for (let i = 1; i <= 5; i++) s.add(`same${i}`, 4);
	const seen = [];
	for (let i = 0; i < 4; i++) seen.push(...ids(await p.poll()));
	assert.deepEqual(seen, ['same1', 'same2', 'same3', 'same4', 'same5']);
});
