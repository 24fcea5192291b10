// Issue 9 groundwork: one credential with a {practiceCode} base URL serving three practices (one
// has not enabled the app). Tokens, pacing and capability caches are per practice; a failing
// practice is named in its error and does not affect the others.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startSandbox } from '../../sandbox/index.mjs';
import { runNode } from '../helpers/n8n.mjs';
import { tokenCache } from '../../nodes/EClinicalWorks/fhir/auth/tokenCache.ts';
import { clearDiscoveryCache } from '../../nodes/EClinicalWorks/fhir/auth/discovery.ts';
import { clearCapabilitiesCache } from '../../nodes/EClinicalWorks/fhir/client.ts';
import { resetPacers } from '../../nodes/EClinicalWorks/fhir/pacer.ts';
import { credentialFor, clientFor, pickClient, fakeClock } from './_support.mjs';

let sb;
before(async () => {
	sb = await startSandbox({ port: 0, profile: 'ecw', patients: 4, practices: ['alpha', 'beta', 'gamma'], rejectedPractices: ['gamma'] });
});
after(async () => sb?.stop());

function reset() {
	tokenCache.clear();
	clearDiscoveryCache();
	clearCapabilitiesCache();
	resetPacers();
	sb.stats.reset();
}

test('three practices from one credential: separate tokens, pacers, caches; the rejecting one fails alone, named', async () => {
	reset();
	const data = credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384'), {
		environment: 'ecwProduction',
		baseUrl: `${sb.origin}/fhir/r4/{practiceCode}`,
		practiceCode: 'alpha',
		rateLimitPerMinute: 250,
	});
	const results = {};
	const clients = {};
	for (const practice of ['alpha', 'beta', 'gamma', 'alpha', 'beta', 'gamma']) {
		const { client, settings } = clientFor(data, { context: { practiceCode: practice } });
		clients[practice] = { client, settings };
		try {
			await client.capabilities();
			results[practice] = (await client.search('Encounter', [], { limit: 2 })).matches.length;
		} catch (e) {
			results[practice] = e;
		}
	}
	assert.equal(results.alpha, 2);
	assert.equal(results.beta, 2);
	assert.ok(results.gamma instanceof Error);
	assert.match(results.gamma.message, /\(practice gamma\)$/);
	assert.match(results.gamma.hint, /the practice has not enabled the app/);
	const keys = new Set(Object.values(clients).map((c) => c.settings.cacheKey));
	assert.equal(keys.size, 3, 'one token cache entry per practice');
	for (const p of ['alpha', 'beta']) assert.equal(tokenCache.mints.get(clients[p].settings.cacheKey), 1, `${p}: one token for both rounds`);
	assert.notEqual(clients.alpha.client.pacer, clients.beta.client.pacer, 'one pacer per practice');
	assert.equal(sb.stats.log.filter((l) => l.path.endsWith('/metadata')).length, 3, 'capabilities cached per practice (eCW serves /metadata without a token, also to gamma)');
	assert.equal(sb.stats.log.filter((l) => l.path.endsWith('smart-configuration')).length, 3, 'discovery cached per practice');
	assert.ok(sb.stats.byPractice.alpha.requests > 0 && sb.stats.byPractice.beta.requests > 0);
});

test('in n8n: the credential\'s default practice code fills {practiceCode}', async () => {
	reset();
	const c = pickClient(sb, 'private_key_jwt', 'RS384');
	const result = await runNode({
		type: 'n8n-nodes-eclinicalworks.eClinicalWorks',
		parameters: { authentication: 'backendService', resource: 'fhirResource', operation: 'search', resourceType: 'Encounter', returnAll: false, limit: 1, output: 'raw' },
		credentials: { eClinicalWorksApi: { ...credentialFor(sb, c), environment: 'ecwProduction', baseUrl: `${sb.origin}/fhir/r4/{practiceCode}`, practiceCode: 'beta', accessToken: '' } },
		inputItems: [{}],
	});
	assert.equal(result.error, undefined, result.error?.message);
	assert.equal(result.outputOf('Node').length, 1);
	assert.ok(sb.stats.byPractice.beta.requests > 0);
	assert.equal(sb.stats.byPractice.alpha.requests, 0);
});

