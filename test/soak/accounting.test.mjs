// The fault soak's own accounting (scripts/soak/): what counts as lost, duplicated or unexpected,
// which failures are clear errors, where faults land. The soak itself runs in soak.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { n8nWorkflow } from '../helpers/n8n.mjs';
import { startSandbox } from '../../sandbox/index.mjs';
import { rng } from '../../sandbox/util.mjs';
import { get, token } from '../sandbox/helpers.mjs';
import { classifyFailure, messageGroup } from '../../scripts/soak/failures.mjs';
import { Armer, availablePlan, FAULT_PLAN, pickFaults, requestClass, TOKEN_PATH } from '../../scripts/soak/plan.mjs';
import { Tally } from '../../scripts/soak/tally.mjs';
import { compareRecords, multiset, VersionLedger } from '../../scripts/soak/truth.mjs';

const { NodeApiError, NodeOperationError } = n8nWorkflow;
const CLASSES = [NodeApiError, NodeOperationError];
const node = { id: 'n', name: 'Node', type: 'x', typeVersion: 1, position: [0, 0], parameters: {} };

test('trigger ledger: a later version covers earlier changes; lost, duplicated, stale and spurious items are found', () => {
	const ledger = new VersionLedger();
	ledger.change('a', '1');
	ledger.change('a', '2');
	ledger.change('b', '1');
	ledger.change('c', '1');
	ledger.change('c', '2');
	ledger.emit('a', '2', 'poll 1'); // covers a v1 and v2: two changes between polls are one item
	ledger.emit('c', '1', 'poll 1');
	assert.deepEqual(ledger.lost(), [
		{ id: 'b', versions: ['1'], changes: 1 },
		{ id: 'c', versions: ['2'], changes: 1 },
	]);
	ledger.emit('b', '1', 'poll 2');
	ledger.emit('c', '2', 'poll 2');
	assert.deepEqual(ledger.lost(), []);
	ledger.emit('b', '1', 'poll 3');
	ledger.emit('c', '1', 'poll 3');
	ledger.emit('z', '7', 'poll 3');
	assert.deepEqual(ledger.duplicated.map((d) => d.why), ['version 1 emitted 2 times', 'version 1 emitted 2 times']);
	ledger.change('d', 'u-1');
	ledger.change('d', 'u-2');
	ledger.emit('d', 'u-2', 'poll 4');
	ledger.emit('d', 'u-1', 'poll 5');
	assert.equal(ledger.duplicated.at(-1).why, 'version u-1 emitted after the newer u-2', 'an older version after a newer one (UUID versions: the order they were made)');
	assert.deepEqual(ledger.spurious, [{ id: 'z', versionId: '7', where: 'poll 3' }]);
	assert.equal(ledger.changes, 7);
});

test('records: lost, duplicated and unexpected against what the server holds', () => {
	const expected = multiset(['Patient/1', 'Patient/2', 'Encounter/1']);
	assert.deepEqual(compareRecords(expected, ['Encounter/1', 'Patient/2', 'Patient/1']), { lost: [], duplicated: [], unexpected: [] });
	assert.deepEqual(compareRecords(expected, ['Patient/1', 'Patient/1', 'Encounter/9']), { lost: ['Patient/2', 'Encounter/1'], duplicated: ['Patient/1 x2'], unexpected: ['Encounter/9'] });
});

