// Queue mode: several n8n processes (workers) each pace themselves, with nothing shared between
// them. "Processes Sharing This Limit" gives each its share of the credential's limit, so together
// they stay within the practice's budget (eCW: 250 per minute, token calls included, then 429 and
// the practice blocked to the end of the minute). Two clients with pacers of their own stand for
// two processes here; scripts/e2e/queue.test.mjs proves it with real workers.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startSandbox } from '../../sandbox/index.mjs';
import { backendSettings, sharingProcesses } from '../../nodes/EClinicalWorks/fhir/auth/backend.ts';
import { tokenCache } from '../../nodes/EClinicalWorks/fhir/auth/tokenCache.ts';
import { clearDiscoveryCache } from '../../nodes/EClinicalWorks/fhir/auth/discovery.ts';
import { InputError } from '../../nodes/EClinicalWorks/fhir/errors.ts';
import { clearCapabilitiesCache } from '../../nodes/EClinicalWorks/fhir/client.ts';
import { Pacer, resetPacers, shareOfLimit } from '../../nodes/EClinicalWorks/fhir/pacer.ts';
import { DEFAULT_ECW_SCOPES } from '../../nodes/EClinicalWorks/fhir/scopes.ts';
import { clientFor, credentialFor, fakeClock, pickClient } from './_support.mjs';

test('each process gets its share of the limit: 250 / 2 = 125, / 3 = 83; no limit stays no limit', () => {
	assert.equal(shareOfLimit(250, 1), 250);
	assert.equal(shareOfLimit(250, 2), 125);
	assert.equal(shareOfLimit(250, 3), 83);
	assert.equal(shareOfLimit(5, 10), 1, 'never below one request a minute');
	assert.equal(shareOfLimit(0, 2), 0);
	const data = { environment: 'ecwProduction', practiceCode: 'ABC', clientId: 'c', privateKey: 'k', scopes: DEFAULT_ECW_SCOPES };
	assert.equal(backendSettings(data).rateLimitPerMinute, 250, 'a credential saved before the setting: one process');
	assert.equal(backendSettings({ ...data, rateLimitProcesses: 2 }).rateLimitPerMinute, 125);
	assert.equal(backendSettings({ ...data, rateLimitProcesses: 3, rateLimitPerMinute: 100 }).rateLimitPerMinute, 33);
	const custom = { environment: 'custom', baseUrl: 'https://fhir.example.org/r4', clientId: 'c', privateKey: 'k', customRateLimitPerMinute: 600, rateLimitProcesses: 4 };
	assert.equal(backendSettings(custom).rateLimitPerMinute, 150);
	assert.equal(backendSettings({ ...custom, customRateLimitPerMinute: 0 }).rateLimitPerMinute, 0, 'pacing off stays off');
});

test('a bad "Processes Sharing This Limit" names the field and what to enter', () => {
	for (const bad of [0, -2, 1.5, 'two']) {
		assert.throws(
			() => sharingProcesses(bad),
			(e) => e instanceof InputError && e.field === 'Processes Sharing This Limit' && /whole number of 1 or more/.test(e.message) && /workers/.test(e.fix),
			`value ${bad}`,
		);
	}
	assert.equal(sharingProcesses(''), 1);
	assert.equal(sharingProcesses('2'), 2, 'an expression gives a string');
});

describe('two processes against one practice (eCW rules, fake clock)', () => {
	let sb;
	let clock;
	before(async () => {
		clock = fakeClock(Date.now());
		// 30 a minute per practice, token calls included (eCW counts them), then blocked to the end of the minute
		sb = await startSandbox({ port: 0, profile: 'ecw', patients: 5, rateLimitPerMinute: 30, now: () => clock.now() });
	});
	after(async () => sb?.stop());
	beforeEach(() => {
		tokenCache.clear();
		clearDiscoveryCache();
		clearCapabilitiesCache();
		resetPacers();
		sb.stats.reset();
	});

	/** Two "processes": same credential, each with its own pacer and token; 40 reads each at once. */
	async function twoProcesses(rateLimitProcesses) {
		const data = credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384'), { environment: 'ecwProduction', rateLimitPerMinute: 30, rateLimitProcesses });
		const processes = [0, 1].map(() => {
			const settings = backendSettings(data);
			const { client } = clientFor(data, { clock, pacer: new Pacer(settings.rateLimitPerMinute) });
			return client;
		});
		await clock.sleep(60_000 - (clock.now() % 60_000) + 100);
		const start = clock.now();
		await Promise.all(processes.flatMap((client) => Array.from({ length: 40 }, (_, i) => client.read('Patient', `pt-${(i % 5) + 1}`))));
		const reads = sb.stats.log.filter((l) => /\/Patient\/pt-/.test(l.path) && l.status === 200).length;
		return { reads, refused: sb.stats.byStatus['429'] ?? 0, minutes: (clock.now() - start) / 60_000 };
	}

	test('each at half the limit: no 429, every read answered', async () => {
		const run = await twoProcesses(2);
		assert.equal(run.refused, 0, 'no 429');
		assert.equal(run.reads, 80);
		assert.ok(run.minutes >= 2, `spread over the minutes the budget needs (${run.minutes.toFixed(1)})`);
	});

	test('control: each process at the whole limit gets 429s (what the setting prevents)', async () => {
		const run = await twoProcesses(1);
		assert.ok(run.refused > 0, 'the practice refused requests');
		assert.equal(run.reads, 80, 'the node still gets every read after waiting (nothing lost, only slower)');
	});
});
