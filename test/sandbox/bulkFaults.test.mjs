// The sandbox's hostile bulk cases (issue 19): file bodies that end early (close-delimited, chunked, or
// short of their Content-Length), a doubled line, an over-long line, a dripping body, a manifest with
// N files; the smart quirks scopeFilteredExport, noFileCounts and moreTypes; eCW's 401 for an unknown Group.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startSandbox } from '../../sandbox/index.mjs';
import { get, kickoff, ndjsonLines, pollToManifest, token } from './helpers.mjs';

async function withSandbox(opts, fn) {
	const s = await startSandbox({ bulkDelayMs: 50, ...opts });
	try {
		return await fn(s);
	} finally {
		await s.stop();
	}
}

async function exportManifest(s, t, query = '_type=Patient') {
	const k = await kickoff(`${s.baseUrl}/Group/grp-1/$export?${query}`, t);
	assert.equal(k.status, 202, JSON.stringify(k.json));
	return (await pollToManifest(k.headers.get('content-location'), t)).manifest;
}

/** A GET with node:http: the raw headers, the bytes, and whether the body ended cleanly. */
function rawGet(url, tok) {
	return new Promise((resolve) => {
		const req = http.get(url, { headers: { authorization: `Bearer ${tok}` } }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks), clean: true }));
			res.on('error', () => resolve({ headers: res.headers, body: Buffer.concat(chunks), clean: false }));
		});
		req.on('error', () => resolve({ headers: {}, body: Buffer.alloc(0), clean: false }));
	});
}

test('fault truncate: a close-delimited body (no Content-Length) ends cleanly at a line break, or mid-line', () =>
	withSandbox({ profile: 'ecw', patients: 40 }, async (s) => {
		const t = await token(s);
		const m = await exportManifest(s, t);
		assert.equal(m.output[0].count, 40);
		s.inject({ kind: 'truncate', afterLines: 25 });
		let r = await rawGet(m.output[0].url, t);
		assert.equal(r.clean, true, 'complete at the HTTP level');
		assert.equal(r.headers['content-length'], undefined);
		assert.equal(r.headers['transfer-encoding'], undefined);
		assert.equal(r.headers.connection, 'close');
		let text = r.body.toString();
		assert.ok(text.endsWith('\n'));
		assert.equal(ndjsonLines(text).length, 25);

		s.inject({ kind: 'truncate', afterLines: 10, midLine: true });
		text = (await rawGet(m.output[0].url, t)).body.toString();
		const lines = ndjsonLines(text);
		assert.equal(lines.length, 11);
		assert.ok(!text.endsWith('\n'));
		assert.throws(() => JSON.parse(lines[10]));

		// default: half the file; chunked framing ends just as cleanly
		s.inject({ kind: 'truncate', framing: 'chunked' });
		r = await rawGet(m.output[0].url, t);
		assert.equal(r.clean, true);
		assert.equal(r.headers['transfer-encoding'], 'chunked');
		assert.equal(ndjsonLines(r.body.toString()).length, 20);

		// framing length: the whole file's Content-Length, fewer bytes, then the connection drops
		s.inject({ kind: 'truncate', framing: 'length', afterLines: 5 });
		r = await rawGet(m.output[0].url, t);
		const full = (await get(m.output[0].url, t)).text;
		assert.equal(Number(r.headers['content-length']), Buffer.byteLength(full));
		assert.equal(r.clean, false);
		assert.ok(r.body.length < Buffer.byteLength(full));
		assert.equal(ndjsonLines(full).length, 40, 'the next download is whole');
	}));

test('fault extra-line: line N is sent twice (one more line than the count)', () =>
	withSandbox({ profile: 'smart', patients: 12 }, async (s) => {
		const t = await token(s);
		const m = await exportManifest(s, t);
		s.inject({ kind: 'extra-line', line: 4 });
		const lines = ndjsonLines((await get(m.output[0].url, t)).text);
		assert.equal(lines.length, m.output[0].count + 1);
		assert.equal(lines[3], lines[4]);
	}));

