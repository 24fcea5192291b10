// SMART backend auth against the sandbox: every method and algorithm, discovery, and one clear
// error per misconfiguration. Real HTTP on loopback, no mocking.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createPublicKey, verify } from 'node:crypto';

import { startSandbox } from '../../sandbox/index.mjs';
import { createClientAssertion, loadPrivateKey, normalizePem } from '../../nodes/EClinicalWorks/fhir/auth/assertion.ts';
import { generateKeyPair, publicJwksFromPrivateKey, jwkThumbprint } from '../../nodes/EClinicalWorks/fhir/auth/keys.ts';
import { discoverSmartConfiguration, clearDiscoveryCache } from '../../nodes/EClinicalWorks/fhir/auth/discovery.ts';
import { requestToken } from '../../nodes/EClinicalWorks/fhir/auth/tokenRequest.ts';
import { backendSettings, resolveBaseUrl } from '../../nodes/EClinicalWorks/fhir/auth/backend.ts';
import { tokenCache } from '../../nodes/EClinicalWorks/fhir/auth/tokenCache.ts';
import { FhirError, InputError } from '../../nodes/EClinicalWorks/fhir/errors.ts';
import { withBulkScope, withoutBulkScope, DEFAULT_ECW_SCOPES, DEFAULT_USER_SCOPES } from '../../nodes/EClinicalWorks/fhir/scopes.ts';
import { ECW_SMART_CONFIGURATION } from '../../sandbox/contracts/ecw.mjs';
import { fetchHttp, credentialFor, clientFor, pickClient } from './_support.mjs';

let sb;
let smart;
before(async () => {
	sb = await startSandbox({ port: 0, profile: 'ecw', patients: 10 });
	smart = await startSandbox({ port: 0, profile: 'smart', patients: 10 });
});
after(async () => {
	await sb?.stop();
	await smart?.stop();
});
beforeEach(() => {
	tokenCache.clear();
	clearDiscoveryCache();
	for (const s of [sb, smart]) {
		s.clearFaults();
		s.stats.reset();
	}
});

const decode = (jwt) => jwt.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));

/** Asserts the error message and hint never carry secret material. */
function assertClean(error, ...secrets) {
	const text = `${error.message} ${error.hint ?? ''} ${error.fix ?? ''} ${error.outcome?.summary ?? ''}`;
	for (const s of secrets.filter(Boolean)) assert.ok(!text.includes(s), 'error text leaks a secret');
	assert.ok(!/BEGIN [A-Z ]*PRIVATE KEY/.test(text), 'error text leaks a key');
	assert.ok(!/eyJ[A-Za-z0-9_-]{10,}/.test(text), 'error text leaks a JWT');
}

test('RS384 and ES384 assertions: header, claims, signature (ES384 in IEEE P1363 form)', () => {
	for (const alg of ['RS384', 'ES384']) {
		const kp = generateKeyPair({ algorithm: alg });
		const now = Date.UTC(2026, 0, 1);
		const jwt = createClientAssertion({ clientId: 'c1', tokenUrl: 'https://a.example/token', privateKey: kp.privateKeyPem, algorithm: alg, keyId: kp.kid, jwksUrl: 'https://a.example/jwks', now });
		const [header, claims] = decode(jwt);
		assert.deepEqual(header, { alg, kid: kp.kid, typ: 'JWT', jku: 'https://a.example/jwks' });
		assert.equal(claims.iss, 'c1');
		assert.equal(claims.sub, 'c1');
		assert.equal(claims.aud, 'https://a.example/token');
		assert.equal(claims.iat, now / 1000);
		assert.ok(claims.exp - claims.iat >= 240 && claims.exp - claims.iat < 300);
		assert.match(claims.jti, /^[0-9a-f-]{36}$/);
		const [h, p, s] = jwt.split('.');
		const sig = Buffer.from(s, 'base64url');
		if (alg === 'ES384') assert.equal(sig.length, 96, 'P1363 r||s is 96 bytes for P-384');
		const pub = createPublicKey({ key: kp.publicJwk, format: 'jwk' });
		assert.ok(verify('sha384', Buffer.from(`${h}.${p}`), alg === 'ES384' ? { key: pub, dsaEncoding: 'ieee-p1363' } : pub, sig));
		const again = decode(createClientAssertion({ clientId: 'c1', tokenUrl: 'x', privateKey: kp.privateKeyPem, algorithm: alg, keyId: 'k' }))[1];
		assert.notEqual(again.jti, claims.jti, 'fresh jti each time');
	}
});

