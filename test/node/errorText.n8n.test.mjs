// How errors read in n8n's error view (issue 23.4), through real n8n executions against the sandbox:
// request lines with the full URL (no query), sentences that end with a full stop, the bad value echoed
// (dates from an expression too, ids), and an MRN typed into Patient > Get pointed at Search by MRN.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { shutdown } from '../helpers/n8n.mjs';
import { startSandbox } from '../../sandbox/index.mjs';
import { run } from './_setup.mjs';

let sb;
before(async () => {
	sb = await startSandbox({ profile: 'ecw', patients: 20, seed: 7, rateLimitPerMinute: null });
});
after(async () => {
	await sb?.stop();
	await shutdown();
});

/** Each line of an error's description is a sentence: n8n's error view runs lines together. */
function assertSentences(description) {
	for (const line of description.split('\n')) assert.match(line, /[.!?…]$/, `"${line}" ends without a full stop`);
}

const mrnOf = (patient) => patient.identifier.find((i) => i.type?.coding?.some((c) => c.code === 'MR')).value;

test('an MRN typed into Patient > Get: the 404 says it looks like an MRN and how to search by MRN, with the full request URL', async () => {
	const mrn = mrnOf(sb.admin.get('demo', 'Patient', 'pt-3'));
	const { error } = await run(sb, { resource: 'patient', operation: 'get', patientId: mrn }, { continueOnFail: false });
	assert.equal(error.httpCode, '404');
	assert.match(error.message, /Not found \(404\): no such Patient/);
	assert.ok(error.description.includes(`"${mrn}" looks like an MRN (medical record number), not a FHIR id.`), error.description);
	assert.match(error.description, /use Patient > Search with MRN \/ Identifier/);
	assert.ok(error.description.includes(`Request: GET ${sb.baseUrl}/Patient/${mrn}.`), error.description);
	assertSentences(error.description);
	// the hint follows the search it names: Search by MRN finds the patient whose ID Get needs
	const { json } = await run(sb, { resource: 'patient', operation: 'search', criteria: { identifier: mrn } });
	assert.equal(json[0].id, 'pt-3');
});

test('an id that is not shaped like an MRN gets the plain 404 hint; a bad id is echoed', async () => {
	const { error } = await run(sb, { resource: 'patient', operation: 'get', patientId: 'pt-999' });
	assert.equal(error.httpCode, '404');
	assert.doesNotMatch(error.description, /looks like an MRN/);
	const bad = await run(sb, { resource: 'patient', operation: 'get', patientId: 'pt 1' });
	assert.match(bad.error.message, /^Patient ID: "pt 1" contains whitespace/);
});

test('a date from an expression that is not a date is echoed (shortened) in the error', async () => {
	const { error } = await run(
		sb,
		{ resource: 'appointment', operation: 'getMany', dateRange: 'custom', from: '={{ $json.when }}', to: '2026-01-31' },
		{ inputItems: [{ json: { when: 'next tuesday after the long weekend, around 3 pm or so' } }] },
	);
	assert.match(error.message, /^From: "next tuesday after the long weekend, aro…" is not a valid date/);
	assert.match(error.description, /YYYY-MM-DD/);
	assertSentences(error.description);
});

test('discovery failures name the full URL they asked (with the practice code), not a bare path', async () => {
	const { error } = await run(sb, { resource: 'patient', operation: 'get', patientId: 'pt-1' }, { credentialExtra: { environment: 'custom', baseUrl: `${sb.origin}/fhir/r4/NOPE` } });
	assert.match(error.message, /Discovery failed \(400\)/);
	assert.ok(error.description.includes(`Request: GET ${sb.origin}/fhir/r4/NOPE/.well-known/smart-configuration.`), error.description);
	assertSentences(error.description);
});

test("the server's words and the hint are separate sentences", async () => {
	const { error } = await run(sb, { resource: 'fhirResource', operation: 'search', resourceType: 'Encounter', parameters: { parameter: [{ name: 'date', value: 'not-a-date' }] }, returnAll: false, limit: 1 });
	assert.equal(error.httpCode, '400');
	const [said, hint] = error.description.split('\n');
	assert.match(said, /^Server said: .+\.$/);
	assert.match(hint, /^Check the search fields/);
	assertSentences(error.description);
});
