import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox } from '../../sandbox/index.mjs';
import { get, searchAll, token } from './helpers.mjs';

// Saturday 2026-03-07 10:00 in New York; US DST starts the next night.
const NOW = Date.parse('2026-03-07T15:00:00Z');
let now = NOW;
let smart;
let ecw;
let ts;
let te;
before(async () => {
	[smart, ecw] = await Promise.all([
		// the range-edge visits (23:30 today, 00:00 tomorrow) are test fixtures, off in the demo
		startSandbox({ profile: 'smart', patients: 60, now: () => now, admin: true, rangeEdgeVisits: true }),
		startSandbox({ profile: 'ecw', patients: 60, now: () => now, rangeEdgeVisits: true }),
	]);
	[ts, te] = await Promise.all([token(smart), token(ecw)]);
});
after(async () => {
	await Promise.all([smart.stop(), ecw.stop()]);
});

const ids = (rs) => rs.map((r) => r.id).sort();

test('appointments today and tomorrow in the configured zone, including 23:30 and 00:00 edges', async () => {
	const all = (await searchAll(`${smart.baseUrl}/Appointment?_count=1000`, ts)).matches;
	assert.equal(all.length, 120);
	const localDay = (r) => r.start.slice(0, 10);
	const today = all.filter((r) => localDay(r) === '2026-03-07');
	const tomorrow = all.filter((r) => localDay(r) === '2026-03-08');
	assert.ok(today.some((r) => r.start === '2026-03-07T23:30:00-05:00'), 'an appointment at 23:30 today');
	assert.ok(tomorrow.some((r) => r.start === '2026-03-08T00:00:00-05:00'), 'an appointment at 00:00 tomorrow');
	for (const q of [
		'date=ge2026-03-07T00:00:00-05:00&date=lt2026-03-08T00:00:00-05:00',
		'date=ge2026-03-07T05:00:00Z&date=lt2026-03-08T05:00:00Z',
		'date=2026-03-07',
		'date=ge2026-03-07&date=lt2026-03-08',
	]) {
		const got = (await searchAll(`${smart.baseUrl}/Appointment?${q}`, ts)).matches;
		assert.deepEqual(ids(got), ids(today), q);
	}
	// '+' in an unencoded offset arrives as a space and is still understood
	const plus = (await searchAll(`${smart.baseUrl}/Appointment?date=ge2026-03-07T10:30:00+05:30&date=lt2026-03-08T10:30:00+05:30`, ts)).matches;
	assert.deepEqual(ids(plus), ids(today));
	const tm = (await searchAll(`${smart.baseUrl}/Appointment?date=eq2026-03-08`, ts)).matches;
	assert.deepEqual(ids(tm), ids(tomorrow));
	const after = (await searchAll(`${smart.baseUrl}/Appointment?date=sa2026-03-07`, ts)).matches;
	assert.deepEqual(ids(after), ids(all.filter((r) => localDay(r) > '2026-03-07')));
	const before = (await searchAll(`${smart.baseUrl}/Appointment?date=eb2026-03-07`, ts)).matches;
	assert.deepEqual(ids(before), ids(all.filter((r) => localDay(r) < '2026-03-07')));
	const transport = all.filter((r) => /transport/i.test(r.comment ?? ''));
	assert.ok(transport.length >= 2);
	assert.ok(tomorrow.some((r) => /wheelchair/.test(r.comment ?? '')), 'a wheelchair transport tomorrow');
});

