// The `ecw` profile serves eCW's published CapabilityStatement and SMART configuration and enforces
// them: what real eCW refuses, the sandbox refuses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startSandbox } from '../../sandbox/index.mjs';
import { ECW_CAPABILITY_STATEMENT, ECW_SMART_CONFIGURATION } from '../../sandbox/contracts/ecw.mjs';
import { assertionFor, get, postForm, searchAll, token, tokenRequest, ASSERTION_TYPE } from './helpers.mjs';

let sb;
let t;
before(async () => {
	sb = await startSandbox({ profile: 'ecw', patients: 30, practices: ['demo', 'north'] });
	t = await token(sb);
});
after(() => sb.stop());

test('the fixtures are eCW\'s documents as published (counts quoted in the README)', () => {
	assert.equal(ECW_CAPABILITY_STATEMENT.software.name, 'eCW FHIR Facade');
	assert.equal(ECW_CAPABILITY_STATEMENT.software.version, '1.6');
	assert.equal(ECW_CAPABILITY_STATEMENT.date, '2026-08-14T17:04:21.203-04:00');
	assert.equal(ECW_CAPABILITY_STATEMENT.rest[0].resource.length, 36);
	assert.equal(ECW_SMART_CONFIGURATION.scopes_supported.length, 486);
	const writable = ECW_CAPABILITY_STATEMENT.rest[0].resource.filter((r) => r.interaction.some((i) => !['read', 'search-type'].includes(i.code)));
	assert.deepEqual(writable.map((r) => r.type), ['QuestionnaireResponse']);
});

test('/metadata and smart-configuration are eCW\'s, with URLs rewritten to the sandbox and the practice', async () => {
	const cs = (await get(`${sb.baseUrlFor('north')}/metadata`)).json;
	const text = JSON.stringify(cs);
	assert.ok(!/eclinicalworks\.com/.test(text), 'no URL left pointing at eCW');
	assert.equal(cs.software.name, 'eCW FHIR Facade');
	assert.equal(cs.rest[0].resource.length, 36);
	const uris = Object.fromEntries(cs.rest[0].security.extension[0].extension.map((e) => [e.url, e.valueUri]));
	assert.equal(uris.token, sb.tokenUrl, 'one token URL for every practice, as eCW\'s');
	assert.equal(uris.authorize, sb.authorizeUrl);
	assert.match(cs.url, new RegExp(`^${sb.baseUrlFor('north')}/metadata`));
	// everything else is untouched
	const strip = (s) => s.replace(/"(?:https?:)?\/\/[^"]*"/g, '""');
	assert.equal(strip(text), strip(JSON.stringify(ECW_CAPABILITY_STATEMENT)));
	const sc = (await get(`${sb.baseUrlFor('north')}/.well-known/smart-configuration`)).json;
	assert.equal(sc.token_endpoint, sb.tokenUrl);
	assert.equal(sc.issuer, sb.baseUrlFor('north'));
	assert.deepEqual(sc.scopes_supported, ECW_SMART_CONFIGURATION.scopes_supported);
});

test('a scope eCW does not list is refused with invalid_grant; the listed form is accepted', async () => {
	let r = await tokenRequest(sb, 'sandbox-rs384', { scope: 'system/Patient.read system/Coverage.read' });
	assert.equal(r.status, 400);
	assert.equal(r.json.error, 'invalid_grant');
	assert.match(r.json.error_description, /system\/Coverage\.read/);
	r = await tokenRequest(sb, 'sandbox-rs384', { scope: 'system/*.read' });
	assert.equal(r.json.error, 'invalid_grant', 'eCW lists system/*.r, not system/*.read');
	r = await tokenRequest(sb, 'sandbox-rs384', { scope: 'system/Patient.read system/Coverage.r' });
	assert.equal(r.status, 200, JSON.stringify(r.json));
	// eCW offers Coverage only as .r while declaring its search: the sandbox reads .r as read + search
	const coverage = await get(`${sb.baseUrl}/Coverage?patient=pt-1`, r.json.access_token);
	assert.equal(coverage.status, 200);
	assert.equal(coverage.json.entry.length, 1);
});

