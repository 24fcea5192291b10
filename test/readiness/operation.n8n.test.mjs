// Server > Check Production Readiness in n8n-core (real workflow execution, the credential's
// preAuthentication/authenticate rules): one item per check, the report files as binary data.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';

import { runNode } from '../helpers/n8n.mjs';
import { startSandbox } from '../../sandbox/index.mjs';
import { PACKAGE_VERSION } from '../../nodes/EClinicalWorks/fhir/readiness/testEvidence.ts';
import { loginAsDemoUser, userLoginCredential } from '../credentials/_userLogin.mjs';
import { backendCredential, NODE_TYPE } from '../node/_setup.mjs';
import { CHECK, freshProcess } from './_support.mjs';

let ecw;
let smart;
before(async () => {
	const common = { patients: 5, admin: true, fastBulk: true, bulkDelayMs: 200, practices: ['demo', 'closed'], rejectedPractices: ['closed'] };
	[ecw, smart] = await Promise.all([startSandbox({ ...common, profile: 'ecw' }), startSandbox({ ...common, profile: 'smart' })]);
});
after(async () => Promise.all([ecw?.stop(), smart?.stop()]));
beforeEach(() => freshProcess());

const PARAMETERS = { authentication: 'backendService', resource: 'server', operation: 'checkReadiness' };

async function check(sandbox, { parameters = {}, options = {}, credentialExtra = {}, credentials, instanceBaseUrl } = {}) {
	const result = await runNode({
		type: NODE_TYPE,
		parameters: { ...PARAMETERS, ...parameters, options: { bulkPollFloorSeconds: 1, ...options } },
		credentials: credentials ?? backendCredential(sandbox, 'sandbox-rs384', credentialExtra),
		instanceBaseUrl,
	});
	const items = result.itemsOf('Node') ?? [];
	const byCheck = Object.fromEntries(items.map((i) => [i.json.check, i.json]));
	return { result, items, byCheck, error: result.nodeError('Node') ?? result.error };
}

