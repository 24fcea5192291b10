// The smart profile's bulk export quirks (issue 13) and the benchmark's file latency options: each off
// by default, each observable on the wire when on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox } from '../../sandbox/index.mjs';
import { get, kickoff, ndjsonLines, pollToManifest, token, tokenRequest } from './helpers.mjs';

async function withSandbox(opts, fn) {
	const s = await startSandbox({ profile: 'smart', patients: 20, bulkDelayMs: 100, ...opts });
	try {
		return await fn(s);
	} finally {
		await s.stop();
	}
}

async function raw(url, tok, method = 'GET') {
	const res = await fetch(url, { method, headers: { accept: 'application/fhir+json', ...(tok ? { authorization: `Bearer ${tok}` } : {}) } });
	return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text(), headers: res.headers };
}

const EXTRA = 'system/AsyncJob.* system/Binary.* system/BulkDataExport.*';
const EXPORT_SCOPE_ONE = 'system/AsyncJob.*';

test('kickoffTokenExpired off: the first kick-off is accepted', () =>
	withSandbox({}, async (s) => {
		assert.equal((await kickoff(`${s.baseUrl}/$export`, await token(s))).status, 202);
	}));

test('kickoffTokenExpired: a client\'s first kick-off is 401 text/plain "Token expired"; that token stays expired; a fresh one works', () =>
	withSandbox({ quirks: ['kickoffTokenExpired'] }, async (s) => {
		const first = await token(s);
		const refused = await raw(`${s.baseUrl}/$export`, first);
		assert.equal(refused.status, 401);
		assert.match(refused.type, /^text\/plain/);
		assert.equal(refused.text, 'Token expired');
		assert.equal((await get(`${s.baseUrl}/Patient?_count=1`, first)).status, 401, 'the token is expired everywhere now');
		assert.equal((await kickoff(`${s.baseUrl}/$export`, await token(s))).status, 202, 'a freshly minted token is accepted');
		// per client: another client meets it once too
		assert.equal((await raw(`${s.baseUrl}/$export`, await token(s, 'sandbox-es384'))).status, 401);
	}));

test('kickoffTokenExpired=2: the first two kick-offs of a client are refused, fresh tokens or not', () =>
	withSandbox({ quirks: { kickoffTokenExpired: 2 } }, async (s) => {
		assert.equal((await raw(`${s.baseUrl}/$export`, await token(s))).text, 'Token expired');
		assert.equal((await raw(`${s.baseUrl}/$export`, await token(s))).text, 'Token expired');
		assert.equal((await kickoff(`${s.baseUrl}/$export`, await token(s))).status, 202);
	}));

test('otherOriginStatus off: status and file URLs on the FHIR origin', () =>
	withSandbox({}, async (s) => {
		const t = await token(s);
		const k = await kickoff(`${s.baseUrl}/$export?_type=Patient`, t);
		assert.ok(k.headers.get('content-location').startsWith(`${s.baseUrl}/bulkstatus/`));
		const { manifest } = await pollToManifest(k.headers.get('content-location'), t);
		assert.equal(manifest.requiresAccessToken, true);
		assert.ok(manifest.output.every((o) => o.url.startsWith(s.origin)));
	}));

test('otherOriginStatus: the status URL is on the second origin and wants the bearer token there; files are pre-signed there', () =>
	withSandbox({ quirks: ['otherOriginStatus'] }, async (s) => {
		const t = await token(s);
		const k = await kickoff(`${s.baseUrl}/$export?_type=Patient`, t);
		assert.equal(k.status, 202);
		const statusUrl = k.headers.get('content-location');
		assert.match(statusUrl, new RegExp(`^${s.otherOrigin}/bulkstatus/demo/[0-9a-f]+$`));
		const anonymous = await raw(statusUrl);
		assert.equal(anonymous.status, 401, 'no token, no status');
		assert.equal((await raw(statusUrl, null, 'DELETE')).status, 401, 'no token, no cancel');
		const { manifest } = await pollToManifest(statusUrl, t);
		assert.equal(manifest.requiresAccessToken, false);
		assert.equal(manifest.output[0].count, 20);
		for (const o of manifest.output) {
			assert.ok(o.url.startsWith(`${s.otherOrigin}/files/`), o.url);
			assert.match(o.url, /X-Sandbox-Signature=/);
			const file = await get(o.url);
			assert.equal(file.status, 200);
			assert.equal(ndjsonLines(file.text).length, o.count);
		}
		assert.equal((await raw(statusUrl, t, 'DELETE')).status, 202, 'cancel with the token');
		assert.equal((await raw(statusUrl, t)).status, 404);
		assert.ok(s.stats.authHeaderSeenOnOtherOrigin >= 2, 'the sandbox counts tokens sent to the second origin');
	}));

