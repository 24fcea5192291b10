// In-process n8n workflow tests of the eClinicalWorks node's operations against the sandbox
// (real n8n-core WorkflowExecute, real HTTP, no mocking).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox } from '../../sandbox/index.mjs';
import { shutdown } from '../helpers/n8n.mjs';
import { clearCapabilitiesCache } from '../../nodes/EClinicalWorks/fhir/client.ts';
import { run, fhirRequests } from './_setup.mjs';

let ecw;
let smart;

before(async () => {
	// the range-edge visits (23:30 today, 00:00 tomorrow) are test fixtures, off in the demo
	ecw = await startSandbox({ profile: 'ecw', patients: 250, seed: 7, rangeEdgeVisits: true });
	smart = await startSandbox({ profile: 'smart', patients: 60, seed: 11, rangeEdgeVisits: true });
});

after(async () => {
	await ecw?.stop();
	await smart?.stop();
	await shutdown();
});

const appointments = (extra = {}) => ({ resource: 'appointment', operation: 'getMany', returnAll: true, ...extra });

function assertNodeError(error, pattern) {
	assert.ok(error, 'expected the node to fail');
	const text = `${error.message}\n${error.description ?? ''}`;
	assert.match(text, pattern);
}

describe('Appointment > Get Many', () => {
	test('ecw: Auto falls back to Encounter, 23:30 today is in, 00:00 tomorrow is out, names joined by follow-up reads', async () => {
		const start = ecw.stats.log.length;
		const { json, hints, error } = await run(ecw, appointments({ dateRange: 'today' }));
		assert.equal(error, undefined);
		assert.ok(json.length >= 4, `expected today's fixed visits, got ${json.length}`);
		for (const item of json) {
			assert.equal(item.source, 'Encounter (eCW visit)');
			assert.equal(item.timeZone, 'America/New_York');
			assert.equal(item.date, json[0].date);
			assert.ok(item.patientName, 'patient name joined');
			assert.ok(item.patientMrn, 'MRN joined');
			assert.ok(item.patientBirthDate);
			assert.ok(item.practitionerName);
			assert.ok(item.locationName);
		}
		assert.ok(json.some((i) => i.time === '23:30'), '23:30 visit is in');
		assert.ok(!json.some((i) => i.time === '00:00'), '00:00 next day is out');
		assert.ok(json.some((i) => i.transportNeeded === true), 'a transport need is detected');
		assert.deepEqual([...json].sort((a, b) => a.start.localeCompare(b.start)).map((i) => i.id), json.map((i) => i.id), 'sorted by start');
		assert.ok(hints.some((h) => /no Appointment resource/.test(h.message)), 'a hint says why Encounter was used');
		// follow-up reads are batched: one search per referenced type, not one read per visit
		const requests = fhirRequests(ecw, start);
		const patientCalls = requests.filter((r) => /\/Patient(\/|$)/.test(r.path));
		assert.ok(patientCalls.length <= 2, `patients read in batches, saw ${patientCalls.length} calls`);
	});

	test('ecw: tomorrow includes the 00:00 visit; status filter and practitioner filter', async () => {
		const all = await run(ecw, appointments({ dateRange: 'tomorrow' }));
		assert.ok(all.json.some((i) => i.time === '00:00'));
		assert.ok(all.json.some((i) => i.status === 'cancelled'));
		const booked = await run(ecw, appointments({ dateRange: 'tomorrow', filters: { status: ['booked'] } }));
		assert.ok(booked.json.length > 0);
		assert.ok(booked.json.every((i) => i.status === 'planned'));
		const practitionerId = all.json[0].practitionerId;
		const one = await run(ecw, appointments({ dateRange: 'tomorrow', filters: { practitionerId } }));
		assert.ok(one.json.length >= 1);
		assert.ok(one.json.every((i) => i.practitionerId === practitionerId));
	});

	test('ecw: custom range in another time zone; end exclusive with a time of day', async () => {
		const today = await run(ecw, appointments({ dateRange: 'today' }));
		const date = today.json[0].date;
		const { json } = await run(ecw, appointments({ dateRange: 'custom', from: `${date}T00:00:00`, to: `${date}T23:30:00`, timeZone: 'America/New_York' }));
		assert.ok(json.length > 0);
		assert.ok(!json.some((i) => i.time === '23:30'), 'a To with a time is excluded');
		const utc = await run(ecw, appointments({ dateRange: 'custom', from: date, to: date, timeZone: 'UTC' }));
		assert.ok(utc.json.every((i) => i.timeZone === 'UTC' && i.date === date && i.start.endsWith('Z')));
	});

	test('an empty Time Zone uses the workflow time zone', async () => {
		const { json } = await run(ecw, appointments({ dateRange: 'next7Days' }), { timezone: 'Europe/Berlin' });
		assert.ok(json.length > 0);
		assert.ok(json.every((i) => i.timeZone === 'Europe/Berlin' && /\+0[12]:00$/.test(i.start)));
	});

	test('ecw: forcing Source Appointment is a clear error naming the missing resource', async () => {
		const { error, json } = await run(ecw, appointments({ dateRange: 'today', source: 'appointment' }));
		assertNodeError(error, /no Appointment resource/);
		assertNodeError(error, /Auto or to Encounter/);
		assert.equal(json.length, 0);
	});

	test('ecw: nothing found -> zero items and a hint with the source and range', async () => {
		const { json, hints, error } = await run(ecw, appointments({ dateRange: 'custom', from: '2001-01-01', to: '2001-01-02' }));
		assert.equal(error, undefined);
		assert.equal(json.length, 0);
		const hint = hints.find((h) => /No appointments found/.test(h.message));
		assert.ok(hint, 'zero-result hint');
		assert.match(hint.message, /Encounter \(eCW visit\)/);
		assert.match(hint.message, /2001-01-01 00:00 to 2001-01-03 00:00/);
	});

	test('smart: Auto uses Appointment and joins _include-d patient, practitioner and location (no extra reads)', async () => {
		const start = smart.stats.log.length;
		const { json, error } = await run(smart, appointments({ dateRange: 'tomorrow' }));
		assert.equal(error, undefined);
		assert.ok(json.length >= 4);
		for (const item of json) {
			assert.equal(item.source, 'Appointment');
			assert.ok(item.patientName && item.patientMrn && item.patientPhone && item.patientAddress);
			assert.ok(item.practitionerName);
			assert.ok(item.locationName);
			assert.equal(item.resourceType, undefined, 'included resources are not emitted as items');
		}
		assert.ok(json.some((i) => i.time === '00:00'));
		assert.ok(json.some((i) => i.transportNeeded && i.comment));
		const requests = fhirRequests(smart, start).filter((r) => !r.path.endsWith('/metadata'));
		assert.ok(requests.every((r) => /\/Appointment$/.test(r.path)), `only Appointment searches: ${requests.map((r) => r.path).join(', ')}`);
	});

	test('smart: Raw output gives the FHIR Appointments only', async () => {
		const { json } = await run(smart, appointments({ dateRange: 'tomorrow', output: 'raw' }));
		assert.ok(json.length > 0);
		assert.ok(json.every((r) => r.resourceType === 'Appointment'));
	});

	test('smart: forcing Encounter works there too', async () => {
		const { json } = await run(smart, appointments({ dateRange: 'today', source: 'encounter' }));
		assert.ok(json.length > 0 && json.every((i) => i.source === 'Encounter' && i.patientName), 'another server\'s Encounters are not labelled eCW visits');
	});
});

