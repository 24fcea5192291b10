// Misconfigurations and server answers that make each readiness check warn or fail, with the advice
// the user needs (plain modules against the sandbox, no n8n).
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';

import { startSandbox } from '../../sandbox/index.mjs';
import { DEFAULT_REQUEST_BOUND, runReadiness } from '../../nodes/EClinicalWorks/fhir/readiness/runner.ts';
import { checkRedirect, oauthRedirectUri } from '../../nodes/EClinicalWorks/fhir/readiness/redirect.ts';
import { fakeClock } from '../transport/_support.mjs';
import { CHECK, freshProcess, readinessContext, resultOf, statuses } from './_support.mjs';

let ecw;
let smart;
before(async () => {
	[ecw, smart] = await Promise.all([
		startSandbox({ profile: 'ecw', patients: 5, practices: ['demo', 'closed'], rejectedPractices: ['closed'], fastBulk: true, bulkDelayMs: 200 }),
		startSandbox({ profile: 'smart', patients: 5 }),
	]);
});
after(async () => Promise.all([ecw?.stop(), smart?.stop()]));
beforeEach(() => freshProcess());

const ECW_PACED = { rateLimitPerMinute: 250 };

test('a scope the server does not offer: Scopes fails naming the form it offers; nothing that needs a token is claimed', async () => {
	const { ctx } = readinessContext(ecw, { data: { ...ECW_PACED, scopes: 'system/Patient.read system/Organization.read system/Coverage.read' } });
	const run = await runReadiness(ctx);
	const scopes = resultOf(run, CHECK.scopes);
	assert.equal(scopes.status, 'fail');
	assert.match(scopes.evidence, /not in scopes_supported: system\/Coverage\.read is not offered; this server offers system\/Coverage\.r/);
	assert.match(scopes.whatToDo, /in the form it lists them \(eClinicalWorks refuses any other with invalid_grant\)/);
	assert.equal(resultOf(run, CHECK.access).status, 'fail');
	assert.match(resultOf(run, CHECK.access).evidence, /Scopes: system\/Coverage\.read is not offered/);
	for (const name of [CHECK.tokens]) {
		assert.equal(resultOf(run, name).status, 'fail');
		assert.match(resultOf(run, name).evidence, /^Not run: the authenticated read for this practice failed/);
	}
	assert.equal(ecw.stats.tokenRequests, 0, 'eCW would refuse it: the token request is never sent');
});

