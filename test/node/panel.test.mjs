// What n8n's nodes panel shows for the package: its codex (documentation links) and descriptions.
// The editor itself is checked by scripts/e2e/demo-browser.test.mjs; these are the static rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
