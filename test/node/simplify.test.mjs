import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
	simplifyPatient,
	simplifyAppointment,
	simplifyEncounter,
	simplifyPractitioner,
	simplifyLocation,
	simplifyResource,
	detectNeeds,
	buildLookup,
	visitReferences,
	findMrn,
	SOURCE_APPOINTMENT,
	SOURCE_ENCOUNTER,
} from '../../nodes/EClinicalWorks/fhir/simplify/index.ts';

const patient = {
	resourceType: 'Patient',
	id: 'pt-1',
	meta: { lastUpdated: '2025-01-02T10:00:00Z' },
	identifier: [
		{ system: 'urn:other', value: 'X-9' },
		{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, system: 'urn:oid:2.16.840.1.113883.3.564.1', value: '1000123' },
	],
	name: [
		{ use: 'old', family: 'Lopez', given: ['Maria'] },
		{ use: 'official', family: 'Garcia', given: ['Maria', 'Elena'] },
	],
	telecom: [
		{ system: 'email', value: 'maria@example.com' },
		{ system: 'phone', value: '617-555-0000', use: 'work', period: { end: '2020-01-01' } },
		{ system: 'phone', value: '617-555-0134', use: 'mobile' },
	],
	gender: 'female',
	birthDate: '1980-05-01',
	address: [{ use: 'home', line: ['12 Main St', 'Apt 2'], city: 'Boston', state: 'MA', postalCode: '02118' }],
};
const practitioner = { resourceType: 'Practitioner', id: 'pr-1', name: [{ family: 'Chen', given: ['Wei'], prefix: ['Dr.'], suffix: ['MD'] }] };
const location = { resourceType: 'Location', id: 'loc-1', name: 'Main Street Clinic', address: { line: ['1 Clinic Way'], city: 'Boston', state: 'MA', postalCode: '02118' } };
const lookupMap = buildLookup([patient, practitioner, location]);
const lookup = (ref) => lookupMap.get(ref);

test('patient: flat fields', () => {
	assert.deepEqual(simplifyPatient(patient), {
		resourceType: 'Patient',
		id: 'pt-1',
		mrn: '1000123',
		name: 'Maria Elena Garcia',
		family: 'Garcia',
		given: 'Maria Elena',
		birthDate: '1980-05-01',
		gender: 'female',
		phone: '617-555-0134',
		email: 'maria@example.com',
		address: '12 Main St, Apt 2, Boston, MA 02118',
		city: 'Boston',
		state: 'MA',
		postalCode: '02118',
		lastUpdated: '2025-01-02T10:00:00Z',
	});
	const empty = simplifyPatient({ resourceType: 'Patient', id: 'x' });
	assert.equal(empty.name, '');
	assert.equal(empty.mrn, '');
	assert.equal(empty.address, '');
});

test('appointment: joined names, zoned times, transport need', () => {
	const appointment = {
		resourceType: 'Appointment',
		id: 'ap-1',
		status: 'booked',
		start: '2025-01-07T04:30:00Z',
		end: '2025-01-07T04:45:00Z',
		minutesDuration: 15,
		appointmentType: { text: 'Follow-up' },
		reasonCode: [{ coding: [{ display: 'Hypertension follow-up' }] }],
		comment: 'Needs wheelchair transport',
		participant: [
			{ actor: { reference: 'Patient/pt-1', display: 'M. Garcia' } },
			{ actor: { reference: 'Practitioner/pr-1' } },
			{ actor: { reference: 'https://fhir.example/r4/Location/loc-1' } },
		],
	};
	const item = simplifyAppointment(appointment, lookup, 'America/New_York');
	assert.equal(item.source, SOURCE_APPOINTMENT);
	assert.equal(item.start, '2025-01-06T23:30:00-05:00');
	assert.equal(item.end, '2025-01-06T23:45:00-05:00');
	assert.equal(item.date, '2025-01-06');
	assert.equal(item.time, '23:30');
	assert.equal(item.timeZone, 'America/New_York');
	assert.equal(item.patientName, 'Maria Elena Garcia');
	assert.equal(item.patientMrn, '1000123');
	assert.equal(item.patientBirthDate, '1980-05-01');
	assert.equal(item.patientPhone, '617-555-0134');
	assert.equal(item.patientAddress, '12 Main St, Apt 2, Boston, MA 02118');
	assert.equal(item.practitionerName, 'Dr. Wei Chen, MD');
	assert.equal(item.locationId, 'loc-1');
	assert.equal(item.locationName, 'Main Street Clinic');
	assert.equal(item.type, 'Follow-up');
	assert.equal(item.reason, 'Hypertension follow-up');
	assert.equal(item.transportNeeded, true);
	assert.equal(item.needs, 'wheelchair', 'a flat text, no generic transport beside the vehicle');
	assert.equal(item.levelOfService, 'wheelchair');
	// without lookups, display names are used
	const bare = simplifyAppointment(appointment, () => undefined, 'UTC');
	assert.equal(bare.patientName, 'M. Garcia');
	assert.equal(bare.patientMrn, '');
	assert.equal(bare.start, '2025-01-07T04:30:00Z');
});