test('fault long-line: a line of `bytes` with no line break ends the body, streamed without holding it', () =>
	withSandbox({ profile: 'smart', patients: 12 }, async (s) => {
		const t = await token(s);
		const m = await exportManifest(s, t);
		s.inject({ kind: 'long-line', line: 3, bytes: 3 * 1024 * 1024 });
		const r = await rawGet(m.output[0].url, t);
		assert.equal(r.clean, true);
		const text = r.body.toString();
		const lines = text.split('\n');
		assert.equal(lines.length, 3, 'two whole lines, then the long one');
		assert.ok(lines[2].length >= 3 * 1024 * 1024 && lines[2].length < 3 * 1024 * 1024 + 100, String(lines[2].length));
		assert.match(lines[2], /^\{"resourceType":"Binary"/);
	}));

test('fault drip: the body comes `bytes` at a time every `intervalMs`', () =>
	withSandbox({ profile: 'smart', patients: 3 }, async (s) => {
		const t = await token(s);
		const m = await exportManifest(s, t);
		s.inject({ kind: 'drip', bytes: 1, intervalMs: 20 });
		const res = await fetch(m.output[0].url, { headers: { authorization: `Bearer ${t}` } });
		const reader = res.body.getReader();
		const started = Date.now();
		let received = 0;
		while (Date.now() - started < 300) {
			const { value, done } = await reader.read();
			if (done) break;
			received += value.length;
		}
		await reader.cancel();
		assert.ok(received > 3 && received < 40, `${received} bytes in 300 ms`);
	}));

test('fault manifest-files: the next finished export lists that many one-record files, each served', () =>
	withSandbox({ profile: 'smart', patients: 5 }, async (s) => {
		const t = await token(s);
		s.inject({ kind: 'manifest-files', files: 2000 });
		const m = await exportManifest(s, t);
		assert.equal(m.output.length, 2000);
		assert.deepEqual([...new Set(m.output.map((f) => f.count))], [1]);
		const last = ndjsonLines((await get(m.output[1999].url, t)).text);
		assert.equal(last.length, 1);
		assert.equal(JSON.parse(last[0]).resourceType, 'Patient');
		assert.equal((await exportManifest(s, t)).output.length, 1, 'count 1: the next export is normal');
	}));

test('quirk noFileCounts: manifest entries carry no count', async () => {
	await withSandbox({ profile: 'smart', patients: 5 }, async (s) => {
		assert.equal((await exportManifest(s, await token(s))).output[0].count, 5, 'off: counts given');
	});
	await withSandbox({ profile: 'smart', patients: 5, quirks: { noFileCounts: true } }, async (s) => {
		const m = await exportManifest(s, await token(s));
		assert.equal('count' in m.output[0], false);
	});
});

test('quirk scopeFilteredExport: types in _type the scopes do not cover are left out without a word; none left is 400', async () => {
	const only = 'system/Patient.read system/Group.read';
	await withSandbox({ profile: 'smart', patients: 5 }, async (s) => {
		const t = await token(s, 'sandbox-rs384', only);
		const k = await kickoff(`${s.baseUrl}/Group/grp-1/$export?_type=Patient,Encounter`, t);
		assert.equal(k.status, 403, 'off: refused naming the scope');
		assert.match(k.json.issue[0].diagnostics, /Encounter/);
		// without _type every profile leaves the uncovered types out
		const m = await exportManifest(s, t, '');
		assert.deepEqual([...new Set(m.output.map((f) => f.type))], ['Patient']);
	});
	await withSandbox({ profile: 'smart', patients: 5, quirks: { scopeFilteredExport: true } }, async (s) => {
		const t = await token(s, 'sandbox-rs384', only);
		const m = await exportManifest(s, t, '_type=Patient,Encounter');
		assert.deepEqual([...new Set(m.output.map((f) => f.type))], ['Patient']);
		const none = await kickoff(`${s.baseUrl}/Group/grp-1/$export?_type=Encounter`, t);
		assert.equal(none.status, 400);
		assert.match(none.json.issue[0].diagnostics, /Could not authorize access to any resources/);
	});
});

test('quirk moreTypes: Medication is declared, registered, and exported with no _type', async () => {
	await withSandbox({ profile: 'smart', patients: 5 }, async (s) => {
		assert.equal((await get(`${s.baseUrl}/metadata`)).json.rest[0].resource.some((r) => r.type === 'Medication'), false, 'off: not served');
	});
	await withSandbox({ profile: 'smart', patients: 5, quirks: { moreTypes: true } }, async (s) => {
		assert.equal((await get(`${s.baseUrl}/metadata`)).json.rest[0].resource.some((r) => r.type === 'Medication'), true);
		const t = await token(s);
		const med = await get(`${s.baseUrl}/Medication/med-1`, t);
		assert.equal(med.status, 200);
		assert.match(med.json.code.text, /Tablet|Inhaler/);
		const k = await kickoff(`${s.baseUrl}/$export`, t);
		const m = (await pollToManifest(k.headers.get('content-location'), t)).manifest;
		assert.ok(m.output.some((f) => f.type === 'Medication'));
	});
});

test('eCW: a kick-off for a Group it does not know answers 401 (eCW: "the group id is invalid/unauthorized"), not 404', () =>
	withSandbox({ profile: 'ecw', patients: 5 }, async (s) => {
		const t = await token(s);
		const k = await kickoff(`${s.baseUrl}/Group/grp-999/$export`, t);
		assert.equal(k.status, 401);
		assert.equal(k.json.resourceType, 'OperationOutcome');
		assert.match(k.json.issue[0].diagnostics, /group id is invalid or unauthorized/i);
		assert.equal((await kickoff(`${s.baseUrl}/Group/grp-1/$export`, t)).status, 202, 'the token itself is fine');
	}));

test('smart: a kick-off for a Group it does not know stays 404', () =>
	withSandbox({ profile: 'smart', patients: 5 }, async (s) => {
		assert.equal((await kickoff(`${s.baseUrl}/Group/grp-999/$export`, await token(s))).status, 404);
	}));
