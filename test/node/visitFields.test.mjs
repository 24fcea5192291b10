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