test('a token endpoint over http on another host: Discovery fails, says why and what to enter', async () => {
	const { ctx } = readinessContext(smart, { data: { tokenUrl: 'http://token.invalid/oauth2/token' } });
	const run = await runReadiness(ctx);
	const discovery = resultOf(run, CHECK.discovery);
	assert.equal(discovery.status, 'fail');
	assert.match(discovery.evidence, /the token endpoint http:\/\/token\.invalid\/oauth2\/token is not HTTPS: the client's credentials would travel unencrypted/);
	assert.match(discovery.whatToDo, /Use the server's HTTPS token endpoint: clear the Token URL/);
	assert.equal(resultOf(run, CHECK.access).status, 'fail', 'no token from there');
});

test('a practice that has not enabled the app: the authenticated read fails with the advice to have it enabled', async () => {
	const { ctx } = readinessContext(ecw, { data: { ...ECW_PACED, baseUrl: `${ecw.origin}/fhir/r4/{practiceCode}`, practiceCode: 'closed' } });
	const run = await runReadiness(ctx);
	const access = resultOf(run, CHECK.access);
	assert.equal(access.status, 'fail', JSON.stringify(access));
	assert.match(access.evidence, /^GET Organization\?_count=1 for practice closed failed: .*(invalid_client|401)/);
	assert.match(access.whatToDo, /the app is enabled for this practice in the practice's eCW admin settings for FHIR apps/);
	assert.equal(ctx.credential.practiceCode, 'closed');
	for (const name of [CHECK.tokens]) assert.match(resultOf(run, name).evidence, /^Not run/);
	assert.equal(resultOf(run, CHECK.discovery).status, 'pass', 'discovery needs no token');
});

test('eCW without pacing, or above 250 a minute: Rate limit handling fails and names the setting', async () => {
	for (const [rate, pattern] of [
		[0, /^Pacing is off \(Rate Limit 0\)/],
		[300, /^Paced at 300 requests a minute per practice, above eClinicalWorks' 250/],
	]) {
		freshProcess();
		const { ctx } = readinessContext(ecw, { data: { rateLimitPerMinute: rate } });
		const run = await runReadiness(ctx);
		const result = resultOf(run, CHECK.rate);
		assert.equal(result.status, 'fail');
		assert.match(result.evidence, pattern);
		assert.match(result.whatToDo, /Set the credential's Rate Limit to 250/);
	}
});

test('a scope the workflows need is missing: Scopes fails and names what to add, in the form the server offers', async () => {
	const { ctx } = readinessContext(smart, { clientId: 'sandbox-patient-only', data: { customScopes: 'system/Patient.read' }, options: { uses: ['patient', 'appointments'] } });
	const run = await runReadiness(ctx);
	assert.equal(resultOf(run, CHECK.access).status, 'pass', 'the probe reads what the token covers');
	assert.match(resultOf(run, CHECK.access).evidence, /^GET Patient\/readiness-check-no-such-patient with the credential's token answered 404 .*no patient is read/);
	const scopes = resultOf(run, CHECK.scopes);
	assert.equal(scopes.status, 'fail');
	assert.match(scopes.evidence, /Your workflows read Patient, Appointment, Practitioner, Location; not covered: Appointment, Practitioner, Location/);
	assert.match(scopes.whatToDo, /^Add system\/Appointment\.read system\/Practitioner\.read system\/Location\.read to the credential's Scopes/);
});

test('no sandbox switches: error handling is not provoked, it quotes the package\'s tests and version', async () => {
	const { ctx } = readinessContext(ecw, { data: ECW_PACED });
	const run = await runReadiness(ctx);
	const errors = resultOf(run, CHECK.errors);
	assert.equal(errors.status, 'pass');
	assert.match(errors.evidence, /^Not provoked on this server .* version \d+\.\d+\.\d+/);
	assert.match(errors.evidence, /401: \d+ tests, e\.g\. “[^”]+” \(test\/[^)]+\.test\.mjs\)/);
	for (const code of ['403', '429', '500']) assert.match(errors.evidence, new RegExp(`${code}: \\d+ tests?`));
	assert.equal(ecw.stats.log.filter((e) => e.status === 403 || e.status === 500).length, 0, 'nothing was provoked');
});

test('bulk export: not ticked passes, ticked without the opt-in warns, an unknown Group fails and the export is not left running', async () => {
	let run = await runReadiness(readinessContext(ecw, { data: ECW_PACED, options: { uses: ['patient'] } }).ctx);
	assert.equal(resultOf(run, CHECK.bulk).status, 'pass');
	assert.match(resultOf(run, CHECK.bulk).evidence, /do not export in bulk/);
	freshProcess();
	run = await runReadiness(readinessContext(ecw, { data: ECW_PACED }).ctx);
	assert.equal(resultOf(run, CHECK.bulk).status, 'warn');
	assert.match(resultOf(run, CHECK.bulk).whatToDo, /Turn on Options > Try a Bulk Export/);
	freshProcess();
	run = await runReadiness(readinessContext(ecw, { data: ECW_PACED, options: { tryBulkExport: true, bulkGroupId: 'no-such-group' } }).ctx);
	const bulk = resultOf(run, CHECK.bulk);
	assert.equal(bulk.status, 'fail');
	assert.match(bulk.evidence, /Failed: Bulk export kick-off (failed|was refused)/);
});

test('bulk export: a Retry-After longer than the check may wait is kept, not shortened (eCW asks 120 s)', async () => {
	const slow = await startSandbox({ profile: 'ecw', patients: 3, bulkDelayMs: 200 });
	try {
		const { ctx } = readinessContext(slow, { data: ECW_PACED, options: { tryBulkExport: true, bulkPollFloorMs: 30_000, bulkMaxWaitMs: 60_000 } });
		const run = await runReadiness(ctx);
		const bulk = resultOf(run, CHECK.bulk);
		assert.equal(bulk.status, 'pass', bulk.evidence);
		assert.match(bulk.evidence, /202 Accepted with Retry-After 120 s\. The node would wait 120 s before its first status poll .* so it did not poll\. Cancelled: DELETE answered 202/);
		assert.equal(slow.stats.log.filter((e) => e.path.endsWith('$export-poll-location') && e.method === 'GET').length, 0, 'never polled early');
	} finally {
		await slow.stop();
	}
});

test('redirect URI: n8n\'s OAuth callback from the instance URL; localhost or http fails, public https passes; a backend JWKS URL over http fails', async () => {
	assert.equal(oauthRedirectUri('https://n8n.clinic.example/', 'https://n8n.clinic.example/rest'), 'https://n8n.clinic.example/rest/oauth2-credential/callback');
	assert.equal(oauthRedirectUri('https://n8n.clinic.example/', 'https://n8n.clinic.example/api-v1'), 'https://n8n.clinic.example/api-v1/oauth2-credential/callback', 'a custom REST path');
	const userLogin = (redirectUri) => ({ credential: { kind: 'userLogin' }, redirectUri });
	let r = await checkRedirect(userLogin('http://localhost:5678/rest/oauth2-credential/callback'), {});
	assert.equal(r.status, 'fail');
	assert.match(r.evidence, /not HTTPS and on localhost \(eClinicalWorks does not accept localhost redirect URIs in production\)/);
	assert.match(r.whatToDo, /set N8N_EDITOR_BASE_URL \(and WEBHOOK_URL\)/);
	r = await checkRedirect(userLogin('https://127.0.0.1/rest/oauth2-credential/callback'), {});
	assert.equal(r.status, 'fail');
	r = await checkRedirect(userLogin('https://n8n.clinic.example/rest/oauth2-credential/callback'), {});
	assert.equal(r.status, 'pass');
	r = await checkRedirect({ credential: { kind: 'backendService', jwksUrl: 'http://keys.clinic.example/jwks.json' } }, {});
	assert.equal(r.status, 'fail');
	assert.match(r.whatToDo, /public https:\/\/ address/);
	r = await checkRedirect({ credential: { kind: 'backendService', jwksUrl: 'http://127.0.0.1:5000/sandbox/clients/x/jwks.json' } }, {});
	assert.equal(r.status, 'pass', 'the sandbox\'s JWKS on this machine');
	assert.match(r.evidence, /on this machine \(a local test server/);
});

test('measured rate-limit burst (opt-in, fake clock): paced, it stays under the limit with no 429; without pacing it meets 429s and fails', async () => {
	const clock = fakeClock();
	const limited = await startSandbox({ profile: 'ecw', patients: 3, rateLimitPerMinute: 30, now: clock.now });
	try {
		let { ctx } = readinessContext(limited, { clock, data: { rateLimitPerMinute: 30 }, options: { measureRateLimit: true, uses: ['patient'] } });
		let run = await runReadiness(ctx);
		let rate = resultOf(run, CHECK.rate);
		assert.equal(rate.status, 'pass', rate.evidence);
		assert.match(rate.evidence, /Measured burst \(opted in\): 40 reads .* at most (2\d|30) of the report's requests left in any 60 s \(the pace is 30\); 0 answered 429; 0 failed/);
		assert.equal(limited.stats.byStatus[429] ?? 0, 0, 'the server answered no 429');
		assert.deepEqual(Object.values(statuses(run)).filter((s) => s === 'fail'), []);

		freshProcess();
		clock.t += 120_000;
		({ ctx } = readinessContext(limited, { clock, data: { rateLimitPerMinute: 0 }, options: { measureRateLimit: true, rateLimitBurst: 40, uses: ['patient'] } }));
		run = await runReadiness(ctx);
		rate = resultOf(run, CHECK.rate);
		assert.equal(rate.status, 'fail');
		assert.match(rate.evidence, /[1-9]\d* answered 429/);
		assert.match(rate.whatToDo, /Set the credential's Rate Limit to 250/, 'the setting that caused the 429s');
	} finally {
		await limited.stop();
	}
});

test('without opt-ins the report stays within its request bound (20) on both profiles, counted by the server', async () => {
	assert.equal(DEFAULT_REQUEST_BOUND, 20, 'the bound the docs and the node state');
	for (const [sandbox, data] of [[ecw, ECW_PACED], [smart, {}]]) {
		freshProcess();
		const { ctx } = readinessContext(sandbox, { data });
		const before = sandbox.stats.requests + sandbox.stats.tokenRequests;
		const run = await runReadiness(ctx);
		const seen = sandbox.stats.requests + sandbox.stats.tokenRequests - before;
		assert.equal(seen, run.requests.filter((r) => r.kind !== 'sandbox').length, 'the report lists every request the server saw');
		assert.ok(seen <= DEFAULT_REQUEST_BOUND, `${sandbox.profile}: ${seen} requests`);
		assert.deepEqual(run.requests.filter((r) => r.kind === 'sandbox').map((r) => `${r.method} ${new URL(r.url).pathname} ${r.status}`), ['GET /admin 404'], 'one look for the sandbox\'s switches, on this machine only');
		assert.equal(statuses(run)[CHECK.tokens], 'pass');
	}
});
