// Files mode's parts (fhir/bulk/parts.ts): a stream cut into pieces of bounded size at line breaks,
// whatever the chunk boundaries; every part a valid NDJSON file, nothing lost or repeated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';

import { partFileName, splitAtLines } from '../../nodes/EClinicalWorks/fhir/bulk/parts.ts';

/** NDJSON lines of varying length (multi-byte characters included). */
function ndjson(n, { crlf = false, pad = 0 } = {}) {
	const lines = [];
	for (let i = 0; i < n; i++) lines.push(JSON.stringify({ resourceType: 'Patient', id: `pt-${i}`, name: `Zoë ${'x'.repeat((i * 37) % 120 + pad)}` }));
	return Buffer.from(lines.join(crlf ? '\r\n' : '\n') + (crlf ? '\r\n' : '\n'), 'utf8');
}

/** A stream of `data` in chunks of `size` bytes (1 = byte by byte). */
const chunked = (data, size) => Readable.from((function* () {
	for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
})());

async function split(data, maxBytes, chunkSize) {
	const parts = [];
	const result = await splitAtLines(chunked(data, chunkSize), maxBytes, async (part) => {
		// a part's memory is reused for the next one: keep a copy
		parts.push({ ...part, data: Buffer.from(part.data) });
	});
	return { parts, result };
}

test('parts end at a line break, stay within the size, and add up to the file, whatever the chunks', async () => {
	const data = ndjson(500);
	for (const chunkSize of [1, 7, 64, 1000, 65536, data.length]) {
		for (const maxBytes of [200, 1000, 4096, data.length * 2]) {
			const { parts, result } = await split(data, maxBytes, chunkSize);
			assert.deepEqual(Buffer.concat(parts.map((p) => p.data)), data, `chunks ${chunkSize}, parts ${maxBytes}: nothing lost or doubled`);
			assert.equal(result.bytes, data.length);
			assert.equal(result.parts, parts.length);
			parts.forEach((p, i) => {
				assert.equal(p.index, i);
				assert.ok(p.data.length <= maxBytes, `part ${i} is ${p.data.length} bytes, over ${maxBytes}`);
				assert.equal(p.data.at(-1), 0x0a, 'ends at a line break');
				const lines = p.data.toString('utf8').split('\n').filter(Boolean);
				for (const line of lines) JSON.parse(line);
				assert.equal(p.records, lines.length);
			});
			assert.equal(parts.reduce((n, p) => n + p.records, 0), 500);
			if (maxBytes >= data.length) assert.equal(parts.length, 1, 'a file within the size is one part');
		}
	}
});

test('a line longer than a part stays whole (that part is larger); CRLF and a last line without a break', async () => {
	const long = JSON.stringify({ resourceType: 'DocumentReference', id: 'big', content: 'y'.repeat(5000) });
	const data = Buffer.from(`{"id":"a"}\n${long}\n{"id":"b"}\n{"id":"c"}`, 'utf8');
	const { parts } = await split(data, 1000, 100);
	assert.deepEqual(Buffer.concat(parts.map((p) => p.data)), data);
	assert.ok(parts.some((p) => p.data.toString().includes('"big"') && p.data.length > 1000), 'the long line is one part');
	for (const p of parts) for (const line of p.data.toString().split('\n').filter(Boolean)) JSON.parse(line);
	assert.ok(parts.at(-1).data.toString().endsWith('{"id":"c"}'), 'the last line, without its missing break');
	assert.equal(parts.reduce((n, p) => n + p.records, 0), 4);

	const crlf = ndjson(50, { crlf: true });
	const split2 = await split(crlf, 600, 33);
	assert.deepEqual(Buffer.concat(split2.parts.map((p) => p.data)), crlf);
	assert.equal(split2.parts.reduce((n, p) => n + p.records, 0), 50);
});

test('every part within the size is built in the same memory (no garbage per part)', async () => {
	const data = ndjson(400);
	const seen = new Set();
	await splitAtLines(chunked(data, 300), 2000, async (part) => {
		seen.add(part.data.buffer);
	});
	assert.equal(seen.size, 1);
});

test('reading waits for each part to be stored (one part in memory at a time)', async () => {
	const data = ndjson(300, { pad: 200 });
	let storing = false;
	let overlapped = false;
	await splitAtLines(chunked(data, 512), 4000, async () => {
		if (storing) overlapped = true;
		storing = true;
		await new Promise((r) => setTimeout(r, 2));
		storing = false;
	});
	assert.equal(overlapped, false);
});

test('part file names: Patient-1.ndjson, part 3 of 12 -> Patient-1.part-003.ndjson', () => {
	assert.equal(partFileName('Patient-1.ndjson', 2, 12), 'Patient-1.part-003.ndjson');
	assert.equal(partFileName('errors-1.ndjson', 0, 1500), 'errors-1.part-0001.ndjson');
	assert.equal(partFileName('noext', 0, 2), 'noext.part-001');
});
