// The shared token cache on its own: refresh margin, in-flight sharing, invalidate rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { TokenCache, refreshMargin, isFresh, tokenCacheKey } from '../../nodes/EClinicalWorks/fhir/auth/tokenCache.ts';

test('refresh margin: 30 s for eCW 300 s tokens, 20 % for short test tokens', () => {
	assert.equal(refreshMargin(300_000), 30_000);
	assert.equal(refreshMargin(3_600_000), 360_000);
	assert.equal(refreshMargin(2_000), 400);
	const t = { accessToken: 'a', obtainedAt: 0, expiresAt: 300_000 };
	assert.equal(isFresh(t, 269_999), true);
	assert.equal(isFresh(t, 270_000), false);
});

test('concurrent callers share one mint; failures are not cached; invalidate only drops the rejected token', async () => {
	const cache = new TokenCache();
	let now = 0;
	let mints = 0;
	const mint = async () => {
		mints++;
		await new Promise((r) => setTimeout(r, 5));
		return { accessToken: `t${mints}`, obtainedAt: now, expiresAt: now + 300_000 };
	};
	const tokens = await Promise.all(Array.from({ length: 10 }, () => cache.get('k', mint, () => now)));
	assert.deepEqual(new Set(tokens), new Set(['t1']));
	assert.equal(mints, 1);
	now = 280_000; // inside the margin: refreshed
	assert.equal(await cache.get('k', mint, () => now), 't2');
	cache.invalidate('k', 't1'); // an old token: the current one stays
	assert.equal(cache.peek('k', now).accessToken, 't2');
	cache.invalidate('k', 't2');
	assert.equal(cache.peek('k', now), undefined);
	await assert.rejects(cache.get('k', async () => { throw new Error('token endpoint down'); }, () => now));
	assert.equal(await cache.get('k', mint, () => now), 't3', 'a failed mint is retried by the next caller');
});

test('cache keys differ for anything that makes a different token', () => {
	const base = { tokenUrl: '', clientId: 'c', authMethod: 'privateKeyJwt', secret: 'pem', algorithm: 'RS384', keyId: 'k', scopes: 'system/Patient.read system/Encounter.read', baseUrl: 'https://x/fhir/r4/A' };
	const key = tokenCacheKey(base);
	assert.equal(tokenCacheKey({ ...base, scopes: 'system/Encounter.read system/Patient.read' }), key, 'scope order does not matter');
	assert.equal(tokenCacheKey({ ...base, baseUrl: 'https://x/fhir/r4/A/' }), key);
	for (const change of [{ clientId: 'd' }, { secret: 'other' }, { scopes: 'system/Patient.read' }, { baseUrl: 'https://x/fhir/r4/B' }, { keyId: 'j' }, { algorithm: 'ES384' }, { tokenUrl: 'https://t' }, { authMethod: 'clientSecretBasic' }]) {
		assert.notEqual(tokenCacheKey({ ...base, ...change }), key, JSON.stringify(change));
	}
	assert.ok(!key.includes('pem'));
});

test('forceRenewal: the next get renews at once, concurrent callers share one renewal, the old token stays valid meanwhile', async () => {
	const cache = new TokenCache();
	const now = 1_000;
	let mints = 0;
	const mint = async () => {
		mints++;
		await new Promise((r) => setTimeout(r, 5));
		return { accessToken: `t${mints}`, obtainedAt: now, expiresAt: now + 300_000, scope: 'system/Patient.read' };
	};
	assert.equal(cache.forceRenewal('k', now), false, 'nothing to renew before the first token');
	assert.equal(await cache.get('k', mint, () => now), 't1');
	assert.equal(cache.forceRenewal('k', now), true);
	assert.equal(cache.peek('k', now).accessToken, 't1', 'still valid for requests already on their way');
	const tokens = await Promise.all(Array.from({ length: 8 }, () => cache.get('k', mint, () => now)));
	assert.deepEqual(new Set(tokens), new Set(['t2']), 'every caller after the forced renewal gets the new token');
	assert.equal(mints, 2, 'one renewal for 8 concurrent callers');
	assert.equal(cache.peek('k', now).scope, 'system/Patient.read', 'the granted scope is kept with the token');
	assert.equal(await cache.get('k', mint, () => now), 't2', 'the renewed token is fresh');
});
