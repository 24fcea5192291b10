// The one redaction (fhir/redact.ts) and the one response reader (fhir/responseBody.ts), without n8n.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';

import { redact } from '../nodes/EClinicalWorks/fhir/redact.ts';
import { DEFAULT_RESPONSE_LIMITS, finishResponse, readBounded } from '../nodes/EClinicalWorks/fhir/responseBody.ts';
import { parseErrorBody } from '../nodes/EClinicalWorks/fhir/operationOutcome.ts';
import { responseOptionFields, responseOptionsOf } from '../nodes/EClinicalWorks/transport/credentialFields.ts';
import { InputError } from '../nodes/EClinicalWorks/fhir/errors.ts';

const JWT = 'eyJhbGciOiJSUzM4NCIsImtpZCI6ImsxIn0.eyJpc3MiOiJjbGllbnQiLCJqdGkiOiIxIn0.c2lnbmF0dXJlLWJ5dGVz';

test('patterns: JWTs, Authorization values, PEM blocks, secret fields in forms, JSON and text, query strings', () => {
	const cases = [
		[`client_assertion=${JWT}&grant_type=client_credentials`, 'client_assertion=[removed]&grant_type=client_credentials'],
		[`assertion as sent: ${JWT}`, 'assertion as sent: [removed]'],
		['authorization: Bearer abc.def-123_456; Basic c2FuZGJveDpzZWNyZXQ=', 'authorization: Bearer [removed]; Basic [removed]'],
		['{"access_token":"opaque-1","refresh_token":"r\\"2","token_type":"Bearer"}', '{"access_token":"[removed]","refresh_token":"[removed]","token_type":"Bearer"}'],
		['grant_type=client_credentials&client_id=app&client_secret=s3cr3t!', 'grant_type=client_credentials&client_id=app&client_secret=[removed]'],
		['refresh_token: abcdef and more', 'refresh_token: [removed] and more'],
		['key -----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY----- end', 'key [removed] end'],
		['cut -----BEGIN EC PRIVATE KEY-----\nMHcCAQEE', 'cut [removed]'],
		['GET https://fhir.example/r4/Patient?name=Smith&birthdate=1980 failed', 'GET https://fhir.example/r4/Patient?[removed] failed'],
		['file https://bucket.example/f/1.ndjson?X-Amz-Signature=abc&X-Amz-Credential=x', 'file https://bucket.example/f/1.ndjson?[removed]'],
		['Resource /fhir/r4/demo/Patient?identifier=1112648 not found', 'Resource /fhir/r4/demo/Patient?[removed] not found'],
	];
	for (const [input, expected] of cases) assert.equal(redact(input), expected, input);
});

test('ordinary diagnostics are left as they are', () => {
	for (const text of [
		'The signature does not match: expected RS384.',
		'Missing scope system/Encounter.read',
		'Invalid date: 2025-13-01 (expected YYYY-MM-DD)',
		'What? Token expired.',
		'Resource Patient/pt-1 is not known',
		'invalid_client: unknown kid sandbox-rs384-key-1',
	]) {
		assert.equal(redact(text), text);
	}
});

test('known values go wherever they appear, also URL- and form-encoded; short values are not treated as secrets', () => {
	const secret = 'p@ss word/with+chars';
	const text = `as sent: ${secret}; encoded ${encodeURIComponent(secret)}; form ${encodeURIComponent(secret).replace(/%20/g, '+')}`;
	assert.equal(redact(text, [secret]), 'as sent: [removed]; encoded [removed]; form [removed]');
	assert.equal(redact('token abc in text', ['abc']), 'token abc in text');
	assert.equal(redact('opaque-token-123 and opaque-token-1234', ['opaque-token-123', 'opaque-token-1234']), '[removed] and [removed]');
});

test("an error answer's text is redacted and shortened when read; a 200 is left as data", () => {
	const parsed = parseErrorBody({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: `bad token Bearer abcdefgh; ${'x'.repeat(3000)}` }] });
	assert.match(parsed.summary, /^error invalid: bad token Bearer \[removed\]; x+…$/);
	assert.ok(parsed.summary.length <= 1000);
});

const stream = (chunks) => Readable.from(chunks.map((c) => Buffer.from(c)));

test('readBounded: stops at maxBytes with an error naming the setting, or cuts; counts bytes, not characters', async () => {
	await assert.rejects(readBounded(stream(['a'.repeat(600), 'b'.repeat(600)]), { maxBytes: 1000, overflow: 'fail', request: 'GET https://x/Patient' }), (e) => {
		assert.equal(e.kind, 'limit');
		assert.match(e.message, /The answer to GET https:\/\/x\/Patient is larger than 1000 bytes \(Max Response Size \(MB\)\)/);
		return true;
	});
	assert.equal(await readBounded(stream(['abc', 'def']), { maxBytes: 4, overflow: 'cut' }), 'abcd');
	// é is two bytes in UTF-8: 600 of them are 1,200 bytes
	await assert.rejects(readBounded(stream(['é'.repeat(600)]), { maxBytes: 1000, overflow: 'fail' }));
	assert.equal(await readBounded(stream(['é'.repeat(400)]), { maxBytes: 1000, overflow: 'fail' }), 'é'.repeat(400));
});

