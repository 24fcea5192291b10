// The export state's rules (fhir/bulk/claim.ts) on the static data store (fhir/bulk/staticDataRows.ts),
// with a virtual clock: one export at a time per key, the intent recorded before the kick-off, a
// holder that stops renewing taken over after its lease, completion moving _since forward only,
// and what may be stored of a status URL. The Data Table store runs the same rules against n8n's
// API in scripts/e2e/queue.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { HEARTBEAT_MS, LEASE_MS, PARKED_MS, adoptExport, claimExport, recordCompleted, recordGone } from '../../nodes/EClinicalWorks/fhir/bulk/claim.ts';
import { statusHashOf, storableStatusUrl } from '../../nodes/EClinicalWorks/fhir/bulk/state.ts';
import { StaticDataRows } from '../../nodes/EClinicalWorks/fhir/bulk/staticDataRows.ts';

const BASE = 'https://fhir.example/fhir/r4/demo';
const STATUS = `${BASE}/$export-poll-location?job_id=42`;
const KEY = `cred|${BASE}|group|grp-1|Patient`;
let scopes = 0;

/** Timers that fire only when the test advances the clock (every pending promise settles first). */
function virtualClock(start = Date.parse('2026-01-05T07:00:00Z')) {
	let now = start;
	const timers = [];
	const flush = () => new Promise((r) => setImmediate(r));
	return {
		now: () => now,
		sleep: (ms, signal) =>
			new Promise((resolve) => {
				const timer = { at: now + ms, resolve };
				timers.push(timer);
				signal?.addEventListener('abort', () => {
					if (timers.includes(timer)) timers.splice(timers.indexOf(timer), 1);
					resolve();
				}, { once: true });
			}),
		async advance(ms) {
			const end = now + ms;
			for (;;) {
				for (let i = 0; i < 5; i++) await flush();
				timers.sort((a, b) => a.at - b.at);
				const next = timers[0];
				if (!next || next.at > end) {
					now = end;
					for (let i = 0; i < 5; i++) await flush();
					return;
				}
				timers.shift();
				now = next.at;
				next.resolve();
			}
		},
		pending: () => timers.length,
	};
}

/** One n8n process: the workflow's static data and this process's copy, as the node sees them. */
function processStore() {
	const staticData = {};
	return { staticData, rows: new StaticDataRows({ staticData, scope: `workflow-${++scopes}` }) };
}

const holder = (clock, owner, logs = []) => ({ owner, now: clock.now, sleep: clock.sleep, log: (m) => logs.push(m) });
const intent = (since) => () => ({ since, request: 'GET Group/grp-1/$export?_type=Patient' });

test('the intent is recorded before the kick-off and the status URL after it; completion frees the key and never moves _since back', async () => {
	const clock = virtualClock();
	const { staticData, rows } = processStore();
	const claim = await claimExport(rows, KEY, holder(clock, '101'), intent());
	assert.equal(claim.kind, 'start');
	let stored = staticData.eClinicalWorksBulkExport.rows[KEY];
	assert.equal(stored.phase, 'starting', 'the intent is in the state before any kick-off');
	assert.equal(stored.owner, '101');
	assert.equal(stored.statusUrl, '');
	assert.equal(stored.request, 'GET Group/grp-1/$export?_type=Patient');

	await claim.held.started(STATUS, BASE);
	stored = staticData.eClinicalWorksBulkExport.rows[KEY];
	assert.equal(stored.phase, 'running');
	assert.equal(stored.statusUrl, STATUS, "eCW's status URL (same origin, ?job_id=) is stored");
	assert.equal(stored.statusHash, statusHashOf(STATUS));

	assert.equal(await recordCompleted(rows, STATUS, '2026-01-05T06:59:00Z', clock.now()), true);
	stored = staticData.eClinicalWorksBulkExport.rows[KEY];
	assert.deepEqual([stored.phase, stored.owner, stored.statusUrl, stored.lastTransactionTime], ['', '', '', '2026-01-05T06:59:00Z']);

	// the next run's _since is that transactionTime; an older completion does not move it back
	const next = await claimExport(rows, KEY, holder(clock, '102'), (row) => ({ since: row.lastTransactionTime, request: 'GET' }));
	assert.equal(next.held.row.since, '2026-01-05T06:59:00Z');
	await next.held.started(`${BASE}/$export-poll-location?job_id=43`, BASE);
	await recordCompleted(rows, `${BASE}/$export-poll-location?job_id=43`, '2026-01-01T00:00:00Z', clock.now());
	assert.equal((await rows.read(KEY)).lastTransactionTime, '2026-01-05T06:59:00Z', 'never backwards');
	assert.equal(await recordCompleted(rows, `${BASE}/$export-poll-location?job_id=99`, '2026-02-01T00:00:00Z', clock.now()), false, 'an unknown status URL records nothing');
});