test('keys: PKCS#1 RSA and SEC1 EC keys accepted; pasted PEMs repaired; JWKS and RFC 7638 kid', () => {
	const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
	const pkcs1 = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' });
	assert.equal(loadPrivateKey(pkcs1, 'RS384').asymmetricKeyType, 'rsa');
	const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
	const sec1 = ec.privateKey.export({ type: 'sec1', format: 'pem' });
	assert.equal(loadPrivateKey(sec1, 'ES384').asymmetricKeyType, 'ec');
	// literal \n, as a JSON-escaped paste
	assert.ok(loadPrivateKey(JSON.stringify(pkcs1).slice(1, -1), 'RS384'));
	// all on one line, line breaks turned to spaces, with quotes and CRLF
	assert.ok(loadPrivateKey(`"${pkcs1.replace(/\n/g, ' ')}"`, 'RS384'));
	assert.ok(loadPrivateKey(sec1.replace(/\n/g, '\r\n'), 'ES384'));
	assert.equal(normalizePem(pkcs1.replace(/\n/g, ' ')), pkcs1.trim());

	const kp = generateKeyPair({ algorithm: 'RS384', modulusLength: 3072 });
	assert.match(kp.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
	assert.equal(kp.jwks.keys[0].kid, kp.kid);
	assert.deepEqual(kp.jwks.keys[0].key_ops, ['verify']);
	assert.equal(kp.jwks.keys[0].use, 'sig');
	assert.equal(kp.jwks.keys[0].alg, 'RS384');
	assert.equal(kp.kid, jwkThumbprint(kp.publicJwk));
	assert.equal(Buffer.from(kp.publicJwk.n, 'base64url').length, 384);
	const again = publicJwksFromPrivateKey(kp.privateKeyPem, 'RS384');
	assert.deepEqual(again.jwks, kp.jwks);
	assert.equal(publicJwksFromPrivateKey(kp.privateKeyPem, 'RS384', 'my-kid').kid, 'my-kid');
	// RFC 7638 section 3.1 example
	assert.equal(
		jwkThumbprint({ kty: 'RSA', e: 'AQAB', n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw' }),
		'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
	);
	const es = generateKeyPair({ algorithm: 'ES384' });
	assert.equal(es.publicJwk.crv, 'P-384');
});

test('bad keys each give their own clear InputError naming the field', () => {
	const cases = [
		['', 'RS384', 'Private Key', /is empty/],
		['hello', 'RS384', 'Private Key', /not a PEM private key/],
		['-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----', 'RS384', 'Private Key', /could not be read/],
		[generateKeyPair({ algorithm: 'ES384' }).privateKeyPem, 'RS384', 'Algorithm', /RS384 needs an RSA key/],
		[generateKeyPair({ algorithm: 'RS384' }).privateKeyPem, 'ES384', 'Algorithm', /ES384 needs an EC P-384 key/],
		[generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }), 'ES384', 'Private Key', /P-384/],
		[generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }), 'RS384', 'Private Key', /1024 bits/],
		[createPublicKey(generateKeyPair({ algorithm: 'RS384' }).privateKeyPem).export({ type: 'spki', format: 'pem' }), 'RS384', 'Private Key', /public key/],
		[generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }), 'RS384', 'Private Key', /encrypted/],
		[generateKeyPair({ algorithm: 'RS384' }).privateKeyPem, 'RS256', 'Algorithm', /not supported/],
	];
	for (const [pem, alg, field, problem] of cases) {
		assert.throws(() => loadPrivateKey(pem, alg), (e) => {
			assert.ok(e instanceof InputError, `${field}: ${e}`);
			assert.equal(e.field, field);
			assert.match(e.message, problem);
			assert.ok(e.fix.length > 10);
			assertClean(e);
			return true;
		});
	}
});

test('scopes: bulk adds system/Group.read only for bulk; defaults are explicit per resource', () => {
	assert.ok(!DEFAULT_ECW_SCOPES.includes('*'));
	assert.ok(!DEFAULT_ECW_SCOPES.includes('Group'));
	assert.equal(withBulkScope('system/Patient.read'), 'system/Patient.read system/Group.read');
	assert.equal(withBulkScope('system/Patient.read system/Group.read'), 'system/Patient.read system/Group.read');
	assert.equal(withoutBulkScope('system/Patient.read system/Group.read'), 'system/Patient.read');
	const data = { environment: 'ecwProduction', practiceCode: 'ABC', clientId: 'c', privateKey: 'k', scopes: DEFAULT_ECW_SCOPES };
	const normal = backendSettings(data);
	const bulk = backendSettings(data, { bulk: true });
	assert.ok(!normal.scopes.includes('Group'));
	assert.ok(bulk.scopes.endsWith('system/Group.read'));
	assert.notEqual(normal.cacheKey, bulk.cacheKey, 'bulk token is a separate cache entry');
	assert.equal(normal.baseUrl, 'https://fhir4.eclinicalworks.com/fhir/r4/ABC');
	assert.equal(normal.rateLimitPerMinute, 250);
});

