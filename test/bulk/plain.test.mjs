import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';

import { parseNdjson, NdjsonError } from '../../nodes/EClinicalWorks/fhir/bulk/ndjson.ts';
import { parseManifest } from '../../nodes/EClinicalWorks/fhir/bulk/manifest.ts';
import { parseRetryAfter, untilNextMinute } from '../../nodes/EClinicalWorks/fhir/bulk/util.ts';
import { buildKickoff, validateKickoff } from '../../nodes/EClinicalWorks/fhir/bulk/kickoff.ts';
import { exportKey } from '../../nodes/EClinicalWorks/fhir/bulk/state.ts';
import { planTargets, runPool, tokenRule } from '../../nodes/EClinicalWorks/fhir/bulk/download.ts';
import { InputError, FhirError } from '../../nodes/EClinicalWorks/fhir/errors.ts';

const chunks = (...parts) => Readable.from(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));

test('ndjson: chunk boundaries, CRLF, blank lines, last line without newline', async () => {
	const euro = Buffer.from('{"resourceType":"Patient","id":"€1"}\n');
	const split = euro.indexOf(0xe2) + 1; // inside the multi-byte character
	const stream = chunks('{"resourceType":"Patient","id":"a"}\r\n', '\n  \n{"resourceType":"Pat', 'ient","id":"b"}\n', euro.subarray(0, split), euro.subarray(split), '{"resourceType":"Patient","id":"c"}');
	const seen = [];
	const result = await parseNdjson(stream, { fileLabel: 'Patient-1.ndjson', onRecord: (r, line) => void seen.push([r.id, line]) });
	assert.deepEqual(seen, [['a', 1], ['b', 4], ['€1', 5], ['c', 6]]);
	assert.equal(result.records, 4);
	assert.equal(result.lines, 6);
	assert.equal(result.stopped, false);
});

test('ndjson: malformed line names file and line, not its content', async () => {
	const stream = chunks('{"resourceType":"Patient","id":"a"}\n{"resourceType":"Patient","name":"SECRET"\n');
	await assert.rejects(
		parseNdjson(stream, { fileLabel: 'Patient-2.ndjson', onRecord: () => {} }),
		(error) => error instanceof NdjsonError && error.lineNumber === 2 && /Line 2 of bulk file Patient-2\.ndjson/.test(error.message) && !/SECRET/.test(error.message),
	);
});

test('ndjson: Max Line Size counts bytes, not characters, for a line inside one chunk and for one across chunks', async () => {
	const { LineTooLongError } = await import('../../nodes/EClinicalWorks/fhir/bulk/limits.ts');
	// 16 characters, 24 bytes (é is two): over 20 bytes though under 20 characters
	const wide = '{"a":"éééééééé"}';
	const fits = '{"a":"abcdefghij"}'; // 18 bytes
	const seen = [];
	await assert.rejects(
		parseNdjson(chunks(`${fits}\n${wide}\n`), { fileLabel: 'f', maxLineBytes: 20, onRecord: (r) => void seen.push(r.a) }),
		(error) => error instanceof LineTooLongError && /Line 2 of bulk file f is longer than 20 bytes/.test(error.message),
	);
	assert.deepEqual(seen, ['abcdefghij']);
	const across = Buffer.from(`${fits}\n${wide}\n`);
	await assert.rejects(
		parseNdjson(chunks(across.subarray(0, 25), across.subarray(25, 35), across.subarray(35)), { fileLabel: 'f', maxLineBytes: 20, onRecord: () => {} }),
		(error) => error instanceof LineTooLongError && /Line 2 of bulk file f/.test(error.message),
	);
	const ok = await parseNdjson(chunks(`${fits}\n${fits}\n`), { fileLabel: 'f', maxLineBytes: 20, onRecord: () => {} });
	assert.equal(ok.records, 2);
});

test('ndjson: skip already-emitted records and stop early', async () => {
	const text = Array.from({ length: 10 }, (_, i) => JSON.stringify({ resourceType: 'Observation', id: String(i) })).join('\n');
	const ids = [];
	const result = await parseNdjson(chunks(text), { fileLabel: 'x', skip: 3, onRecord: (r) => (ids.push(r.id), ids.length < 4) });
	assert.deepEqual(ids, ['3', '4', '5', '6']);
	assert.equal(result.stopped, true);
});