test('an ES384 assertion gets invalid_client (eCW documents RS384 only)', async () => {
	const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
	const r = await tokenRequest(sb, 'sandbox-rs384', { over: { alg: 'ES384', privateKeyPem: ec } });
	assert.equal(r.status, 401);
	assert.equal(r.json.error, 'invalid_client');
	assert.match(r.json.error_description, /ES384 is not supported; this server accepts RS384/);
});

test('undeclared search parameters get 400 with an OperationOutcome naming the declared ones', async () => {
	const refused = {
		'Practitioner?family=Perez': /'family' is not supported for Practitioner; supported: _id, identifier, name$/,
		'Practitioner?given=Andrew': /'given'/,
		'Location?address-city=Worcester': /'address-city' is not supported for Location; supported: _id, address, name$/,
		'Coverage?beneficiary=pt-1': /supported: _id, patient$/,
		'Coverage?status=active': /'status'/,
		'Encounter?status=planned': /'status'/,
		'Encounter?subject=pt-1': /'subject'/,
		'Encounter?_lastUpdated=ge2026-01-01': /'_lastUpdated'/,
		'Group?identifier=x': /'identifier' is not supported for Group; supported: \(none\)/,
		'Group?name=all': /'name'/,
		'Patient?family=a&_sort=family': /'_sort'/,
		'Patient?family=a&_elements=id': /'_elements'/,
		'Encounter?patient=pt-1&_include=Encounter:subject': /_include=Encounter:subject is not supported for Encounter; supported: \*, Encounter:location, Encounter:patient, Encounter:practitioner/,
		'Patient?family=a&_include=Patient:organization': /_include=Patient:organization/,
	};
	for (const [query, why] of Object.entries(refused)) {
		const r = await get(`${sb.baseUrl}/${query}`, t);
		assert.equal(r.status, 400, query);
		assert.equal(r.json.resourceType, 'OperationOutcome', query);
		assert.match(r.json.issue[0].diagnostics, why, query);
	}
	// declared ones, and _count (eCW's conventions accept it)
	for (const query of ['Practitioner?name=a', 'Location?address=Main', 'Location?name=Main', 'Coverage?patient=pt-1', 'Encounter?date=ge2026-01-01&_count=5', 'Group', 'Patient?family=a&_count=2']) {
		const r = await get(`${sb.baseUrl}/${query}`, t);
		assert.equal(r.status, 200, `${query}: ${r.text}`);
	}
	const loc = await get(`${sb.baseUrl}/Location?address=Worcester`, t);
	assert.ok(loc.json.entry.length >= 1 && loc.json.entry.every((e) => JSON.stringify(e.resource.address).includes('Worcester')));
});

test('_include on Encounter works as declared (patient, practitioner, location and *)', async () => {
	const r = await get(`${sb.baseUrl}/Encounter?patient=pt-3&_include=Encounter:patient&_include=Encounter:practitioner&_include=Encounter:location`, t);
	assert.equal(r.status, 200);
	const matches = r.json.entry.filter((e) => e.search.mode === 'match').map((e) => e.resource);
	const included = new Set(r.json.entry.filter((e) => e.search.mode === 'include').map((e) => `${e.resource.resourceType}/${e.resource.id}`));
	assert.ok(matches.length >= 1);
	for (const enc of matches) {
		assert.ok(included.has(enc.subject.reference));
		assert.ok(included.has(enc.participant[0].individual.reference));
		assert.ok(included.has(enc.location[0].location.reference));
	}
	const star = await get(`${sb.baseUrl}/Encounter?patient=pt-3&_include=*`, t);
	assert.equal(star.json.entry.filter((e) => e.search.mode === 'include').length, included.size);
});

test('undeclared interactions: search on a read-only type and read on Group get 405; an unlisted type 404', async () => {
	for (const path of ['Binary', 'Claim', 'OperationDefinition', 'Group/grp-1']) {
		const r = await get(`${sb.baseUrl}/${path}`, t);
		assert.equal(r.status, 405, path);
		assert.equal(r.json.resourceType, 'OperationOutcome');
	}
	assert.equal((await get(`${sb.baseUrl}/Appointment?date=ge2026-01-01`, t)).status, 404);
	assert.equal((await get(`${sb.baseUrl}/Binary/nope`, t)).status, 403, 'read is declared; the app is not registered for Binary');
	const c = await get(`${sb.baseUrl}/Condition?patient=pt-1`, t);
	assert.equal(c.status, 403, 'search is declared for Condition; the sandbox app is not registered for it');
	assert.equal(c.json.issue[0].diagnostics, 'Missing scope system/Condition.read');
});