test('encounters (eCW visits) by date, patient, status; transport need surfaced', async () => {
	const all = (await searchAll(`${ecw.baseUrl}/Encounter?_count=500`, te)).matches;
	assert.equal(all.length, 120);
	const today = all.filter((r) => r.period.start.slice(0, 10) === '2026-03-07');
	const got = (await searchAll(`${ecw.baseUrl}/Encounter?date=ge2026-03-07T00:00:00-05:00&date=lt2026-03-08T00:00:00-05:00`, te)).matches;
	assert.deepEqual(ids(got), ids(today));
	assert.ok(today.some((r) => r.period.start === '2026-03-07T23:30:00-05:00'));
	const p = all[5].subject.reference.split('/')[1];
	const byPatient = (await searchAll(`${ecw.baseUrl}/Encounter?patient=${p}`, te)).matches;
	assert.deepEqual(ids(byPatient), ids(all.filter((r) => r.subject.reference === `Patient/${p}`)));
	// eCW declares no status search on Encounter: refused, with the declared parameters named
	const refused = await get(`${ecw.baseUrl}/Encounter?status=cancelled,finished`, te);
	assert.equal(refused.status, 400);
	assert.match(refused.json.issue[0].diagnostics, /'status' is not supported for Encounter; supported: _id, date, location, patient, practitioner/);
	const smartAll = (await searchAll(`${smart.baseUrl}/Encounter?_count=500`, ts)).matches;
	const st = (await searchAll(`${smart.baseUrl}/Encounter?status=cancelled,finished`, ts)).matches;
	assert.deepEqual(ids(st), ids(smartAll.filter((r) => ['cancelled', 'finished'].includes(r.status))));
	const tr = all.filter((r) => r.extension?.some((e) => /transport-need/.test(e.url)));
	assert.ok(tr.length >= 2);
	assert.ok(tr.every((r) => r.reasonCode.some((c) => /transport/i.test(c.text))));
	const pr = all[0].participant[0].individual.reference;
	const byPr = (await searchAll(`${ecw.baseUrl}/Encounter?practitioner=${pr}`, te)).matches;
	// any participant: the referrer some visits list first included
	assert.deepEqual(ids(byPr), ids(all.filter((r) => r.participant.some((x) => x.individual.reference === pr))));
});

test('patient search: birthdate prefixes and partial dates, names, identifier, gender, phone', async () => {
	const all = (await searchAll(`${smart.baseUrl}/Patient?_count=1000`, ts)).matches;
	assert.equal(all.length, 60);
	const q = async (s) => ids((await searchAll(`${smart.baseUrl}/Patient?${s}`, ts)).matches);
	const bd = (f) => ids(all.filter((r) => f(r.birthDate)));
	assert.deepEqual(await q('birthdate=ge1980-01-01'), bd((d) => d >= '1980-01-01'));
	assert.deepEqual(await q('birthdate=lt1980'), bd((d) => d < '1980-01-01'));
	assert.deepEqual(await q('birthdate=gt1980'), bd((d) => d >= '1981-01-01'));
	assert.deepEqual(await q('birthdate=le1975-06'), bd((d) => d < '1975-07-01'));
	assert.deepEqual(await q(`birthdate=${all[3].birthDate}`), bd((d) => d === all[3].birthDate));
	assert.deepEqual(await q(`birthdate=ne${all[3].birthDate}`), bd((d) => d !== all[3].birthDate));
	assert.deepEqual(await q('birthdate=ge1960&birthdate=lt1970'), bd((d) => d >= '1960' && d < '1970'));
	const fam = all[7].name[0].family;
	assert.deepEqual(await q(`family=${fam.slice(0, 3).toUpperCase()}`), ids(all.filter((r) => r.name[0].family.toLowerCase().startsWith(fam.slice(0, 3).toLowerCase()))));
	const given = all[7].name[0].given[0];
	assert.deepEqual(await q(`given=${given.toLowerCase()}`), ids(all.filter((r) => r.name[0].given.some((g) => g.toLowerCase().startsWith(given.toLowerCase())))));
	assert.ok((await q(`name=${given}`)).includes(all[7].id));
	const mrn = all[9].identifier[0];
	assert.deepEqual(await q(`identifier=${mrn.system}|${mrn.value}`), [all[9].id]);
	assert.deepEqual(await q(`identifier=${mrn.value}`), [all[9].id]);
	assert.deepEqual(await q(`identifier=urn:other|${mrn.value}`), []);
	assert.equal(mrn.type.coding[0].code, 'MR');
	assert.deepEqual(await q('gender=female'), ids(all.filter((r) => r.gender === 'female')));
	const phone = all[11].telecom[0].value;
	assert.ok((await q(`phone=${encodeURIComponent(`(${phone.slice(0, 3)}) ${phone.slice(4)}`)}`)).includes(all[11].id));
});

test('paging: opaque next links to the end, total right, self link shows only used parameters', async () => {
	const url = `${smart.baseUrl}/Patient?gender=female&_count=7&foo=bar`;
	const { bundles, matches } = await searchAll(url, ts);
	const total = bundles[0].total;
	assert.equal(matches.length, total);
	assert.equal(new Set(matches.map((r) => r.id)).size, total);
	assert.ok(bundles.length >= 2);
	assert.equal(bundles[0].link.find((l) => l.relation === 'self').url, `${smart.baseUrl}/Patient?gender=female&_count=7`);
	for (const b of bundles.slice(0, -1)) assert.equal(b.entry.length, 7);
	const next = bundles[0].link.find((l) => l.relation === 'next').url;
	assert.ok(!next.includes('gender'), 'next link is opaque');
	const tampered = next.replace(/_getpages=./, '_getpages=X');
	assert.equal((await get(tampered, ts)).status, 400);
	// unfiltered paging
	const all = await searchAll(`${smart.baseUrl}/Encounter?_count=50`, ts);
	assert.equal(all.matches.length, 120);
	assert.equal(all.bundles[0].total, 120);
});