test('base URL: practice code template, per-item override, missing practice code hints', () => {
	assert.equal(resolveBaseUrl('ecwSandbox', '', 'P1').baseUrl, 'https://staging-fhir.ecwcloud.com/fhir/r4/P1');
	assert.equal(resolveBaseUrl('ecwProduction', 'https://fhir4.eclinicalworks.com/fhir/r4/{practiceCode}/', 'P1', 'P2').baseUrl, 'https://fhir4.eclinicalworks.com/fhir/r4/P2');
	assert.throws(() => resolveBaseUrl('ecwProduction', '', ''), (e) => e instanceof InputError && e.field === 'Practice Code');
	assert.throws(() => resolveBaseUrl('ecwProduction', 'https://fhir4.eclinicalworks.com/fhir/r4', ''), (e) => e instanceof InputError && /no practice code/.test(e.message));
	assert.throws(() => resolveBaseUrl('ecwProduction', '', 'bad/code'), (e) => e instanceof InputError && /bad\/code/.test(e.message));
	assert.throws(() => resolveBaseUrl('custom', '', ''), (e) => e instanceof InputError && e.field === 'FHIR Base URL');
	assert.throws(() => resolveBaseUrl('custom', 'https://x.example/fhir?a=b', ''), (e) => e instanceof InputError && /\?/.test(e.message));
	const a = backendSettings({ environment: 'ecwProduction', practiceCode: 'P1', clientId: 'c', privateKey: 'k' });
	const b = backendSettings({ environment: 'ecwProduction', practiceCode: 'P1', clientId: 'c', privateKey: 'k' }, { practiceCode: 'P2' });
	const c = backendSettings({ environment: 'ecwProduction', practiceCode: 'P1', clientId: 'c', privateKey: 'other key' });
	assert.notEqual(a.cacheKey, b.cacheKey, 'one token per practice');
	assert.notEqual(a.cacheKey, c.cacheKey, 'two credentials never share a token');
});

test('every auth method and algorithm gets a token with the default scopes and reads data (discovery finds the token URL)', async () => {
	const combos = [
		[sb, pickClient(sb, 'private_key_jwt', 'RS384'), {}],
		[sb, pickClient(sb, 'private_key_jwt', 'RS384'), { jwksUrl: `${sb.origin}/sandbox/clients/sandbox-rs384/jwks.json` }],
		[smart, pickClient(smart, 'private_key_jwt', 'ES384'), {}],
		[smart, pickClient(smart, 'private_key_jwt', 'RS384'), {}],
		// eCW's backend services are key-only: client secrets on another SMART server
		[smart, pickClient(smart, 'client_secret_basic'), {}],
		[smart, pickClient(smart, 'client_secret_basic'), { authMethod: 'clientSecretPost' }],
	];
	for (const [server, c, extra] of combos) {
		const { client } = clientFor(credentialFor(server, c, extra));
		const r = await client.search('Encounter', [['date', 'ge2000-01-01']], { limit: 3 });
		assert.equal(r.matches.length, 3, `${server.profile} ${c.clientId} ${JSON.stringify(extra)}`);
	}
	assert.equal(sb.stats.tokenRequests, 2);
	assert.equal(smart.stats.tokenRequests, 4);
	assert.equal((sb.stats.byStatus['401'] ?? 0) + (smart.stats.byStatus['401'] ?? 0), 0);
});

test('the default scopes are in eCW\'s published scopes_supported, the bulk and user-login ones too', () => {
	const supported = new Set(ECW_SMART_CONFIGURATION.scopes_supported);
	for (const scopes of [DEFAULT_ECW_SCOPES, withBulkScope(DEFAULT_ECW_SCOPES), DEFAULT_USER_SCOPES]) {
		for (const scope of scopes.split(' ')) assert.ok(supported.has(scope), `${scope} is not in eCW's list`);
	}
	assert.match(DEFAULT_ECW_SCOPES, /system\/Coverage\.r(\s|$)/);
	assert.match(DEFAULT_USER_SCOPES, /user\/Coverage\.r(\s|$)/);
});

