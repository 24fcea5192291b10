// The plain checks behind bulk completeness and bounds: the one-pass line scanner (fhir/bulk/lines.ts),
// what counts as a whole delivery (completeness.ts), the line bound in Records mode (ndjson.ts) and in
// parts (parts.ts), and which scopes cover a type (scopes.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';

import { LineScanner } from '../../nodes/EClinicalWorks/fhir/bulk/lines.ts';
import { deliveryProblem } from '../../nodes/EClinicalWorks/fhir/bulk/completeness.ts';
import { LineTooLongError } from '../../nodes/EClinicalWorks/fhir/bulk/limits.ts';
import { parseNdjson } from '../../nodes/EClinicalWorks/fhir/bulk/ndjson.ts';
import { splitAtLines } from '../../nodes/EClinicalWorks/fhir/bulk/parts.ts';
import { coversRead, offeredSystemWildcard, typesNotCovered } from '../../nodes/EClinicalWorks/fhir/scopes.ts';

const chunked = (data, size) => Readable.from((function* () {
	for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
})());

function scan(text, chunkSize, max = 1024) {
	const scanner = new LineScanner('Patient-1.ndjson', max);
	const data = Buffer.from(text, 'utf8');
	for (let i = 0; i < data.length; i += chunkSize) scanner.push(data.subarray(i, i + chunkSize));
	return scanner.finish();
}

test('the scanner counts records, sees a damaged line and a missing final line break, whatever the chunks', () => {
	const good = '{"a":1}\n{"b":"Zoë"}\r\n\n  {"c":[1,2]}  \n';
	for (const size of [1, 2, 3, 7, 100]) {
		assert.deepEqual(scan(good, size), { records: 3, bytes: Buffer.byteLength(good), terminated: true, damagedLine: undefined }, `chunks of ${size}`);
		const cut = scan('{"a":1}\n{"b":2}\n{"c":', size);
		assert.equal(cut.records, 3);
		assert.equal(cut.terminated, false);
		assert.equal(cut.damagedLine, undefined, 'a cut last line is reported as cut off, not damaged');
		assert.equal(scan('{"a":1}\n{"b":2\n{"c":3}\n', size).damagedLine, 2);
		assert.equal(scan('{"a":1}\n[1,2]\n', size).damagedLine, 2);
		assert.equal(scan('{"a":1}\n   \n', size).terminated, true, 'blank bytes after the last line break are no line');
	}
});

test('the scanner stops a line past the bound as it grows, naming the line', () => {
	const scanner = new LineScanner('Patient-1.ndjson', 100);
	scanner.push(Buffer.from('{"a":1}\n'));
	scanner.push(Buffer.from(`{"b":"${'x'.repeat(60)}`));
	assert.throws(() => scanner.push(Buffer.from('x'.repeat(60))), (e) => e instanceof LineTooLongError && /Line 2 of bulk file Patient-1\.ndjson is longer than 100 bytes \(Max Line Size\)/.test(e.message));
});

test('what counts as whole: the count, the Content-Length when comparable, the final line break, every line', () => {
	const whole = { records: 40, bytes: 1000, terminated: true };
	assert.equal(deliveryProblem(40, whole), undefined);
	assert.equal(deliveryProblem(undefined, whole), undefined);
	assert.match(deliveryProblem(40, { ...whole, records: 25 }), /the manifest lists 40 records and 25 arrived \(the body ended early, at a line break\)/);
	assert.match(deliveryProblem(40, { ...whole, records: 41 }), /more than listed/);
	assert.match(deliveryProblem(undefined, { ...whole, terminated: false }), /its last line has no line break: the body was cut off/);
	assert.match(deliveryProblem(40, { ...whole, terminated: false }), /its last line has no line break/, 'also when the count matches');
	assert.match(deliveryProblem(undefined, { ...whole, declaredBytes: 1200 }), /announced 1,200 bytes \(Content-Length\) and 1,000 arrived/);
	assert.match(deliveryProblem(40, { ...whole, damagedLine: 7 }), /line 7 is not a whole JSON object/);
});

test('Records mode: a line with no end stops at Max Line Size; a last line without a line break is reported', async () => {
	const long = Buffer.concat([Buffer.from('{"a":1}\n{"b":"'), Buffer.alloc(5000, 0x41)]);
	await assert.rejects(
		parseNdjson(chunked(long, 512), { fileLabel: 'Patient-1.ndjson', maxLineBytes: 1000, onRecord: () => {} }),
		(e) => e instanceof LineTooLongError && /Line 2 of bulk file Patient-1\.ndjson/.test(e.message),
	);
	const ended = await parseNdjson(chunked(Buffer.from('{"a":1}\n{"b":2}\n'), 3), { fileLabel: 'x', onRecord: () => {} });
	assert.equal(ended.terminated, true);
	const open = await parseNdjson(chunked(Buffer.from('{"a":1}\n{"b":2}'), 3), { fileLabel: 'x', onRecord: () => {} });
	assert.equal(open.terminated, false);
	assert.equal(open.records, 2);
	await assert.rejects(
		parseNdjson(chunked(Buffer.from('{"a":1}\n{"b":'), 3), { fileLabel: 'x', onRecord: () => {} }),
		/Line 2 of bulk file x is not valid JSON and has no line break: the body was cut off/,
	);
});

test('parts: a line with no end stops at Max Line Size before it is held whole; each part carries the running count', async () => {
	const long = Buffer.concat([Buffer.from('{"a":1}\n'), Buffer.alloc(50_000, 0x41)]);
	await assert.rejects(
		splitAtLines(chunked(long, 1000), 2000, async () => {}, { fileLabel: 'Patient-1.ndjson', maxLineBytes: 10_000 }),
		(e) => e instanceof LineTooLongError && /Line 2 of bulk file Patient-1\.ndjson is longer than 10 KB/.test(e.message),
	);
	const data = Buffer.from(Array.from({ length: 30 }, (_, i) => JSON.stringify({ id: `p${i}`, pad: 'x'.repeat(50) })).join('\n') + '\n{"cut":');
	const seen = [];
	const { scan: result } = await splitAtLines(chunked(data, 97), 500, async (part) => void seen.push([part.records, part.recordsSoFar]));
	assert.equal(seen.reduce((n, [r]) => n + r, 0), 31);
	assert.deepEqual(seen.at(-1)[1], 31);
	assert.equal(result.records, 31);
	assert.equal(result.terminated, false);
});

test('scopes: which read a type (v1, v2, wildcards), and the system wildcard a server offers', () => {
	for (const scope of ['system/Patient.read', 'system/Patient.rs', 'system/Patient.r', 'system/Patient.cruds', 'system/Patient.*', 'system/*.read', 'system/*.rs', 'system/*.r', 'user/Patient.read']) {
		assert.equal(coversRead(scope, 'Patient'), true, scope);
	}
	for (const scope of ['system/Patient.write', 'system/Patient.c', 'system/Patient.ud', 'system/Encounter.read', 'openid', 'launch/patient']) {
		assert.equal(coversRead(scope, 'Patient'), false, scope);
	}
	assert.deepEqual(typesNotCovered('system/Patient.read system/Coverage.r system/Group.read', ['Patient', 'Coverage', 'Encounter', 'Group']), ['Encounter']);
	assert.deepEqual(typesNotCovered('system/*.rs', ['Patient', 'Medication']), []);
	assert.equal(offeredSystemWildcard(['system/Patient.read', 'system/*.rs', 'system/*.read']), 'system/*.read');
	assert.equal(offeredSystemWildcard(['system/Patient.read']), undefined);
	assert.equal(offeredSystemWildcard(undefined), undefined);
});
