// User login (eClinicalWorksOAuth2Api) through n8n's OAuth2 handling, against the sandbox's
// authorization code + PKCE flow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { runNode, testCredential } from '../helpers/n8n.mjs';
import { loginAsDemoUser, userLoginCredential as credentialAfterLogin } from './_userLogin.mjs';
import { startSandbox } from '../../sandbox/index.mjs';
import { clearCapabilitiesCache } from '../../nodes/EClinicalWorks/fhir/client.ts';

const NODE_TYPE = 'n8n-nodes-eclinicalworks.eClinicalWorks';
let sb;
before(async () => {
	sb = await startSandbox({ port: 0, profile: 'ecw', patients: 3 });
});
after(async () => sb?.stop());

const userLogin = (scope) => loginAsDemoUser(sb, scope);
const userLoginCredential = (oauthTokenData) => credentialAfterLogin(sb, oauthTokenData);

test('User Login: the node reads with the OAuth2 token n8n holds; aud and PKCE presets', async () => {
	clearCapabilitiesCache();
	const token = await userLogin();
	const credential = userLoginCredential(token);
	const result = await runNode({
		type: NODE_TYPE,
		parameters: { authentication: 'userLogin', resource: 'fhirResource', operation: 'search', resourceType: 'Encounter', returnAll: false, limit: 2, output: 'raw' },
		credentials: { eClinicalWorksOAuth2Api: credential },
		inputItems: [{}],
	});
	assert.equal(result.error, undefined, result.error?.message);
	assert.equal(result.outputOf('Node').length, 2);
	assert.ok(sb.stats.log.some((l) => l.path.endsWith('/Encounter') && l.authorized));
});

test('User Login: a rejected token ends in a clear 401 error, not a crash', async () => {
	clearCapabilitiesCache();
	const result = await runNode({
		type: NODE_TYPE,
		parameters: { authentication: 'userLogin', resource: 'fhirResource', operation: 'search', resourceType: 'Encounter', returnAll: false, limit: 1, output: 'raw' },
		credentials: {
			eClinicalWorksOAuth2Api: userLoginCredential({ access_token: 'not-a-token', token_type: 'Bearer' }),
		},
		inputItems: [{}],
		continueOnFail: true,
	});
	const [out] = result.outputOf('Node');
	assert.match(out.error, /Signing in failed: OAuth access token expired and no refresh token is available/);
	assert.match(out.description, /reconnect/);
	assert.ok(!JSON.stringify(out).includes('not-a-token'), 'the token is not echoed');
});