test('encounter (eCW visit): subject, participant, location, extension and reason text', () => {
	const encounter = {
		resourceType: 'Encounter',
		id: 'en-1',
		status: 'planned',
		extension: [{ url: 'https://example/transport-need', valueString: 'Needs medical transport (ambulette)' }],
		type: [{ text: 'Office Visit' }],
		subject: { reference: 'Patient/pt-1' },
		participant: [{ individual: { reference: 'Practitioner/pr-1' } }],
		period: { start: '2025-01-06T09:00:00-05:00', end: '2025-01-06T09:30:00-05:00' },
		reasonCode: [{ text: 'Annual wellness visit' }],
		location: [{ location: { reference: 'Location/loc-1', display: 'Main Street Clinic' } }],
	};
	const item = simplifyEncounter(encounter, lookup, 'America/New_York');
	assert.equal(item.source, SOURCE_ENCOUNTER);
	assert.equal(item.minutes, 30);
	assert.equal(item.time, '09:00');
	assert.equal(item.patientId, 'pt-1');
	assert.equal(item.patientName, 'Maria Elena Garcia');
	assert.equal(item.practitionerId, 'pr-1');
	assert.equal(item.locationName, 'Main Street Clinic');
	assert.equal(item.type, 'Office Visit');
	assert.equal(item.comment, 'Needs medical transport (ambulette)');
	assert.equal(item.transportNeeded, true);
	assert.equal(item.levelOfService, 'wheelchair', 'an ambulette is a wheelchair van');
	assert.equal(item.needs, 'wheelchair');
	assert.deepEqual(visitReferences(encounter), ['Patient/pt-1', 'Practitioner/pr-1', 'Location/loc-1']);
});

test('needs detection: the dispatcher\'s level of service, ambulette as wheelchair, no transport beside a vehicle', () => {
	const cases = [
		['Needs a ride to the appointment', ['transport'], true, 'ambulatory'],
		['Needs a ride to the appointment (transport requested)', ['transport'], true, 'ambulatory'],
		['Stretcher van', ['stretcher'], true, 'stretcher'],
		['Needs medical transport (ambulette)', ['wheelchair'], true, 'wheelchair'],
		['Ambulette pick-up 8:00', ['wheelchair'], true, 'wheelchair'],
		['Needs wheelchair transport', ['wheelchair'], true, 'wheelchair'],
		['W/C van, bring oxygen', ['wheelchair', 'oxygen'], true, 'wheelchair'],
		['Bed-bound: ambulance transport', ['stretcher', 'ambulance'], true, 'ambulance'],
		['Wheelchair; stretcher if worse', ['wheelchair', 'stretcher'], true, 'stretcher'],
		['NEMT ride, Spanish interpreter', ['transport', 'interpreter'], true, 'ambulatory'],
		['Spanish interpreter', ['interpreter'], false, ''],
		['No transport needed', [], false, ''],
		['Hypertension follow-up', [], false, ''],
	];
	for (const [text, needs, transportNeeded, levelOfService] of cases) {
		assert.deepEqual(detectNeeds([text]), { needs, transportNeeded, levelOfService }, text);
	}
	assert.deepEqual(detectNeeds([]), { needs: [], transportNeeded: false, levelOfService: '' });
	assert.deepEqual(detectNeeds(['', '']), { needs: [], transportNeeded: false, levelOfService: '' });
});

test('dispatcher: practitioner, location, unknown types unchanged', () => {
	assert.equal(simplifyPractitioner(practitioner).name, 'Dr. Wei Chen, MD');
	assert.equal(simplifyLocation(location).address, '1 Clinic Way, Boston, MA 02118');
	const coverage = { resourceType: 'Coverage', id: 'c1', status: 'active' };
	assert.equal(simplifyResource(coverage), coverage);
	assert.equal(simplifyResource({ resourceType: 'Encounter', id: 'e' }).resourceType, 'Encounter');
	assert.equal(simplifyResource(patient).mrn, '1000123');
});

const v3 = (code) => [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code }] }];