test('manifest: validates, normalises, resolves relative urls and next link', () => {
	const m = parseManifest(
		JSON.stringify({
			transactionTime: '2025-01-06T10:00:00Z',
			request: 'https://fhir.example/Group/1/$export?_type=Patient',
			requiresAccessToken: true,
			output: [{ type: 'Patient', url: 'files/p1.ndjson', count: 3 }],
			error: [{ type: 'OperationOutcome', url: 'https://fhir.example/files/e1.ndjson' }],
			link: [{ relation: 'next', url: 'manifest?page=2' }],
		}),
		'https://fhir.example/status/1',
	);
	assert.equal(m.output[0].url, 'https://fhir.example/status/files/p1.ndjson');
	assert.equal(m.output[0].count, 3);
	assert.equal(m.output[0].requiresAccessToken, true);
	assert.equal(m.error.length, 1);
	assert.deepEqual(m.deleted, []);
	assert.equal(m.next, 'https://fhir.example/status/manifest?page=2');
	assert.throws(() => parseManifest('{"output":[]}'), /transactionTime/);
	assert.throws(() => parseManifest('not json'), /not JSON/);
	assert.throws(() => parseManifest({ transactionTime: '2025-01-06T10:00:00Z', output: [{ type: 'Patient' }] }), /output\[0\] has no url/);
});

test('retry-after: seconds, HTTP date, junk', () => {
	const now = Date.parse('2025-01-06T10:00:00Z');
	assert.equal(parseRetryAfter('120', now), 120000);
	assert.equal(parseRetryAfter('1.5', now), 1500);
	assert.equal(parseRetryAfter('Mon, 06 Jan 2025 10:00:30 GMT', now), 30000);
	assert.equal(parseRetryAfter('Mon, 06 Jan 2025 09:00:00 GMT', now), 0);
	assert.equal(parseRetryAfter('soon-ish 12', now), undefined);
	assert.equal(parseRetryAfter(undefined, now), undefined);
	assert.equal(untilNextMinute(now + 45000), 15000);
});

test('retry-after: epoch time points (milliseconds, seconds) are points in time, one parser for bulk and the FHIR client', async () => {
	const now = Date.parse('2025-01-06T10:00:00Z');
	assert.equal(parseRetryAfter(String(now + 360_000), now), 360_000, 'epoch milliseconds');
	assert.equal(parseRetryAfter(String(now / 1000 + 360), now), 360_000, 'epoch seconds');
	assert.equal(parseRetryAfter(String(now - 5_000), now), 0, 'a time point already past');
	assert.equal(parseRetryAfter('86400', now), 86_400_000, 'a day in delta seconds stays a delay');
	const client = await import('../../nodes/EClinicalWorks/fhir/retry.ts');
	assert.equal(parseRetryAfter, client.parseRetryAfter, 'the same function');
	assert.equal(client.formatWait(360_000), '6 min');
	assert.equal(client.formatWait(365_000), '6 min 5 s');
	assert.equal(client.formatWait(45_000), '45 s');
	assert.equal(client.formatWait(3_720_000), '1 h 2 min');
});

test('kickoff: GET query, POST Parameters body, validation', () => {
	const get = buildKickoff({ level: 'group', groupId: 'g-1', types: ['Patient', 'Observation'], since: '2025-01-06T00:00:00-05:00', outputFormat: 'application/fhir+ndjson' });
	assert.equal(get.path, 'Group/g-1/$export');
	assert.equal(get.headers.Prefer, 'respond-async');
	assert.equal(get.headers.Accept, 'application/fhir+json');
	assert.deepEqual(get.query, [['_outputFormat', 'application/fhir+ndjson'], ['_since', '2025-01-06T00:00:00-05:00'], ['_type', 'Patient,Observation']]);
	const post = buildKickoff({ level: 'patient', method: 'POST', types: ['Patient'], typeFilter: ['Patient?gender=female'], patients: ['Patient/1'] });
	assert.equal(post.path, 'Patient/$export');
	const body = JSON.parse(post.body);
	assert.equal(body.resourceType, 'Parameters');
	assert.deepEqual(body.parameter.find((p) => p.name === 'patient'), { name: 'patient', valueReference: { reference: 'Patient/1' } });
	assert.equal(buildKickoff({ level: 'system' }).path, '$export');

	assert.throws(() => validateKickoff({ level: 'group', groupId: 'Group/1' }), (e) => e instanceof InputError && e.field === 'Group ID');
	assert.throws(() => validateKickoff({ level: 'group', groupId: '' }), InputError);
	assert.throws(() => validateKickoff({ level: 'system', since: '2025-01-06T00:00:00' }), (e) => e.field === 'Since');
	assert.throws(() => validateKickoff({ level: 'system', types: ['patient;drop'] }), (e) => e.field === 'Resource Types');
	assert.throws(() => validateKickoff({ level: 'system', outputFormat: 'text/csv' }), (e) => e.field === 'Output Format');
});

