// The Resource Type list (loadOptions getSearchableResourceTypes, getReadableResourceTypes, getExportableResourceTypes) run through n8n-core's LoadOptionsContext,
// the context n8n uses when the editor opens the dropdown, against the sandbox.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox } from '../../sandbox/index.mjs';
import { n8nCore, n8nWorkflow, NodeTypes, CredentialTypes, CredentialsStore, CredentialsHelper, loadPackageNodeTypes, loadPackageCredentialTypes, shutdown } from '../helpers/n8n.mjs';
import { backendCredential, NODE_TYPE } from './_setup.mjs';

let ecw;
before(async () => {
	ecw = await startSandbox({ profile: 'ecw', patients: 20 });
});
after(async () => {
	await ecw?.stop();
	await shutdown();
});

async function loadOptions(sandbox, method, parameters) {
	const nodeTypes = new NodeTypes(loadPackageNodeTypes());
	const credentialTypes = new CredentialTypes(loadPackageCredentialTypes(), nodeTypes);
	const data = backendCredential(sandbox).eClinicalWorksApi;
	const store = await CredentialsStore.from({ 'cred-1': { type: 'eClinicalWorksApi', name: 'sandbox', data } });
	const credentialsHelper = new CredentialsHelper(credentialTypes, store);
	const node = {
		id: 'n1',
		name: 'eClinicalWorks',
		type: NODE_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters: { authentication: 'backendService', ...parameters },
		credentials: { eClinicalWorksApi: { id: 'cred-1', name: 'sandbox' } },
	};
	const workflow = new n8nWorkflow.Workflow({ id: 'w', nodes: [node], connections: {}, active: false, nodeTypes, settings: {} });
	const additionalData = { credentialsHelper, currentNodeParameters: node.parameters, restApiUrl: 'http://localhost/rest', instanceBaseUrl: 'http://localhost/', variables: {} };
	const context = new n8nCore.LoadOptionsContext(workflow, node, additionalData, 'parameters.resourceType');
	const nodeType = nodeTypes.getByNameAndVersion(NODE_TYPE, 1);
	return await nodeType.methods.loadOptions[method].call(context);
}

test('Resource Type lists come from the CapabilityStatement: Search lists searchable types, Get readable ones (eCW)', async () => {
	const search = await loadOptions(ecw, 'getSearchableResourceTypes', { resource: 'fhirResource', operation: 'search' });
	const names = search.map((o) => o.value);
	assert.deepEqual(names, [...names].sort());
	for (const type of ['Patient', 'Encounter', 'Practitioner', 'Location', 'Organization', 'Coverage', 'Group']) assert.ok(names.includes(type), type);
	for (const type of ['Appointment', 'Binary', 'Claim', 'OperationDefinition']) assert.ok(!names.includes(type), `${type} cannot be searched on eCW`);
	assert.match(search.find((o) => o.value === 'Encounter').description, /search by .*date/);
	const read = (await loadOptions(ecw, 'getReadableResourceTypes', { resource: 'fhirResource', operation: 'get' })).map((o) => o.value);
	for (const type of ['Patient', 'Binary', 'Claim', 'OperationDefinition']) assert.ok(read.includes(type), type);
	assert.ok(!read.includes('Group'), 'eCW only searches Group');
});

test('Bulk Export Resource Types: every type the server declares (eCW)', async () => {
	const types = (await loadOptions(ecw, 'getExportableResourceTypes', { resource: 'bulkExport', operation: 'export' })).map((o) => o.value);
	assert.deepEqual(types, [...types].sort());
	for (const type of ['Patient', 'Encounter', 'Coverage', 'Practitioner', 'Group', 'Binary']) assert.ok(types.includes(type), type);
	assert.ok(!types.includes('Appointment'), 'eCW declares no Appointment');
});
