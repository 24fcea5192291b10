// The simplified visit leads with what a dispatcher reads (n8n's table view shows keys in order):
// patient name, phone, pick-up address, local date and time, location, practitioner; ids and the
// source come later. Raw output is the FHIR resource as the server sent it. Through the node, in
// real n8n-core, against the sandbox (Encounter on the ecw profile, Appointment on smart).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox } from '../../sandbox/index.mjs';
import { shutdown } from '../helpers/n8n.mjs';
import { run } from './_setup.mjs';

const LEAD = ['patientName', 'patientPhone', 'patientAddress', 'date', 'time', 'locationName', 'locationAddress', 'practitionerName'];
const LATER = ['patientMrn', 'patientId', 'practitionerId', 'locationId', 'id', 'source', 'lastUpdated'];

let ecw;
let smart;

before(async () => {
	ecw = await startSandbox({ profile: 'ecw', patients: 40, seed: 3 });
	smart = await startSandbox({ profile: 'smart', patients: 40, seed: 3 });
});

after(async () => {
	await ecw?.stop();
	await smart?.stop();
	await shutdown();
});

const appointments = (extra = {}) => ({ resource: 'appointment', operation: 'getMany', dateRange: 'tomorrow', returnAll: true, ...extra });

function assertDispatcherOrder(items, label) {
	assert.ok(items.length > 0, `${label}: visits tomorrow`);
	for (const item of items) {
		const keys = Object.keys(item);
		assert.deepEqual(keys.slice(0, LEAD.length), LEAD, `${label}: the dispatcher's columns come first (got ${keys.join(', ')})`);
		const lastLead = LEAD.length - 1;
		for (const key of LATER) assert.ok(keys.indexOf(key) > lastLead, `${label}: ${key} comes after the dispatcher's columns`);
		assert.ok(keys.indexOf('source') > keys.indexOf('patientMrn'), `${label}: source near the end`);
	}
	assert.ok(items.some((i) => i.patientName && i.patientPhone && i.patientAddress && i.locationName && i.practitionerName), `${label}: the lead columns are filled`);
}

test('ecw (visits from Encounter): simplified output leads with patient, phone, address, time, location, practitioner', async () => {
	const { json, error } = await run(ecw, appointments());
	assert.equal(error, undefined);
	assert.equal(json[0].source, 'Encounter (eCW visit)');
	assertDispatcherOrder(json, 'ecw');
});

test('smart (Appointment): the same order', async () => {
	const { json, error } = await run(smart, appointments());
	assert.equal(error, undefined);
	assert.equal(json[0].source, 'Appointment');
	assertDispatcherOrder(json, 'smart');
});

test('raw output is the resource as the server holds it, in its own key order', async () => {
	for (const [sandbox, type] of [[ecw, 'Encounter'], [smart, 'Appointment']]) {
		const { json, error } = await run(sandbox, appointments({ output: 'raw' }));
		assert.equal(error, undefined);
		assert.ok(json.length > 0);
		for (const resource of json) {
			assert.equal(resource.resourceType, type);
			const held = sandbox.admin.get('demo', type, resource.id);
			assert.deepEqual(resource, held, `${type}/${resource.id} unchanged`);
			assert.deepEqual(Object.keys(resource), Object.keys(held), `${type}/${resource.id}: key order unchanged`);
		}
	}
});