test('failures: clear only as an n8n node error with a message and what to do, as thrown or as saved in run data', () => {
	const clear = new NodeApiError(node, { message: 'x' }, { message: 'The FHIR server failed (500) 4 times in a row', description: 'Try again later.', httpCode: '500' });
	assert.equal(classifyFailure(clear, CLASSES).clear, true);
	const saved = JSON.parse(JSON.stringify({ ...clear, name: 'NodeApiError', message: clear.message }));
	assert.equal(classifyFailure(saved, CLASSES).clear, true, 'the serialized error of the run data');
	const cases = [
		[new Error('The FHIR server failed (500) 4 times'), /not an n8n node error \(Error\)/],
		[new NodeOperationError(node, 'Cannot read properties of undefined (reading "id")', { description: 'x' }), /undefined/],
		[new NodeOperationError(node, 'aborted', { description: 'x' }), /too short/],
		[new NodeOperationError(node, 'read ECONNRESET on the socket', { description: 'x' }), /^$/],
		[new NodeOperationError(node, 'Unexpected end of JSON input', { description: 'x' }), /raw JavaScript/],
		[new NodeOperationError(node, 'Something failed badly', { description: 'TypeError: x\n    at f (/a/b.js:1:2)' }), /stack trace/],
		[new NodeOperationError(node, 'Something failed badly'), /no description/],
		[new NodeOperationError(node, '', { description: 'x' }), /empty message|too short/],
		[undefined, /no error object/],
	];
	for (const [error, why] of cases) {
		const c = classifyFailure(error, CLASSES);
		if (why.source === '^$') assert.equal(c.clear, true, `${error?.message}: a sentence around a network code is fine`);
		else {
			assert.equal(c.clear, false, String(error?.message));
			assert.match(c.why, why);
		}
	}
	assert.equal(messageGroup('Bulk file Patient-12.ndjson could not be downloaded (HTTP 410) from http://127.0.0.1:4312/x?sig=1'), 'Bulk file Patient-N.ndjson could not be downloaded (HTTP 410) from {url}');
	assert.equal(messageGroup('Token URL unreachable (127.0.0.1:45613)'), 'Token URL unreachable ({host})');
});

test('tally: a loss, a duplicate or an unclear failure fails the soak; clear failures do not', () => {
	const tally = new Tally();
	tally.run('search:patients', { failure: { clear: true, message: 'The FHIR server failed (500) 4 times' }, faults: new Map([['5xx burst', 1]]) });
	tally.check('search:patients', { checked: 10 });
	assert.deepEqual(tally.problems(), []);
	tally.check('export:files', { checked: 10, lost: ['Patient/1'] });
	tally.check('trigger:window', { checked: 3, duplicated: ['en-1'] });
	tally.run('export:records', { failure: { clear: false, why: 'empty message', message: '' } });
	tally.crash('search-ecw episode 1', new Error('boom'));
	assert.deepEqual(tally.problems(), ['1 lost', '1 duplicated', '1 failures without a clear error', '1 crashes of the soak itself']);
	assert.deepEqual(tally.summary().works['search:patients'].faults, { '5xx burst': 1 });
});

test('fault plan: unwired kinds are listed as not available, never dropped; picks are seeded', () => {
	const { available, unavailable } = availablePlan();
	assert.equal(available.length + unavailable.length, FAULT_PLAN.length);
	assert.ok(unavailable.every((u) => u.why), 'each says why');
	assert.ok(available.some((e) => e.kind === 'truncated-page'));
	const { unavailable: without } = availablePlan(new Set(['429']));
	assert.ok(without.some((u) => u.name === '5xx burst' && /no "500" fault/.test(u.why)));
	const { unavailable: unwired } = availablePlan(new Set(['429']), [{ name: 'future fault', kind: null, by: 'someone', work: ['poll'], on: ['page'] }]);
	assert.deepEqual(unwired, [{ name: 'future fault', why: 'not wired in yet, helper "someone" is adding it' }]);
	const a = pickFaults(rng(1, 'x'), available, 'search', 'ecw');
	const b = pickFaults(rng(1, 'x'), available, 'search', 'ecw');
	assert.deepEqual(a.map((f) => [f.entry.name, f.on, f.nth]), b.map((f) => [f.entry.name, f.on, f.nth]));
	const known = [...available, { ...available.find((e) => e.name === 'malformed NDJSON'), name: 'known', knownLoss: { work: 'export:files', why: 'x' } }];
	const picks = Array.from({ length: 200 }, (_, i) => pickFaults(rng(2, i), known, 'export', 'smart', { variant: 'export:files' })).flat();
	assert.ok(picks.every((p) => !p.entry.knownLoss), 'a known loss is held back unless asked for');
	const asked = Array.from({ length: 200 }, (_, i) => pickFaults(rng(2, i), known, 'export', 'smart', { variant: 'export:files', includeKnown: true })).flat();
	assert.ok(asked.some((p) => p.entry.knownLoss), '--all runs it');
	assert.ok(picks.every((p) => !p.entry.profiles || p.entry.profiles.includes('smart')));
	assert.ok(picks.some((p) => p.on === 'file') && picks.every((p) => ['kickoff', 'status', 'file'].includes(p.on)));
});

