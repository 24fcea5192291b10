// The plain bulk modules over a real-HTTP FhirClient (fetch) against the sandbox: poll floor,
// Retry-After and its cap, epoch Retry-After and long waits reported, cancellation while polling and
// while downloading, the origin rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { sandboxStarter } from '../helpers/sandboxes.mjs';
import { clientFor, credentialFor } from '../transport/_support.mjs';
import { kickoff } from '../../nodes/EClinicalWorks/fhir/bulk/kickoff.ts';
import { pollUntilDone, checkStatus } from '../../nodes/EClinicalWorks/fhir/bulk/status.ts';
import { cancelExport } from '../../nodes/EClinicalWorks/fhir/bulk/cancel.ts';
import { planTargets, withFileRetries } from '../../nodes/EClinicalWorks/fhir/bulk/download.ts';
import { parseNdjson } from '../../nodes/EClinicalWorks/fhir/bulk/ndjson.ts';

const sandbox = sandboxStarter();

async function setup(options) {
	const sb = await sandbox({ patients: 20, seed: 2, ...options });
	const c = sb.clients.find((x) => x.clientId === 'sandbox-rs384');
	const { client } = clientFor(credentialFor(sb, c), { context: { bulk: true } });
	return { sb, client };
}

const runtime = (signal) => ({ sleep: (ms, s) => new Promise((resolve, reject) => {
	const t = setTimeout(resolve, ms);
	s?.addEventListener('abort', () => { clearTimeout(t); reject(new Error('aborted')); }, { once: true });
}), now: () => Date.now(), signal });

test('polling never goes below the floor, follows Retry-After, and caps a single wait', async () => {
	const { sb, client } = await setup({ profile: 'smart', bulkDelayMs: 1200, pollRetryAfterSeconds: 0 });
	const { statusUrl } = await kickoff(client, { level: 'system', types: ['Patient'] });
	const t0 = Date.now();
	const result = await pollUntilDone(client, statusUrl, runtime(), { floorMs: 400, maxTotalWaitMs: 10000 });
	assert.equal(result.state, 'complete');
	assert.ok(result.polls <= 5, `polls ${result.polls}`);
	assert.ok(Date.now() - t0 >= 1100);

	// Retry-After of an hour, capped at 300 ms per wait
	const slow = await setup({ profile: 'ecw', bulkDelayMs: 600, pollRetryAfterSeconds: 3600 });
	const started = await kickoff(slow.client, { ecw: true, level: 'group', groupId: 'grp-1', types: ['Patient'] });
	assert.equal(started.retryAfterMs, 3600000);
	const capped = await pollUntilDone(slow.client, started.statusUrl, runtime(), { floorMs: 0, maxSingleWaitMs: 300, initialWaitMs: started.retryAfterMs, maxTotalWaitMs: 10000 });
	assert.equal(capped.state, 'complete');
	assert.ok(capped.manifest.output.length >= 1);
	assert.equal(capped.manifest.requiresAccessToken, true);
	void sb;
});

test('a resumed export (initial wait 0) is checked at once, also with Max Total Wait 0 and a 30 s floor', async () => {
	const { client } = await setup({ profile: 'ecw', bulkDelayMs: 200, pollRetryAfterSeconds: 120 });
	const started = await kickoff(client, { ecw: true, level: 'group', groupId: 'grp-1', types: ['Patient'] });
	await new Promise((r) => setTimeout(r, 300));
	const t0 = Date.now();
	const resumed = await pollUntilDone(client, started.statusUrl, runtime(), { floorMs: 30000, maxTotalWaitMs: 0, initialWaitMs: 0 });
	assert.equal(resumed.state, 'complete', 'one check, no waiting: the export is done');
	assert.equal(resumed.polls, 1);
	assert.ok(Date.now() - t0 < 5000, 'no wait for the floor before the first check');
	// just started (the kick-off's Retry-After ahead): Max Total Wait 0 returns without checking
	const fresh = await kickoff(client, { ecw: true, level: 'group', groupId: 'grp-1', types: ['Encounter'] });
	const pending = await pollUntilDone(client, fresh.statusUrl, runtime(), { floorMs: 30000, maxTotalWaitMs: 0, initialWaitMs: fresh.retryAfterMs });
	assert.equal(pending.timedOut, true);
	assert.equal(pending.polls, 0);
});