for (const credentialPractice of ['alpha', '']) {
	test(`in n8n: one workflow over items for three practices (Practice Code per item); the rejecting practice fails alone (credential's Practice Code ${credentialPractice ? `"${credentialPractice}"` : 'empty'})`, async () => {
		await itemsOverPractices(credentialPractice);
	});
}

async function itemsOverPractices(credentialPractice) {
	reset();
	const c = pickClient(sb, 'private_key_jwt', 'RS384');
	const result = await runNode({
		type: 'n8n-nodes-eclinicalworks.eClinicalWorks',
		parameters: {
			authentication: 'backendService',
			resource: 'appointment',
			operation: 'getMany',
			dateRange: 'tomorrow',
			practiceCode: '={{ $json.practice }}',
		},
		credentials: {
			eClinicalWorksApi: { ...credentialFor(sb, c), environment: 'ecwProduction', baseUrl: `${sb.origin}/fhir/r4/{practiceCode}`, practiceCode: credentialPractice, accessToken: '' },
		},
		inputItems: [{ practice: 'alpha' }, { practice: 'beta' }, { practice: 'gamma' }, { practice: 'beta' }, { practice: 'bad code!' }],
		continueOnFail: true,
	});
	assert.equal(result.error, undefined, result.error?.message);
	const items = result.itemsOf('Node');
	const byInput = new Map();
	for (const item of items) {
		const i = item.pairedItem.item;
		byInput.set(i, [...(byInput.get(i) ?? []), item.json]);
	}
	for (const i of [0, 1, 3]) {
		const rows = byInput.get(i) ?? [];
		assert.ok(rows.length > 0, `item ${i}: visits for tomorrow`);
		assert.ok(rows.every((r) => r.error === undefined), `item ${i}: no error`);
	}
	const [gamma] = byInput.get(2);
	assert.match(gamma.error, /gamma/, 'the rejecting practice is named');
	const [bad] = byInput.get(4);
	assert.match(bad.error, /Practice Code/i, 'a malformed code names the field');
	// Distinct data per practice: alpha's and beta's visits differ.
	const ids = (i) => new Set(byInput.get(i).map((r) => `${r.patientName}|${r.start}`));
	assert.notDeepEqual([...ids(0)].sort(), [...ids(1)].sort());
	// Requests counted per practice by the server; the malformed code never reached it.
	assert.ok(sb.stats.byPractice.alpha.requests > 0 && sb.stats.byPractice.beta.requests > 0);
	assert.equal(Object.keys(sb.stats.byPractice).some((p) => p.includes('bad')), false);
	// Beta served twice from one token: tokens are per practice, and reused within it.
	const betaKeys = [...tokenCache.mints.entries()].filter(([key]) => key.includes('beta'));
	assert.ok(betaKeys.length <= 1);
	if (!credentialPractice) assert.equal(result.preAuthenticationCalls.every((call) => call.typeName === 'eClinicalWorksApi'), true);
}

test('pacing is per practice: a practice at its per-minute limit makes its own next request wait, not the other practice\'s', async () => {
	reset();
	// the fake clock starts at the server's time, so the signed assertions are current
	const clock = fakeClock(Date.now());
	const data = credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384'), {
		environment: 'ecwProduction',
		baseUrl: `${sb.origin}/fhir/r4/{practiceCode}`,
		practiceCode: 'alpha',
		rateLimitPerMinute: 6,
	});
	const alpha = clientFor(data, { clock, context: { practiceCode: 'alpha' } }).client;
	const beta = clientFor(data, { clock, context: { practiceCode: 'beta' } }).client;
	// alpha spends its whole window: discovery + token + 4 reads = 6 requests (token calls count)
	for (let i = 0; i < 4; i++) await alpha.read('Patient', 'pt-1');
	assert.equal(alpha.pacer.inWindow(clock.now()), 6, 'alpha used its 6 requests of the minute');
	clock.slept.length = 0;
	// beta is untouched by alpha's window: its discovery, token and read go through without waiting
	await beta.read('Patient', 'pt-1');
	assert.deepEqual(clock.slept, [], 'beta did not wait for alpha');
	assert.equal(beta.pacer.inWindow(clock.now()), 3);
	// alpha's next request waits for its window to open again
	await alpha.read('Patient', 'pt-2');
	assert.ok(clock.slept.reduce((a, b) => a + b, 0) >= 50_000, `alpha waited for its window (${clock.slept})`);
	assert.equal(sb.stats.byStatus[429] ?? 0, 0, 'no request was refused');
});
