import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox } from '../../sandbox/index.mjs';
import { ASSERTION_TYPE, assertionFor, get, kickoff, ndjsonLines, pollToManifest, postForm, token, tokenRequest } from './helpers.mjs';

async function withSandbox(opts, fn) {
	const s = await startSandbox({ bulkDelayMs: 100, ...opts });
	try {
		return await fn(s);
	} finally {
		await s.stop();
	}
}

test('eCW rate limit: 250/min per practice, 429 without Retry-After blocks the rest of the minute', async () => {
	let now = Date.parse('2026-03-07T15:00:10Z');
	await withSandbox({ profile: 'ecw', patients: 5, practices: ['a', 'b'], now: () => now }, async (s) => {
		const t = await token(s);
		const url = `${s.baseUrlFor('a')}/Patient/pt-1`;
		const results = [(await get(url, t)).status];
		// 250 with the token request, charged to "a" where the token was first used
		for (let i = 1; i < 249; i += 31) results.push(...(await Promise.all(Array.from({ length: Math.min(31, 249 - i) }, () => get(url, t)))).map((r) => r.status));
		assert.equal(results.length, 249);
		assert.deepEqual([...new Set(results)], [200]);
		const r = await get(url, t);
		assert.equal(r.status, 429);
		assert.equal(r.headers.get('retry-after'), null);
		assert.equal(r.json.issue[0].code, 'throttled');
		now += 30_000; // same minute
		assert.equal((await get(url, t)).status, 429);
		assert.equal((await get(`${s.baseUrlFor('b')}/Patient/pt-1`, t)).status, 200, 'other practice unaffected');
		now += 20_000; // next minute
		assert.equal((await get(url, t)).status, 200);
		assert.equal(s.stats.byPractice.a.byStatus[429], 2);
		assert.equal(s.stats.byStatus[429], 2);
		assert.ok(s.stats.log.some((e) => e.status === 429 && e.practice === 'a' && e.path === '/fhir/r4/a/Patient/pt-1'));
	});
});

test('smart rate limit (when set) answers 429 with Retry-After', async () => {
	let now = Date.parse('2026-03-07T15:00:45Z');
	await withSandbox({ profile: 'smart', patients: 5, rateLimitPerMinute: 3, now: () => now }, async (s) => {
		const t = await token(s);
		for (let i = 0; i < 3; i++) assert.equal((await get(`${s.baseUrl}/Patient/pt-1`, t)).status, 200);
		const r = await get(`${s.baseUrl}/Patient/pt-1`, t);
		assert.equal(r.status, 429);
		assert.equal(r.headers.get('retry-after'), '15');
		now += 15_000;
		assert.equal((await get(`${s.baseUrl}/Patient/pt-1`, t)).status, 200);
		s.inject({ kind: '429' });
		const inj = await get(`${s.baseUrl}/Patient/pt-1`, t);
		assert.equal(inj.status, 429);
		assert.equal(inj.headers.get('retry-after'), '1', 'smart: an injected 429 carries Retry-After');
	});
});

test('faults: 429 (Retry-After / minute block), 500, 503, slow, count, path and practice filters, order', async () => {
	let now = Date.parse('2026-03-07T15:00:10Z');
	await withSandbox({ profile: 'ecw', patients: 5, practices: ['a', 'b'], now: () => now }, async (s) => {
		const t = await token(s);
		const A = `${s.baseUrlFor('a')}/Patient/pt-1`;
		const B = `${s.baseUrlFor('b')}/Patient/pt-1`;
		s.inject({ kind: '429', retryAfter: 7 });
		let r = await get(A, t);
		assert.equal(r.status, 429);
		assert.equal(r.headers.get('retry-after'), '7');
		assert.equal((await get(A, t)).status, 200, 'count defaults to 1');
		// eCW-style 429 without Retry-After blocks the practice until the minute boundary
		s.inject({ kind: '429', practice: 'a' });
		assert.equal((await get(B, t)).status, 200, 'practice filter');
		assert.equal((await get(A, t)).status, 429);
		assert.equal((await get(A, t)).status, 429, 'still blocked');
		now += 50_000;
		assert.equal((await get(A, t)).status, 200, 'unblocked next minute');
		s.inject({ kind: '429', blockRestOfMinute: false });
		assert.equal((await get(A, t)).status, 429);
		assert.equal((await get(A, t)).status, 200);
		// 500 / 503 with count and path
		s.inject({ kind: '500', count: 2, path: /Encounter/ });
		assert.equal((await get(A, t)).status, 200);
		r = await get(`${s.baseUrlFor('a')}/Encounter?patient=pt-1`, t);
		assert.equal(r.status, 500);
		assert.equal(r.json.resourceType, 'OperationOutcome');
		assert.equal((await get(`${s.baseUrlFor('a')}/Encounter?patient=pt-1`, t)).status, 500);
		assert.equal((await get(`${s.baseUrlFor('a')}/Encounter?patient=pt-1`, t)).status, 200);
		s.inject({ kind: '503', retryAfter: 2 });
		s.inject({ kind: '500' });
		r = await get(A, t);
		assert.equal(r.status, 503, 'faults apply in order');
		assert.equal(r.headers.get('retry-after'), '2');
		assert.equal(r.json.issue[0].code, 'transient');
		assert.equal((await get(A, t)).status, 500);
		// slow
		s.inject({ kind: 'slow', delayMs: 300 });
		const t0 = Date.now();
		assert.equal((await get(A, t)).status, 200);
		assert.ok(Date.now() - t0 >= 280);
		// clearFaults
		s.inject({ kind: '500', count: 5 });
		s.clearFaults();
		assert.equal((await get(A, t)).status, 200);
		// a fault on the token endpoint
		s.inject({ kind: '503', path: /oauth2\/token/ });
		assert.equal((await tokenRequest(s, 'sandbox-rs384')).status, 503);
	});
});