describe('Patient', () => {
	test('Search with Return All pages through 250 patients at 100 per page', async () => {
		const start = ecw.stats.log.length;
		const { json, error } = await run(ecw, { resource: 'patient', operation: 'search', criteria: { bornOnOrAfter: '1900-01-01' }, returnAll: true });
		assert.equal(error, undefined);
		assert.equal(json.length, 250);
		assert.equal(new Set(json.map((p) => p.id)).size, 250);
		const pages = fhirRequests(ecw, start).filter((r) => r.path.endsWith('/Patient'));
		assert.equal(pages.length, 3);
		const p = json[0];
		for (const key of ['id', 'mrn', 'name', 'family', 'given', 'birthDate', 'gender', 'phone', 'address', 'city', 'state', 'postalCode', 'lastUpdated']) {
			assert.ok(p[key], `${key} filled`);
		}
	});

	test('Search by family name with a limit; by MRN; raw', async () => {
		const all = await run(ecw, { resource: 'patient', operation: 'search', criteria: { bornOnOrAfter: '1900-01-01' }, returnAll: false, limit: 3 });
		assert.equal(all.json.length, 3);
		const target = all.json[1];
		const byMrn = await run(ecw, { resource: 'patient', operation: 'search', criteria: { identifier: target.mrn } });
		assert.deepEqual(byMrn.json.map((p) => p.id), [target.id]);
		const byName = await run(ecw, { resource: 'patient', operation: 'search', criteria: { family: target.family, birthDate: target.birthDate }, output: 'raw' });
		assert.ok(byName.json.some((p) => p.resourceType === 'Patient' && p.id === target.id));
	});

	test('Get and Get Full Record ($everything)', async () => {
		const get = await run(ecw, { resource: 'patient', operation: 'get', patientId: 'pt-1' });
		assert.equal(get.json.length, 1);
		assert.equal(get.json[0].id, 'pt-1');
		const everything = await run(ecw, { resource: 'patient', operation: 'everything', patientId: 'pt-1', returnAll: true });
		assert.equal(everything.error, undefined);
		const types = new Set(everything.json.map((r) => r.resourceType));
		assert.ok(types.has('Patient') && types.has('Encounter'), [...types].join(','));
	});

	test('each bad input is refused before any request, naming the field', async () => {
		const cases = [
			[{ resource: 'patient', operation: 'search', criteria: {} }, /Search Criteria/],
			[{ resource: 'patient', operation: 'search', criteria: { birthDate: 'yesterday-ish' } }, /Birth Date/],
			[{ resource: 'patient', operation: 'search', criteria: { family: 'Smith' }, returnAll: false, limit: 0 }, /Limit/],
			[{ resource: 'patient', operation: 'get', patientId: 'Practitioner/pt-1' }, /Patient ID: "Practitioner\/pt-1" is a reference to a Practitioner, not a Patient/],
			[{ resource: 'patient', operation: 'get', patientId: 'pt-1/_history' }, /Patient ID: "pt-1\/_history" contains a slash[\s\S]*the part after "Patient\/"/],
			[{ resource: 'patient', operation: 'get', patientId: 'pt 1' }, /Patient ID.*whitespace/],
			[appointments({ dateRange: 'custom', from: 'not a date', to: '2025-01-01' }), /From/],
			[appointments({ dateRange: 'today', timeZone: 'Mars/Olympus' }), /Time Zone/],
			[appointments({ dateRange: 'today', filters: { patientId: 'a/b' } }), /Patient ID/],
			[{ resource: 'fhirResource', operation: 'search', resourceType: 'patient' }, /Resource Type/],
			[{ resource: 'fhirResource', operation: 'get', resourceType: 'Practitioner', resourceId: '../metadata' }, /Resource ID/],
			[{ resource: 'fhirResource', operation: 'search', resourceType: 'Practitioner', parameters: { parameter: [{ name: 'name=x&y', value: '1' }] } }, /Search Parameters/],
		];
		for (const [parameters, pattern] of cases) {
			const start = ecw.stats.log.length;
			const { error } = await run(ecw, parameters);
			assertNodeError(error, pattern);
			assert.equal(fhirRequests(ecw, start).length, 0, `no request for ${JSON.stringify(parameters)}`);
		}
	});

	test('continueOnFail keeps going and pairs every output with its input item', async () => {
		const { items, error } = await run(
			ecw,
			{ resource: 'patient', operation: 'get', patientId: '={{ $json.id }}' },
			{ inputItems: [{ json: { id: 'pt-2' } }, { json: { id: 'pt/3' } }, { json: { id: 'pt-4' } }, { json: { id: 'pt-999999' } }], continueOnFail: true },
		);
		assert.equal(error, undefined);
		assert.equal(items.length, 4);
		assert.deepEqual(items.map((i) => i.pairedItem.item), [0, 1, 2, 3]);
		assert.equal(items[0].json.id, 'pt-2');
		assert.match(items[1].json.error, /Patient ID/);
		assert.equal(items[2].json.id, 'pt-4');
		assert.ok(items[3].json.error, 'a 404 becomes an error item');
		assert.ok(!JSON.stringify(items[3].json).includes('Bearer'), 'no token in errors');
	});
});