test('ecw profile in n8n: a summary item with the HTML and Markdown report, then one item per check, all passing', async () => {
	const { result, items, byCheck, error } = await check(ecw, {
		credentialExtra: { rateLimitPerMinute: 250, baseUrl: `${ecw.origin}/fhir/r4/{practiceCode}`, practiceCode: 'demo' },
		options: { tryBulkExport: true, n8nVersion: '2.40.7' },
	});
	assert.equal(error, undefined, error?.message);
	assert.equal(items.length, 11, 'the summary and 10 checks');
	assert.deepEqual(items.map((i) => i.pairedItem), items.map(() => ({ item: 0 })), 'paired with the input item');
	assert.deepEqual(Object.keys(items[1].json), ['check', 'status', 'evidence', 'whatToDo']);
	const summary = items[0].json;
	assert.equal(summary.check, 'Summary');
	assert.equal(summary.status, 'pass', JSON.stringify(items.filter((i) => i.json.status !== 'pass').map((i) => i.json), null, 1));
	assert.match(summary.evidence, /^8 passed, 0 warnings, 0 failed, 2 to confirm by hand; \d+ requests to the server\.$/);
	assert.match(summary.reportFile, /^production-readiness-demo-\d{4}-\d{2}-\d{2}\.html$/);
	for (const name of Object.values(CHECK)) assert.ok(byCheck[name], `an item for ${name}`);
	assert.equal(byCheck[CHECK.baa].status, 'not-checkable');
	assert.match(byCheck[CHECK.errors].evidence, /^Provoked live on the package's sandbox/);

	const binary = items[0].binary;
	assert.deepEqual(Object.keys(binary).sort(), ['report', 'reportMarkdown']);
	assert.equal(binary.report.mimeType, 'text/html');
	assert.equal(binary.report.fileName, summary.reportFile);
	assert.equal(binary.reportMarkdown.fileName, summary.reportFile.replace(/\.html$/, '.md'));
	const html = (await result.binary('Node', 0, 'report')).toString('utf8');
	const md = (await result.binary('Node', 0, 'reportMarkdown')).toString('utf8');
	for (const text of [html, md]) {
		for (const field of [`n8n-nodes-eclinicalworks ${PACKAGE_VERSION}`, '2.40.7', 'eClinicalWorks Sandbox (Staging)', 'demo', 'sandbox-rs384']) assert.ok(text.includes(field), field);
		assert.ok(text.includes('/fhir/r4/demo/Group/grp-1/$export'), 'the requests made are listed');
	}
	assert.match(html, /<h1>Production readiness report for practice demo<\/h1>/);
	assert.doesNotMatch(html, /PRIVATE KEY|Bearer /);
	assert.equal(ecw.faults.length, 0);
});

test('smart profile in n8n: every check the node can run passes with the fitted default scopes', async () => {
	const { items, error } = await check(smart);
	assert.equal(error, undefined, error?.message);
	const notPassing = items.filter((i) => i.json.status !== 'pass' && i.json.status !== 'not-checkable').map((i) => i.json);
	// Bulk Export is ticked by default and not tried without the opt-in
	assert.deepEqual(notPassing.map((r) => [r.check, r.status]), [['Summary', 'warn'], [CHECK.bulk, 'warn']], JSON.stringify(notPassing, null, 1));
});

test('a practice that has not enabled the app: the item says so and what to ask the practice; the node does not stop', async () => {
	const { byCheck, error } = await check(ecw, { credentialExtra: { rateLimitPerMinute: 250, baseUrl: `${ecw.origin}/fhir/r4/{practiceCode}` }, parameters: { practiceCode: 'closed' } });
	assert.equal(error, undefined);
	assert.equal(byCheck.Summary.status, 'fail');
	assert.equal(byCheck[CHECK.access].status, 'fail');
	assert.match(byCheck[CHECK.access].evidence, /for practice closed failed/);
	assert.match(byCheck[CHECK.access].whatToDo, /the app is enabled for this practice/);
});

test('User Login: the redirect URI n8n uses is checked; localhost fails, the public https address passes', async () => {
	const token = await loginAsDemoUser(smart, 'openid fhirUser offline_access user/Patient.read user/Encounter.read user/Organization.read');
	const credentials = { eClinicalWorksOAuth2Api: { ...userLoginCredential(smart, token), scope: token.scope } };
	const parameters = { authentication: 'userLogin' };
	let run = await check(smart, { credentials, parameters, options: { } });
	assert.equal(run.error, undefined, run.error?.message);
	assert.equal(run.byCheck[CHECK.redirect].status, 'fail');
	assert.match(run.byCheck[CHECK.redirect].evidence, /^n8n's OAuth redirect URI is http:\/\/localhost:5678\/rest\/oauth2-credential\/callback: not HTTPS and on localhost/);
	assert.equal(run.byCheck[CHECK.access].status, 'pass', 'the read with n8n\'s OAuth2 token');
	assert.equal(run.byCheck[CHECK.tokens].status, 'not-checkable', 'n8n renews User Login tokens');
	assert.match(run.byCheck[CHECK.tokens].evidence, /A refresh token is stored/);
	assert.match(run.byCheck[CHECK.scopes].evidence, /Granted \(\d+\): openid fhirUser offline_access user\/Patient\.read/);

	run = await check(smart, { credentials, parameters, instanceBaseUrl: 'https://n8n.clinic.example' });
	assert.equal(run.byCheck[CHECK.redirect].status, 'pass');
	assert.match(run.byCheck[CHECK.redirect].evidence, /https:\/\/n8n\.clinic\.example\/rest\/oauth2-credential\/callback: HTTPS, not localhost/);
});

test('bad option values stop with an error naming the field', async () => {
	const { error } = await check(ecw, { options: { renewalBurst: 500 } });
	assert.ok(error);
	assert.match(error.message, /^Reads Across the Token Renewal: "500" is not a whole number from 2 to 50/);
	const other = await check(ecw, { parameters: { workflowUses: ['fhirResource'] }, options: { resourceTypes: 'Observation, not-a-type' } });
	assert.match(other.error.message, /^Other Resource Types: "not-a-type" is not a FHIR resource type name/);
});
