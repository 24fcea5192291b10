// What a visit's flat fields say on data shaped like real EHRs': the practitioner who performs the
// visit although the referrer is listed first, the patient's current MRN although an old one is listed
// first. Through the node in real n8n-core, against the sandbox (ecw: Encounter, smart: Appointment).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox } from '../../sandbox/index.mjs';
import { shutdown } from '../helpers/n8n.mjs';
import { run } from './_setup.mjs';

let ecw;
let smart;

before(async () => {
	ecw = await startSandbox({ profile: 'ecw', patients: 120, seed: 5 });
	smart = await startSandbox({ profile: 'smart', patients: 120, seed: 5 });
});

after(async () => {
	await ecw?.stop();
	await smart?.stop();
	await shutdown();
});

const nextWeek = (extra = {}) => ({ resource: 'appointment', operation: 'getMany', dateRange: 'next7Days', returnAll: true, ...extra });

/** The practitioner a visit lists as referrer and as primary performer (Encounter: individual, Appointment: actor). */
function roles(resource) {
	const out = {};
	for (const p of resource.participant ?? []) {
		const code = p.type?.[0]?.coding?.[0]?.code;
		const ref = (p.individual ?? p.actor)?.reference ?? '';
		if (code && ref.startsWith('Practitioner/')) out[code] = ref.slice('Practitioner/'.length);
	}
	return out;
}

for (const profile of ['ecw', 'smart']) {
	test(`${profile}: the practitioner is the one who performs the visit, not the referrer listed first; the raw output keeps the referrer`, async () => {
		const sandbox = profile === 'ecw' ? ecw : smart;
		const raw = await run(sandbox, nextWeek({ output: 'raw' }));
		assert.equal(raw.error, undefined);
		const referred = raw.json.filter((r) => {
			const first = r.participant.find((p) => (p.individual ?? p.actor)?.reference?.startsWith('Practitioner/'));
			return first?.type?.[0]?.coding?.[0]?.code === 'REF';
		});
		assert.ok(referred.length >= 1, `visits listing the referrer first (${referred.length} of ${raw.json.length})`);
		const { json, error } = await run(sandbox, nextWeek());
		assert.equal(error, undefined);
		for (const visit of referred) {
			const { REF, PPRF } = roles(visit);
			assert.ok(REF && PPRF && REF !== PPRF);
			const item = json.find((i) => i.id === visit.id);
			assert.equal(item.practitionerId, PPRF, `visit ${visit.id}: the primary performer`);
			const performer = sandbox.admin.get('demo', 'Practitioner', PPRF);
			assert.equal(item.practitionerName, performer.name[0].text, `visit ${visit.id}: the performer's name`);
		}
	});
}

/** The patient's identifiers typed MR, as the sandbox lists them: [former, current] for pt-6, pt-16, ... */
function mrns(sandbox, id) {
	const ids = sandbox.admin.get('demo', 'Patient', id).identifier.filter((i) => i.type?.coding?.[0]?.code === 'MR');
	return { old: ids.find((i) => i.use === 'old')?.value, current: ids.find((i) => i.use !== 'old')?.value, firstIsOld: ids[0].use === 'old' };
}

test('MRN: the current one, although a former MRN is listed first; Search by MRN finds the patient by either', async () => {
	const { old, current, firstIsOld } = mrns(ecw, 'pt-6');
	assert.ok(firstIsOld && old && current && old !== current, 'pt-6 lists its former MRN first');
	for (const typed of [current, old]) {
		const { json, error, hints } = await run(ecw, { resource: 'patient', operation: 'search', criteria: { identifier: typed }, returnAll: false, limit: 5 });
		assert.equal(error, undefined);
		assert.deepEqual(json.map((p) => p.id), ['pt-6'], `found by ${typed === old ? 'the former' : 'the current'} MRN`);
		assert.equal(json[0].mrn, current, 'mrn is the current one');
		const former = hints.find((h) => /former MRN/.test(h.message));
		if (typed === old) {
			assert.ok(former, 'a notice says it was found by a former MRN');
			assert.ok(former.message.includes(current), 'and names the current one');
		} else {
			assert.equal(former, undefined);
		}
	}
	// the visits of such patients carry the current MRN too
	const { json } = await run(ecw, nextWeek());
	const visits = json.filter((v) => mrns(ecw, v.patientId).firstIsOld);
	assert.ok(visits.length > 0, 'visits of patients listing a former MRN first');
	for (const v of visits) assert.equal(v.patientMrn, mrns(ecw, v.patientId).current, `visit ${v.id}`);
});

for (const profile of ['ecw', 'smart']) {
	test(`${profile}: visits say the level of service a ride needs, and their needs as one text`, async () => {
		const sandbox = profile === 'ecw' ? ecw : smart;
		const { json, error } = await run(sandbox, nextWeek());
		assert.equal(error, undefined);
		const level = (pattern) => json.filter((v) => pattern.test(v.comment));
		const ambulette = level(/ambulette/);
		assert.ok(ambulette.length >= 1, 'the fixed ambulette visit tomorrow');
		for (const v of ambulette) assert.deepEqual([v.levelOfService, v.needs], ['wheelchair', 'wheelchair'], `${v.id}: an ambulette is a wheelchair van`);
		for (const v of level(/a ride to the appointment/)) assert.deepEqual([v.levelOfService, v.needs], ['ambulatory', 'transport'], v.id);
		for (const v of level(/Stretcher/)) assert.deepEqual([v.levelOfService, v.needs], ['stretcher', 'stretcher'], v.id);
		for (const v of level(/Ambulance/)) assert.deepEqual([v.levelOfService, v.needs], ['ambulance', 'ambulance, oxygen'], v.id);
		for (const v of json) {
			assert.equal(typeof v.needs, 'string', 'needs is one text, one column in a sheet');
			assert.equal(v.transportNeeded, v.levelOfService !== '', `${v.id}: a level of service exactly when a ride is needed`);
			assert.ok(!(/\btransport\b/.test(v.needs) && /wheelchair|stretcher|ambulance/.test(v.needs)), `${v.id}: no generic transport beside a vehicle (${v.needs})`);
		}
		assert.ok(['wheelchair', 'ambulatory'].every((l) => json.some((v) => v.levelOfService === l)), 'several levels in a week');
		const keys = Object.keys(json[0]);
		assert.equal(keys.indexOf('levelOfService'), keys.indexOf('transportNeeded') + 1, 'beside transportNeeded');
	});
}