describe('On Error: Continue (using error output)', () => {
	test('a failed item goes to the error output; the others stay on the success output', async () => {
		const { result, error } = await run(
			ecw,
			{ resource: 'patient', operation: 'get', patientId: '={{ $json.id }}' },
			{ inputItems: [{ json: { id: 'pt-2', mrn: 'a' } }, { json: { id: 'pt-999999', mrn: 'b' } }], continueOnFail: 'continueErrorOutput' },
		);
		assert.equal(error, undefined);
		const success = result.itemsOf('Node', { output: 0 });
		const failed = result.itemsOf('Node', { output: 1 });
		assert.deepEqual(success.map((i) => i.json.id), ['pt-2']);
		assert.equal(failed?.length, 1, 'n8n routes the failed item to the error output');
		assert.match(failed[0].json.error, /404|not found/i);
		assert.ok('details' in failed[0].json && !('description' in failed[0].json), 'the hint in details: n8n routes items with error, message and details only');
		assert.equal(failed[0].json.mrn, 'b', 'n8n adds the input item\'s fields to the error item');
	});
});

describe('Custom API Call (the option n8n adds to Resource and Operation)', () => {
	test('says to use the HTTP Request node with this credential, and how', async () => {
		for (const parameters of [
			{ resource: 'patient', operation: '__CUSTOM_API_CALL__' },
			{ resource: '__CUSTOM_API_CALL__' },
		]) {
			const start = ecw.stats.log.length;
			const { error } = await run(ecw, parameters);
			assertNodeError(error, /Custom API Call runs in n8n's HTTP Request node/);
			assert.match(error.description, /Predefined Credential Type.*eClinicalWorks \(Backend Service\) API/);
			assert.equal(fhirRequests(ecw, start).length, 0, 'no request');
		}
	});
});

describe('FHIR Resource and Server', () => {
	test('Search any served type with free parameters; Get by ID; unknown type is an InputError', async () => {
		const search = await run(ecw, { resource: 'fhirResource', operation: 'search', resourceType: 'Encounter', parameters: { parameter: [{ name: 'patient', value: 'pt-1' }] }, returnAll: true, output: 'raw' });
		assert.ok(search.json.length >= 1);
		assert.ok(search.json.every((r) => r.resourceType === 'Encounter' && r.subject.reference === 'Patient/pt-1'));
		const practitioners = await run(ecw, { resource: 'fhirResource', operation: 'search', resourceType: 'Practitioner', returnAll: false, limit: 2 });
		assert.equal(practitioners.json.length, 2);
		assert.ok(practitioners.json[0].name);
		const get = await run(ecw, { resource: 'fhirResource', operation: 'get', resourceType: 'Location', resourceId: 'loc-1' });
		assert.equal(get.json[0].id, 'loc-1');
		const unknown = await run(ecw, { resource: 'fhirResource', operation: 'search', resourceType: 'Appointment' });
		assertNodeError(unknown.error, /Resource Type.*not served/);
	});

	test('Get Capabilities: summary and raw', async () => {
		const summary = await run(ecw, { resource: 'server', operation: 'getCapabilities' });
		const s = summary.json[0];
		assert.equal(s.fhirVersion, '4.0.1');
		assert.ok(s.resourceTypes.includes('Encounter') && !s.resourceTypes.includes('Appointment'));
		assert.ok(s.resources.find((r) => r.type === 'Patient').operations.includes('everything'));
		const raw = await run(ecw, { resource: 'server', operation: 'getCapabilities', output: 'raw' });
		assert.equal(raw.json[0].resourceType, 'CapabilityStatement');
	});
});

describe('Faults', () => {
	test('a 429 with Retry-After and a 500 are retried; a persistent 500 surfaces as an API error', async () => {
		clearCapabilitiesCache();
		smart.inject({ kind: '429', path: 'Patient$', retryAfter: 1, count: 1 });
		smart.inject({ kind: '500', path: 'Patient$', count: 1 });
		const ok = await run(smart, { resource: 'patient', operation: 'search', criteria: { gender: 'female' }, returnAll: false, limit: 5 });
		assert.equal(ok.error, undefined);
		assert.equal(ok.json.length, 5);
		smart.inject({ kind: '500', path: 'Practitioner$', count: 50 });
		const bad = await run(smart, { resource: 'fhirResource', operation: 'search', resourceType: 'Practitioner', returnAll: false, limit: 1 });
		smart.clearFaults();
		assertNodeError(bad.error, /500/);
		assert.equal(bad.error.httpCode, '500');
	});

	test('503 with Retry-After, a slow answer and revoked tokens: retried, re-minted once, complete result', async () => {
		smart.inject({ kind: '503', path: 'Patient$', retryAfter: 1, count: 1 });
		smart.inject({ kind: 'slow', path: 'Patient$', delayMs: 300, count: 1 });
		smart.inject({ kind: 'revoke-tokens', path: 'Patient$', count: 1 });
		const tokensBefore = smart.stats.tokenRequests;
		const { json, error } = await run(smart, { resource: 'patient', operation: 'search', criteria: { bornOnOrAfter: '1900-01-01' }, returnAll: true });
		smart.clearFaults();
		assert.equal(error, undefined);
		assert.equal(json.length, 60);
		assert.equal(smart.stats.tokenRequests - tokensBefore, 1, 'one new token after the revocation');
	});

	test('missing scope: 403 names the problem', async () => {
		const { error } = await run(ecw, appointments({ dateRange: 'today' }), { clientId: 'sandbox-patient-only' });
		assertNodeError(error, /403|scope|Encounter/i);
	});
});