test('faults on the token endpoint: the server saw the request, so re-sending the same assertion is a replay; disconnect resets the connection', () =>
	withSandbox({ profile: 'ecw', patients: 5 }, async (s) => {
		const c = s.client('sandbox-rs384');
		const form = (assertion) => ({ grant_type: 'client_credentials', scope: 'system/Patient.read', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion });
		for (const fault of [{ kind: '503' }, { kind: '500' }, { kind: '429', retryAfter: 1 }, { kind: 'disconnect' }]) {
			const assertion = assertionFor(s, c.clientId);
			s.inject({ ...fault, path: /oauth2\/token/ });
			if (fault.kind === 'disconnect') {
				await assert.rejects(postForm(s.tokenUrl, form(assertion)), (e) => {
					assert.match(String(e.cause?.code ?? e.code), /ECONNRESET|UND_ERR_SOCKET/);
					return true;
				});
			} else {
				assert.equal((await postForm(s.tokenUrl, form(assertion))).status, Number(fault.kind));
			}
			const same = await postForm(s.tokenUrl, form(assertion));
			assert.equal(same.status, 401, `${fault.kind}: the same assertion again`);
			assert.match(same.json.error_description, /jti replayed/);
			assert.equal((await postForm(s.tokenUrl, form(assertionFor(s, c.clientId)))).status, 200, `${fault.kind}: a fresh assertion works`);
		}
		// a FHIR request can be disconnected too
		s.inject({ kind: 'disconnect', path: /Patient/ });
		await assert.rejects(get(`${s.baseUrl}/Patient/pt-1`, await token(s)));
	}));

test('tokenEndpoint: discovery names the token endpoint under another host name, which accepts it as aud', () =>
	withSandbox({ profile: 'ecw', patients: 5, tokenEndpoint: 'http://localhost:{port}/oauth/oauth2/token' }, async (s) => {
		const named = (await get(`${s.baseUrl}/.well-known/smart-configuration`)).json.token_endpoint;
		assert.equal(named, `http://localhost:${new URL(s.origin).port}/oauth/oauth2/token`);
		assert.equal(s.tokenUrlFor('demo'), named);
		const c = s.client('sandbox-rs384');
		const r = await postForm(named, { grant_type: 'client_credentials', scope: 'system/Patient.read', client_assertion_type: ASSERTION_TYPE, client_assertion: assertionFor(s, c.clientId, { tokenUrl: named }) });
		assert.equal(r.status, 200, JSON.stringify(r.json));
	}));

test('fault revoke-tokens: immediately, or on the next matching request; re-minting works', () =>
	withSandbox({ profile: 'ecw', patients: 5 }, async (s) => {
		const t = await token(s);
		assert.equal((await get(`${s.baseUrl}/Patient/pt-1`, t)).status, 200);
		s.inject({ kind: 'revoke-tokens' });
		const r = await get(`${s.baseUrl}/Patient/pt-1`, t);
		assert.equal(r.status, 401);
		assert.match(r.json.issue[0].diagnostics, /revoked/);
		const t2 = await token(s);
		s.inject({ kind: 'revoke-tokens', path: /Encounter/ });
		assert.equal((await get(`${s.baseUrl}/Patient/pt-1`, t2)).status, 200);
		assert.equal((await get(`${s.baseUrl}/Encounter?patient=pt-1`, t2)).status, 401);
		assert.equal((await get(`${s.baseUrl}/Patient/pt-1`, await token(s))).status, 200);
	}));

async function exportManifest(s, t, opts = '') {
	const k = await kickoff(`${s.baseUrl}/Group/grp-1/$export?_type=Patient${opts}`, t);
	return (await pollToManifest(k.headers.get('content-location'), t)).manifest;
}

test('fault reset: the connection drops after afterBytes of a file download', () =>
	withSandbox({ profile: 'ecw', patients: 200 }, async (s) => {
		const t = await token(s);
		const m = await exportManifest(s, t);
		s.inject({ kind: 'reset', afterBytes: 5000 });
		const res = await fetch(m.output[0].url, { headers: { authorization: `Bearer ${t}` } });
		assert.equal(res.status, 200);
		let received = 0;
		await assert.rejects(async () => {
			for await (const chunk of res.body) received += chunk.length;
		});
		assert.ok(received <= 5000);
		// the retry succeeds
		const ok = await get(m.output[0].url, t);
		assert.equal(ndjsonLines(ok.text).length, 200);
	}));

