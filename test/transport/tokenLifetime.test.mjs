// Issue 4's figure on a fake clock: 1,000 requests over 20 minutes against 300 s tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { startSandbox } from '../../sandbox/index.mjs';
import { tokenCache } from '../../nodes/EClinicalWorks/fhir/auth/tokenCache.ts';
import { clearDiscoveryCache } from '../../nodes/EClinicalWorks/fhir/auth/discovery.ts';
import { resetPacers } from '../../nodes/EClinicalWorks/fhir/pacer.ts';
import { credentialFor, clientFor, pickClient, fakeClock } from './_support.mjs';

test('requests over 20 minutes with 300 s tokens: 5 tokens, zero 401 (fake clock; scripts/bench-tokens.mjs runs 1,000)', async () => {
	tokenCache.clear();
	clearDiscoveryCache();
	resetPacers();
	const clock = fakeClock();
	const sb = await startSandbox({ port: 0, profile: 'ecw', patients: 3, tokenLifetimeSeconds: 300, now: () => clock.now() });
	try {
		const { client } = clientFor(credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384'), { environment: 'ecwProduction' }), { clock });
		const start = clock.now();
		const requests = 250;
		for (let i = 0; i < requests; i++) {
			await client.read('Encounter', 'en-1');
			await clock.sleep((20 * 60_000) / requests);
		}
		const minutes = (clock.now() - start) / 60_000;
		assert.equal(minutes, 20);
		assert.equal(sb.stats.byStatus['401'] ?? 0, 0);
		assert.equal(sb.stats.byStatus['429'] ?? 0, 0);
		assert.equal(sb.stats.tokenRequests, 5, 'minted at 0, 270, 540, 810 and 1080 s');
		process.stdout.write(`# fake clock: ${requests} requests over ${minutes} min, 300 s tokens: ${sb.stats.tokenRequests} token requests, 0 answered 401\n`);
	} finally {
		await sb.stop();
	}
});