test('readBounded: a character split across chunks arrives whole; an ASCII answer parses like one read at once', async () => {
	const bytes = Buffer.from('{"name":"Zoë Ångström","city":"Montréal"}');
	const at = bytes.indexOf(0xc3) + 1; // in the middle of the first two-byte character
	const split = Readable.from([bytes.subarray(0, at), bytes.subarray(at, at + 7), bytes.subarray(at + 7)]);
	assert.deepEqual(JSON.parse(await readBounded(split, { maxBytes: 1000, overflow: 'fail' })), { name: 'Zoë Ångström', city: 'Montréal' });
	const page = JSON.stringify({ resourceType: 'Bundle', entry: Array.from({ length: 50 }, (_, i) => ({ resource: { resourceType: 'Patient', id: `p${i}` } })) });
	const chunks = [];
	for (let i = 0; i < page.length; i += 333) chunks.push(page.slice(i, i + 333));
	assert.equal(await readBounded(stream(chunks), { maxBytes: 1e6, overflow: 'fail' }), page);
});

test('readBounded: a body that is still arriving after the deadline stops with an error naming the setting', async () => {
	let now = 0;
	async function* slow() {
		for (let i = 0; i < 10; i++) {
			now += 1000;
			yield Buffer.from('x');
		}
	}
	await assert.rejects(readBounded(Readable.from(slow()), { maxBytes: 100, overflow: 'fail', deadlineAt: 5000, deadlineMs: 5000, now: () => now }), (e) => {
		assert.match(e.message, /took longer than 5 s \(Response Time Limit \(Seconds\)\), so it was stopped after [5-9] bytes/);
		return true;
	});
});

test('finishResponse: error bodies cut to 64 KB and redacted with the held secrets; Leave Out keeps codes only; streams only when asked', async () => {
	const policy = { limits: { maxBytes: 1000, deadlineMs: 60_000 }, secrets: () => ['held-secret-value'] };
	const request = { method: 'GET', url: 'https://x/fhir/Patient?name=a' };
	const body = JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: `held-secret-value ${'y'.repeat(100_000)}` }] });
	const error = await finishResponse(request, { status: 400, headers: {}, body: stream([body]) }, policy, 0);
	assert.ok(error.body.length <= 64 * 1024);
	assert.ok(!error.body.includes('held-secret-value'));
	const small = JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: 'Patient Jane Doe (MRN 1112648) not found' }] });
	const leftOut = await finishResponse(request, { status: 400, headers: {}, body: stream([small]) }, { ...policy, serverText: false }, 0);
	assert.ok(!leftOut.body.includes('Jane'));
	const parsed = parseErrorBody(leftOut.body);
	assert.equal(parsed.textLeftOut, true);
	assert.equal(parsed.summary, 'error invalid');
	const ok = await finishResponse({ ...request, stream: true }, { status: 200, headers: {}, body: stream(['x'.repeat(5000)]) }, policy, 0);
	assert.equal(typeof ok.body, 'object', 'a stream when one was asked for (bulk files: their own bounds)');
	await assert.rejects(finishResponse(request, { status: 200, headers: {}, body: stream(['x'.repeat(5000)]) }, policy, 0), /larger than/);
});

test("the credential's switch: defaults unless on; values out of range name the field", () => {
	const fields = Object.fromEntries(responseOptionFields.map((f) => [f.name, f]));
	assert.equal(fields.maxResponseMb.default * 1024 * 1024, DEFAULT_RESPONSE_LIMITS.maxBytes, 'the field shows the default that applies');
	assert.equal(fields.responseTimeLimitSeconds.default * 1000, DEFAULT_RESPONSE_LIMITS.deadlineMs);
	assert.deepEqual(responseOptionsOf({ maxResponseMb: 1 }), { limits: { maxBytes: 50 * 1024 * 1024, deadlineMs: 120_000 }, serverText: true });
	assert.deepEqual(responseOptionsOf({ responseOptions: true, maxResponseMb: 5, responseTimeLimitSeconds: 30, serverTextInErrors: 'leaveOut' }), {
		limits: { maxBytes: 5 * 1024 * 1024, deadlineMs: 30_000 },
		serverText: false,
	});
	assert.throws(() => responseOptionsOf({ responseOptions: true, maxResponseMb: 0 }), (e) => e instanceof InputError && e.field === 'Max Response Size (MB)');
	assert.throws(() => responseOptionsOf({ responseOptions: true, responseTimeLimitSeconds: 'soon' }), (e) => e instanceof InputError && /"soon" is not a number from 5 to 3600/.test(e.message));
});

test('bulk modules keep a text body the transport read within a raised Max Response Size', async () => {
	const { readText } = await import('../nodes/EClinicalWorks/fhir/bulk/util.ts');
	const big = 'x'.repeat(DEFAULT_RESPONSE_LIMITS.maxBytes + 10);
	assert.equal((await readText(big)).length, big.length);
	await assert.rejects(readText(stream([big])), /larger than 50 MB/, 'a stream nobody bounded yet gets the default');
});