test('next links carry eCW\'s page parameter (an opaque cursor): followed they work, built they fail', async () => {
	const { bundles, matches } = await searchAll(`${sb.baseUrl}/Encounter?date=ge2000-01-01&_count=7`, t);
	assert.ok(bundles.length >= 3);
	assert.equal(new Set(matches.map((r) => r.id)).size, bundles[0].total);
	const next = new URL(bundles[0].link.find((l) => l.relation === 'next').url);
	assert.ok(next.searchParams.get('page'), 'next link carries page=');
	assert.ok(!next.searchParams.has('_getpages'));
	const built = new URL(`${sb.baseUrl}/Encounter?date=ge2000-01-01&_count=7&page=2`);
	const r = await get(built.toString(), t);
	assert.equal(r.status, 400);
	assert.match(r.json.issue[0].diagnostics, /follow the next link exactly as given/);
});

test('a token request counts in the budget of the practice that first uses the token (eCW\'s token URL names no practice)', async () => {
	const s = await startSandbox({ profile: 'ecw', patients: 5, rateLimitPerMinute: 4, practices: ['demo', 'north'] });
	try {
		const tokenUrl = (await get(`${s.baseUrl}/.well-known/smart-configuration`)).json.token_endpoint; // 1 (demo)
		assert.equal(tokenUrl, s.tokenUrl);
		const c = s.client('sandbox-rs384');
		const form = (url) => ({ grant_type: 'client_credentials', scope: 'system/Patient.read', client_assertion_type: ASSERTION_TYPE, client_assertion: assertionFor(s, c.clientId, { tokenUrl: url }) });
		const tr = await postForm(tokenUrl, form(tokenUrl));
		assert.equal(tr.status, 200, JSON.stringify(tr.json));
		assert.equal(s.stats.byPractice.demo.tokenRequests, 0, 'not yet: the request named no practice');
		assert.equal((await get(`${s.baseUrl}/Patient/pt-1`, tr.json.access_token)).status, 200); // 2, and the token: 3
		assert.equal(s.stats.byPractice.demo.tokenRequests, 1, 'charged to the practice that used it first');
		assert.equal(s.stats.log.find((l) => l.path === '/oauth/oauth2/token').practice, 'demo');
		assert.equal((await get(`${s.baseUrl}/Patient/pt-2`, tr.json.access_token)).status, 200); // 4
		const over = await get(`${s.baseUrl}/Patient/pt-3`, tr.json.access_token); // 5: over
		assert.equal(over.status, 429);
		assert.equal(over.headers.get('retry-after'), null, 'eCW documents no Retry-After');
		// another practice has its own budget, and the token was charged once, to demo
		assert.equal((await get(`${s.baseUrlFor('north')}/Patient/pt-1`, tr.json.access_token)).status, 200);
		assert.equal(s.stats.byPractice.north.tokenRequests, 0);
		// a second token, first used at the blocked practice, is issued but its use is refused
		const again = await postForm(tokenUrl, form(tokenUrl));
		assert.equal(again.status, 200);
		assert.equal((await get(`${s.baseUrl}/Patient/pt-1`, again.json.access_token)).status, 429);
	} finally {
		await s.stop();
	}
});

test('bulk kick-off and status say Retry-After: 120 unless the fast-test switch is on', async () => {
	for (const [opts, want] of [[{}, '120'], [{ fastBulk: true }, '1']]) {
		const s = await startSandbox({ profile: 'ecw', patients: 5, bulkDelayMs: 60_000, ...opts });
		try {
			const tk = await token(s);
			const k = await fetch(`${s.baseUrl}/Group/grp-1/$export`, { headers: { accept: 'application/fhir+json', prefer: 'respond-async', authorization: `Bearer ${tk}` } });
			assert.equal(k.status, 202);
			assert.equal(k.headers.get('retry-after'), want);
			const st = await get(k.headers.get('content-location'), tk);
			assert.equal(st.status, 202);
			assert.equal(st.headers.get('retry-after'), want);
		} finally {
			await s.stop();
		}
	}
});

