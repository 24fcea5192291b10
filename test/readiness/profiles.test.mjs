// The readiness checks against the sandbox's two profiles, as plain modules (no n8n): every check the
// node can run passes on a well set-up credential, with the evidence each one claims.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';

import { startSandbox } from '../../sandbox/index.mjs';
import { runReadiness } from '../../nodes/EClinicalWorks/fhir/readiness/runner.ts';
import { CHECK, freshProcess, readinessContext, resultOf, statuses } from './_support.mjs';

let ecw;
let smart;
before(async () => {
	const common = { patients: 5, admin: true, fastBulk: true, bulkDelayMs: 200, pollRetryAfterSeconds: 1 };
	[ecw, smart] = await Promise.all([startSandbox({ ...common, profile: 'ecw' }), startSandbox({ ...common, profile: 'smart' })]);
});
after(async () => Promise.all([ecw?.stop(), smart?.stop()]));
beforeEach(() => freshProcess());

const OPT_IN_BULK = { tryBulkExport: true, bulkPollFloorMs: 1000 };

test('ecw profile: every check passes (bulk tried), the errors are provoked live, only the BAA and the request are left to confirm', async () => {
	const { ctx } = readinessContext(ecw, { data: { rateLimitPerMinute: 250 }, options: OPT_IN_BULK });
	const run = await runReadiness(ctx);
	const expected = Object.fromEntries(run.results.map((r) => [r.check, [CHECK.baa, CHECK.request].includes(r.check) ? 'not-checkable' : 'pass']));
	assert.deepEqual(statuses(run), expected, JSON.stringify(run.results.filter((r) => r.status !== expected[r.check]), null, 1));
	assert.equal(run.results.length, 10);

	const discovery = resultOf(run, CHECK.discovery).evidence;
	assert.match(discovery, /token endpoint http:\/\/127\.0\.0\.1:\d+\/oauth\/oauth2\/token[,.]/, 'the token endpoint, without its query');
	assert.match(discovery, /http on this machine/);
	assert.match(discovery, /the credential uses private_key_jwt/);
	assert.match(discovery, /lists no signing algorithms/, 'eCW publishes none');
	assert.match(discovery, /FHIR 4\.0\.1, eCW FHIR Facade/);

	assert.match(resultOf(run, CHECK.access).evidence, /GET Organization\?_count=1 .*answered 200 in \d+ ms: a Bundle with 1 entry .*valid 300 s/);
	const scopes = resultOf(run, CHECK.scopes).evidence;
	assert.match(scopes, /Each is in the server's scopes_supported \(486 listed\)/);
	assert.match(scopes, /Granted \(6\): system\/Patient\.read .* system\/Coverage\.r/);
	assert.match(scopes, /system\/Group\.read to its bulk export token only/);

	const tokens = resultOf(run, CHECK.tokens).evidence;
	assert.match(tokens, /^10 concurrent reads, the token renewal forced after the first 5: 1 token request \(\d+ ms\), 0 answered 401, 0 sent with an expired token, 0 failed\./);
	assert.match(tokens, /Token 1 \(issued before the renewal\) sent with 5 reads, token 2 \(issued at the renewal\) sent with 5 reads/);

	const errors = resultOf(run, CHECK.errors).evidence;
	assert.match(errors, /^Provoked live on the package's sandbox/);
	assert.match(errors, /401: the sandbox revoked the token as the read arrived; the server answered 401, the node requested a new token and repeated the read: 200 \(GET 401, token POST 200, GET 200\)/);
	assert.match(errors, /403: the node stopped at once \(1 request, no retry\) with "Access denied \(403\): the token already holds system\/Organization\.read/);
	assert.match(errors, /429: the sandbox answered 429 with Retry-After: 2; the node waited [2-9]\.\d s and repeated the read: 200/);
	assert.match(errors, /500: the sandbox answered 500; the node waited (\d+ ms|\d\.\d s) and repeated the read: 200 \(GET 500, GET 200\)/);

	const bulk = resultOf(run, CHECK.bulk).evidence;
	assert.match(bulk, /^Kick-off GET Group\/grp-1\/\$export\?_type=Patient: 202 Accepted with Retry-After 1\.0 s\. The node waited 1\.0 s .*then polled: 20[02]/);
	assert.match(bulk, /Cancelled: DELETE answered 202/);

	assert.match(resultOf(run, CHECK.redirect).evidence, /^Backend Service credential: no redirect URI/);
	assert.equal(ecw.faults.length, 0, 'every fault the drills armed was used');
	for (const r of run.requests) assert.doesNotMatch(r.url, /\?/, 'no query in the request list');
});

test('smart profile: every check passes with the fitted default scopes and a system-level export', async () => {
	const { ctx } = readinessContext(smart, { options: OPT_IN_BULK });
	const run = await runReadiness(ctx);
	const expected = Object.fromEntries(run.results.map((r) => [r.check, [CHECK.baa, CHECK.request].includes(r.check) ? 'not-checkable' : 'pass']));
	assert.deepEqual(statuses(run), expected, JSON.stringify(run.results.filter((r) => r.status !== expected[r.check]), null, 1));
	assert.match(resultOf(run, CHECK.discovery).evidence, /Signing algorithms offered: RS384, ES384; the credential signs with RS384/);
	assert.match(resultOf(run, CHECK.scopes).evidence, /the defaults fitted to this server/);
	assert.match(resultOf(run, CHECK.scopes).evidence, /Your workflows read Patient, Encounter, Coverage, Practitioner, Location, Organization, Appointment: all covered/);
	assert.match(resultOf(run, CHECK.rate).evidence, /No client-side pacing/);
	assert.match(resultOf(run, CHECK.bulk).evidence, /^Kick-off GET \$export\?_type=Patient: 202/);
});

test('scopes for patient data only: the checks read a Patient id that does not exist (404), so no patient is read, and the drills still pass', async () => {
	const { ctx } = readinessContext(smart, { clientId: 'sandbox-patient-only', data: { customScopes: 'system/Patient.read' }, options: { uses: ['patient'] } });
	const before = smart.stats.log.length;
	const run = await runReadiness(ctx);
	const expected = Object.fromEntries(run.results.map((r) => [r.check, [CHECK.baa, CHECK.request].includes(r.check) ? 'not-checkable' : 'pass']));
	assert.deepEqual(statuses(run), expected, JSON.stringify(run.results.filter((r) => r.status !== expected[r.check]), null, 1));
	const reads = smart.stats.log.slice(before).filter((e) => e.path.includes('/Patient'));
	assert.ok(reads.length >= 15, `${reads.length} reads`);
	assert.deepEqual([...new Set(reads.map((e) => e.path))], ['/fhir/r4/demo/Patient/readiness-check-no-such-patient'], 'never a search, never a real id');
	assert.deepEqual([...new Set(reads.map((e) => e.status))].sort(), [401, 403, 404, 429, 500], 'no 200: no patient was returned');
	assert.match(resultOf(run, CHECK.errors).evidence, /500: the sandbox answered 500; the node waited .* and repeated the read: 404/);
});
