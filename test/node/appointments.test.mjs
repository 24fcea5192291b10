import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DateTime } from 'luxon';
import {
	chooseSource,
	buildVisitQuery,
	statusCodes,
	matchesFilter,
	missingReferences,
	splitBundle,
	compareVisits,
} from '../../nodes/EClinicalWorks/fhir/appointments.ts';
import { resolveRange } from '../../nodes/EClinicalWorks/fhir/dates.ts';
import { summarizeCapabilities, hasOperation, supportsInclude } from '../../nodes/EClinicalWorks/fhir/capabilitySummary.ts';

const res = (type, extra = {}) => ({ type, interaction: [{ code: 'read' }, { code: 'search-type' }], ...extra });
const ecwCaps = {
	resourceType: 'CapabilityStatement',
	fhirVersion: '4.0.1',
	software: { name: 'eCW' },
	rest: [{
		mode: 'server',
		resource: [
			res('Patient', { searchParam: ['_id', 'birthdate', 'family', 'name'].map((name) => ({ name })), operation: [{ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' }] }),
			res('Encounter', { searchParam: ['_id', 'date', 'patient', 'practitioner', 'location'].map((name) => ({ name })), searchInclude: ['Encounter:patient'] }),
			res('Practitioner', { searchParam: [{ name: '_id' }] }),
			res('Location'),
		],
	}],
};
const smartCaps = {
	resourceType: 'CapabilityStatement',
	rest: [{ mode: 'server', resource: [res('Appointment', { searchParam: [{ name: 'date' }, { name: 'status' }], searchInclude: ['Appointment:patient', 'Appointment:practitioner', 'Appointment:location'] }), res('Encounter')] }],
};
const zone = 'America/New_York';
const range = resolveRange({ preset: 'today', zone, now: DateTime.fromISO('2025-01-06T12:00:00', { zone }) });

test('Auto picks Appointment where served, else Encounter, and says why', () => {
	assert.equal(chooseSource(smartCaps, 'auto').type, 'Appointment');
	const ecw = chooseSource(ecwCaps, 'auto', { ecw: true });
	assert.equal(ecw.type, 'Encounter');
	assert.equal(ecw.label, 'Encounter (eCW visit)');
	assert.match(ecw.reason, /eClinicalWorks has no Appointment resource/);
	// another server's Encounters are not eCW visits
	const other = chooseSource(ecwCaps, 'auto');
	assert.equal(other.label, 'Encounter');
	assert.match(other.reason, /the server has no Appointment resource/);
});

test('forcing Appointment on eCW is a clear error naming the missing resource', () => {
	assert.throws(() => chooseSource(ecwCaps, 'appointment'), (error) => {
		assert.equal(error.name, 'InputError');
		assert.equal(error.field, 'Source');
		assert.match(error.message, /no Appointment resource/);
		assert.match(error.fix, /Auto or to Encounter/);
		return true;
	});
	assert.throws(() => chooseSource({ resourceType: 'CapabilityStatement', rest: [] }, 'auto'), { field: 'Source' });
	assert.equal(chooseSource(ecwCaps, 'encounter').type, 'Encounter');
});

test('query: date prefixes with offsets, filters, includes only where declared', () => {
	const q = buildVisitQuery(ecwCaps, 'Encounter', { range, patientId: 'pt-1', statuses: ['planned'] }, { patient: true, practitioner: true, location: false });
	assert.deepEqual(q.query, [
		['date', 'ge2025-01-06T00:00:00-05:00'],
		['date', 'lt2025-01-07T00:00:00-05:00'],
		['patient', 'Patient/pt-1'],
		['_include', 'Encounter:patient'],
	]);
	assert.equal(q.statusOnServer, false);
	assert.deepEqual(q.included, ['Patient']);
	assert.deepEqual(q.followUp, ['Patient', 'Practitioner']);
	const s = buildVisitQuery(smartCaps, 'Appointment', { range, statuses: ['booked', 'arrived'] }, { patient: true, practitioner: true, location: true });
	assert.ok(s.query.some(([k, v]) => k === 'status' && v === 'booked,arrived'));
	assert.deepEqual(s.query.filter(([k]) => k === '_include').map(([, v]) => v), ['Appointment:patient', 'Appointment:practitioner', 'Appointment:location']);
});

test('filters the server does not declare are left to the local check', () => {
	const q = buildVisitQuery(smartCaps, 'Appointment', { range, patientId: 'pt-1', locationId: 'loc-1' }, { patient: false, practitioner: false, location: false });
	assert.deepEqual(q.query.map(([k]) => k), ['date', 'date']);
	const undeclared = buildVisitQuery({ resourceType: 'CapabilityStatement', rest: [{ resource: [{ type: 'Encounter' }] }] }, 'Encounter', { range, patientId: 'pt-1' }, { patient: false, practitioner: false, location: false });
	assert.deepEqual(undeclared.query.map(([k]) => k), ['date', 'date', 'patient']);
});

test('status groups map per source', () => {
	assert.deepEqual(statusCodes(['booked'], 'Encounter'), ['planned']);
	assert.deepEqual(statusCodes(['booked', 'arrived'], 'Appointment'), ['booked', 'arrived', 'checked-in']);
	assert.deepEqual(statusCodes('checked-in', 'Appointment'), ['checked-in']);
	assert.equal(statusCodes([], 'Appointment'), undefined);
	assert.deepEqual(statusCodes(['noshow'], 'Encounter'), []);
	assert.throws(() => statusCodes(['done'], 'Encounter'), { field: 'Status' });
});

test('local filter: range edges, status and ids', () => {
	const enc = (id, start, extra = {}) => ({ resourceType: 'Encounter', id, status: 'planned', period: { start }, subject: { reference: 'Patient/pt-1' }, participant: [{ individual: { reference: 'Practitioner/pr-2' } }], ...extra });
	const filter = { range };
	assert.equal(matchesFilter(enc('a', '2025-01-06T23:30:00-05:00'), filter), true);
	assert.equal(matchesFilter(enc('b', '2025-01-07T00:00:00-05:00'), filter), false);
	assert.equal(matchesFilter(enc('c', '2025-01-06T09:00:00-05:00', { status: 'cancelled' }), { range, statuses: ['planned'] }), false);
	assert.equal(matchesFilter(enc('d', '2025-01-06T09:00:00-05:00'), { range, patientId: 'pt-2' }), false);
	assert.equal(matchesFilter(enc('e', '2025-01-06T09:00:00-05:00'), { range, patientId: 'pt-1', practitionerId: 'pr-2' }), true);
	const visits = [enc('z', '2025-01-06T10:00:00-05:00'), enc('y', '2025-01-06T09:00:00-05:00')];
	assert.deepEqual(visits.sort(compareVisits).map((v) => v.id), ['y', 'z']);
	const missing = missingReferences(visits, ['Patient', 'Practitioner'], (ref) => ref === 'Patient/pt-1');
	assert.deepEqual([...missing], [['Practitioner', ['pr-2']]]);
});

test('bundles split by search mode, next link found', () => {
	const split = splitBundle({
		resourceType: 'Bundle',
		link: [{ relation: 'self', url: 'a' }, { relation: 'next', url: 'b' }],
		entry: [
			{ resource: { resourceType: 'Encounter', id: '1' }, search: { mode: 'match' } },
			{ resource: { resourceType: 'Patient', id: 'p' }, search: { mode: 'include' } },
			{ resource: { resourceType: 'OperationOutcome' }, search: { mode: 'outcome' } },
			{ resource: { resourceType: 'Encounter', id: '2' } },
			{ resource: { resourceType: 'Practitioner', id: 'x' } },
		],
	}, 'Encounter');
	assert.deepEqual(split.matches.map((r) => r.id), ['1', '2']);
	assert.deepEqual(split.included.map((r) => r.id), ['p', 'x']);
	assert.equal(split.outcomes.length, 1);
	assert.equal(split.next, 'b');
});

test('capability summary', () => {
	const summary = summarizeCapabilities(ecwCaps);
	assert.equal(summary.fhirVersion, '4.0.1');
	assert.deepEqual(summary.resourceTypes, ['Encounter', 'Location', 'Patient', 'Practitioner']);
	assert.deepEqual(summary.resources.find((r) => r.type === 'Patient').operations, ['everything']);
	assert.equal(hasOperation(ecwCaps, 'Patient', 'everything'), true);
	assert.equal(hasOperation(smartCaps, 'Patient', 'everything'), false);
	assert.equal(supportsInclude(ecwCaps, 'Encounter', 'Encounter:patient'), true);
	assert.equal(supportsInclude(ecwCaps, 'Encounter', 'Encounter:location'), false);
});