test('two executions start the same export at once: one claims it, the other starts nothing ("running elsewhere")', async () => {
	const clock = virtualClock();
	const { rows } = processStore();
	const logs = [];
	const claims = [];
	claimExport(rows, KEY, holder(clock, '201'), intent()).then((c) => (claims[0] = c));
	claimExport(rows, KEY, holder(clock, '202', logs), intent()).then((c) => (claims[1] = c));
	await clock.advance(0);
	assert.equal(claims.filter(Boolean).length, 1, 'one claim won at once, the other watches');
	// the winner's kick-off is answered: the watcher sees it move on and stops
	await claims.find(Boolean).held.started(STATUS, BASE);
	await clock.advance(WATCH_GRACE);
	const [a, b] = claims;
	assert.deepEqual([a.kind, b.kind], ['start', 'elsewhere'], 'one kick-off');
	assert.equal(b.done, false);
	assert.equal(b.by, '201');
	assert.equal(b.row.statusUrl, STATUS);
	assert.match(logs[0], /execution 201 holds this export/);
});

test('a run that finds a claim held by a live execution waits for it to renew its lease before it says "running elsewhere"', async () => {
	const clock = virtualClock();
	const { rows } = processStore();
	const first = await claimExport(rows, KEY, holder(clock, '211'), intent());
	await first.held.started(STATUS, BASE);
	first.held.startHeartbeat();
	let second;
	claimExport(rows, KEY, holder(clock, '212'), intent()).then((c) => (second = c));
	await clock.advance(HEARTBEAT_MS - 1);
	assert.equal(second, undefined, 'still watching: no sign of life yet');
	await clock.advance(WATCH_GRACE);
	assert.equal(second?.kind, 'elsewhere');
	assert.equal(second.by, '211');
	await first.held.stopHeartbeat();
});
const WATCH_GRACE = 15_000;

test('the holder finishes while the other run watches: "done elsewhere", nothing started', async () => {
	const clock = virtualClock();
	const { rows } = processStore();
	const first = await claimExport(rows, KEY, holder(clock, '301'), intent());
	await first.held.started(STATUS, BASE);
	let second;
	claimExport(rows, KEY, holder(clock, '302'), intent()).then((c) => (second = c));
	await clock.advance(1000);
	await recordCompleted(rows, STATUS, '2026-01-05T07:00:00Z', clock.now());
	await clock.advance(WATCH_GRACE);
	assert.equal(second?.kind, 'elsewhere');
	assert.equal(second.done, true);
	assert.equal(second.by, '301');
	assert.equal(second.row.lastTransactionTime, '2026-01-05T07:00:00Z');
});

test('a holder killed mid-export stops renewing: the next run takes the same export over once its lease lapses', async () => {
	const clock = virtualClock();
	const { rows } = processStore();
	const killed = await claimExport(rows, KEY, holder(clock, '401'), intent());
	await killed.held.started(STATUS, BASE);
	// no heartbeat, no release: the process died
	let next;
	const logs = [];
	claimExport(rows, KEY, holder(clock, '402', logs), intent()).then((c) => (next = c));
	await clock.advance(LEASE_MS - 5000);
	assert.equal(next, undefined, 'within the lease the holder may still be alive');
	await clock.advance(WATCH_GRACE);
	assert.equal(next?.kind, 'resume', 'taken over, not started again');
	assert.equal(next.held.row.statusUrl, STATUS);
	assert.equal(next.held.row.owner, '402');
	assert.ok(logs.some((l) => /taking over the export execution 401 left running/.test(l)), logs.join('\n'));
});

test('a run killed between the intent and the status URL: the next run starts nothing and says so; told to, it starts again', async () => {
	const clock = virtualClock();
	const { rows } = processStore();
	await claimExport(rows, KEY, holder(clock, '501'), intent());
	let next;
	claimExport(rows, KEY, holder(clock, '502'), intent()).then((c) => (next = c));
	await clock.advance(LEASE_MS + WATCH_GRACE);
	assert.equal(next?.kind, 'interrupted');
	assert.equal(next.row.owner, '501');
	assert.equal(next.row.phase, 'starting');
	const again = await claimExport(rows, KEY, holder(clock, '503'), intent(), true);
	assert.equal(again.kind, 'start');
	assert.equal(again.held.row.owner, '503');
});

test('a kick-off answered with an error frees the key; a run that ends with the export running lets the next one resume it at once', async () => {
	const clock = virtualClock();
	const { rows } = processStore();
	const refused = await claimExport(rows, KEY, holder(clock, '601'), intent());
	await refused.held.notStarted();
	assert.equal((await claimExport(rows, KEY, holder(clock, '602'), intent())).kind, 'start', 'nothing runs on the server: start');

	const { rows: rows2 } = processStore();
	const timedOut = await claimExport(rows2, KEY, holder(clock, '603'), intent());
	await timedOut.held.started(STATUS, BASE);
	await timedOut.held.release();
	const resumed = await claimExport(rows2, KEY, holder(clock, '604'), intent());
	assert.equal(resumed.kind, 'resume');
	assert.equal(clock.now(), Date.parse('2026-01-05T07:00:00Z'), 'at once');
});