test('practitioner of a visit: the one who performs it, never a referrer or consultant listed first', () => {
	const referrer = { resourceType: 'Practitioner', id: 'pr-ref', name: [{ text: 'Dr. Referring' }] };
	const lookupAll = (ref) => buildLookup([patient, practitioner, location, referrer]).get(ref);
	const encounter = (participant) => ({ resourceType: 'Encounter', id: 'en-9', subject: { reference: 'Patient/pt-1' }, participant, period: { start: '2025-01-06T09:00:00-05:00' } });
	const ref = { type: v3('REF'), individual: { reference: 'Practitioner/pr-ref' } };
	const con = { type: v3('CON'), individual: { reference: 'Practitioner/pr-ref' } };
	const pprf = { type: v3('PPRF'), individual: { reference: 'Practitioner/pr-1' } };
	const atnd = { type: v3('ATND'), individual: { reference: 'Practitioner/pr-1' } };
	const prf = { type: v3('PRF'), individual: { reference: 'Practitioner/pr-1' } };
	for (const [participants, why] of [
		[[ref, pprf], 'referrer first, primary performer second'],
		[[con, ref, atnd], 'consultant and referrer before the attender'],
		[[ref, prf], 'referrer before a performer'],
		[[ref, { individual: { reference: 'Practitioner/pr-1' } }], 'referrer before an untyped participant'],
		[[{ type: v3('PRF'), individual: { reference: 'Practitioner/pr-ref' } }, pprf], 'primary performer beats performer'],
		[[{ type: v3('ATND'), individual: { reference: 'Practitioner/pr-ref' } }, pprf], 'primary performer beats attender'],
	]) {
		const item = simplifyEncounter(encounter(participants), lookupAll, 'UTC');
		assert.equal(item.practitionerId, 'pr-1', why);
		assert.equal(item.practitionerName, 'Dr. Wei Chen, MD', why);
		assert.deepEqual(visitReferences(encounter(participants)), ['Patient/pt-1', 'Practitioner/pr-1'], `${why}: the performer is read`);
	}
	// only a referrer listed: better its name than none
	assert.equal(simplifyEncounter(encounter([ref]), lookupAll, 'UTC').practitionerId, 'pr-ref');
	// Appointment participants carry the same types
	const appointment = {
		resourceType: 'Appointment',
		id: 'ap-9',
		start: '2025-01-06T14:00:00Z',
		participant: [
			{ actor: { reference: 'Patient/pt-1' } },
			{ type: v3('REF'), actor: { reference: 'Practitioner/pr-ref', display: 'Dr. Referring' } },
			{ type: v3('PPRF'), actor: { reference: 'Practitioner/pr-1' } },
			{ actor: { reference: 'Location/loc-1' } },
		],
	};
	assert.equal(simplifyAppointment(appointment, lookupAll, 'UTC').practitionerName, 'Dr. Wei Chen, MD');
	assert.deepEqual(visitReferences(appointment), ['Patient/pt-1', 'Practitioner/pr-1', 'Location/loc-1']);
});

test('MRN: the current one, never an old or ended one listed first', () => {
	const mr = (value, extra = {}) => ({ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, system: 'urn:oid:2.16.840.1.113883.3.564.1', value, ...extra });
	const now = Date.parse('2025-06-01T00:00:00Z');
	const cases = [
		[[mr('OLD-1', { use: 'old' }), mr('NEW-1', { use: 'usual' })], 'old first, usual second'],
		[[mr('OLD-1', { use: 'usual', period: { end: '2019-12-31' } }), mr('NEW-1', { use: 'usual' })], 'ended period first'],
		[[mr('OLD-1', { use: 'old', period: { start: '2001-01-01', end: '2019-12-31' } }), mr('NEW-1')], 'old and ended first, no use second'],
		[[mr('OLD-1', { use: 'secondary' }), mr('NEW-1', { use: 'official', period: { start: '2020-01-01', end: '2030-01-01' } })], 'official with a period that has not ended beats secondary'],
		[[{ system: 'urn:other', value: 'SSN-LIKE', use: 'usual' }, mr('OLD-1', { use: 'old' }), { system: 'urn:mrn', value: 'NEW-1' }], 'a current MRN named by its system beats an old typed one; other identifiers are never the MRN'],
	];
	for (const [identifiers, why] of cases) assert.equal(findMrn(identifiers, now), 'NEW-1', why);
	// only an old MRN: still shown (better than none)
	assert.equal(findMrn([mr('OLD-1', { use: 'old' })], now), 'OLD-1');
	// no MR at all: usual beats the first
	assert.equal(findMrn([{ system: 'urn:a', value: 'A' }, { system: 'urn:b', value: 'B', use: 'usual' }], now), 'B');
	assert.equal(simplifyPatient({ resourceType: 'Patient', id: 'p', identifier: cases[0][0] }).mrn, 'NEW-1');
});