test('exportExtraScopes off: read scopes are enough, the extra scope names are refused like any unknown type', () =>
	withSandbox({}, async (s) => {
		assert.equal((await kickoff(`${s.baseUrl}/$export`, await token(s))).status, 202);
		const r = await tokenRequest(s, 'sandbox-rs384', { scope: `system/Patient.read ${EXPORT_SCOPE_ONE}` });
		assert.equal(r.status, 400);
		assert.equal(r.json.error, 'invalid_scope');
	}));

test('exportExtraScopes: a kick-off without system/AsyncJob.*, Binary.*, BulkDataExport.* is 403 naming them; with them it runs', () =>
	withSandbox({ quirks: ['exportExtraScopes'] }, async (s) => {
		const c = s.client('sandbox-rs384');
		const readOnly = await kickoff(`${s.baseUrl}/$export`, await token(s));
		assert.equal(readOnly.status, 403);
		assert.equal(readOnly.json.resourceType, 'OperationOutcome');
		const text = readOnly.json.issue[0].diagnostics;
		for (const scope of EXTRA.split(' ')) assert.ok(text.includes(scope), text);
		const partial = await kickoff(`${s.baseUrl}/Group/grp-1/$export`, await token(s, 'sandbox-rs384', `${c.scopes} system/AsyncJob.*`));
		assert.equal(partial.status, 403);
		assert.match(partial.json.issue[0].diagnostics, /lacks system\/Binary\.\*, system\/BulkDataExport\.\*$/);
		const full = await token(s, 'sandbox-rs384', `${c.scopes} ${EXTRA}`);
		const k = await kickoff(`${s.baseUrl}/$export?_type=Patient`, full);
		assert.equal(k.status, 202);
		assert.equal((await pollToManifest(k.headers.get('content-location'), full)).manifest.output[0].count, 20);
		// read scopes do not stand in for them, and the server offers them
		assert.equal((await kickoff(`${s.baseUrl}/$export`, await token(s, 'sandbox-rs384', 'system/*.read'))).status, 403);
		const sc = (await get(`${s.baseUrl}/.well-known/smart-configuration`)).json;
		for (const scope of EXTRA.split(' ')) assert.ok(sc.scopes_supported.includes(scope), scope);
	}));

test('epochRetryAfter: bulk status polls say Retry-After as a point in time', () =>
	withSandbox({ quirks: { epochRetryAfter: 'ms' }, bulkDelayMs: 5000, pollRetryAfterSeconds: 360 }, async (s) => {
		const t = await token(s);
		const k = await kickoff(`${s.baseUrl}/$export`, t);
		const poll = await raw(k.headers.get('content-location'), t);
		assert.equal(poll.status, 202);
		assert.ok(Math.abs(Number(poll.headers.get('retry-after')) - (s.now() + 360_000)) < 5_000, poll.headers.get('retry-after'));
	}));

test('bulk file latency and throughput options: off by default, the first byte and the transfer wait when set', async () => {
	const timeFile = async (opts) =>
		await withSandbox({ maxResourcesPerFile: 1000, bulkPaddingBytes: 1000, ...opts }, async (s) => {
			const t = await token(s);
			const k = await kickoff(`${s.baseUrl}/$export?_type=Patient`, t);
			const { manifest } = await pollToManifest(k.headers.get('content-location'), t);
			const t0 = performance.now();
			const r = await get(manifest.output[0].url, t, { accept: 'application/fhir+ndjson' });
			assert.equal(ndjsonLines(r.text).length, 20);
			return { ms: performance.now() - t0, bytes: Buffer.byteLength(r.text) };
		});
	const plain = await timeFile({});
	assert.ok(plain.ms < 1000, `no delay by default (${plain.ms} ms)`);
	const slow = await timeFile({ bulkFileLatencyMs: 400 });
	assert.ok(slow.ms >= 390, `latency ${slow.ms} ms`);
	const narrow = await timeFile({ bulkFileBytesPerSecond: Math.ceil(plain.bytes / 0.6) });
	assert.ok(narrow.ms >= 550, `throughput cap: ${plain.bytes} bytes took ${narrow.ms} ms`);
	const shared = await timeFile({ bulkServerBytesPerSecond: Math.ceil(plain.bytes / 0.6) });
	assert.ok(shared.ms >= 550, `server cap: ${shared.ms} ms`);
});
