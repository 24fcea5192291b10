// The credential used by n8n's HTTP Request node (Custom API Call, predefined credential type):
// `authenticate` finds the URL in the legacy request options that node sends (`uri`), adds the
// token for the FHIR server's origin only, and paces requests that do not come from this package's
// nodes. The whole flow runs in real n8n in scripts/e2e/workflows.test.mjs.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { EClinicalWorksApi } from '../../credentials/EClinicalWorksApi.credentials.ts';
import { backendSettings, CONTEXT_HEADER_NAME } from '../../nodes/EClinicalWorks/fhir/auth/backend.ts';
import { tokenCache } from '../../nodes/EClinicalWorks/fhir/auth/tokenCache.ts';
import { pacerFor } from '../../nodes/EClinicalWorks/fhir/pacer.ts';

const data = {
	environment: 'custom',
	baseUrl: 'https://fhir.example.org/r4',
	clientId: 'custom-api-call-test',
	authMethod: 'clientSecretBasic',
	clientSecret: 'not-a-secret',
	customScopes: 'system/Patient.read',
	customRateLimitPerMinute: 2,
	accessToken: '',
};
const credential = new EClinicalWorksApi();
const settings = backendSettings(data);
const seed = () => tokenCache.set(settings.cacheKey, { accessToken: 'token-1', obtainedAt: Date.now(), expiresAt: Date.now() + 300_000 });

afterEach(() => tokenCache.clear());

test("the HTTP Request node's legacy options (uri): the token for the FHIR server, none elsewhere", async () => {
	seed();
	const fhir = await credential.authenticate(data, { uri: 'https://fhir.example.org/r4/Patient?identifier=1', headers: {} });
	assert.equal(fhir.headers.Authorization, 'Bearer token-1');
	for (const uri of ['https://elsewhere.example.org/r4/Patient', 'http://fhir.example.org/r4/Patient', 'https://fhir.example.org:8443/r4/Patient']) {
		const other = await credential.authenticate(data, { uri, headers: {} });
		assert.equal(other.headers.Authorization, undefined, `no token for ${uri}`);
	}
	const relative = await credential.authenticate(data, { uri: '/r4/Patient', baseUrl: 'https://fhir.example.org', headers: {} });
	assert.equal(relative.headers.Authorization, 'Bearer token-1', 'uri relative to baseUrl');
	const modern = await credential.authenticate(data, { url: 'https://fhir.example.org/r4/metadata', headers: {} });
	assert.equal(modern.headers.Authorization, 'Bearer token-1', 'url (n8n httpRequest helpers) as before');
});

test('requests without the node\'s token context are paced; the node\'s own requests are not paced again', async () => {
	seed();
	const pacer = pacerFor(settings.baseUrl, settings.rateLimitPerMinute);
	const before = pacer.inWindow(Date.now());
	await credential.authenticate(data, { uri: 'https://fhir.example.org/r4/Patient', headers: {} });
	assert.equal(pacer.inWindow(Date.now()), before + 1, 'a Custom API Call request takes its turn');
	await credential.authenticate(data, { url: 'https://fhir.example.org/r4/Patient', headers: { [CONTEXT_HEADER_NAME]: 'default' } });
	assert.equal(pacer.inWindow(Date.now()), before + 1, 'the node paces itself (FhirClient): not counted twice');
	await credential.authenticate(data, { uri: 'https://elsewhere.example.org/x', headers: {} });
	assert.equal(pacer.inWindow(Date.now()), before + 1, 'another origin is not the FHIR server\'s limit');
});

test('after a failed request, a token minted in the last minute is kept: no token request, no repeated request', async () => {
	seed();
	let httpCalls = 0;
	const helpers = { helpers: { httpRequest: async () => (httpCalls++, { statusCode: 500, headers: {}, body: '' }) } };
	const out = await credential.preAuthentication.call(helpers, { ...data, accessToken: 'token-1' });
	assert.deepEqual(out, {}, 'no token returned: n8n keeps the request\'s own error and does not retry');
	assert.equal(httpCalls, 0);
});
