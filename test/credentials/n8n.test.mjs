// The credentials run the way n8n runs them: the harness reproduces the CLI's preAuthentication /
// authenticate rules, n8n-core's httpRequestWithAuthentication and the credential test.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

import { runNode, testCredential } from '../helpers/n8n.mjs';
import { startSandbox } from '../../sandbox/index.mjs';
import { tokenCache } from '../../nodes/EClinicalWorks/fhir/auth/tokenCache.ts';
import { clearDiscoveryCache } from '../../nodes/EClinicalWorks/fhir/auth/discovery.ts';
import { clearCapabilitiesCache } from '../../nodes/EClinicalWorks/fhir/client.ts';
import { resetPacers } from '../../nodes/EClinicalWorks/fhir/pacer.ts';
import { EClinicalWorksApi } from '../../credentials/EClinicalWorksApi.credentials.ts';
import { EClinicalWorksOAuth2Api } from '../../credentials/EClinicalWorksOAuth2Api.credentials.ts';

const NODE_TYPE = 'n8n-nodes-eclinicalworks.eClinicalWorks';

function credential(sb, clientId = 'sandbox-rs384', extra = {}) {
	const c = sb.clients.find((x) => x.clientId === clientId);
	return {
		environment: 'custom',
		baseUrl: sb.baseUrl,
		clientId: c.clientId,
		authMethod: { private_key_jwt: 'privateKeyJwt', client_secret_basic: 'clientSecretBasic' }[c.authMethod],
		privateKey: c.privateKeyPem ?? '',
		algorithm: c.alg ?? 'RS384',
		keyId: c.kid ?? '',
		clientSecret: c.clientSecret ?? '',
		scopes: 'system/Patient.read system/Encounter.read',
		customRateLimitPerMinute: 0,
		accessToken: '',
		...extra,
	};
}

function resetCaches(sb) {
	tokenCache.clear();
	clearDiscoveryCache();
	clearCapabilitiesCache();
	resetPacers();
	sb?.clearFaults();
	sb?.stats.reset();
}

let sb;
let smart;
before(async () => {
	sb = await startSandbox({ port: 0, profile: 'ecw', patients: 5, rateLimitPerMinute: null, practices: ['demo', 'closed'], rejectedPractices: ['closed'] });
	smart = await startSandbox({ port: 0, profile: 'smart', patients: 5 });
});
after(async () => {
	await sb?.stop();
	await smart?.stop();
});
beforeEach(() => {
	resetCaches(sb);
	resetCaches(smart);
});