test('requests are told apart as the sandbox logs them', () => {
	const cases = [
		[{ method: 'POST', path: TOKEN_PATH }, 'token'],
		[{ method: 'GET', path: '/fhir/r4/demo/metadata' }, 'metadata'],
		[{ method: 'GET', path: '/fhir/r4/demo/Patient', query: '?birthdate=ge1900-01-01&_count=5' }, 'page'],
		[{ method: 'GET', path: '/fhir/r4/demo/Patient', query: '?birthdate=ge1900-01-01&page=abc' }, 'next-page'],
		[{ method: 'GET', path: '/fhir/r4/demo/Patient', query: '?_getpages=abc' }, 'next-page'],
		[{ method: 'GET', path: '/fhir/r4/demo/Patient/pt-1' }, 'read'],
		[{ method: 'GET', path: '/fhir/r4/demo/Group/grp-1/$export' }, 'kickoff'],
		[{ method: 'GET', path: '/fhir/r4/demo/$export-poll-location', query: '?job_id=1' }, 'status'],
		[{ method: 'GET', path: '/fhir/r4/demo/bulkstatus/1' }, 'status'],
		[{ method: 'GET', path: '/fhir/r4/demo/bulkfiles/1/Patient-1.ndjson' }, 'file'],
		[{ method: 'GET', path: '/files/1/Patient-1.ndjson' }, 'file'],
	];
	for (const [request, cls] of cases) assert.equal(requestClass(request), cls, JSON.stringify(request));
});

test('Armer: a fault lands on the nth request of its class, at that exact path; served() counts what landed', async () => {
	let armer;
	const sb = await startSandbox({ profile: 'ecw', patients: 10, maxPageSize: 3, admin: true, onRequest: (e) => armer?.onRequest(e) });
	try {
		armer = new Armer(sb);
		const t = await token(sb);
		const entry = FAULT_PLAN.find((e) => e.name === '5xx burst');
		armer.arm([{ entry: { ...entry, spec: () => ({ kind: '503', count: 1 }) }, on: 'next-page', nth: 2 }, { entry, on: 'status', nth: 1 }], rng(1));
		const first = await get(`${sb.baseUrl}/Patient?birthdate=ge1900-01-01`, t);
		const second = await get(first.json.link.find((l) => l.relation === 'next').url, t);
		assert.equal(second.status, 200, 'first next page: not its turn');
		const third = await get(second.json.link.find((l) => l.relation === 'next').url, t);
		assert.equal(third.status, 503, 'second next page');
		assert.deepEqual([...armer.served()], [['5xx burst', 1]], 'the status fault never found its request: not counted');
		assert.deepEqual(sb.faults, [], 'cleared after the run');
		const revoke = FAULT_PLAN.find((e) => e.name === 'token 5xx');
		armer.arm([{ entry: revoke, on: 'read', nth: 1 }], rng(3));
		assert.equal((await get(`${sb.baseUrl}/Patient/pt-1`, t)).status, 401, 'tokens revoked when the fault lands');
		assert.ok(sb.faults.some((f) => f.path.source.includes('oauth')), 'and the token endpoint armed');
		armer.served();
	} finally {
		await sb.stop();
	}
});
