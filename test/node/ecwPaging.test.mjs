// The package against the ecw sandbox as strict as eCW's documents on the search side (issue 20.6):
// next links are opaque cursors (a client that builds or changes links is refused), Patient
// $everything pages, _revinclude and _format are accepted as eCW declares them. In real n8n-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox } from '../../sandbox/index.mjs';
import { shutdown } from '../helpers/n8n.mjs';
import { run, fhirRequests } from './_setup.mjs';

let ecw;
before(async () => {
	ecw = await startSandbox({ profile: 'ecw', patients: 300, seed: 4, admin: true });
});
after(async () => {
	await ecw?.stop();
	await shutdown();
});

const text = (error) => `${error?.message}\n${error?.description ?? ''}`;

test('searches follow the opaque next links as given, to the end', async () => {
	const start = ecw.stats.log.length;
	const { json, error } = await run(ecw, { resource: 'patient', operation: 'search', criteria: { bornOnOrAfter: '1900-01-01' }, returnAll: true });
	assert.equal(error, undefined, text(error));
	assert.equal(json.length, 300);
	assert.equal(new Set(json.map((p) => p.id)).size, 300);
	const pages = fhirRequests(ecw, start).filter((r) => r.path.endsWith('/Patient'));
	assert.equal(pages.length, 3);
	assert.ok(pages.every((r) => r.status === 200), 'no page refused');
});

test('Get Full Record reads every page of $everything (the server pages at _count)', async () => {
	for (let i = 0; i < 130; i++) ecw.admin.createEncounter('demo', { patient: 'pt-7', start: new Date(ecw.now() - i * 86_400_000) });
	const start = ecw.stats.log.length;
	const { json, error } = await run(ecw, { resource: 'patient', operation: 'everything', patientId: 'pt-7', returnAll: true });
	assert.equal(error, undefined, text(error));
	const encounters = json.filter((r) => r.resourceType === 'Encounter');
	assert.ok(encounters.length >= 130, `every Encounter (${encounters.length})`);
	assert.equal(new Set(json.map((r) => `${r.resourceType}/${r.id}`)).size, json.length, 'no record twice');
	const pages = fhirRequests(ecw, start).filter((r) => r.path.endsWith('/$everything'));
	assert.equal(pages.length, 2, 'two pages of 100');
});

test('FHIR Resource search with _revinclude=Provenance:target and _format=json, as eCW declares them', async () => {
	const { json, error } = await run(ecw, {
		resource: 'fhirResource',
		operation: 'search',
		resourceType: 'Encounter',
		parameters: { parameter: [{ name: 'patient', value: 'Patient/pt-2' }, { name: '_revinclude', value: 'Provenance:target' }, { name: '_format', value: 'json' }] },
		returnAll: true,
		output: 'raw',
	});
	assert.equal(error, undefined, text(error));
	assert.ok(json.length >= 1 && json.every((r) => r.resourceType === 'Encounter'));
	const refused = await run(ecw, {
		resource: 'fhirResource',
		operation: 'search',
		resourceType: 'Encounter',
		parameters: { parameter: [{ name: '_revinclude', value: 'AuditEvent:entity' }] },
		returnAll: true,
	});
	assert.match(text(refused.error), /_revinclude=AuditEvent:entity is not declared for Encounter; it declares Provenance:target/);
});
