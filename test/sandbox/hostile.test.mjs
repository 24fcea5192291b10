// The sandbox's hostile answers (issue 19.2, 19.3): each observable on the wire, off unless injected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { startSandbox } from '../../sandbox/index.mjs';
import { get, postForm, token } from './helpers.mjs';

const MB = 1024 * 1024;

async function withSandbox(opts, fn) {
	const s = await startSandbox({ patients: 5, ...opts });
	try {
		return await fn(s);
	} finally {
		await s.stop();
	}
}

/** Raw bytes on the wire (no decompression), with the response headers. */
function rawGet(url, tok) {
	return new Promise((resolve, reject) => {
		http.get(url, { headers: { authorization: `Bearer ${tok}`, 'accept-encoding': 'gzip' } }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
			res.on('error', reject);
		}).on('error', reject);
	});
}

test('huge-page: a valid searchset Bundle of the asked size, once; then the real page', () =>
	withSandbox({}, async (s) => {
		const t = await token(s);
		s.inject({ kind: 'huge-page', bytes: 3 * MB, path: '/Encounter$' });
		const huge = await get(`${s.baseUrl}/Encounter?_count=2`, t);
		assert.equal(huge.status, 200);
		assert.ok(huge.text.length >= 3 * MB, `${huge.text.length} bytes`);
		assert.equal(huge.json.resourceType, 'Bundle');
		assert.ok(huge.json.entry.length > 10);
		const real = await get(`${s.baseUrl}/Encounter?_count=2`, t);
		assert.equal(real.json.entry.length, 2);
	}));

test('gzip-bomb: a few hundred kB on the wire, the asked size once inflated, valid JSON', () =>
	withSandbox({}, async (s) => {
		const t = await token(s);
		s.inject({ kind: 'gzip-bomb', bytes: 20 * MB });
		const r = await rawGet(`${s.baseUrl}/Encounter?_count=2`, t);
		assert.equal(r.headers['content-encoding'], 'gzip');
		assert.ok(r.body.length < 100_000, `${r.body.length} bytes on the wire`);
		const inflated = zlib.gunzipSync(r.body);
		assert.ok(inflated.length > 20 * MB);
		assert.equal(JSON.parse(inflated.toString()).resourceType, 'Bundle');
	}));

test('drip: headers at once, then one byte per interval, never idle for longer', () =>
	withSandbox({}, async (s) => {
		const t = await token(s);
		s.inject({ kind: 'drip', intervalMs: 100 });
		const started = Date.now();
		const controller = new AbortController();
		const res = await fetch(`${s.baseUrl}/Patient`, { headers: { authorization: `Bearer ${t}` }, signal: controller.signal });
		assert.equal(res.status, 200);
		assert.ok(Date.now() - started < 1000, 'headers at once');
		const reader = res.body.getReader();
		let bytes = 0;
		while (Date.now() - started < 1000) bytes += (await reader.read()).value?.length ?? 0;
		controller.abort();
		assert.ok(bytes >= 5 && bytes <= 15, `${bytes} bytes in about a second`);
	}));

test('truncated-page: the real page cut short, complete at the HTTP level (clean) or with a reset', () =>
	withSandbox({}, async (s) => {
		const t = await token(s);
		const whole = await get(`${s.baseUrl}/Encounter?_count=3`, t);
		s.inject({ kind: 'truncated-page', path: '/Encounter$' });
		const cut = await get(`${s.baseUrl}/Encounter?_count=3`, t);
		assert.equal(cut.status, 200);
		assert.equal(cut.json, undefined, 'not valid JSON');
		assert.ok(cut.text.length > 10 && cut.text.length < whole.text.length, `${cut.text.length} of ${whole.text.length} bytes`);
		assert.ok(cut.text.startsWith('{"resourceType":"Bundle"'));
		s.inject({ kind: 'truncated-page', mode: 'reset', path: '/Encounter$' });
		await assert.rejects(get(`${s.baseUrl}/Encounter?_count=3`, t));
		assert.equal((await get(`${s.baseUrl}/Encounter?_count=3`, t)).json.entry.length, 3, 'one fault, then the real page');
	}));

test('echo: the token endpoint and FHIR endpoints quote the secrets, the query and a patient back', () =>
	// the smart profile: eCW has no client-secret backend client
	withSandbox({ profile: 'smart' }, async (s) => {
		const secret = s.clients.find((c) => c.clientId === 'sandbox-secret');
		s.inject({ kind: 'echo', path: '/token$' });
		const basic = Buffer.from(`${secret.clientId}:${secret.clientSecret}`).toString('base64');
		const r = await postForm(s.tokenUrl, { grant_type: 'client_credentials', scope: 'system/Patient.read' }, { authorization: `Basic ${basic}` });
		assert.equal(r.status, 400);
		assert.equal(r.json.error, 'invalid_request');
		assert.ok(r.json.error_description.includes(secret.clientSecret));
		assert.ok(r.json.error_description.includes(basic));
		const t = await token(s);
		s.inject({ kind: 'echo', path: '/Patient$' });
		const e = await get(`${s.baseUrl}/Patient?identifier=1104729`, t);
		assert.equal(e.status, 400);
		const said = e.json.issue[0].diagnostics;
		assert.ok(said.includes(t), 'the bearer token');
		assert.ok(said.includes('?identifier=1104729'), 'the query');
		assert.match(said, /no match for patient .+ \(MRN \d+\)/);
		assert.equal((await get(`${s.baseUrl}/Patient?identifier=1104729`, t)).status, 200, 'one fault, then the real answer');
	}));