test('max total wait: returns in-progress with progress; a cancelled job then reads as gone', async () => {
	const { client } = await setup({ profile: 'smart', bulkDelayMs: 60000, pollRetryAfterSeconds: 0 });
	const { statusUrl } = await kickoff(client, { level: 'patient' });
	const pending = await pollUntilDone(client, statusUrl, runtime(), { floorMs: 100, maxTotalWaitMs: 350 });
	assert.equal(pending.timedOut, true);
	assert.equal(pending.state, 'in-progress');
	assert.match(pending.progress, /%/);
	assert.deepEqual(await cancelExport(client, statusUrl), { cancelled: true, alreadyGone: false, httpStatus: 202 });
	const gone = await checkStatus(client, statusUrl);
	assert.equal(gone.state, 'failed');
	assert.equal(gone.gone, true);
});

test('cancellation stops polling at once and stops a download mid-file', async () => {
	const { sb, client } = await setup({ profile: 'smart', bulkDelayMs: 60000, pollRetryAfterSeconds: 30 });
	const { statusUrl } = await kickoff(client, { level: 'system' });
	const controller = new AbortController();
	setTimeout(() => controller.abort(), 200);
	const t0 = Date.now();
	await assert.rejects(pollUntilDone(client, statusUrl, runtime(controller.signal), { floorMs: 0 }), /cancelled/);
	assert.ok(Date.now() - t0 < 2000);
	await cancelExport(client, statusUrl);

	const files = await setup({ profile: 'smart', bulkDelayMs: 0, bulkRepeat: 50, maxResourcesPerFile: 100000 });
	const job = await kickoff(files.client, { level: 'system', types: ['Patient'] });
	const done = await pollUntilDone(files.client, job.statusUrl, runtime(), { floorMs: 0 });
	const [target] = planTargets(done.manifest.output, 'output');
	const abort = new AbortController();
	let seen = 0;
	await assert.rejects(
		withFileRetries(files.client, target, runtime(abort.signal), {}, async (body) =>
			await parseNdjson(body, { fileLabel: target.fileName, onRecord: () => { if (++seen === 10) abort.abort(); } }),
		),
		/cancelled/,
	);
	assert.ok(seen < 1000, `stopped early (${seen} records of ${target.file.count})`);
	void sb;
});

test('origin rule: no Authorization header when requiresAccessToken is false, refusal for a token to another origin', async () => {
	const sb = await sandbox({ patients: 10, seed: 2, profile: 'smart', bulkDelayMs: 0 });
	const c = sb.clients.find((x) => x.clientId === 'sandbox-rs384');
	const log = [];
	const { client } = clientFor(credentialFor(sb, c), { context: { bulk: true }, log });
	const job = await kickoff(client, { level: 'system', types: ['Patient'] });
	const done = await pollUntilDone(client, job.statusUrl, runtime(), { floorMs: 0 });
	const file = done.manifest.output[0];
	assert.ok(log.some((e) => e.url === job.statusUrl && e.authorization), 'the status URL gets the token');

	// the same file, as if the manifest said requiresAccessToken: false (pre-signed): no header at all
	const [unsigned] = planTargets([{ ...file, requiresAccessToken: false }], 'output');
	await assert.rejects(withFileRetries(client, unsigned, runtime(), { maxAttempts: 1 }, async (body) => await parseNdjson(body, { fileLabel: 'x', onRecord: () => {} })));
	const sent = log.filter((e) => e.url === file.url);
	assert.ok(sent.length >= 1);
	assert.ok(sent.every((e) => !e.authorization), 'no Authorization header');

	// a file on another origin that would need the token: refused before any request
	const other = { ...file, url: file.url.replace(sb.origin, sb.otherOrigin), requiresAccessToken: true };
	const before = log.length;
	await assert.rejects(
		withFileRetries(client, planTargets([other], 'output')[0], runtime(), {}, async () => 0),
		(e) => e.kind === 'origin' && /refusing to send it there/.test(e.message),
	);
	assert.equal(log.length, before);
	assert.equal(sb.stats.authHeaderSeenOnOtherOrigin, 0);
});