test('kickoff: eCW mode rejects everything but _type, _since, _outputFormat at Group level', () => {
	assert.doesNotThrow(() => validateKickoff({ ecw: true, level: 'group', groupId: '7', types: ['Patient'], since: '2025-01-06T00:00:00Z', outputFormat: 'application/fhir+ndjson' }));
	assert.throws(() => validateKickoff({ ecw: true, level: 'system' }), (e) => e.field === 'Level' && /Group level/.test(e.message));
	assert.throws(
		() => validateKickoff({ ecw: true, level: 'group', groupId: '7', typeFilter: ['Observation?category=laboratory'], elements: ['id'] }),
		(e) => e instanceof InputError && /_typeFilter/.test(e.message) && /_elements/.test(e.message) && /_type.*_since.*_outputFormat/.test(e.fix),
	);
	assert.throws(() => validateKickoff({ ecw: true, level: 'group', groupId: '7', method: 'POST' }), InputError);
});

test('state keys: same export = same credential, base URL, level, group and set of types (in-flight and transactionTime: state.test.mjs)', () => {
	const k1 = exportKey({ baseUrl: 'https://f.example/r4/', level: 'group', groupId: 'g', types: ['Observation', 'Patient'] });
	const k2 = exportKey({ baseUrl: 'https://f.example/r4', level: 'group', groupId: 'g', types: ['Patient', 'Observation', 'Patient'] });
	assert.equal(k1, k2);
	assert.notEqual(k1, exportKey({ baseUrl: 'https://f.example/r4', level: 'group', groupId: 'h', types: ['Patient', 'Observation'] }));
	assert.notEqual(k1, exportKey({ baseUrl: 'https://f.example/r4', level: 'system', types: ['Patient', 'Observation'] }));
	const c1 = exportKey({ baseUrl: 'https://f.example/r4', level: 'group', groupId: 'g', types: ['Patient', 'Observation'], credentialId: 'cred1' });
	assert.equal(c1, `cred1|${k1}`, 'the credential comes first: two apps exporting the same Group keep two states');
	assert.notEqual(c1, exportKey({ baseUrl: 'https://f.example/r4', level: 'group', groupId: 'g', types: ['Patient', 'Observation'], credentialId: 'cred2' }));
});

test('download: token only to the FHIR origin and only when required; names; pool', async () => {
	const base = 'https://fhir.example/r4/abc';
	assert.deepEqual(tokenRule(base, { url: 'https://fhir.example/files/1', requiresAccessToken: true }), { withToken: true });
	assert.deepEqual(tokenRule(base, { url: 'https://fhir.example/files/1', requiresAccessToken: false }), { withToken: false });
	assert.deepEqual(tokenRule(base, { url: 'https://bucket.example/files/1', requiresAccessToken: false }), { withToken: false });
	assert.throws(() => tokenRule(base, { url: 'https://bucket.example/files/1?sig=x', requiresAccessToken: true }), (e) => e instanceof FhirError && e.kind === 'origin' && !/sig=x/.test(e.message + e.request));
	const names = planTargets([{ type: 'Patient' }, { type: 'Patient' }, { type: 'Observation' }].map((f) => ({ ...f, url: 'x' })), 'output').map((t) => t.fileName);
	assert.deepEqual(names, ['Patient-1.ndjson', 'Patient-2.ndjson', 'Observation-1.ndjson']);
	let running = 0;
	let peak = 0;
	const out = await runPool([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
		running++;
		peak = Math.max(peak, running);
		await new Promise((r) => setTimeout(r, 5));
		running--;
		return n * 2;
	});
	assert.deepEqual(out, [2, 4, 6, 8, 10, 12, 14]);
	assert.equal(peak, 3);
});

test('Since from the date picker: the workflow time zone, or the offset the value carries', async () => {
	const { toInstant } = await import('../../nodes/EClinicalWorks/actions/bulkExport/request.ts');
	assert.equal(toInstant('2025-01-06T00:00:00', 'America/New_York'), '2025-01-06T00:00:00-05:00');
	assert.equal(toInstant('2025-07-06T08:30:00', 'America/New_York'), '2025-07-06T08:30:00-04:00');
	assert.equal(toInstant('2025-01-06T00:00:00Z', 'America/New_York'), '2025-01-06T00:00:00Z');
	assert.equal(toInstant('2025-01-06T00:00:00+01:00', 'America/New_York'), '2025-01-06T00:00:00+01:00');
	assert.throws(() => toInstant('yesterday', 'UTC'), (e) => e instanceof InputError && e.field === 'Changed Since');
	assert.throws(() => toInstant('', 'UTC'), InputError);
	assert.doesNotThrow(() => validateKickoff({ level: 'system', since: toInstant('2025-01-06T00:00:00', 'Europe/Berlin') }));
});
