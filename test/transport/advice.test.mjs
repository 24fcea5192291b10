// Advice that fits the server and the cause (issue 20 item 5): every hint is one the server can grant,
// follows the cause the server names, and names eClinicalWorks' menus and rules only on eClinicalWorks.
// Real HTTP against the sandbox: each server behaviour below is one a real server showed.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';

import { startSandbox } from '../../sandbox/index.mjs';
import { tokenCache } from '../../nodes/EClinicalWorks/fhir/auth/tokenCache.ts';
import { clearDiscoveryCache } from '../../nodes/EClinicalWorks/fhir/auth/discovery.ts';
import { grantAdvice, invalidClientAdvice } from '../../nodes/EClinicalWorks/fhir/auth/tokenAdvice.ts';
import { clearCapabilitiesCache } from '../../nodes/EClinicalWorks/fhir/client.ts';
import { FhirError } from '../../nodes/EClinicalWorks/fhir/errors.ts';
import { resetPacers } from '../../nodes/EClinicalWorks/fhir/pacer.ts';
import { clientFor, credentialFor, fakeClock, pickClient } from './_support.mjs';

const servers = {};
before(async () => {
	servers.ecw = await startSandbox({ port: 0, profile: 'ecw', patients: 5, rateLimitPerMinute: null });
	servers.smart = await startSandbox({ port: 0, profile: 'smart', patients: 5, quirks: { omitTypes: ['Location'] } });
});
after(async () => {
	for (const s of Object.values(servers)) await s.stop();
});
beforeEach(() => {
	tokenCache.clear();
	clearDiscoveryCache();
	clearCapabilitiesCache();
	resetPacers();
});

const otherKey = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
const ECW_WORDS = /eClinicalWorks|eCW|Admin >|Product Activation/;

async function failure(promise) {
	try {
		await promise;
	} catch (error) {
		return error;
	}
	throw new Error('expected a failure');
}