/** A runtime on a fake clock shared with the sandbox: a long wait passes at once (plus a real pause for the export to finish). */
function fakeRuntime(start = Date.now()) {
	const r = {
		t: start,
		slept: [],
		longWaits: [],
		now: () => r.t,
		sleep: async (ms) => {
			r.slept.push(ms);
			r.t += ms;
			await new Promise((resolve) => setTimeout(resolve, 150));
		},
		onLongWait: (ms, reason) => r.longWaits.push({ ms, reason }),
	};
	return r;
}

test('epoch Retry-After (ms and s): a 6-minute wait is waited as 6 minutes, not capped, and reported before it starts', async () => {
	for (const unit of ['ms', 's']) {
		const rt = fakeRuntime();
		const { client } = await setup({ profile: 'smart', quirks: { epochRetryAfter: unit }, now: () => rt.now(), bulkDelayMs: 100, pollRetryAfterSeconds: 360 });
		const { statusUrl } = await kickoff(client, { level: 'system', types: ['Patient'] });
		const done = await pollUntilDone(client, statusUrl, rt, { floorMs: 0 });
		assert.equal(done.state, 'complete');
		assert.equal(rt.slept.length, 1);
		assert.ok(Math.abs(rt.slept[0] - 360_000) <= 1_000, `${unit}: waited ${rt.slept[0]} ms`);
		assert.equal(rt.longWaits.length, 1);
		assert.match(rt.longWaits[0].reason, /Retry-After while the export runs/);
	}
});

test('a 429 with an epoch Retry-After on a bulk file: waited as asked (90 s) and reported with the file name', async () => {
	const rt = fakeRuntime();
	const { sb, client } = await setup({ profile: 'smart', quirks: { epochRetryAfter: 'ms' }, now: () => rt.now(), bulkDelayMs: 0 });
	const job = await kickoff(client, { level: 'system', types: ['Patient'] });
	const done = await pollUntilDone(client, job.statusUrl, runtime(), { floorMs: 0 });
	const [target] = planTargets(done.manifest.output, 'output');
	sb.inject({ kind: '429', path: 'Patient-1\\.ndjson', retryAfter: 90, count: 1 });
	let records = 0;
	await withFileRetries(client, target, rt, {}, async (body) => await parseNdjson(body, { fileLabel: target.fileName, onRecord: () => void records++ }));
	assert.equal(records, 20);
	assert.equal(rt.slept.length, 1);
	assert.ok(Math.abs(rt.slept[0] - 90_000) <= 1_000, `waited ${rt.slept[0]} ms`);
	assert.match(rt.longWaits[0].reason, /Retry-After on bulk file Patient-1\.ndjson/);
});

test('a completion manifest cut short (status 200, JSON broken) is asked for again, like a 5xx; broken every time, the error says so', async () => {
	const { sb, client } = await setup({ profile: 'smart', bulkDelayMs: 0, pollRetryAfterSeconds: 0 });
	const { statusUrl } = await kickoff(client, { level: 'system', types: ['Patient'] });
	while ((await checkStatus(client, statusUrl)).state !== 'complete') await new Promise((r) => setTimeout(r, 50));
	const statusPath = new URL(statusUrl).pathname.replace(/\$/g, '\\$');
	sb.inject({ kind: 'truncated-page', path: `${statusPath}$` });
	const done = await pollUntilDone(client, statusUrl, runtime(), { floorMs: 0 });
	assert.equal(done.state, 'complete');
	assert.equal(done.polls, 2, 'a broken answer, then the manifest');
	assert.ok(done.manifest.output.length >= 1);

	sb.inject({ kind: 'truncated-page', path: `${statusPath}$`, count: 10 });
	await assert.rejects(pollUntilDone(client, statusUrl, runtime(), { floorMs: 0, maxConsecutiveErrors: 2 }), (e) => {
		assert.match(e.message, /The export status kept failing \(2 times in a row\)/);
		assert.match(e.hint, /broken status answer \(cut short or not valid JSON\)/);
		return true;
	});
});