test('eCW: a scope eCW does not list is named with the form eCW offers, before any token request', async () => {
	const rs = pickClient(sb, 'private_key_jwt', 'RS384');
	const { client } = clientFor(credentialFor(sb, rs, { scopes: 'system/Patient.read system/Coverage.read system/Encounter.rs' }));
	await assert.rejects(client.search('Patient', [['family', 'a']], { limit: 1 }), (e) => {
		assert.ok(e instanceof InputError, String(e));
		assert.equal(e.field, 'Scopes');
		assert.match(e.message, /system\/Coverage\.read is not offered; this server offers system\/Coverage\.r$/);
		return true;
	});
	assert.equal(sb.stats.tokenRequests, 0, 'refused before the token request');
	// the default eCW stored before this version (with system/Coverage.read) is read as today's default
	tokenCache.clear();
	const legacy = clientFor(credentialFor(sb, rs, { scopes: 'system/Patient.read system/Encounter.read system/Practitioner.read system/Location.read system/Organization.read system/Coverage.read' })).client;
	assert.equal((await legacy.search('Patient', [['family', 'a']], { limit: 1 })).pages, 1);
});

test('eCW environments sign RS384 only: ES384 stops with a clear error naming the field', () => {
	const data = { environment: 'ecwProduction', practiceCode: 'ABC', clientId: 'c', privateKey: 'k', algorithm: 'ES384' };
	assert.throws(() => backendSettings(data), (e) => e instanceof InputError && e.field === 'Algorithm' && /documents RS384 only/.test(e.message) && /Generate Key Pair/.test(e.fix));
	assert.equal(backendSettings({ ...data, environment: 'custom', baseUrl: 'https://fhir.example/r4' }).algorithm, 'ES384');
});

test('other SMART servers: empty scopes are fitted to what the server declares (no Location where it has none)', async () => {
	const s = await startSandbox({ profile: 'smart', patients: 5, quirks: { omitTypes: ['Location'] } });
	try {
		const rs = pickClient(s, 'private_key_jwt', 'RS384');
		const { client } = clientFor(credentialFor(s, rs));
		const r = await client.search('Appointment', [['date', 'ge2000-01-01']], { limit: 2 });
		assert.equal(r.matches.length, 2, 'Appointment is read with the fitted defaults');
		// eCW's defaults on this server would be refused
		tokenCache.clear();
		const withEcwScopes = clientFor(credentialFor(s, rs, { customScopes: 'system/Patient.read system/Location.read' })).client;
		await assert.rejects(withEcwScopes.search('Patient', [], { limit: 1 }), (e) => {
			assert.match(e.message, /refused the scopes \(invalid_scope\)/);
			assert.match(e.hint, /system\/Location\.read is not offered by this server/);
			return true;
		});
	} finally {
		await s.stop();
	}
});

test('kid defaults to the key thumbprint when empty (Generate Key Pair keys)', async () => {
	// the sandbox registers an explicit kid, so an empty kid must reach the server as the thumbprint
	const c = pickClient(sb, 'private_key_jwt', 'RS384');
	const http = fetchHttp();
	await assert.rejects(
		requestToken(http, { tokenUrl: sb.tokenUrl, clientId: c.clientId, authMethod: 'privateKeyJwt', scopes: 'system/Patient.read', privateKey: c.privateKeyPem, algorithm: 'RS384', keyId: publicJwksFromPrivateKey(c.privateKeyPem, 'RS384').kid }),
		(e) => e instanceof FhirError && /invalid_client/.test(e.message),
	);
});

test('discovery: token endpoint found, cached per base URL; 400 for a wrong practice code; unreachable', async () => {
	const http = fetchHttp();
	const conf = await discoverSmartConfiguration(http, sb.baseUrl);
	assert.equal(conf.tokenEndpoint, sb.tokenUrlFor('demo'));
	await discoverSmartConfiguration(http, sb.baseUrl);
	assert.equal(sb.stats.log.filter((l) => l.path.endsWith('smart-configuration')).length, 1, 'cached');

	await assert.rejects(discoverSmartConfiguration(http, `${sb.origin}/fhir/r4/NOPE`, { ecw: true }), (e) => {
		assert.ok(e instanceof FhirError);
		assert.equal(e.kind, 'auth');
		assert.match(e.message, /practice code is missing or wrong/);
		return true;
	});
	await assert.rejects(discoverSmartConfiguration(http, 'http://127.0.0.1:9/fhir/r4/X'), (e) => {
		assert.equal(e.kind, 'network');
		assert.match(e.message, /Discovery failed: the FHIR base URL is unreachable \(127\.0\.0\.1:9\)/);
		return true;
	});
});