test('a Wait loop keeps its export: its own next turn resumes at once, another run only after the next check plus 2 minutes', async () => {
	const clock = virtualClock();
	const { rows } = processStore();
	const turn = await claimExport(rows, KEY, holder(clock, '701'), intent());
	await turn.held.started(STATUS, BASE);
	await turn.held.park(120_000);
	const other = await claimExport(rows, KEY, holder(clock, '702'), intent());
	assert.equal(other.kind, 'elsewhere', 'another run is told at once: the loop comes back after its next check');
	assert.equal(other.by, '701');
	await clock.advance(60_000);
	const again = await claimExport(rows, KEY, holder(clock, '701'), intent());
	assert.equal(again.kind, 'resume', 'the same execution (after its Wait) goes on');
	await again.held.park(120_000);
	// a loop that never comes back (its execution stopped): taken over once the next check plus PARKED_MS passed
	await clock.advance(120_000 + PARKED_MS + 1000);
	assert.equal((await claimExport(rows, KEY, holder(clock, '703'), intent())).kind, 'resume');
});

test('Resume From Status URL adopts the export; Cancel or a failure frees the key', async () => {
	const clock = virtualClock();
	const { rows } = processStore();
	const held = await adoptExport(rows, KEY, holder(clock, '801'), STATUS, BASE);
	assert.equal(held.row.phase, 'running');
	assert.equal((await rows.findByStatusUrl(STATUS)).owner, '801');
	await recordGone(rows, STATUS);
	const row = await rows.read(KEY);
	assert.deepEqual([row.phase, row.statusUrl, row.owner], ['', '', '']);
});

test('what of a status URL may be stored: same origin with identifiers only; a signature, a key or another host never', async () => {
	assert.equal(storableStatusUrl(STATUS, BASE), STATUS);
	assert.equal(storableStatusUrl('https://fhir.example/bulkstatus/7', BASE), 'https://fhir.example/bulkstatus/7');
	for (const url of [
		'https://bucket.s3.amazonaws.com/job/7?X-Amz-Signature=abc&X-Amz-Expires=3600',
		'https://fhir.example/status/7?sig=abc&se=2026-01-05',
		'https://fhir.example/status/7?access_token=abc',
		'https://fhir.example/status/7?apikey=abc',
		'https://other.example/fhir/r4/demo/$export-poll-location?job_id=42',
		'https://user:pw@fhir.example/status/7',
		'not a url',
	]) {
		assert.equal(storableStatusUrl(url, BASE), '', url);
	}
	// such an export is still found by its hash, and a run that finds it running without a URL says so
	const clock = virtualClock();
	const { staticData, rows } = processStore();
	const signed = 'https://fhir.example/status/7?sig=abc';
	const claim = await claimExport(rows, KEY, holder(clock, '901'), intent());
	await claim.held.started(signed, BASE);
	await claim.held.release();
	assert.doesNotMatch(JSON.stringify(staticData), /sig=abc/, 'the signature is not in the stored state');
	assert.equal((await rows.findByStatusUrl(signed)).owner, '');
	assert.equal((await claimExport(rows, KEY, holder(clock, '902'), intent())).kind, 'interrupted');
});

test('static data written by the node before this version is read: the last transactionTime and the export in flight carry over', async () => {
	const clock = virtualClock();
	const staticData = {};
	const legacy = { lastTransactionTime: '2025-12-01T00:00:00Z', lastCompletedAt: '2025-12-01T00:05:00Z', inFlight: { statusUrl: STATUS, startedAt: '2025-12-02T02:00:00Z', since: '2025-12-01T00:00:00Z' } };
	const rows = new StaticDataRows({ staticData, scope: `workflow-${++scopes}`, legacy: (key) => (key === KEY ? { lastTransactionTime: legacy.lastTransactionTime, lastCompletedAt: legacy.lastCompletedAt, phase: 'running', statusUrl: STATUS, startedAt: legacy.inFlight.startedAt, since: legacy.inFlight.since } : undefined) });
	const claim = await claimExport(rows, KEY, holder(clock, '1001'), intent());
	assert.equal(claim.kind, 'resume', 'the old in-flight export is resumed, not started again');
	assert.equal(claim.held.row.lastTransactionTime, '2025-12-01T00:00:00Z');
	assert.ok((await rows.findByStatusUrl(STATUS)), 'found by status URL once written in the new form');
});

test('one n8n process: executions with their own copies of the static data still see one another\'s claims', async () => {
	const clock = virtualClock();
	const scope = `workflow-${++scopes}`;
	const one = new StaticDataRows({ staticData: {}, scope });
	const two = new StaticDataRows({ staticData: {}, scope });
	const first = await claimExport(one, KEY, holder(clock, '1101'), intent());
	await first.held.started(STATUS, BASE);
	first.held.startHeartbeat();
	let second;
	claimExport(two, KEY, holder(clock, '1102'), intent()).then((c) => (second = c));
	await clock.advance(HEARTBEAT_MS + WATCH_GRACE);
	assert.equal(second?.kind, 'elsewhere');
	await first.held.stopHeartbeat();
	assert.equal(clock.pending(), 0, 'no timer left behind');
});