test('invalid_grant whose server text names the cause: advice about that cause, not "scope first"', async () => {
	// eCW answers an expired assertion 400 invalid_grant (its error codes); a clock 10 minutes slow signs one
	const s = servers.ecw;
	const { client } = clientFor(credentialFor(s, pickClient(s, 'private_key_jwt', 'RS384')), { clock: fakeClock(Date.now() - 10 * 60_000) });
	const e = await failure(client.search('Patient', [['family', 'a']], { limit: 1 }));
	assert.ok(e instanceof FhirError, String(e));
	assert.match(e.message, /refused the grant \(invalid_grant\)/);
	assert.match(e.outcome.summary, /client_assertion expired/);
	assert.match(e.hint, /^The server refused the assertion's time.*this machine's clock/);
	assert.doesNotMatch(e.hint, /One of|scope/i);
	// the same for the causes other servers name (their words, as seen on SMART's reference server)
	const ctx = { method: 'privateKeyJwt', scopes: 'system/Patient.read', ecw: false };
	for (const [text, advice] of [
		['The client registration has expired', /^The app's registration has expired or was withdrawn/],
		['Invalid token: jti already used', /^The server saw this assertion id \(jti\) before/],
		['No public key found with kid "abc"', /^The server has no key with this Key ID \(kid\)/],
	]) {
		const hint = grantAdvice('invalid_grant', { issues: [], oauthError: 'invalid_grant', oauthDescription: text, summary: '' }, ctx);
		assert.match(hint, advice, text);
		assert.doesNotMatch(hint, /One of|scope/i, text);
	}
	// without a named cause, the causes are listed (scope first)
	assert.match(grantAdvice('invalid_grant', { issues: [], oauthError: 'invalid_grant', summary: '' }, ctx), /^One of: \(1\) Ask only for scopes/);
});

test('invalid_client on a server that is not eClinicalWorks never names eClinicalWorks\' admin menu', async () => {
	const s = servers.smart;
	for (const extra of [{ keyId: 'not-the-kid' }, { clientId: 'nobody' }]) {
		tokenCache.clear();
		const { client } = clientFor(credentialFor(s, pickClient(s, 'private_key_jwt', 'RS384'), extra));
		const e = await failure(client.search('Patient', [], { limit: 1 }));
		assert.match(e.message, /rejected the client \(invalid_client\)/);
		assert.doesNotMatch(e.hint, ECW_WORDS, JSON.stringify(extra));
	}
	const secret = await failure(clientFor(credentialFor(s, pickClient(s, 'client_secret_basic'), { clientSecret: 'wrong' })).client.search('Patient', [], { limit: 1 }));
	assert.doesNotMatch(secret.hint, ECW_WORDS);
	assert.match(secret.hint, /Client Secret/);
	// on eClinicalWorks, a client secret is answered with what eCW's backend apps use
	assert.match(invalidClientAdvice(undefined, { method: 'clientSecretBasic', scopes: '', ecw: true }), /Private Key JWT only/);
});

test('a bad signature points at the key, JWKS, Key ID and Algorithm, also when the server calls it invalid_request', async () => {
	const s = await startSandbox({ port: 0, profile: 'smart', patients: 3, quirks: ['assertionErrorInvalidRequest'] });
	try {
		for (const server of [s, servers.ecw]) {
			tokenCache.clear();
			clearDiscoveryCache();
			const { client } = clientFor(credentialFor(server, pickClient(server, 'private_key_jwt', 'RS384'), { privateKey: otherKey() }));
			const e = await failure(client.search('Patient', [['family', 'a']], { limit: 1 }));
			assert.match(e.outcome.summary, /signature/);
			assert.match(e.hint, /signature.*Private Key.*JWKS.*Key ID \(kid\).*Algorithm/);
			assert.doesNotMatch(e.hint, /Token URL|Client ID/);
		}
	} finally {
		await s.stop();
	}
});

test('a 404 on a search is not explained as a wrong id', async () => {
	const s = servers.smart;
	const { client } = clientFor(credentialFor(s, pickClient(s, 'private_key_jwt', 'RS384'), { customScopes: 'system/Patient.read' }));
	const e = await failure(client.search('Location', [['name', 'x']], { limit: 1 }));
	assert.equal(e.status, 404);
	assert.match(e.message, /does not offer Location searches/);
	assert.doesNotMatch(`${e.message} ${e.hint}`, /Check the ID/);
	// a read with an id still is about the id
	const read = await failure(client.read('Patient', 'no-such-patient'));
	assert.match(read.hint, /Check the ID/);
});

test('eCW\'s Coverage is only system/Coverage.r: where .r reads without search, the 403 says so and never asks for a form eCW does not offer', async () => {
	const s = await startSandbox({ port: 0, profile: 'ecw', patients: 3, rateLimitPerMinute: null, readScopeAllowsSearch: false });
	try {
		const { client } = clientFor(credentialFor(s, pickClient(s, 'private_key_jwt', 'RS384')));
		const e = await failure(client.search('Coverage', [['patient', 'pt-1']], { limit: 1 }));
		assert.equal(e.status, 403);
		assert.match(e.message, /the token holds system\/Coverage\.r, which may not allow searching Coverage/);
		assert.match(e.hint, /\.r grants read without search, and this server offers no scope that allows searching Coverage/);
		assert.doesNotMatch(e.hint, /Add system\/Coverage/);
		assert.doesNotMatch(`${e.message} ${e.hint}`, /Coverage\.read/);
	} finally {
		await s.stop();
	}
});

test('a 403 on Get Full Record when the token holds system/Patient.read says so and names the broader need', async () => {
	const s = await startSandbox({ port: 0, profile: 'smart', patients: 3, quirks: ['everythingNeedsAllScopes'] });
	try {
		const c = s.client('sandbox-patient-only');
		const { client } = clientFor(credentialFor(s, c, { customScopes: 'system/Patient.read' }));
		const e = await failure(client.getJson('Patient/pt-1/$everything'));
		assert.equal(e.status, 403);
		assert.match(e.message, /the token already holds system\/Patient\.read, and the server wants more for Get Full Record/);
		assert.match(e.hint, /a read scope for each kind in it/);
		assert.doesNotMatch(e.message, /missing scope system\/Patient\.read/);
	} finally {
		await s.stop();
	}
});

test('a missing scope is named in a form the server offers', async () => {
	const s = servers.ecw;
	const c = s.client('sandbox-patient-only');
	const { client } = clientFor(credentialFor(s, c, { scopes: 'system/Patient.read' }));
	const e = await failure(client.search('Coverage', [['patient', 'pt-1']], { limit: 1 }));
	assert.equal(e.status, 403);
	assert.match(e.message, /missing scope system\/Coverage\.r$/);
	assert.match(e.hint, /only as system\/Coverage\.r: under SMART v2 that grants read without search/);
});