test('misconfigurations each give their own clear error', async () => {
	const smartSecretQuirk = await startSandbox({ profile: 'smart', patients: 3, quirks: ['secretErrorInvalidRequest'] });
	try {
		await misconfigurations(smartSecretQuirk);
	} finally {
		await smartSecretQuirk.stop();
	}
});

async function misconfigurations(smartSecretQuirk) {
	const rs = pickClient(sb, 'private_key_jwt', 'RS384');
	const secret = pickClient(smart, 'client_secret_basic');
	const es = pickClient(smart, 'private_key_jwt', 'ES384');
	const cases = [
		['wrong kid', credentialFor(sb, rs, { keyId: 'not-the-kid' }), /rejected the client \(invalid_client\)/, /Key ID \(kid\)/],
		['wrong client secret', credentialFor(smart, secret, { clientSecret: 'wrong' }), /rejected the client \(invalid_client\)/, /Client Secret/],
		['client secret on an eClinicalWorks environment', credentialFor(sb, rs, { authMethod: 'clientSecretBasic', clientSecret: 'x' }), /Authentication Method: Client Secret is not for eClinicalWorks backend apps/, /Private Key JWT/],
		['unknown client id', credentialFor(sb, rs, { clientId: 'nobody' }), /invalid_client/, /Client ID/],
		['key registered for ES384 signed as RS384', credentialFor(smart, es, { privateKey: rs.privateKeyPem, algorithm: 'RS384' }), /invalid_client/, /Algorithm must match the key registered/],
		['wrong algorithm for the key', credentialFor(smart, rs, { algorithm: 'ES384' }), /Algorithm: ES384 needs an EC P-384 key/, /RS384/],
		['ES384 on eClinicalWorks', credentialFor(sb, rs, { algorithm: 'ES384' }), /Algorithm: ES384 is not accepted by eClinicalWorks/, /RS384/],
		['scope eCW does not offer', credentialFor(sb, rs, { scopes: 'system/Patient.read system/Appointment.read' }), /Scopes: system\/Appointment\.read is not offered by this server/, /scopes_supported/],
		['user scope for a backend app', credentialFor(sb, rs, { scopes: 'user/Patient.read' }), /refused the grant \(invalid_grant\)/, /user\/Patient\.read/],
		['scope not registered for the app', credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384'), { clientId: 'sandbox-patient-only', keyId: 'sandbox-patient-only-key-1', privateKey: sb.client('sandbox-patient-only').privateKeyPem }), /refused the grant \(invalid_grant\)/, /^Ask only for scopes the server lists and the app is registered for.*asked for: "system\/Patient\.read system\/Encounter\.read/],
		['wrong client secret answered invalid_request', credentialFor(smartSecretQuirk, smartSecretQuirk.client('sandbox-secret'), { clientSecret: 'x9-not-the-secret' }), /rejected the request \(invalid_request\)/, /wrong client secret/],
		['unreachable base URL', credentialFor(sb, rs, { baseUrl: 'http://127.0.0.1:9/fhir/r4/demo' }), /unreachable \(127\.0\.0\.1:9\)/, /FHIR Base URL/],
		['unreachable token URL', credentialFor(sb, rs, { tokenUrl: 'http://127.0.0.1:9/token' }), /Token request failed: the token URL is unreachable/, /Token URL/],
		['practice code wrong', credentialFor(sb, rs, { baseUrl: `${sb.origin}/fhir/r4/WRONG`, environment: 'ecwProduction' }), /practice code is missing or wrong/, /practice code/],
		['bad private key', credentialFor(sb, rs, { privateKey: 'garbage' }), /Private Key: is not a PEM private key/, /BEGIN/],
	];
	for (const [name, data, message, hint] of cases) {
		tokenCache.clear();
		clearDiscoveryCache();
		await assert.rejects(async () => await clientFor(data).client.search('Encounter', [], { limit: 1 }), (e) => {
			assert.ok(e instanceof FhirError || e instanceof InputError, `${name}: ${e}`);
			assert.match(e.message, message, name);
			assert.match(`${e.hint ?? ''} ${e.fix ?? ''}`, hint, name);
			assertClean(e, data.clientSecret, rs.clientSecret, secret.clientSecret);
			return true;
		});
	}
}