test('fault malformed-ndjson breaks one line of the next file', () =>
	withSandbox({ profile: 'ecw', patients: 10 }, async (s) => {
		const t = await token(s);
		const m = await exportManifest(s, t);
		s.inject({ kind: 'malformed-ndjson', line: 3 });
		const lines = ndjsonLines((await get(m.output[0].url, t)).text);
		assert.equal(lines.length, 10);
		assert.throws(() => JSON.parse(lines[2]));
		for (const [i, l] of lines.entries()) if (i !== 2) JSON.parse(l);
		for (const l of ndjsonLines((await get(m.output[0].url, t)).text)) JSON.parse(l);
	}));

test('fault expired-file-url: 410 OperationOutcome on the FHIR origin, 403 storage error on the other origin', async () => {
	await withSandbox({ profile: 'ecw', patients: 10 }, async (s) => {
		const t = await token(s);
		const m = await exportManifest(s, t);
		s.inject({ kind: 'expired-file-url' });
		const r = await get(m.output[0].url, t);
		assert.equal(r.status, 410);
		assert.equal(r.json.resourceType, 'OperationOutcome');
	});
	await withSandbox({ profile: 'smart', patients: 10, fileOrigin: 'other' }, async (s) => {
		const t = await token(s);
		const m = await exportManifest(s, t);
		s.inject({ kind: 'expired-file-url' });
		const r = await get(m.output[0].url);
		assert.equal(r.status, 403);
		assert.match(r.text, /expired/);
		assert.equal((await get(m.output[0].url)).status, 200);
	});
});

test('fault transient-status: a status poll answers 500 with an OperationOutcome code transient', () =>
	withSandbox({ profile: 'smart', patients: 10 }, async (s) => {
		const t = await token(s);
		const k = await kickoff(`${s.baseUrl}/$export`, t);
		s.inject({ kind: 'transient-status' });
		const r = await get(k.headers.get('content-location'), t);
		assert.equal(r.status, 500);
		assert.equal(r.json.issue[0].code, 'transient');
		const { manifest } = await pollToManifest(k.headers.get('content-location'), t);
		assert.ok(manifest.output.length > 0);
	}));

test('admin HTTP endpoints: faults, stats, clock; off unless admin is on', async () => {
	await withSandbox({ profile: 'ecw', patients: 5 }, async (s) => {
		assert.equal((await fetch(`${s.origin}/admin/faults`, { method: 'POST', body: '{}' })).status, 404);
	});
	await withSandbox({ profile: 'ecw', patients: 5, admin: true }, async (s) => {
		const t = await token(s);
		let r = await fetch(`${s.origin}/admin/faults`, { method: 'POST', body: JSON.stringify({ kind: '503', path: 'Patient/pt-2', retryAfter: 3 }) });
		assert.equal(r.status, 201);
		assert.ok((await r.json()).id);
		assert.equal((await get(`${s.baseUrl}/Patient/pt-1`, t)).status, 200);
		assert.equal((await get(`${s.baseUrl}/Patient/pt-2`, t)).status, 503);
		r = await fetch(`${s.origin}/admin/faults`, { method: 'POST', body: JSON.stringify({ kind: 'nope' }) });
		assert.equal(r.status, 400);
		const stats = await (await fetch(`${s.origin}/admin/stats`)).json();
		assert.equal(stats.byStatus['503'], 1);
		assert.ok(stats.tokenRequests >= 1);
		await fetch(`${s.origin}/admin/stats/reset`, { method: 'POST' });
		assert.equal(s.stats.requests, 0);
		r = await fetch(`${s.origin}/admin/clock`, { method: 'POST', body: JSON.stringify({ offsetMs: 3600_000 }) });
		assert.equal((await r.json()).offsetMs, 3600_000);
		assert.equal((await get(`${s.baseUrl}/Patient/pt-1`, t)).status, 401, 'the 300 s token expired when the clock moved 1 h');
	});
});

test('fault 403: one request is refused as outside the token\'s scopes, over HTTP admin too; the next is served', async () => {
	await withSandbox({ profile: 'ecw', patients: 5, admin: true }, async (s) => {
		const t = await token(s);
		const url = `${s.baseUrl}/Organization?_count=1`;
		const armed = await fetch(`${s.origin}/admin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: '403', count: 1, path: '/Organization$' }) });
		assert.equal(armed.status, 201);
		assert.equal((await get(`${s.baseUrl}/Location?_count=1`, t)).status, 200, 'the path filter applies');
		const r = await get(url, t);
		assert.equal(r.status, 403);
		assert.equal(r.json.resourceType, 'OperationOutcome');
		assert.equal(r.json.issue[0].code, 'forbidden');
		assert.equal((await get(url, t)).status, 200, 'count 1: the next request is served');
	});
});
