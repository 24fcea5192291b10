// The smart profile's switches for behaviours of real servers (issue 13): each one off by default,
// each one observable on the wire when on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startSandbox } from '../../sandbox/index.mjs';
import { client, get, postForm, searchAll, token, tokenRequest } from './helpers.mjs';

async function withSandbox(opts, fn) {
	const s = await startSandbox({ profile: 'smart', patients: 30, ...opts });
	try {
		return await fn(s, await token(s));
	} finally {
		await s.stop();
	}
}

test('quirks belong to the smart profile; unknown quirks are refused', async () => {
	await assert.rejects(startSandbox({ profile: 'ecw', quirks: { typedReferencesOnly: true } }), /quirks belong to the smart profile/);
	await assert.rejects(startSandbox({ profile: 'smart', quirks: ['nope'] }), /unknown quirk nope/);
});

test('typedReferencesOnly: practitioner=Practitioner/x matches, a bare id matches nothing', () =>
	withSandbox({ quirks: { typedReferencesOnly: true } }, async (s, t) => {
		const all = (await searchAll(`${s.baseUrl}/Appointment?_count=500`, t)).matches;
		const pr = all[0].participant.find((p) => p.actor.reference.startsWith('Practitioner/')).actor.reference;
		const want = all.filter((a) => a.participant.some((p) => p.actor.reference === pr)).length;
		assert.ok(want > 0);
		assert.equal((await get(`${s.baseUrl}/Appointment?practitioner=${pr}&_count=500`, t)).json.total, want);
		assert.equal((await get(`${s.baseUrl}/Appointment?practitioner=${pr.split('/')[1]}&_count=500`, t)).json.total, 0);
		// off: both forms match
		await withSandbox({}, async (plain, pt) => {
			assert.equal((await get(`${plain.baseUrl}/Appointment?practitioner=${pr.split('/')[1]}&_count=500`, pt)).json.total, want);
		});
	}));

