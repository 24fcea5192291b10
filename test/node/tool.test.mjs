// The description n8n generates when the node is attached to an AI agent (usableAsTool), via
// n8n-core's createNodeAsTool (the code n8n runs) and n8n-workflow's getToolDescriptionForNode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { loadPackageNodeTypes, n8nWorkflow } from '../helpers/n8n.mjs';

const require = createRequire(import.meta.url);
const { createNodeAsTool } = require('n8n-core/dist/execution-engine/node-execution-context/utils/create-node-as-tool.js');

const nodeType = loadPackageNodeTypes()['n8n-nodes-eclinicalworks.eClinicalWorks'];
const description = nodeType.description;

function node(parameters) {
	return { id: 'tool', name: 'Find patient', type: 'n8n-nodes-eclinicalworks.eClinicalWorks', typeVersion: 1, position: [0, 0], parameters };
}

test('the node is usable as a tool and every operation has an action an agent can pick', () => {
	assert.equal(description.usableAsTool, true);
	const operationFields = description.properties.filter((p) => p.name === 'operation');
	const actions = operationFields.flatMap((p) => p.options.map((o) => [p.displayOptions.show.resource[0], o.value, o.action, o.description]));
	const expected = {
		'patient/search': 'Search patients',
		'patient/get': 'Get a patient',
		'patient/everything': 'Get the full record of a patient',
		'appointment/getMany': 'Get appointments',
		'fhirResource/search': 'Search FHIR resources',
		'fhirResource/get': 'Get a FHIR resource',
		'server/getCapabilities': 'Get server capabilities',
	};
	for (const [key, action] of Object.entries(expected)) {
		const found = actions.find(([r, o]) => `${r}/${o}` === key);
		assert.ok(found, `${key} exists`);
		assert.equal(found[2], action);
		assert.ok(found[3].length >= 30, `${key} has a description an agent can act on`);
	}
	for (const [resource, op] of actions) {
		const generated = n8nWorkflow.NodeHelpers.getToolDescriptionForNode(node({ resource, operation: op }), { description });
		assert.match(generated, / in eClinicalWorks$/);
	}
});

test('createNodeAsTool: Search patients with $fromAI parameters gives a sensible tool', async () => {
	const parameters = {
		resource: 'patient',
		operation: 'search',
		criteria: {
			family: "={{ $fromAI('family', 'Last name of the patient', 'string') }}",
			birthDate: "={{ $fromAI('birthDate', 'Date of birth, YYYY-MM-DD', 'string') }}",
		},
		returnAll: false,
		limit: 10,
	};
	const { response: tool } = createNodeAsTool({ node: node(parameters), nodeType, handleToolInvocation: async (args) => args });
	assert.equal(tool.description, 'Search patients in eClinicalWorks');
	assert.equal(tool.name, 'Find_patient');
	const shape = tool.schema.shape;
	assert.deepEqual(Object.keys(shape).sort(), ['birthDate', 'family']);
	assert.equal(shape.family.description, 'Last name of the patient');
	assert.deepEqual(await tool.invoke({ family: 'Garcia', birthDate: '1980-05-01' }), { family: 'Garcia', birthDate: '1980-05-01' });
});

test('createNodeAsTool: Get appointments', () => {
	const parameters = {
		resource: 'appointment',
		operation: 'getMany',
		dateRange: "={{ $fromAI('dateRange', 'today, tomorrow, next7Days or custom', 'string') }}",
		filters: { patientId: "={{ $fromAI('patientId', 'FHIR patient ID from Search patients', 'string') }}" },
	};
	const { response: tool } = createNodeAsTool({ node: node(parameters), nodeType, handleToolInvocation: async (args) => args });
	assert.equal(tool.description, 'Get appointments in eClinicalWorks');
	assert.deepEqual(Object.keys(tool.schema.shape).sort(), ['dateRange', 'patientId']);
});

test('every field has a description or a self-explanatory name, and every operation field allows expressions', () => {
	const walk = (props, path = []) =>
		props.flatMap((p) => [[...path, p.displayName, p], ...(p.options && p.type !== 'options' && p.type !== 'multiOptions' ? walk(p.options.flatMap((o) => o.values ?? [o]), [...path, p.displayName]) : [])]);
	const ours = description.properties.filter((p) => ['patient', 'appointment', 'fhirResource', 'server'].some((r) => p.displayOptions?.show?.resource?.includes(r)));
	for (const entry of walk(ours)) {
		const p = entry.at(-1);
		if (p.name === 'operation') continue;
		assert.notEqual(p.noDataExpression, true, `${p.displayName} allows expressions`);
		if (['Parameter'].includes(p.displayName)) continue;
		assert.ok(p.description || ['Name', 'Value', 'Return All'].includes(p.displayName), `${entry.slice(0, -1).join(' > ')} has a description`);
	}
});