test('_include Appointment:patient|practitioner|location repeats on every page with mode include', async () => {
	const { bundles, matches } = await searchAll(`${smart.baseUrl}/Appointment?date=ge2026-03-07&_include=Appointment:patient&_include=Appointment:practitioner&_count=3`, ts);
	assert.ok(bundles.length >= 2);
	assert.match(bundles[0].link[0].url, /_include=Appointment%3Apatient&_include=Appointment%3Apractitioner/);
	for (const b of bundles) {
		const inc = b.entry.filter((e) => e.search.mode === 'include');
		const m = b.entry.filter((e) => e.search.mode === 'match');
		for (const a of m) {
			for (const p of a.resource.participant.filter((x) => /^(Patient|Practitioner)\//.test(x.actor.reference))) {
				assert.ok(inc.some((e) => `${e.resource.resourceType}/${e.resource.id}` === p.actor.reference), `${p.actor.reference} included`);
			}
		}
		assert.ok(!inc.some((e) => e.resource.resourceType === 'Location'));
	}
	assert.ok(matches.length > 3);
});

test('_lastUpdated with prefixes on every search; admin changes bump meta', async () => {
	const t = '2026-03-07T14:00:00.000Z';
	const a = smart.admin.updatePatient('demo', 'pt-2', { gender: 'other' }, { lastUpdated: t });
	const b = smart.admin.updatePatient('demo', 'pt-5', { active: false }, { lastUpdated: t });
	assert.equal(a.meta.versionId, '2');
	assert.equal(a.meta.lastUpdated, b.meta.lastUpdated);
	const got = (await searchAll(`${smart.baseUrl}/Patient?_lastUpdated=ge2026-03-07T13:59:00Z`, ts)).matches;
	assert.deepEqual(ids(got), ['pt-2', 'pt-5']);
	assert.equal(got.find((r) => r.id === 'pt-2').gender, 'other');
	const eq = (await searchAll(`${smart.baseUrl}/Patient?_lastUpdated=${encodeURIComponent('2026-03-07T09:00:00-05:00')}`, ts)).matches;
	assert.deepEqual(ids(eq), ['pt-2', 'pt-5']);
	const lt = (await searchAll(`${smart.baseUrl}/Patient?_lastUpdated=lt2026-03-07T14:00:00Z`, ts)).matches;
	assert.equal(lt.length, 58);
	const appt = smart.admin.createAppointment('demo', { patient: 'pt-3', start: '2026-03-09T09:00:00-04:00', comment: 'Needs wheelchair transport' });
	const c = (await searchAll(`${smart.baseUrl}/Appointment?_lastUpdated=ge2026-03-07T14:30:00Z`, ts)).matches;
	assert.deepEqual(ids(c), [appt.id]);
	const enc = (await searchAll(`${smart.baseUrl}/Encounter?_lastUpdated=ge2026-03-07T14:30:00Z&patient=pt-3`, ts)).matches;
	assert.equal(enc.length, 1);
	now += 1000;
	smart.admin.cancelAppointment('demo', appt.id);
	const r = await get(`${smart.baseUrl}/Appointment/${appt.id}`, ts);
	assert.equal(r.json.status, 'cancelled');
	assert.equal(r.json.meta.versionId, '2');
	assert.equal((await get(`${smart.baseUrl}/Encounter/${enc[0].id}`, ts)).json.status, 'cancelled');
	// admin over HTTP
	const res = await fetch(`${smart.origin}/admin/demo/Patient`, { method: 'POST', body: JSON.stringify({ name: [{ family: 'Zyx', given: ['Ann'] }] }) });
	assert.equal(res.status, 201);
	const created = await res.json();
	assert.deepEqual(ids((await searchAll(`${smart.baseUrl}/Patient?family=zyx`, ts)).matches), [created.id]);
	now = NOW;
});

test('eCW profile: no Appointment, Patient search needs criteria, declared _include honoured, cancel -> encounter cancelled', async () => {
	const ap = await get(`${ecw.baseUrl}/Appointment?date=ge2026-03-07`, te);
	assert.equal(ap.status, 404);
	assert.equal(ap.json.resourceType, 'OperationOutcome');
	const np = await get(`${ecw.baseUrl}/Patient`, te);
	assert.equal(np.status, 400);
	assert.equal((await get(`${ecw.baseUrl}/Patient?_count=5`, te)).status, 400);
	const inc = await get(`${ecw.baseUrl}/Encounter?patient=pt-1&_include=Encounter:patient`, te);
	assert.equal(inc.json.link[0].url, `${ecw.baseUrl}/Encounter?patient=pt-1&_include=Encounter%3Apatient`);
	assert.deepEqual(inc.json.entry.filter((e) => e.search.mode === 'include').map((e) => `${e.resource.resourceType}/${e.resource.id}`), ['Patient/pt-1']);
	assert.equal((await get(`${ecw.baseUrl}/Encounter?patient=pt-1&unknown=1`, te)).status, 400, 'undeclared parameters are refused');
	ecw.admin.cancelAppointment('demo', 'ap-2');
	assert.equal((await get(`${ecw.baseUrl}/Encounter/en-2`, te)).json.status, 'cancelled');
	assert.equal((await get(`${ecw.baseUrl}/Patient/pt-999`, te)).status, 404);
	assert.equal((await get(`${ecw.baseUrl}/Patient?birthdate=notadate`, te)).status, 400);
	assert.equal((await get(`${ecw.baseUrl}/Patient?family=a&_count=abc`, te)).status, 400);
});

test('metadata tells the truth per profile', async () => {
	const e = (await get(`${ecw.baseUrl}/metadata`)).json;
	const s = (await get(`${smart.baseUrl}/metadata`)).json;
	const types = (cs) => cs.rest[0].resource.map((r) => r.type);
	assert.ok(!types(e).includes('Appointment'));
	assert.ok(types(s).includes('Appointment'));
	const eg = e.rest[0].resource.find((r) => r.type === 'Group');
	assert.ok(eg.operation.some((o) => o.name === 'export'));
	assert.ok(!e.rest[0].resource.find((r) => r.type === 'Patient').operation.some((o) => o.name === 'export'));
	assert.ok(e.rest[0].resource.find((r) => r.type === 'Patient').operation.some((o) => o.name === 'everything'));
	assert.ok(s.rest[0].operation.some((o) => o.name === 'export'));
	const pp = e.rest[0].resource.find((r) => r.type === 'Patient').searchParam.map((p) => p.name);
	assert.deepEqual(pp, ['_id', 'birthdate', 'family', 'gender', 'given', 'identifier', 'name', 'page', 'phone'], 'eCW declares no _lastUpdated');
	assert.ok(s.rest[0].resource.find((r) => r.type === 'Patient').searchParam.some((p) => p.name === '_lastUpdated'));
	assert.deepEqual(s.rest[0].resource.find((r) => r.type === 'Appointment').searchInclude, ['Appointment:patient', 'Appointment:practitioner', 'Appointment:location', 'Appointment:actor']);
});

test('Patient $everything', async () => {
	const r = await get(`${smart.baseUrl}/Patient/pt-4/$everything`, ts);
	assert.equal(r.status, 200);
	const t = r.json.entry.map((e) => e.resource.resourceType);
	assert.deepEqual([...new Set(t)].sort(), ['Appointment', 'Coverage', 'Encounter', 'Patient']);
	assert.ok(r.json.entry.every((e) => e.resource.resourceType === 'Patient' || JSON.stringify(e.resource).includes('Patient/pt-4')));
});

test('next links on another origin answer without a token and count Authorization headers sent there', async () => {
	const s = await startSandbox({ profile: 'smart', patients: 30, nextLinkOrigin: 'other' });
	try {
		const t = await token(s);
		const first = await get(`${s.baseUrl}/Patient?_count=10`, t);
		const next = first.json.link.find((l) => l.relation === 'next').url;
		assert.ok(next.startsWith(s.otherOrigin));
		const noAuth = await get(next);
		assert.equal(noAuth.status, 200);
		assert.equal(noAuth.json.entry.length, 10);
		assert.equal(s.stats.authHeaderSeenOnOtherOrigin, 0);
		await get(next, t);
		assert.equal(s.stats.authHeaderSeenOnOtherOrigin, 1);
	} finally {
		await s.stop();
	}
});

test('100,000 patients are generated lazily', async () => {
	const t0 = Date.now();
	const s = await startSandbox({ profile: 'smart', patients: 100_000 });
	try {
		const t = await token(s);
		const last = await get(`${s.baseUrl}/Patient/pt-100000`, t);
		assert.equal(last.status, 200);
		const page = await get(`${s.baseUrl}/Encounter?_count=5`, t);
		assert.equal(page.json.total, 200_000);
		const byPatient = await get(`${s.baseUrl}/Encounter?patient=pt-77777`, t);
		assert.equal(byPatient.json.total, 2);
		const big = await get(`${s.baseUrl}/Encounter?status=planned&_count=10`, t);
		assert.equal(big.json.entry.length, 10);
		assert.equal(big.json.total, undefined, 'no up-front count over 200,000 records');
		const g = await get(`${s.baseUrl}/Group/grp-1`, t);
		assert.equal(g.json.quantity, 100_000);
		assert.ok(Date.now() - t0 < 5000);
	} finally {
		await s.stop();
	}
});

test('another time zone: offsets and day ranges follow timeZone', async () => {
	const s = await startSandbox({ profile: 'smart', patients: 20, timeZone: 'Asia/Kolkata', now: () => NOW, rangeEdgeVisits: true });
	try {
		const t = await token(s);
		const all = (await searchAll(`${s.baseUrl}/Appointment?_count=100`, t)).matches;
		assert.ok(all.every((r) => r.start.endsWith('+05:30')));
		assert.ok(all.some((r) => r.start === '2026-03-07T23:30:00+05:30'));
		assert.ok(all.some((r) => r.start === '2026-03-08T00:00:00+05:30'));
		const today = all.filter((r) => r.start.startsWith('2026-03-07'));
		assert.deepEqual(ids((await searchAll(`${s.baseUrl}/Appointment?date=2026-03-07`, t)).matches), ids(today));
		assert.deepEqual(ids((await searchAll(`${s.baseUrl}/Appointment?date=ge2026-03-06T18:30:00Z&date=lt2026-03-07T18:30:00Z`, t)).matches), ids(today));
	} finally {
		await s.stop();
	}
});

test('demo data a dispatcher believes: visits in working hours, patients near their clinic; range edges only when asked', async () => {
	const plain = await startSandbox({ profile: 'ecw', patients: 400, seed: 2, now: () => NOW, practices: ['demo', 'north', 'south'] });
	const edges = await startSandbox({ profile: 'ecw', patients: 20, seed: 2, now: () => NOW, rangeEdgeVisits: true });
	try {
		// two visits per patient: en-1 .. en-800 for 400 patients
		const times = (sb, code, n = 800) => Array.from({ length: n }, (_, i) => sb.admin.get(code, 'Encounter', `en-${i + 1}`).period.start.slice(11, 16));
		for (const code of ['demo', 'north', 'south']) {
			const all = times(plain, code);
			assert.ok(all.every((t) => t >= '08:00' && t <= '17:30'), `${code}: every visit starts between 08:00 and 17:30 (${all.filter((t) => t < '08:00' || t > '17:30').join(', ')})`);
			const clinic = plain.admin.get(code, 'Location', 'loc-1').address;
			const states = new Set(Array.from({ length: 400 }, (_, i) => plain.admin.get(code, 'Patient', `pt-${i + 1}`).address[0].state));
			assert.deepEqual([...states], [clinic.state], `${code}: patients live in the clinic's state (${[...states]})`);
			const cities = new Set(Array.from({ length: 400 }, (_, i) => plain.admin.get(code, 'Patient', `pt-${i + 1}`).address[0].city));
			assert.ok(cities.size <= 6, `${code}: a handful of nearby towns (${[...cities].join(', ')})`);
		}
		const edgeTimes = times(edges, 'demo', 10);
		assert.ok(edgeTimes.includes('23:30') && edgeTimes.includes('00:00'), 'rangeEdgeVisits: the 23:30 and 00:00 visits');
	} finally {
		await Promise.all([plain.stop(), edges.stop()]);
	}
});

test('maxPageSize caps every page whatever _count asks; paging still reaches every match', async () => {
	const capped = await startSandbox({ profile: 'ecw', patients: 23, maxPageSize: 5 });
	try {
		const t = await token(capped);
		const first = await get(`${capped.baseUrl}/Patient?birthdate=ge1900-01-01&_count=100`, t);
		assert.equal(first.json.entry.length, 5);
		assert.equal(first.json.total, 23);
		const { bundles, matches } = await searchAll(`${capped.baseUrl}/Patient?birthdate=ge1900-01-01&_count=100`, t);
		assert.equal(bundles.length, 5);
		assert.equal(new Set(matches.map((r) => r.id)).size, 23);
	} finally {
		await capped.stop();
	}
});