test('uuidVersionIds: versionId is a UUID, on generated records and on changes', () =>
	withSandbox({ quirks: ['uuidVersionIds'] }, async (s, t) => {
		const p = (await get(`${s.baseUrl}/Patient/pt-1`, t)).json;
		assert.match(p.meta.versionId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
		const a = s.admin.createAppointment('demo', { patient: 'pt-2' });
		assert.match(a.meta.versionId, /^[0-9a-f-]{36}$/);
		assert.equal(a.created, undefined, 'no Appointment.created');
		const b = s.admin.updateAppointment('demo', a.id, { status: 'arrived' });
		assert.notEqual(b.meta.versionId, a.meta.versionId);
		assert.notEqual(b.meta.versionId, '2');
	}));

test('undeclaredEverything: $everything is served but not listed in the CapabilityStatement', () =>
	withSandbox({ quirks: ['undeclaredEverything'] }, async (s, t) => {
		const cs = (await get(`${s.baseUrl}/metadata`)).json;
		const patient = cs.rest[0].resource.find((r) => r.type === 'Patient');
		assert.ok(!(patient.operation ?? []).some((o) => o.name === 'everything'));
		assert.equal((await get(`${s.baseUrl}/Patient/pt-1/$everything`, t)).status, 200);
	}));

test('_sort=date is declared and honoured; unsortedDefault shuffles the order without _sort', () =>
	withSandbox({ quirks: ['unsortedDefault'] }, async (s, t) => {
		const cs = (await get(`${s.baseUrl}/metadata`)).json;
		assert.ok(cs.rest[0].resource.find((r) => r.type === 'Appointment').searchParam.some((p) => p.name === '_sort'));
		const startMs = (a) => Date.parse(a.start);
		const isSorted = (list) => list.every((a, i) => i === 0 || startMs(list[i - 1]) <= startMs(a));
		const unsorted = (await searchAll(`${s.baseUrl}/Appointment?date=ge2000-01-01&_count=10`, t)).matches;
		assert.equal(unsorted.length, 60);
		assert.ok(!isSorted(unsorted), 'default order is not by date');
		const sorted = await searchAll(`${s.baseUrl}/Appointment?date=ge2000-01-01&_sort=date&_count=10`, t);
		assert.ok(isSorted(sorted.matches));
		assert.equal(sorted.matches.length, 60);
		assert.equal(new Set(sorted.matches.map((a) => a.id)).size, 60, 'paging a sorted result loses and repeats nothing');
		const desc = (await searchAll(`${s.baseUrl}/Appointment?date=ge2000-01-01&_sort=-date&_count=100`, t)).matches;
		assert.equal(desc.length, 60);
		assert.ok(desc.every((a, i) => i === 0 || startMs(desc[i - 1]) >= startMs(a)), '-date sorts descending');
		assert.match(sorted.bundles[0].link[0].url, /_sort=date/);
	}));

test('serverLevelSort: _sort is declared once, in rest.searchParam, and honoured for every type', () =>
	withSandbox({ quirks: ['serverLevelSort', 'unsortedDefault'] }, async (s, t) => {
		const cs = (await get(`${s.baseUrl}/metadata`)).json;
		assert.deepEqual(cs.rest[0].searchParam.map((p) => p.name), ['_sort']);
		assert.ok(cs.rest[0].resource.every((r) => !r.searchParam.some((p) => p.name === '_sort')), 'no type declares it');
		const sorted = await searchAll(`${s.baseUrl}/Appointment?date=ge2000-01-01&_sort=date&_count=10`, t);
		const starts = sorted.matches.map((a) => Date.parse(a.start));
		assert.ok(starts.every((x, i) => i === 0 || starts[i - 1] <= x), 'sorted by date');
		assert.match(sorted.bundles[0].link[0].url, /_sort=date/);
	}));

test('ignoresSort: _sort is declared but not applied, and left out of the self link', () =>
	withSandbox({ quirks: ['ignoresSort', 'unsortedDefault'] }, async (s, t) => {
		const cs = (await get(`${s.baseUrl}/metadata`)).json;
		assert.ok(cs.rest[0].resource.find((r) => r.type === 'Appointment').searchParam.some((p) => p.name === '_sort'));
		const page = await searchAll(`${s.baseUrl}/Appointment?date=ge2000-01-01&_sort=date&_count=100`, t);
		const starts = page.matches.map((a) => Date.parse(a.start));
		assert.ok(!starts.every((x, i) => i === 0 || starts[i - 1] <= x), 'not sorted');
		assert.doesNotMatch(page.bundles[0].link[0].url, /_sort/);
	}));

test('secretErrorInvalidRequest: a wrong client secret is answered 400 invalid_request', () =>
	withSandbox({ quirks: ['secretErrorInvalidRequest'] }, async (s) => {
		const c = client(s, 'sandbox-secret');
		const r = await postForm(s.tokenUrl, { grant_type: 'client_credentials', scope: 'system/Patient.read', client_id: c.clientId, client_secret: 'wrong' });
		assert.equal(r.status, 400);
		assert.equal(r.json.error, 'invalid_request');
	}));

test('assertionErrorInvalidRequest: a refused assertion is answered 400 invalid_request with its reason', () =>
	withSandbox({ quirks: ['assertionErrorInvalidRequest'] }, async (s) => {
		const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
		const r = await tokenRequest(s, 'sandbox-rs384', { over: { privateKeyPem: other } });
		assert.equal(r.status, 400);
		assert.equal(r.json.error, 'invalid_request');
		assert.match(r.json.error_description, /signature/);
	}));

test('everythingNeedsAllScopes: $everything wants a read scope for every type in the record, and its 403 names none', () =>
	withSandbox({ quirks: ['everythingNeedsAllScopes'] }, async (s) => {
		const limited = await token(s, 'sandbox-patient-only', 'system/Patient.read');
		assert.equal((await get(`${s.baseUrl}/Patient/pt-1`, limited)).status, 200);
		const r = await get(`${s.baseUrl}/Patient/pt-1/$everything`, limited);
		assert.equal(r.status, 403);
		assert.doesNotMatch(r.json.issue[0].diagnostics, /system\//);
		assert.equal((await get(`${s.baseUrl}/Patient/pt-1/$everything`, await token(s))).status, 200);
	}));

test('omitTypes: a server without Location refuses its scope and does not list it', () =>
	withSandbox({ quirks: { omitTypes: ['Location'] } }, async (s) => {
		const cs = (await get(`${s.baseUrl}/metadata`)).json;
		assert.ok(!cs.rest[0].resource.some((r) => r.type === 'Location'));
		const r = await tokenRequest(s, 'sandbox-rs384', { scope: 'system/Patient.read system/Location.read' });
		assert.equal(r.status, 400);
		assert.equal(r.json.error, 'invalid_scope');
		const sc = (await get(`${s.baseUrl}/.well-known/smart-configuration`)).json;
		assert.ok(!sc.scopes_supported.some((x) => x.includes('Location')));
	}));

test('epochRetryAfter: a 429 says when to come back as a point in time (ms or s)', async () => {
	for (const unit of ['ms', 's']) {
		await withSandbox({ quirks: { epochRetryAfter: unit } }, async (s, t) => {
			s.inject({ kind: '429', retryAfter: 360, path: /Patient/ });
			const r = await get(`${s.baseUrl}/Patient/pt-1`, t);
			assert.equal(r.status, 429);
			const value = Number(r.headers.get('retry-after'));
			const point = unit === 'ms' ? value : value * 1000;
			assert.ok(Math.abs(point - (s.now() + 360_000)) < 5_000, `${unit}: ${value}`);
		});
	}
});
