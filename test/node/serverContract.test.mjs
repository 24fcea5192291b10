// Issues 12 and 13: the node against servers that are stricter or different from the friendly sandbox
// of earlier versions: eCW's published contract (ecw profile) and real servers' behaviours (smart
// quirks). In-process n8n, real HTTP, no mocking. Each test failed on the code before the fix.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox } from '../../sandbox/index.mjs';
import { shutdown } from '../helpers/n8n.mjs';
import { run, fhirRequests } from './_setup.mjs';

let ecw;
let smart;
before(async () => {
	ecw = await startSandbox({ profile: 'ecw', patients: 80, seed: 3 });
	smart = await startSandbox({ profile: 'smart', patients: 80, seed: 5 });
});
after(async () => {
	await ecw?.stop();
	await smart?.stop();
	await shutdown();
});

async function withSmart(quirks, fn) {
	const s = await startSandbox({ profile: 'smart', patients: 80, seed: 9, quirks, admin: true });
	try {
		return await fn(s);
	} finally {
		await s.stop();
	}
}

const appointments = (extra = {}) => ({ resource: 'appointment', operation: 'getMany', dateRange: 'next7Days', returnAll: true, ...extra });
const text = (error) => `${error?.message}\n${error?.description ?? ''}`;

describe('Get Appointments', () => {
	test('practitioner and location filters match on a server that indexes references typed only; both forms accepted', () =>
		withSmart({ typedReferencesOnly: true }, async (s) => {
			const all = await run(s, appointments({ output: 'raw' }));
			assert.equal(all.error, undefined);
			const pick = all.json[3];
			const ref = (type) => pick.participant.find((p) => p.actor.reference.startsWith(`${type}/`)).actor.reference;
			for (const [field, type] of [['practitionerId', 'Practitioner'], ['locationId', 'Location']]) {
				const expected = all.json.filter((a) => a.participant.some((p) => p.actor.reference === ref(type))).length;
				for (const value of [ref(type).split('/')[1], ref(type)]) {
					const start = s.stats.log.length;
					const { json, error } = await run(s, appointments({ filters: { [field]: value }, output: 'raw' }));
					assert.equal(error, undefined, text(error));
					assert.equal(json.length, expected, `${field} = ${value}`);
					const sent = fhirRequests(s, start).find((r) => r.path.endsWith('/Appointment'));
					assert.ok(sent, 'searched');
				}
			}
		}));

	test('Limit N gives the N earliest on a server whose default order is not by date', () =>
		withSmart({ unsortedDefault: true }, async (s) => {
			const all = await run(s, appointments());
			const earliest = [...all.json].sort((a, b) => a.start.localeCompare(b.start) || a.id.localeCompare(b.id)).slice(0, 5).map((i) => i.id);
			const limited = await run(s, appointments({ returnAll: false, limit: 5 }));
			assert.equal(limited.error, undefined);
			assert.deepEqual(limited.json.map((i) => i.id), earliest);
		}));

	test('Limit N gives the N earliest on eCW too (no _sort declared: the whole range is read first)', async () => {
		const all = await run(ecw, appointments());
		const earliest = [...all.json].sort((a, b) => a.start.localeCompare(b.start) || a.id.localeCompare(b.id)).slice(0, 4).map((i) => i.id);
		const start = ecw.stats.log.length;
		const limited = await run(ecw, appointments({ returnAll: false, limit: 4 }));
		assert.deepEqual(limited.json.map((i) => i.id), earliest);
		assert.ok(!fhirRequests(ecw, start).some((r) => /_sort/.test(r.path)), 'no _sort sent to eCW');
	});

	test('minutes come from start and end when minutesDuration is missing', () =>
		withSmart(undefined, async (s) => {
			const tomorrow = new Date(s.now() + 86_400_000);
			const a = s.admin.createAppointment('demo', { patient: 'pt-1', start: tomorrow, end: new Date(tomorrow.getTime() + 45 * 60_000) });
			assert.equal(a.minutesDuration, undefined);
			const { json } = await run(s, appointments({ dateRange: 'tomorrow' }));
			const item = json.find((i) => i.id === a.id);
			assert.ok(item, 'the new appointment is listed');
			assert.equal(item.minutes, 45);
		}));

	test('an empty result with a status filter names the statuses that were in the range', async () => {
		for (const server of [ecw, smart]) {
			const { json, hints } = await run(server, appointments({ dateRange: 'today', filters: { status: ['noshow', 'enteredInError'] } }));
			assert.equal(json.length, 0);
			const hint = hints.find((h) => /has the status asked for/.test(h.message));
			assert.ok(hint, `${server.profile}: a status hint`);
			assert.match(hint.message, /have: [a-z-]+ \(\d+\)/);
		}
	});
});

