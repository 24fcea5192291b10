// Limit N costs the pages it needs (issue 20.4), and says when it cut the result short (issue 23.3).
// Get Appointments over the next 7 days (about 300 visits) through the node in real n8n-core, against
// the sandbox: eCW's contract (no _sort, 250 requests a minute), a server declaring _sort per type,
// one declaring it for every type in rest.searchParam (an open-source FHIR server), one ignoring it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox } from '../../sandbox/index.mjs';
import { shutdown } from '../helpers/n8n.mjs';
import { run } from './_setup.mjs';

const PATIENTS = 1300;

after(async () => {
	await shutdown();
});

/** Each request's query string, in order (the sandbox's log keeps paths only). */
const queries = [];

async function withSandbox(options, fn) {
	const s = await startSandbox({ patients: PATIENTS, seed: 7, onRequest: (entry) => queries.push(entry), ...options });
	try {
		return await fn(s);
	} finally {
		await s.stop();
	}
}

const nextWeek = (extra = {}) => ({ resource: 'appointment', operation: 'getMany', dateRange: 'next7Days', ...extra });
const searches = (s, from, type) => s.stats.log.slice(from).filter((e) => e.path.endsWith(`/${type}`));
const byStart = (a, b) => a.start.localeCompare(b.start) || a.id.localeCompare(b.id);
const earliest = (items, n) => [...items].sort(byStart).slice(0, n).map((i) => i.id);
/** The N earliest start times; a server that sorts may break a tie at the cut another way than the node. */
const earliestStarts = (items, n) => [...items].sort(byStart).slice(0, n).map((i) => i.start);
const limitHint = (hints) => hints.find((h) => /^Limit \d+ reached/.test(h.message))?.message;

test('eCW (no _sort, rate limit on): Limit 1 and Limit 10 read the range at 100 a page, never wait for the next minute', () =>
	withSandbox({ profile: 'ecw' }, async (s) => {
		const credentialExtra = { rateLimitPerMinute: 250 };
		const all = await run(s, nextWeek({ returnAll: true }), { credentialExtra });
		assert.equal(all.error, undefined);
		assert.ok(all.json.length > 250, `more visits in the range than eCW allows requests a minute (${all.json.length})`);
		assert.equal(limitHint(all.hints), undefined, 'Return All: no Limit hint');
		const pages = Math.ceil(all.json.length / 100);
		for (const limit of [1, 10]) {
			const from = s.stats.log.length;
			const started = Date.now();
			const { json, error, hints } = await run(s, nextWeek({ returnAll: false, limit }), { credentialExtra });
			assert.equal(error, undefined);
			assert.deepEqual(json.map((i) => i.id), earliest(all.json, limit), `Limit ${limit}: the earliest`);
			const sent = searches(s, from, 'Encounter');
			assert.equal(sent.length, pages, `Limit ${limit}: the range's pages at 100 each, not a request per visit`);
			assert.ok(s.stats.log.slice(from).every((e) => e.status !== 429), 'no 429');
			assert.ok(Date.now() - started < 30_000, 'no wait for the next minute');
			assert.equal(limitHint(hints), `Limit ${limit} reached: ${all.json.length - limit} more appointments in this range were left out. Raise Limit, or turn on Return All, to get them all.`);
		}
	}));

for (const [label, quirks] of [
	['_sort declared per type', []],
	['_sort declared for every type in rest.searchParam (open-source server), no order without it', ['serverLevelSort', 'unsortedDefault']],
]) {
	test(`${label}: Limit N is one sorted page of N`, () =>
		withSandbox({ profile: 'smart', quirks }, async (s) => {
			const all = await run(s, nextWeek({ returnAll: true }));
			for (const limit of [1, 10]) {
				const from = s.stats.log.length;
				const asked = queries.length;
				const { json, error, hints } = await run(s, nextWeek({ returnAll: false, limit }));
				assert.equal(error, undefined);
				assert.deepEqual(json.map((i) => i.start), earliestStarts(all.json, limit), `Limit ${limit}: the earliest`);
				assert.equal(searches(s, from, 'Appointment').length, 1, `Limit ${limit}: one request`);
				const query = new URLSearchParams(queries.slice(asked).find((e) => e.path.endsWith('/Appointment')).query);
				assert.equal(query.get('_sort'), 'date');
				assert.equal(query.get('_count'), String(limit));
				// the server's total says how many were left out
				assert.match(limitHint(hints), new RegExp(`^Limit ${limit} reached: ${all.json.length - limit} more appointments`));
			}
		}));
}

