import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPatientQuery, resolveLimit, escapeSearchValue, hasCriteria } from '../../nodes/EClinicalWorks/fhir/patientSearch.ts';
import { validateId, idFromReference } from '../../nodes/EClinicalWorks/fhir/ids.ts';

test('criteria become FHIR Patient search parameters', () => {
	assert.deepEqual(
		buildPatientQuery({ family: 'Garcia', given: 'Maria', birthDate: '1980-05-01T00:00:00', gender: 'Female', phone: '617-555-0134' }),
		[
			['family', 'Garcia'],
			['given', 'Maria'],
			['birthdate', 'eq1980-05-01'],
			['gender', 'female'],
			['phone', '617-555-0134'],
		],
	);
	assert.deepEqual(buildPatientQuery({ identifier: '1234567', identifierSystem: 'urn:oid:1.2.3' }), [['identifier', 'urn:oid:1.2.3|1234567']]);
	assert.deepEqual(buildPatientQuery({ identifier: '1234567' }), [['identifier', '1234567']]);
	assert.deepEqual(buildPatientQuery({ id: ' pt-1 ' }), [['_id', 'pt-1']]);
	assert.deepEqual(buildPatientQuery({ name: "O'Brien, Pat" }), [['name', "O'Brien\\, Pat"]]);
});

test('birth date range: on or after / on or before', () => {
	assert.deepEqual(buildPatientQuery({ bornOnOrAfter: '1950-01-01', bornOnOrBefore: '1960-12-31T00:00:00' }), [
		['birthdate', 'ge1950-01-01'],
		['birthdate', 'le1960-12-31'],
	]);
	assert.throws(() => buildPatientQuery({ bornOnOrAfter: '1960-01-01', bornOnOrBefore: '1950-12-31' }), { field: 'Born On or Before' });
	assert.throws(() => buildPatientQuery({ birthDate: '1960-01-01', bornOnOrBefore: '1950-12-31' }), { field: 'Birth Date' });
});

test('no criterion is a search for every patient (refused by the operation where the server rejects it)', () => {
	for (const criteria of [{}, { name: '  ' }, { identifierSystem: '' }, { birthDate: '' }]) {
		assert.equal(hasCriteria(criteria), false);
		assert.deepEqual(buildPatientQuery(criteria), []);
	}
	assert.equal(hasCriteria({ family: 'x' }), true);
	assert.equal(hasCriteria({ bornOnOrAfter: '1950-01-01' }), true);
});

test('malformed values are InputErrors naming the field', () => {
	assert.throws(() => buildPatientQuery({ birthDate: 'May 1st' }), { field: 'Birth Date' });
	assert.throws(() => buildPatientQuery({ gender: 'f' }), { field: 'Gender' });
	assert.throws(() => buildPatientQuery({ phone: 'call me' }), { field: 'Phone' });
	assert.throws(() => buildPatientQuery({ id: 'Patient/123' }), { field: 'Patient ID', message: /slash/ });
	assert.throws(() => buildPatientQuery({ id: '12 3' }), { field: 'Patient ID', message: /whitespace/ });
	assert.throws(() => buildPatientQuery({ identifierSystem: 'urn:x', family: 'Smith' }), { field: 'Identifier System' });
});

test('ids and limits', () => {
	assert.equal(validateId('abc-1.2', 'X'), 'abc-1.2');
	assert.equal(validateId(42, 'X'), '42');
	assert.throws(() => validateId('', 'Patient ID'), { field: 'Patient ID', message: /empty/ });
	assert.throws(() => validateId('a\tb', 'X'), /whitespace/);
	assert.throws(() => validateId('a?b', 'X'), /not a valid FHIR id/);
	// the hint names the field's own type, not always Patient
	assert.throws(() => validateId('x/1', 'Practitioner ID'), (e) => /"Practitioner\/"/.test(e.fix) && !/Patient/.test(e.fix));
	assert.throws(() => validateId('x/1', 'Location ID'), (e) => /"Location\/"/.test(e.fix));
	assert.equal(idFromReference('Practitioner/7', 'Practitioner', 'Practitioner ID'), '7');
	assert.equal(idFromReference('7', 'Practitioner', 'Practitioner ID'), '7');
	assert.throws(() => idFromReference('Location/7', 'Practitioner', 'Practitioner ID'), { field: 'Practitioner ID', message: /a reference to a Location, not a Practitioner/ });
	assert.equal(resolveLimit(true, 0), undefined);
	assert.equal(resolveLimit(false, 5), 5);
	assert.equal(resolveLimit(false, '7'), 7);
	for (const bad of [0, -1, 1.5, 'x', undefined, null]) assert.throws(() => resolveLimit(false, bad), { field: 'Limit' });
	assert.equal(escapeSearchValue('a,b|c$d\\e'), 'a\\,b\\|c\\$d\\\\e');
});
