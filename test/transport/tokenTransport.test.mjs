// Transport rules for tokens (issue 19 item 4): no plain http to another host, a token endpoint on
// another host than the FHIR server allowed (eCW's is), a fresh assertion for every try, and 5xx and
// network errors at the token endpoint retried like FHIR requests, with a final word that the server
// failed, not the credential. Real HTTP against the sandbox, faults injected there.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

import { startSandbox } from '../../sandbox/index.mjs';
import { tokenCache } from '../../nodes/EClinicalWorks/fhir/auth/tokenCache.ts';
import { clearDiscoveryCache } from '../../nodes/EClinicalWorks/fhir/auth/discovery.ts';
import { requestToken } from '../../nodes/EClinicalWorks/fhir/auth/tokenRequest.ts';
import { clearCapabilitiesCache } from '../../nodes/EClinicalWorks/fhir/client.ts';
import { FhirError, InputError } from '../../nodes/EClinicalWorks/fhir/errors.ts';
import { resetPacers } from '../../nodes/EClinicalWorks/fhir/pacer.ts';
import { clientFor, credentialFor, fakeClock, fetchHttp, pickClient } from './_support.mjs';

let sb;
before(async () => {
	sb = await startSandbox({ port: 0, profile: 'ecw', patients: 5, rateLimitPerMinute: null });
});
after(async () => sb?.stop());
beforeEach(() => {
	tokenCache.clear();
	clearDiscoveryCache();
	clearCapabilitiesCache();
	resetPacers();
	sb.clearFaults();
	sb.stats.reset();
});

const rs = () => pickClient(sb, 'private_key_jwt', 'RS384');
const TOKEN_PATH = /oauth2\/token/;

test('a configured Token URL over plain http to another host is refused before anything is sent', async () => {
	const c = rs();
	for (const tokenUrl of ['http://token.example.invalid/oauth2/token', 'http://10.1.2.3:8080/token']) {
		await assert.rejects(
			requestToken(fetchHttp(), { tokenUrl, clientId: c.clientId, authMethod: 'privateKeyJwt', scopes: 'system/Patient.read', privateKey: c.privateKeyPem, algorithm: 'RS384', keyId: c.kid }),
			(e) => {
				assert.ok(e instanceof InputError, String(e));
				assert.equal(e.field, 'Token URL');
				assert.match(e.message, /plain http on another host .*unencrypted/);
				assert.match(e.fix, /https:\/\//);
				return true;
			},
		);
	}
	// this machine stays allowed (the sandbox itself is plain http on loopback)
	const ok = await requestToken(fetchHttp(), { tokenUrl: sb.tokenUrl, clientId: c.clientId, authMethod: 'privateKeyJwt', scopes: 'system/Patient.read', privateKey: c.privateKeyPem, algorithm: 'RS384', keyId: c.kid });
	assert.ok(ok.accessToken);
});

test('a discovered token endpoint over plain http to another host is refused: no token request is sent', async () => {
	const s = await startSandbox({ port: 0, profile: 'ecw', patients: 3, tokenEndpoint: 'http://fhir-token.invalid:{port}/oauth/oauth2/token' });
	try {
		const { client } = clientFor(credentialFor(s, pickClient(s, 'private_key_jwt', 'RS384')));
		await assert.rejects(client.search('Patient', [['family', 'a']], { limit: 1 }), (e) => {
			assert.ok(e instanceof FhirError, String(e));
			assert.match(e.message, /^Discovery: the server's SMART configuration names a token endpoint over plain http \(fhir-token\.invalid:\d+\); refused/);
			assert.match(e.hint, /https/);
			return true;
		});
		assert.equal(s.stats.tokenRequests, 0);
	} finally {
		await s.stop();
	}
});

test('a discovered token endpoint on another host than the FHIR server is used (eCW\'s is)', async () => {
	const s = await startSandbox({ port: 0, profile: 'ecw', patients: 3, tokenEndpoint: 'http://localhost:{port}/oauth/oauth2/token' });
	try {
		const { client } = clientFor(credentialFor(s, pickClient(s, 'private_key_jwt', 'RS384')));
		assert.equal(new URL(s.baseUrl).hostname, '127.0.0.1');
		assert.equal((await client.search('Patient', [['family', 'a']], { limit: 1 })).pages, 1);
		assert.equal(s.stats.tokenRequests, 1);
	} finally {
		await s.stop();
	}
});

test('every token try signs a fresh assertion: after a 429, a 503 or a reset the retry is not a replay', async () => {
	for (const fault of [{ kind: '429', retryAfter: 1 }, { kind: '503' }, { kind: '500', count: 2 }, { kind: 'disconnect' }]) {
		tokenCache.clear();
		sb.stats.reset();
		const clock = fakeClock(Date.now());
		const { client } = clientFor(credentialFor(sb, rs()), { clock });
		sb.inject({ ...fault, path: TOKEN_PATH });
		const result = await client.search('Patient', [['family', 'a']], { limit: 1 });
		assert.equal(result.pages, 1, `${fault.kind}: signed in on a later try`);
		assert.equal(sb.stats.tokenRequests, (fault.count ?? 1) + 1, `${fault.kind}: one more token request per fault`);
		assert.equal(sb.stats.byStatus['401'] ?? 0, 0, `${fault.kind}: no "jti replayed"`);
	}
});

test('token endpoint 5xx: retried with backoff within the bound, then an error that blames the server, not the credential', async () => {
	const clock = fakeClock(Date.now());
	const { client } = clientFor(credentialFor(sb, rs()), { clock });
	sb.inject({ kind: '503', count: 10, path: TOKEN_PATH });
	await assert.rejects(client.search('Patient', [['family', 'a']], { limit: 1 }), (e) => {
		assert.ok(e instanceof FhirError, String(e));
		assert.equal(e.status, 503);
		assert.match(e.message, /^Token request failed: the token endpoint failed \(server_error, 503\) 4 times in a row/);
		assert.match(e.hint, /^The server failed, not the credential/);
		assert.doesNotMatch(e.hint, /Check the credential/);
		return true;
	});
	assert.equal(sb.stats.tokenRequests, 4, 'the retry policy\'s 4 tries');
	assert.ok(clock.slept.length >= 3 && clock.slept.every((ms) => ms >= 500), `backoff between tries (${clock.slept})`);
});

test('token endpoint resets: retried, then "no answer" that blames the server or network, not the credential', async () => {
	const clock = fakeClock(Date.now());
	const { client } = clientFor(credentialFor(sb, rs()), { clock });
	sb.inject({ kind: 'disconnect', count: 10, path: TOKEN_PATH });
	await assert.rejects(client.search('Patient', [['family', 'a']], { limit: 1 }), (e) => {
		assert.ok(e instanceof FhirError, String(e));
		assert.equal(e.kind, 'network');
		assert.match(e.message, /^Token request failed: no answer from the token endpoint \(127\.0\.0\.1:\d+: [a-z ]+\) after 4 tries/);
		assert.match(e.hint, /not the credential/);
		return true;
	});
	assert.equal(sb.stats.tokenRequests, 4);
});