test('_revinclude=Provenance:target, which eCW declares, is accepted; an undeclared _revinclude is refused', async () => {
	for (const type of ['Encounter', 'Patient']) {
		const r = await get(`${sb.baseUrl}/${type}?_id=${type === 'Patient' ? 'pt-1' : 'en-1'}&_revinclude=Provenance:target`, t);
		assert.equal(r.status, 200, `${type}: ${JSON.stringify(r.json.issue ?? '')}`);
		assert.equal(r.json.entry.filter((e) => e.search.mode === 'match').length, 1);
	}
	const bad = await get(`${sb.baseUrl}/Encounter?_id=en-1&_revinclude=AuditEvent:entity`, t);
	assert.equal(bad.status, 400);
	assert.match(bad.json.issue[0].diagnostics, /_revinclude=AuditEvent:entity is not supported for Encounter; supported: Provenance:target/);
});

test('_format=json, as eCW\'s own URLs use it, is accepted on /metadata and searches; XML is not served by the sandbox', async () => {
	assert.equal((await get(`${sb.baseUrl}/metadata?_format=json`)).json.resourceType, 'CapabilityStatement');
	for (const format of ['json', 'application/fhir%2Bjson', 'application/json']) {
		const r = await get(`${sb.baseUrl}/Patient?family=a&_format=${format}`, t);
		assert.equal(r.status, 200, format);
		assert.equal(r.json.resourceType, 'Bundle');
	}
	const xml = await get(`${sb.baseUrl}/Patient?family=a&_format=xml`, t);
	assert.equal(xml.status, 406);
	assert.match(xml.json.issue[0].diagnostics, /JSON only/);
});

test('next links are opaque: the cursor alone; a link with a parameter added or a cursor changed is refused', async () => {
	const first = await get(`${sb.baseUrl}/Encounter?date=ge2000-01-01&_count=5`, t);
	const next = new URL(first.json.link.find((l) => l.relation === 'next').url);
	assert.deepEqual([...next.searchParams.keys()], ['page'], 'nothing but the cursor');
	assert.equal((await get(next.toString(), t)).status, 200, 'followed as given');
	for (const [label, url] of [
		['_count added', `${next}&_count=50`],
		['the query repeated', `${sb.baseUrl}/Encounter?date=ge2000-01-01&_count=5&page=${next.searchParams.get('page')}`],
		['_format added', `${next}&_format=json`],
	]) {
		const r = await get(url, t);
		assert.equal(r.status, 400, label);
		assert.match(r.json.issue[0].diagnostics, /paging link was changed .*follow the next link exactly as given/, label);
	}
	const cursor = next.searchParams.get('page');
	const changed = await get(`${sb.baseUrl}/Encounter?page=${cursor.slice(0, -2)}xx`, t);
	assert.equal(changed.status, 400, 'a changed cursor');
});

test('Patient $everything honours _count and pages with opaque next links', async () => {
	const all = await get(`${sb.baseUrl}/Patient/pt-3/$everything?_count=100`, t);
	assert.equal(all.status, 200);
	assert.ok(all.json.total >= 3, 'the patient, its visits and coverage');
	assert.equal(all.json.entry.length, all.json.total);
	assert.equal(all.json.link.find((l) => l.relation === 'next'), undefined);
	const { bundles, matches } = await searchAll(`${sb.baseUrl}/Patient/pt-3/$everything?_count=1`, t);
	assert.equal(bundles.length, all.json.total, 'one page per record at _count=1');
	assert.ok(bundles.every((b) => b.entry.length === 1));
	assert.deepEqual(matches.map((r) => `${r.resourceType}/${r.id}`), all.json.entry.map((e) => `${e.resource.resourceType}/${e.resource.id}`));
	const next = new URL(bundles[0].link.find((l) => l.relation === 'next').url);
	assert.match(next.pathname, /\/Patient\/pt-3\/\$everything$/);
	assert.equal((await get(`${next}&_count=100`, t)).status, 400, 'opaque there too');
	const byDefault = await get(`${sb.baseUrl}/Patient/pt-3/$everything`, t);
	assert.equal(byDefault.json.entry.length, Math.min(all.json.total, 50), 'without _count: the default page size');
});