test('User Login credential: preset URLs and aud resolve for each environment', async () => {
	const { EClinicalWorksOAuth2Api } = await import('../../credentials/EClinicalWorksOAuth2Api.credentials.ts');
	const props = Object.fromEntries(new EClinicalWorksOAuth2Api().properties.map((p) => [p.name, p.default]));
	// n8n evaluates `={{ ... }}` as JavaScript with $self = the credential's data
	const evaluate = (expr, self) => new Function('$self', '$credentials', `return (${expr.replace(/^=\{\{/, '').replace(/\}\}$/, '')});`)(self, self);
	const prod = { environment: 'ecwProduction', baseUrl: '', practiceCode: 'ABC' };
	assert.equal(evaluate(props.authUrl, prod), 'https://oauthserver.eclinicalworks.com/oauth/oauth2/authorize');
	assert.equal(evaluate(props.accessTokenUrl, prod), 'https://oauthserver.eclinicalworks.com/oauth/oauth2/token');
	assert.equal(evaluate(props.authQueryParameters, prod), `aud=${encodeURIComponent('https://fhir4.eclinicalworks.com/fhir/r4/ABC')}`);
	const sandbox = { environment: 'ecwSandbox', baseUrl: '', practiceCode: 'XYZ' };
	assert.equal(evaluate(props.accessTokenUrl, sandbox), 'https://staging-oauthserver.ecwcloud.com/oauth/oauth2/token');
	assert.equal(evaluate(props.authQueryParameters, sandbox), `aud=${encodeURIComponent('https://staging-fhir.ecwcloud.com/fhir/r4/XYZ')}`);
	const other = { environment: 'custom', baseUrl: 'https://ehr.example/fhir/r4/', customAuthUrl: 'https://ehr.example/auth', customAccessTokenUrl: 'https://ehr.example/token' };
	assert.equal(evaluate(props.authUrl, other), 'https://ehr.example/auth');
	assert.equal(evaluate(props.accessTokenUrl, other), 'https://ehr.example/token');
	assert.equal(evaluate(props.authQueryParameters, other), `aud=${encodeURIComponent('https://ehr.example/fhir/r4')}`);
	// the credential Test: one search of the first type the scopes may search (Group and read-only .r skipped)
	const { EClinicalWorksApi } = await import('../../credentials/EClinicalWorksApi.credentials.ts');
	const testUrl = new EClinicalWorksApi().test.request.url;
	const { DEFAULT_ECW_SCOPES } = await import('../../nodes/EClinicalWorks/fhir/scopes.ts');
	assert.equal(evaluate(testUrl, { ...prod, scopes: DEFAULT_ECW_SCOPES }), 'https://fhir4.eclinicalworks.com/fhir/r4/ABC/Patient?_id=n8n-credential-test');
	assert.equal(evaluate(testUrl, { ...prod, scopes: 'system/Group.read system/Coverage.r system/Encounter.rs' }), 'https://fhir4.eclinicalworks.com/fhir/r4/ABC/Encounter?_id=n8n-credential-test');
	assert.equal(evaluate(testUrl, { ...other, practiceCode: '', customScopes: '' }), 'https://ehr.example/fhir/r4/Patient?_id=n8n-credential-test');
	assert.equal(evaluate(testUrl, { ...other, practiceCode: '', customScopes: 'system/Appointment.read', scopes: 'system/Patient.read' }), 'https://ehr.example/fhir/r4/Appointment?_id=n8n-credential-test');
	assert.equal(evaluate(testUrl, { ...other, practiceCode: '', customScopes: '', scopes: 'system/Location.read' }), 'https://ehr.example/fhir/r4/Location?_id=n8n-credential-test', 'the earlier Scopes field of a credential saved before Other SMART had its own');
	assert.equal(evaluate(new EClinicalWorksOAuth2Api().test.request.url, { ...prod, scope: 'openid fhirUser offline_access user/Encounter.read' }), 'https://fhir4.eclinicalworks.com/fhir/r4/ABC/Encounter?_id=n8n-credential-test');
});

test('User Login credential test searches one record through n8n', async () => {
	const token = await userLogin();
	const result = await testCredential({
		type: 'eClinicalWorksOAuth2Api',
		data: userLoginCredential(token),
	});
	assert.equal(result.status, 'OK', result.message);
});

test('User Login: an expired access token is refreshed by n8n with the single-use refresh token, and the new one is stored', async () => {
	clearCapabilitiesCache();
	const token = await userLogin();
	assert.ok(token.refresh_token, 'offline_access gives a refresh token');
	sb.inject({ kind: 'revoke-tokens' }); // the access token n8n holds is now rejected (401)
	const result = await runNode({
		type: NODE_TYPE,
		parameters: { authentication: 'userLogin', resource: 'fhirResource', operation: 'search', resourceType: 'Encounter', returnAll: false, limit: 1, output: 'raw' },
		credentials: {
			eClinicalWorksOAuth2Api: userLoginCredential(token),
		},
		inputItems: [{}],
	});
	assert.equal(result.error, undefined, result.error?.message);
	assert.equal(result.outputOf('Node').length, 1, 'the read succeeded after the refresh');
	const stored = result.storedCredential('eClinicalWorksOAuth2Api').oauthTokenData;
	assert.ok(stored.refresh_token && stored.refresh_token !== token.refresh_token, 'the new (single-use) refresh token is stored');
	assert.notEqual(stored.access_token, token.access_token);
	// eCW refresh tokens are single use: the old one is now refused, the stored one works
	const reuse = await fetch(sb.tokenUrl, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token.refresh_token, client_id: 'sandbox-user-pkce' }),
	});
	assert.equal(reuse.status, 400);
	assert.equal((await reuse.json()).error, 'invalid_grant');
});