test('a server that declares _sort but ignores it: read again unsorted at 100 a page, still the earliest', () =>
	withSandbox({ profile: 'smart', quirks: ['ignoresSort', 'unsortedDefault'] }, async (s) => {
		const all = await run(s, nextWeek({ returnAll: true }));
		const from = s.stats.log.length;
		const { json, error } = await run(s, nextWeek({ returnAll: false, limit: 5 }));
		assert.equal(error, undefined);
		assert.deepEqual(json.map((i) => i.id), earliest(all.json, 5));
		assert.equal(searches(s, from, 'Appointment').length, 1 + Math.ceil(all.json.length / 100), 'one sorted try, then the range at 100 a page');
	}));

test('a filter applied here only (status on eCW): pages of 100, the hint counts what was left out', () =>
	withSandbox({ profile: 'ecw', patients: 200 }, async (s) => {
		const all = await run(s, nextWeek({ returnAll: true, filters: { status: ['booked'] } }));
		assert.ok(all.json.length > 3);
		const { json, hints } = await run(s, nextWeek({ returnAll: false, limit: 3, filters: { status: ['booked'] } }));
		assert.deepEqual(json.map((i) => i.id), earliest(all.json, 3));
		assert.match(limitHint(hints), new RegExp(`^Limit 3 reached: ${all.json.length - 3} more appointments`));
		const fits = await run(s, nextWeek({ returnAll: false, limit: all.json.length }));
		assert.ok(fits.json.length >= all.json.length);
	}));

test('Patient search and FHIR Resource search say when Limit cut the result short, and by how many', () =>
	withSandbox({ profile: 'smart', patients: 60 }, async (s) => {
		const all = await run(s, { resource: 'patient', operation: 'search', criteria: { gender: 'female' }, returnAll: true });
		assert.ok(all.json.length > 3);
		assert.equal(limitHint(all.hints), undefined);
		const cut = await run(s, { resource: 'patient', operation: 'search', criteria: { gender: 'female' }, returnAll: false, limit: 3 });
		assert.equal(cut.json.length, 3);
		assert.equal(limitHint(cut.hints), `Limit 3 reached: ${all.json.length - 3} more patients matching the search were left out. Raise Limit, or turn on Return All, to get them all.`);
		const fits = await run(s, { resource: 'patient', operation: 'search', criteria: { gender: 'female' }, returnAll: false, limit: all.json.length });
		assert.equal(limitHint(fits.hints), undefined, 'no notice when everything fits');
		const practitioners = await run(s, { resource: 'fhirResource', operation: 'search', resourceType: 'Practitioner', returnAll: false, limit: 1 });
		assert.match(limitHint(practitioners.hints), /^Limit 1 reached: \d+ more Practitioner records matching the search were left out\./);
	}));

test('collectPages: what Limit left out, from the total, else whether there was more', async () => {
	const { collectPages } = await import('../../nodes/EClinicalWorks/fhir/paging.ts');
	const entry = (n) => Array.from({ length: n }, (_, i) => ({ resource: { resourceType: 'Patient', id: `p${i}` }, search: { mode: 'match' } }));
	async function* pages(...bundles) {
		yield* bundles;
	}
	const next = [{ relation: 'next', url: 'http://x/next' }];
	assert.equal((await collectPages(pages({ total: 12, entry: entry(5), link: next }), 5)).leftOut, 7);
	assert.equal((await collectPages(pages({ entry: entry(5), link: next }), 5)).leftOut, true, 'no total, a next page');
	assert.equal((await collectPages(pages({ entry: entry(6) }), 5)).leftOut, true, 'no total, more on the page');
	assert.equal((await collectPages(pages({ entry: entry(5) }), 5)).leftOut, 0, 'exactly the limit, nothing after');
	assert.equal((await collectPages(pages({ total: 3, entry: entry(3) }), 5)).leftOut, 0, 'under the limit');
});