describe('Patient', () => {
	test('Search without criteria is refused on eCW (before any request) and runs elsewhere', async () => {
		const start = ecw.stats.log.length;
		const refused = await run(ecw, { resource: 'patient', operation: 'search', criteria: {}, returnAll: false, limit: 5 });
		assert.match(text(refused.error), /Search Criteria: no search criterion given \(eClinicalWorks rejects a search for all patients\)/);
		assert.equal(fhirRequests(ecw, start).filter((r) => r.path.endsWith('/Patient')).length, 0);
		const ok = await run(smart, { resource: 'patient', operation: 'search', criteria: {}, returnAll: false, limit: 5 });
		assert.equal(ok.error, undefined, text(ok.error));
		assert.equal(ok.json.length, 5);
	});

	test('Get Full Record calls $everything although the CapabilityStatement does not list it', () =>
		withSmart({ undeclaredEverything: true }, async (s) => {
			const { json, error } = await run(s, { resource: 'patient', operation: 'everything', patientId: 'Patient/pt-2', returnAll: true });
			assert.equal(error, undefined, text(error));
			assert.ok(json.some((r) => r.resourceType === 'Patient' && r.id === 'pt-2'));
			assert.ok(json.some((r) => r.resourceType === 'Encounter'));
			const missing = await run(s, { resource: 'patient', operation: 'everything', patientId: 'pt-99999', returnAll: true });
			assert.match(text(missing.error), /did not give the patient's full record \(Patient \$everything answered 404\)[\s\S]*Server said: .*not known/);
		}));
});

describe('FHIR Resource', () => {
	test('eCW: a type that is only read cannot be searched, Group cannot be read; both refused before any request', async () => {
		for (const [parameters, pattern] of [
			[{ operation: 'search', resourceType: 'Binary' }, /"Binary" cannot be searched on this server \(its CapabilityStatement declares only: read\)/],
			[{ operation: 'search', resourceType: 'Claim' }, /"Claim" cannot be searched/],
			[{ operation: 'get', resourceType: 'Group', resourceId: 'grp-1' }, /"Group" cannot be read by ID on this server \(its CapabilityStatement declares only: search-type\)/],
		]) {
			const start = ecw.stats.log.length;
			const { error } = await run(ecw, { resource: 'fhirResource', ...parameters });
			assert.match(text(error), pattern);
			assert.equal(fhirRequests(ecw, start).filter((r) => !r.path.endsWith('/metadata')).length, 0);
		}
	});

	test('eCW: an undeclared search parameter is an error naming the declared ones; elsewhere a hint, and it is sent', async () => {
		const start = ecw.stats.log.length;
		const refused = await run(ecw, { resource: 'fhirResource', operation: 'search', resourceType: 'Practitioner', parameters: { parameter: [{ name: 'family', value: 'Perez' }] } });
		assert.match(text(refused.error), /Search Parameters: "family" is not a search parameter this server declares for Practitioner; it declares: _id, identifier, name/);
		assert.equal(fhirRequests(ecw, start).filter((r) => r.path.endsWith('/Practitioner')).length, 0);
		const declared = await run(ecw, { resource: 'fhirResource', operation: 'search', resourceType: 'Encounter', parameters: { parameter: [{ name: 'patient', value: 'Patient/pt-1' }, { name: '_include', value: 'Encounter:patient' }] } });
		assert.equal(declared.error, undefined, text(declared.error));
		assert.ok(declared.json.length >= 1);
		const hinted = await run(smart, { resource: 'fhirResource', operation: 'search', resourceType: 'Practitioner', returnAll: false, limit: 3, parameters: { parameter: [{ name: 'specialty', value: 'x' }] } });
		assert.equal(hinted.error, undefined);
		assert.ok(hinted.hints.some((h) => /"specialty" is not a search parameter this server declares for Practitioner; it declares: .*name/.test(h.message)));
		const paging = await run(smart, { resource: 'fhirResource', operation: 'search', resourceType: 'Practitioner', parameters: { parameter: [{ name: 'page', value: '2' }] } });
		assert.match(text(paging.error), /"page" is a paging parameter/);
	});

	test('a server error shows the server\'s own words before the hint', async () => {
		const { error } = await run(smart, { resource: 'fhirResource', operation: 'search', resourceType: 'Patient', parameters: { parameter: [{ name: 'birthdate', value: 'notadate' }] } });
		assert.match(error.description, /^Server said: .*Invalid date value for birthdate/);
		assert.ok(error.description.indexOf('Server said') < error.description.indexOf('Check the search fields'));
	});
});

describe('Server > Get Capabilities', () => {
	test('a wrong client secret fails, even right after a good credential read the same server', async () => {
		// client secrets on another SMART server (eCW's backend services are key-only)
		const good = await run(smart, { resource: 'server', operation: 'getCapabilities' }, { clientId: 'sandbox-secret' });
		assert.equal(good.error, undefined, text(good.error));
		const tokensBefore = smart.stats.tokenRequests;
		const wrong = await run(smart, { resource: 'server', operation: 'getCapabilities' }, { clientId: 'sandbox-secret', credentialExtra: { clientSecret: 'x9-not-the-secret' } });
		assert.ok(wrong.error, 'a wrong secret is not OK');
		assert.match(text(wrong.error), /invalid_client/);
		assert.ok(smart.stats.tokenRequests > tokensBefore, 'it signed in');
	});

	test('each operation once; system-level operations apart from per-type ones (eCW lists Group export twice)', async () => {
		const { json, error } = await run(ecw, { resource: 'server', operation: 'getCapabilities' });
		assert.equal(error, undefined);
		const [summary] = json;
		assert.deepEqual(summary.typeOperations.Group, ['export']);
		assert.deepEqual(summary.systemOperations, ['export']);
		assert.deepEqual(summary.typeOperations.Patient, ['everything']);
		assert.equal(summary.software, 'eCW FHIR Facade');
		assert.equal(summary.resourceCount, 36);
	});
});