test('credential descriptions: fields, secrets masked, expirable token, themed icon, test request', () => {
	const api = new EClinicalWorksApi();
	const names = api.properties.map((p) => p.name);
	for (const n of ['environment', 'baseUrl', 'practiceCode', 'tokenUrl', 'clientId', 'authMethod', 'privateKey', 'algorithm', 'keyId', 'jwksUrl', 'clientSecret', 'scopes', 'rateLimitPerMinute', 'accessToken']) {
		assert.ok(names.includes(n), n);
	}
	const byName = Object.fromEntries(api.properties.map((p) => [p.name, p]));
	assert.equal(byName.privateKey.typeOptions.password, true);
	assert.equal(byName.clientSecret.typeOptions.password, true);
	assert.equal(byName.accessToken.type, 'hidden');
	assert.equal(byName.accessToken.typeOptions.expirable, true);
	assert.deepEqual(api.icon, { light: 'file:eclinicalworks.svg', dark: 'file:eclinicalworks.dark.svg' });
	assert.equal(typeof api.authenticate, 'function');
	assert.match(api.documentationUrl, /#credentials$/);
	const oauth = new EClinicalWorksOAuth2Api();
	assert.deepEqual(oauth.extends, ['oAuth2Api']);
	const o = Object.fromEntries(oauth.properties.map((p) => [p.name, p]));
	assert.equal(o.grantType.default, 'pkce');
	assert.match(o.authQueryParameters.default, /aud=/);
	assert.match(o.scope.default, /^openid fhirUser offline_access user\/Patient\.read/);
	assert.equal(o.authentication.default, 'header');
});

test('authenticate only adds the token for the FHIR server origin and strips the context header', async () => {
	const api = new EClinicalWorksApi();
	const data = credential(sb, 'sandbox-rs384', { accessToken: 'stored-token' });
	const same = await api.authenticate(data, { url: `${sb.baseUrl}/metadata`, headers: { 'x-n8n-ecw-token-context': 'default' } });
	assert.equal(same.headers.Authorization, 'Bearer stored-token');
	assert.equal(same.headers['x-n8n-ecw-token-context'], undefined);
	const other = await api.authenticate(data, { url: `${sb.otherOrigin}/file`, headers: {} });
	assert.equal(other.headers.Authorization, undefined);
});

test('credential test: OK gets a token and searches one record with it (proof that this practice lets this app read)', async () => {
	const result = await testCredential({ type: 'eClinicalWorksApi', data: credential(sb) });
	assert.equal(result.status, 'OK', result.message);
	assert.equal(result.preAuthenticationCalls.length, 1);
	assert.ok(result.storedCredential?.data?.accessToken || result.credentialsStore, 'token persisted');
	assert.equal(sb.stats.tokenRequests, 1);
	const probe = sb.stats.log.find((l) => l.path === '/fhir/r4/demo/Patient');
	assert.ok(probe?.authorized, 'an authenticated search, not the open /metadata');
	assert.equal(probe.status, 200);
});

test('credential test: a practice that has not enabled the app fails the Test (reading /metadata said "Connection successful!")', async () => {
	const result = await testCredential({ type: 'eClinicalWorksApi', data: credential(sb, 'sandbox-rs384', { environment: 'ecwSandbox', baseUrl: sb.baseUrlFor('closed') }) });
	assert.equal(result.status, 'Error', result.message);
	assert.match(result.message, /refused \(401\).*practice has not enabled the app.*admin settings for FHIR apps/);
	assert.ok(sb.stats.tokenRequests >= 1, 'eCW\'s one token URL issued the token: only the read can tell');
});

test('credential test: scopes that do not cover the search fail the Test with what to check', async () => {
	const strict = await startSandbox({ port: 0, profile: 'ecw', patients: 3, rateLimitPerMinute: null, readScopeAllowsSearch: false });
	try {
		resetCaches(strict);
		const result = await testCredential({ type: 'eClinicalWorksApi', data: credential(strict, 'sandbox-rs384', { environment: 'ecwSandbox', scopes: 'system/Coverage.r' }) });
		assert.equal(result.status, 'Error', result.message);
		assert.match(result.message, /refused \(403\): the token's scopes do not cover it.*registered for the app/);
	} finally {
		await strict.stop();
	}
});

test('credential test failures say which step failed and why', async () => {
	const cases = [
		['discovery: unreachable', credential(sb, 'sandbox-rs384', { baseUrl: 'http://127.0.0.1:9/fhir/r4/x' }), /^Discovery failed: the FHIR base URL is unreachable/],
		['discovery: practice code', credential(sb, 'sandbox-rs384', { environment: 'ecwProduction', baseUrl: `${sb.origin}/fhir/r4/NOPE` }), /^Discovery failed \(400\): the practice code is missing or wrong/],
		['token: wrong kid', credential(sb, 'sandbox-rs384', { keyId: 'wrong' }), /^Token request failed: the server rejected the client \(invalid_client\)\. Server said: invalid_client: unknown kid\. The server has no key with this Key ID \(kid\).*JWKS URL/],
		['token: wrong secret', credential(smart, 'sandbox-secret', { clientSecret: 'nope', scopes: undefined }), /^Token request failed: the server rejected the client.*Client Secret/],
		['settings: client secret on an eCW environment', credential(sb, 'sandbox-rs384', { environment: 'ecwSandbox', authMethod: 'clientSecretBasic', clientSecret: 'x' }), /Authentication Method: Client Secret is not for eClinicalWorks backend apps.*Private Key JWT/],
		['token: unreachable token URL', credential(sb, 'sandbox-rs384', { tokenUrl: 'http://127.0.0.1:9/token' }), /^Token request failed: the token URL is unreachable/],
		['settings: bad key', credential(sb, 'sandbox-rs384', { privateKey: 'nope' }), /^Token request failed|Private Key/],
		['scopes: one eCW does not offer, named with the form it offers', credential(sb, 'sandbox-rs384', { environment: 'ecwSandbox', scopes: 'system/Patient.read system/Coverage.read' }), /Scopes: system\/Coverage\.read is not offered; this server offers system\/Coverage\.r/],
		['settings: ES384 on an eCW environment', credential(sb, 'sandbox-rs384', { environment: 'ecwSandbox', algorithm: 'ES384' }), /Algorithm: ES384 is not accepted by eClinicalWorks/],
		['settings: practice code missing', credential(sb, 'sandbox-rs384', { environment: 'ecwProduction', baseUrl: `${sb.origin}/fhir/r4/{practiceCode}`, practiceCode: '' }), /practice code is missing or wrong.*fill Practice Code here/],
	];
	for (const [name, data, message] of cases) {
		resetCaches(sb);
		resetCaches(smart);
		const result = await testCredential({ type: 'eClinicalWorksApi', data });
		assert.equal(result.status, 'Error', name);
		assert.match(result.message, message, name);
		assert.ok(!/PRIVATE KEY-----\s*[A-Za-z0-9+/]{16}|eyJ[A-Za-z0-9_-]{10}/.test(result.message), `${name}: no key or token in the message`);
	}
});

test('"Other SMART" credential saved with the earlier Scopes field keeps its scopes through n8n\'s credential load', async () => {
	// saved before "Other SMART" had its own Scopes field: the scopes are in `scopes`, not `customScopes`
	const c = smart.client('sandbox-patient-only');
	const saved = {
		environment: 'custom',
		baseUrl: smart.baseUrl,
		clientId: c.clientId,
		authMethod: 'privateKeyJwt',
		privateKey: c.privateKeyPem,
		algorithm: 'RS384',
		keyId: c.kid,
		scopes: 'system/Patient.read',
		customRateLimitPerMinute: 0,
		accessToken: '',
	};
	const result = await runNode({
		type: NODE_TYPE,
		parameters: { authentication: 'backendService', resource: 'fhirResource', operation: 'get', resourceType: 'Patient', resourceId: 'pt-1', output: 'raw' },
		credentials: { eClinicalWorksApi: saved },
		inputItems: [{}],
	});
	assert.equal(result.error, undefined, result.error?.message);
	assert.equal(result.outputOf('Node')[0].id, 'pt-1');
	const token = smart.stats.log.find((l) => l.path === '/oauth/oauth2/token');
	assert.equal(token.status, 200, 'the token asked for the saved scopes (the client is registered for system/Patient.read only)');
});

test('1,000 items over several token lifetimes: a token per 80 % of a lifetime (4-5 for 4 lifetimes), zero 401 (n8n preAuthentication/authenticate rules)', async () => {
	const parameters = (resourceId) => ({ authentication: 'backendService', resource: 'fhirResource', operation: 'get', resourceType: 'Encounter', resourceId, output: 'raw' });
	// calibrate on this machine (its speed varies a lot with load): time 300 items after a warm-up,
	// then choose a token lifetime so that 1,000 items span about 4 lifetimes
	const warm = credential(sb, 'sandbox-rs384', { scopes: 'system/Encounter.read' });
	await runNode({ type: NODE_TYPE, parameters: parameters('en-1'), credentials: { eClinicalWorksApi: warm }, inputItems: Array.from({ length: 100 }, () => ({})) });
	const t0 = Date.now();
	await runNode({ type: NODE_TYPE, parameters: parameters('en-1'), credentials: { eClinicalWorksApi: warm }, inputItems: Array.from({ length: 300 }, () => ({})) });
	const lifetime = Math.max(0.5, Math.round(((Date.now() - t0) / 300) * 1000 / 4 / 100) / 10);
	const short = await startSandbox({ port: 0, profile: 'ecw', patients: 5, tokenLifetimeSeconds: lifetime, rateLimitPerMinute: null });
	try {
		resetCaches(short);
		const data = credential(short);
		const idOnShort = (await runNode({
			type: NODE_TYPE,
			parameters: { authentication: 'backendService', resource: 'fhirResource', operation: 'search', resourceType: 'Encounter', returnAll: false, limit: 1, output: 'raw' },
			credentials: { eClinicalWorksApi: data },
			inputItems: [{}],
		})).outputOf('Node')[0].id;
		resetCaches(short);
		const items = Array.from({ length: 1000 }, (_, i) => ({ i }));
		const started = Date.now();
		const result = await runNode({ type: NODE_TYPE, parameters: parameters(idOnShort), credentials: { eClinicalWorksApi: data }, inputItems: items });
		const elapsed = (Date.now() - started) / 1000;
		assert.equal(result.error, undefined, result.error?.message);
		assert.equal(result.outputOf('Node').length, 1000);
		const lifetimes = elapsed / lifetime;
		const tokens = short.stats.tokenRequests;
		const unauthorized = short.stats.byStatus['401'] ?? 0;
		process.stdout.write(`# token figures: ${items.length} items in ${elapsed.toFixed(1)} s = ${lifetimes.toFixed(1)} token lifetimes (${lifetime} s tokens): ${tokens} token requests, ${unauthorized} answered 401, ${result.preAuthenticationCalls?.length ?? '?'} preAuthentication call(s)\n`);
		assert.equal(unauthorized, 0, 'no request answered 401');
		// refreshed at 80 % of the lifetime: ceil(lifetimes / 0.8) tokens at most
		assert.ok(tokens <= Math.ceil(lifetimes / 0.8), `${tokens} tokens for ${lifetimes.toFixed(1)} lifetimes`);
		assert.ok(tokens >= Math.floor(lifetimes), `${tokens} tokens for ${lifetimes.toFixed(1)} lifetimes`);
	} finally {
		await short.stop();
	}
});
