// What n8n's nodes panel shows for the package: its codex (documentation links) and descriptions.
// The editor itself is checked by scripts/e2e/demo-browser.test.mjs; these are the static rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeHelpers } from 'n8n-workflow';
import { EClinicalWorks } from '../../nodes/EClinicalWorks/EClinicalWorks.node.ts';
import { EClinicalWorksTrigger } from '../../nodes/EClinicalWorks/EClinicalWorksTrigger.node.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const REPO = 'https://github.com/n8n-nodes-eclinicalworks/n8n-nodes-eclinicalworks/blob/main/';
const codex = (name) => JSON.parse(readFileSync(path.join(ROOT, 'nodes', 'EClinicalWorks', `${name}.node.json`), 'utf8'));

for (const name of ['EClinicalWorks', 'EClinicalWorksTrigger']) {
	test(`${name}: documentation links work with the ?utm_source=... n8n appends (no #anchor), to pages in this repository`, () => {
		const urls = Object.values(codex(name).resources).flat().map((r) => r.url);
		assert.ok(urls.length >= 2);
		for (const url of urls) {
			assert.ok(!url.includes('#'), `${url}: n8n appends its parameters after the anchor, which then no longer matches`);
			assert.ok(url.startsWith(REPO), `${url}: a page of the repository`);
			assert.ok(existsSync(path.join(ROOT, url.slice(REPO.length))), `${url}: the page exists`);
		}
	});
}

test('the trigger description, which n8n shows for the merged eClinicalWorks entry, describes the actions too', () => {
	const trigger = new EClinicalWorksTrigger().description;
	const action = new EClinicalWorks().description;
	// n8n merges "X" and "X Trigger" into one panel entry and gives it the trigger's description
	assert.equal(trigger.name, `${action.name}Trigger`);
	assert.doesNotMatch(trigger.description, /^Starts the workflow/, 'a user looking for Get Appointments must not read a trigger-only text');
	assert.match(trigger.description, /^Get patients, appointments/);
	assert.match(trigger.description, /start workflows when appointments or patients change/);
	assert.match(codex('EClinicalWorks').resources.primaryDocumentation[0].url, /operations\.md$/);
	assert.match(codex('EClinicalWorksTrigger').resources.primaryDocumentation[0].url, /trigger\.md$/);
});

// n8n's editor (nodeTypesUtils getNodeAuthFields / isAuthRelatedParameter) treats every field a
// credential's displayOptions.show names as an authentication field, and hides from the panel every
// field those name in their own show: a credential shown on `stateStore` hid Resource and Operation.
for (const Node of [EClinicalWorks, EClinicalWorksTrigger]) {
	test(`${Node.name}: no field is hidden from the panel as "authentication related" except Authentication`, () => {
		const { credentials, properties } = new Node().description;
		const authFields = properties.filter((p) => credentials.some((c) => c.displayOptions?.show && p.name in c.displayOptions.show));
		const hidden = new Set(properties.filter((p) => authFields.some((a) => a.displayOptions?.show && p.name in a.displayOptions.show)).map((p) => p.name));
		assert.deepEqual([...new Set(authFields.map((f) => f.name))], ['authentication']);
		assert.deepEqual([...hidden], [], 'fields the editor would not show');
	});
}

test('the Export State credential shows on the Bulk Export operations that keep state, unless the state is in static data', () => {
	const description = new EClinicalWorks().description;
	const credential = description.credentials.find((c) => c.name === 'eClinicalWorksN8nApi');
	const shown = (parameters) => NodeHelpers.displayParameter(parameters, credential, null, description, parameters);
	for (const operation of ['export', 'start', 'checkStatus', 'cancel']) {
		for (const stateStore of ['auto', 'dataTable']) assert.ok(shown({ resource: 'bulkExport', operation, stateStore }), `${operation}, ${stateStore}`);
		assert.ok(!shown({ resource: 'bulkExport', operation, stateStore: 'staticData' }), `${operation}, static data`);
	}
	assert.ok(!shown({ resource: 'bulkExport', operation: 'download' }));
	for (const [resource, operation] of [['patient', 'search'], ['appointment', 'getMany'], ['server', 'checkReadiness'], ['utility', 'generateKeyPair'], ['fhirResource', 'search']]) {
		assert.ok(!shown({ resource, operation }), `${resource} ${operation}`);
	}
});

// A field naming a loadOptions or listSearch method the node lacks shows "Error fetching options"
// in the editor only (the Bulk Export Resource Types list did, after a rename).
for (const Node of [EClinicalWorks, EClinicalWorksTrigger]) {
	test(`${Node.name}: every dynamic list a field names is a method of the node`, () => {
		const node = new Node();
		const kinds = { loadOptionsMethod: 'loadOptions', searchListMethod: 'listSearch' };
		const named = [...JSON.stringify(node.description).matchAll(/"(loadOptionsMethod|searchListMethod)":"(\w+)"/g)].map(([, key, method]) => [kinds[key], method]);
		assert.ok(Node !== EClinicalWorks || named.length >= 4, 'the node has dynamic lists');
		for (const [kind, method] of named) assert.equal(typeof node.methods?.[kind]?.[method], 'function', `a field names ${kind} method "${method}", which the node lacks`);
	});
}

// Mistakes only the editor shows: a display rule on a field or value that does not exist hides a field
// for good; an options default that is not offered renders as an empty, invalid choice.
for (const Node of [EClinicalWorks, EClinicalWorksTrigger]) {
	test(`${Node.name}: display rules name fields and values that exist; option defaults are offered`, () => {
		const { properties, credentials } = new Node().description;
		const offered = (name) => {
			const props = properties.filter((p) => p.name === name);
			if (props.length === 0) return undefined;
			const values = props.flatMap((p) => (p.type === 'boolean' ? [true, false] : p.type === 'options' || p.type === 'multiOptions' ? (p.options ?? []).map((o) => o.value) : []));
			return values.length > 0 ? new Set(values) : null;
		};
		const problems = [];
		const rules = [...properties.map((p) => [p.name, p.displayOptions]), ...(credentials ?? []).map((c) => [`credential ${c.name}`, c.displayOptions])];
		for (const [where, rule] of rules) {
			for (const [key, values] of [...Object.entries(rule?.show ?? {}), ...Object.entries(rule?.hide ?? {})]) {
				if (key.startsWith('@')) continue;
				const allowed = offered(key);
				if (allowed === undefined) problems.push(`${where}: no field "${key}"`);
				else if (allowed) for (const v of values) if (typeof v !== 'object' && !allowed.has(v)) problems.push(`${where}: "${key}" never is ${JSON.stringify(v)}`);
			}
		}
		const walk = (props, path) => {
			for (const p of props ?? []) {
				const here = `${path}${p.name}`;
				const listed = (v) => (p.options ?? []).some((o) => o.value === v);
				if (p.type === 'options' && !p.typeOptions?.loadOptionsMethod && !listed(p.default)) problems.push(`${here}: default ${JSON.stringify(p.default)} not offered`);
				if (p.type === 'multiOptions' && !p.typeOptions?.loadOptionsMethod) for (const v of p.default ?? []) if (!listed(v)) problems.push(`${here}: default ${JSON.stringify(v)} not offered`);
				if (p.type === 'collection') walk(p.options, `${here}.`);
				if (p.type === 'fixedCollection') for (const o of p.options ?? []) walk(o.values, `${here}.${o.name}.`);
			}
		};
		walk(properties, '');
		assert.deepEqual(problems, []);
	});
}
