import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startSandbox } from '../../sandbox/index.mjs';
import { signAssertion, signJwt } from '../../sandbox/jwt.mjs';
import { ASSERTION_TYPE, assertionFor, client, get, postForm, token, tokenRequest } from './helpers.mjs';

let sb;
let smart;
before(async () => {
	sb = await startSandbox({ profile: 'ecw', patients: 20, practices: ['demo', 'other', 'closed'], rejectedPractices: ['closed'] });
	smart = await startSandbox({ profile: 'smart', patients: 5 });
});
after(async () => {
	await sb.stop();
	await smart.stop();
});

test('returns the contract fields and demo clients', () => {
	assert.match(sb.baseUrl, /^http:\/\/127\.0\.0\.1:\d+\/fhir\/r4\/demo$/);
	assert.equal(sb.baseUrlFor('other'), `${sb.origin}/fhir/r4/other`);
	assert.equal(sb.tokenUrl, `${sb.origin}/oauth/oauth2/token`);
	assert.equal(sb.authorizeUrl, `${sb.origin}/oauth/oauth2/authorize`);
	assert.notEqual(sb.otherOrigin, sb.origin);
	const methods = sb.clients.map((c) => `${c.authMethod}/${c.alg}`);
	for (const m of ['private_key_jwt/RS384', 'none/null']) assert.ok(methods.includes(m), m);
	assert.ok(!methods.includes('private_key_jwt/ES384'), 'eCW documents RS384 only: no ES384 client on the ecw profile');
	assert.ok(!methods.includes('client_secret_basic/null'), 'eCW backend services are key-only: no client-secret backend client on the ecw profile');
	assert.ok(smart.clients.some((c) => c.alg === 'ES384'), 'the smart profile has an ES384 client');
	assert.ok(smart.clients.some((c) => c.authMethod === 'client_secret_basic'), 'the smart profile has a client-secret client');
	assert.equal(client(sb, 'sandbox-patient-only').scopes, 'system/Patient.read');
	assert.ok(client(sb, 'sandbox-rs384').scopes.includes('system/Group.read'));
	assert.match(client(sb, 'sandbox-rs384').privateKeyPem, /BEGIN PRIVATE KEY/);
});

test('private_key_jwt RS384 is accepted (eCW token shape); ES384 on the smart profile', async () => {
	const r = await tokenRequest(sb, 'sandbox-rs384');
	assert.equal(r.status, 200, JSON.stringify(r.json));
	assert.equal(r.json.token_type, 'Bearer');
	assert.equal(r.json.expires_in, 300);
	assert.equal(r.json.scope, client(sb, 'sandbox-rs384').scopes);
	assert.equal(r.json.refresh_token, undefined);
	assert.equal(typeof r.json.access_token, 'string');
	const es = await tokenRequest(smart, 'sandbox-es384');
	assert.equal(es.status, 200, JSON.stringify(es.json));
	assert.equal(es.json.expires_in, 3600);
});

test('v2 scope syntax is accepted where offered; the wildcard on the smart profile', async () => {
	let r = await tokenRequest(sb, 'sandbox-rs384', { scope: 'system/Patient.rs system/Encounter.r' });
	assert.equal(r.status, 200, JSON.stringify(r.json));
	r = await tokenRequest(smart, 'sandbox-es384', { scope: 'system/Patient.rs system/Encounter.r' });
	assert.equal(r.status, 200);
	r = await tokenRequest(smart, 'sandbox-rs384', { scope: 'system/*.read' });
	assert.equal(r.status, 200);
});

test('bad assertions are refused: expired or malformed 400 invalid_grant on ecw (eCW\'s error codes), 401 invalid_client otherwise', async () => {
	const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
	const ec = { privateKeyPem: crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) };
	const rs = client(sb, 'sandbox-rs384');
	// [over, ecw answer, smart answer]
	const cases = {
		'wrong key': [{ privateKeyPem: other }, 'invalid_client'],
		'wrong aud': [{ tokenUrl: `${sb.origin}/token` }, 'invalid_client'],
		expired: [{ expSeconds: -120 }, 'invalid_grant'],
		'exp too far': [{ expSeconds: 900 }, 'invalid_grant'],
		'no jti': [{ claims: { jti: '' } }, 'invalid_grant'],
		'unknown kid': [{ kid: 'nope' }, 'invalid_client'],
		'wrong alg for key': [{ alg: 'ES384', privateKeyPem: ec.privateKeyPem }, 'invalid_client'],
		'bad typ': [{ header: { typ: 'JOSE+foo' } }, 'invalid_client'],
		'iss != sub': [{ claims: { sub: 'someone-else' } }, 'invalid_client'],
	};
	for (const [name, [over, ecwError]] of Object.entries(cases)) {
		const r = await tokenRequest(sb, 'sandbox-rs384', { over });
		assert.equal(r.status, ecwError === 'invalid_grant' ? 400 : 401, `${name}: ${JSON.stringify(r.json)}`);
		assert.equal(r.json.error, ecwError, name);
		if (name === 'wrong alg for key') continue; // no ES384 on ecw; the smart profile accepts it
		const s = await tokenRequest(smart, 'sandbox-rs384', { over: { ...over, ...(over.tokenUrl ? {} : { tokenUrl: smart.tokenUrl }) } });
		assert.equal(s.status, 401, `smart ${name}: ${JSON.stringify(s.json)}`);
		assert.equal(s.json.error, 'invalid_client', `smart ${name}`);
	}
	const unknownKid = await tokenRequest(sb, 'sandbox-rs384', { over: { kid: 'nope' } });
	assert.match(unknownKid.json.error_description, /unknown kid/);
	// wrong client_assertion_type
	const r = await postForm(sb.tokenUrl, { grant_type: 'client_credentials', scope: 'system/Patient.read', client_assertion_type: 'jwt', client_assertion: assertionFor(sb, 'sandbox-rs384') });
	assert.equal(r.status, 401);
	// garbage assertion: malformed
	const g = await postForm(sb.tokenUrl, { grant_type: 'client_credentials', scope: 'system/Patient.read', client_assertion_type: ASSERTION_TYPE, client_assertion: 'abc.def' });
	assert.equal(g.status, 400);
	assert.equal(g.json.error, 'invalid_grant');
	// alg none style forgery
	const forged = signJwt({ alg: 'RS384', kid: rs.kid, typ: 'JWT' }, { iss: rs.clientId, sub: rs.clientId, aud: sb.tokenUrl, exp: Math.floor(Date.now() / 1000) + 60, jti: 'x1' }, other);
	const f = await postForm(sb.tokenUrl, { grant_type: 'client_credentials', scope: 'system/Patient.read', client_assertion_type: ASSERTION_TYPE, client_assertion: forged });
	assert.equal(f.status, 401);
});

test('a replayed jti is rejected', async () => {
	const a = assertionFor(sb, 'sandbox-rs384', { jti: 'replay-me' });
	const form = { grant_type: 'client_credentials', scope: 'system/Patient.read', client_assertion_type: ASSERTION_TYPE, client_assertion: a };
	assert.equal((await postForm(sb.tokenUrl, form)).status, 200);
	const r = await postForm(sb.tokenUrl, form);
	assert.equal(r.status, 401);
	assert.match(r.json.error_description, /jti replayed/);
});

test('client_secret_basic and client_secret_post on the smart profile; wrong secret', async () => {
	const c = client(smart, 'sandbox-secret');
	const basic = `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`;
	let r = await postForm(smart.tokenUrl, { grant_type: 'client_credentials', scope: 'system/Patient.read' }, { authorization: basic });
	assert.equal(r.status, 200);
	r = await postForm(smart.tokenUrl, { grant_type: 'client_credentials', scope: 'system/Patient.read', client_id: c.clientId, client_secret: c.clientSecret });
	assert.equal(r.status, 200);
	r = await postForm(smart.tokenUrl, { grant_type: 'client_credentials', scope: 'system/Patient.read', client_id: c.clientId, client_secret: 'wrong' });
	assert.equal(r.status, 401);
	assert.equal(r.json.error, 'invalid_client');
	r = await postForm(smart.tokenUrl, { grant_type: 'client_credentials', scope: 'system/Patient.read' }, { authorization: `Basic ${Buffer.from(`${c.clientId}:nope`).toString('base64')}` });
	assert.equal(r.status, 401);
	r = await postForm(smart.tokenUrl, { grant_type: 'client_credentials', scope: 'system/Patient.read' });
	assert.equal(r.status, 401);
});

test('ecw: no token for a client secret (eCW\'s backend services are key-only)', async () => {
	const secret = client(smart, 'sandbox-secret');
	for (const headers of [{ authorization: `Basic ${Buffer.from(`${secret.clientId}:${secret.clientSecret}`).toString('base64')}` }, {}]) {
		const form = { grant_type: 'client_credentials', scope: 'system/Patient.read', ...(headers.authorization ? {} : { client_id: secret.clientId, client_secret: secret.clientSecret }) };
		const r = await postForm(sb.tokenUrl, form, headers);
		assert.equal(r.status, 401, JSON.stringify(r.json));
		assert.equal(r.json.error, 'invalid_client');
	}
});

test('scope errors: eCW answers invalid_grant for a scope it refuses; a standard server invalid_scope', async () => {
	for (const [server, refused] of [[sb, 'invalid_grant'], [smart, 'invalid_scope']]) {
		let r = await tokenRequest(server, 'sandbox-patient-only', { scope: 'system/Patient.read system/Encounter.read' });
		assert.equal(r.status, 400);
		assert.equal(r.json.error, refused, 'not registered for the client');
		r = await tokenRequest(server, 'sandbox-rs384', { scope: 'system/Patient.reed' });
		assert.equal(r.status, 400);
		assert.equal(r.json.error, 'invalid_grant', 'malformed');
		r = await tokenRequest(server, 'sandbox-rs384', { scope: 'patient/Patient.read' });
		assert.equal(r.json.error, refused, 'not for backend services');
		r = await postForm(server.tokenUrl, { grant_type: 'password' });
		assert.equal(r.json.error, 'unsupported_grant_type');
	}
});

test('FHIR calls: 401 without/with bad token (WWW-Authenticate), 403 naming the missing scope', async () => {
	let r = await get(`${sb.baseUrl}/Patient/pt-1`);
	assert.equal(r.status, 401);
	assert.match(r.headers.get('www-authenticate'), /^Bearer/);
	assert.equal(r.json.resourceType, 'OperationOutcome');
	r = await get(`${sb.baseUrl}/Patient/pt-1`, 'not-a-token');
	assert.equal(r.status, 401);
	const limited = await token(sb, 'sandbox-patient-only', 'system/Patient.read');
	assert.equal((await get(`${sb.baseUrl}/Patient/pt-1`, limited)).status, 200);
	r = await get(`${sb.baseUrl}/Encounter?patient=pt-1`, limited);
	assert.equal(r.status, 403);
	assert.equal(r.json.issue[0].diagnostics, 'Missing scope system/Encounter.read');
	const t = await token(sb);
	assert.equal((await get(`${sb.baseUrlFor('other')}/Patient/pt-1`, t)).status, 200, 'token valid for other practices');
});

test('a practice that has not enabled the app: the one token URL still issues tokens, its FHIR calls answer 401 invalid_client', async () => {
	const t = await token(sb);
	const r = await get(`${sb.baseUrlFor('closed')}/Patient/pt-1`, t);
	assert.equal(r.status, 401);
	assert.match(r.json.issue[0].diagnostics, /invalid_client/);
	assert.equal((await get(`${sb.baseUrlFor('closed')}/metadata`)).status, 200, '/metadata is open, as on eCW');
	assert.equal((await get(`${sb.baseUrlFor('closed')}/.well-known/smart-configuration`)).json.token_endpoint, sb.tokenUrl);
	const tr = await tokenRequest(sb, 'sandbox-rs384', { form: { aud: sb.baseUrlFor('closed') } });
	assert.equal(tr.status, 200, 'a token request names no practice: nothing to refuse');
});

test('smart-configuration per practice; a base URL without a valid practice code answers 400', async () => {
	const r = await get(`${sb.baseUrl}/.well-known/smart-configuration`);
	assert.equal(r.status, 200);
	assert.equal(r.json.token_endpoint, sb.tokenUrl, 'one token URL for every practice');
	assert.equal((await get(`${sb.baseUrlFor('other')}/.well-known/smart-configuration`)).json.token_endpoint, sb.tokenUrl);
	assert.equal(r.json.authorization_endpoint, sb.authorizeUrl);
	assert.deepEqual(r.json.code_challenge_methods_supported, ['S256']);
	for (const m of ['client_secret_basic', 'client_secret_post', 'private_key_jwt']) assert.ok(r.json.token_endpoint_auth_methods_supported.includes(m));
	const bad = await get(`${sb.origin}/fhir/r4/.well-known/smart-configuration`);
	assert.equal(bad.status, 400);
	assert.equal(bad.json.resourceType, 'OperationOutcome');
	assert.equal((await get(`${sb.origin}/fhir/r4/nope/metadata`)).status, 400);
});

function pkce() {
	const verifier = crypto.randomBytes(32).toString('base64url');
	return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') };
}

async function authorize(params) {
	const u = new URL(sb.authorizeUrl);
	for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
	const res = await fetch(u, { redirect: 'manual' });
	return { status: res.status, location: res.headers.get('location') ? new URL(res.headers.get('location')) : null };
}

test('authorization code + PKCE, refresh tokens single-use, wrong verifier rejected', async () => {
	const redirect = 'http://127.0.0.1:5678/rest/oauth2-credential/callback';
	const { verifier, challenge } = pkce();
	const state = crypto.randomBytes(16).toString('hex');
	const base = { response_type: 'code', client_id: 'sandbox-user-pkce', redirect_uri: redirect, scope: 'launch/patient openid fhirUser offline_access patient/*.r', state, aud: sb.baseUrl, code_challenge: challenge, code_challenge_method: 'S256' };
	const a = await authorize(base);
	assert.equal(a.status, 302);
	assert.equal(a.location.origin + a.location.pathname, redirect);
	assert.equal(a.location.searchParams.get('state'), state);
	const code = a.location.searchParams.get('code');
	assert.ok(code);
	// wrong verifier
	let r = await postForm(sb.tokenUrl, { grant_type: 'authorization_code', code, redirect_uri: redirect, code_verifier: pkce().verifier, client_id: 'sandbox-user-pkce' });
	assert.equal(r.status, 400);
	assert.equal(r.json.error, 'invalid_grant');
	// the code was consumed by the failed attempt: get a new one
	const a2 = await authorize(base);
	r = await postForm(sb.tokenUrl, { grant_type: 'authorization_code', code: a2.location.searchParams.get('code'), redirect_uri: redirect, code_verifier: verifier, client_id: 'sandbox-user-pkce' });
	assert.equal(r.status, 200, JSON.stringify(r.json));
	assert.equal(r.json.expires_in, 3600);
	assert.equal(r.json.patient, 'pt-1');
	assert.ok(r.json.refresh_token);
	assert.equal((await get(`${sb.baseUrl}/Patient/pt-1`, r.json.access_token)).status, 200);
	const rt1 = r.json.refresh_token;
	const r2 = await postForm(sb.tokenUrl, { grant_type: 'refresh_token', refresh_token: rt1, client_id: 'sandbox-user-pkce' });
	assert.equal(r2.status, 200);
	assert.notEqual(r2.json.refresh_token, rt1);
	const reuse = await postForm(sb.tokenUrl, { grant_type: 'refresh_token', refresh_token: rt1, client_id: 'sandbox-user-pkce' });
	assert.equal(reuse.status, 400);
	assert.equal(reuse.json.error, 'invalid_grant');
	// redirect_uri mismatch at the token endpoint
	const a3 = await authorize(base);
	r = await postForm(sb.tokenUrl, { grant_type: 'authorization_code', code: a3.location.searchParams.get('code'), redirect_uri: 'http://127.0.0.1:9/other', code_verifier: verifier, client_id: 'sandbox-user-pkce' });
	assert.equal(r.json.error, 'invalid_grant');
});

test('authorize validates aud, PKCE method and redirect URI', async () => {
	const { challenge } = pkce();
	const base = { response_type: 'code', client_id: 'sandbox-user-pkce', redirect_uri: 'http://localhost:3000/cb', scope: 'patient/*.r', state: 's1', aud: sb.baseUrl, code_challenge: challenge, code_challenge_method: 'S256' };
	let a = await authorize({ ...base, aud: 'https://elsewhere.example/fhir' });
	assert.equal(a.location.searchParams.get('error'), 'invalid_request');
	a = await authorize({ ...base, code_challenge_method: 'plain' });
	assert.equal(a.location.searchParams.get('error'), 'invalid_request');
	a = await authorize({ ...base, aud: sb.baseUrlFor('closed') });
	assert.equal(a.location.searchParams.get('error'), 'unauthorized_client');
	a = await authorize({ ...base, redirect_uri: 'https://evil.example/cb' });
	assert.equal(a.status, 400);
});

test('tokens expire (tokenLifetimeSeconds) using the now option', async () => {
	let now = Date.now();
	const s = await startSandbox({ patients: 5, tokenLifetimeSeconds: 1, now: () => now });
	try {
		const c = client(s, 'sandbox-rs384');
		const a = signAssertion({ clientId: c.clientId, tokenUrl: s.tokenUrl, privateKeyPem: c.privateKeyPem, alg: 'RS384', kid: c.kid, now });
		const r = await postForm(s.tokenUrl, { grant_type: 'client_credentials', scope: 'system/Patient.read', client_assertion_type: ASSERTION_TYPE, client_assertion: a });
		assert.equal(r.json.expires_in, 1);
		assert.equal((await get(`${s.baseUrl}/Patient/pt-1`, r.json.access_token)).status, 200);
		now += 1500;
		const e = await get(`${s.baseUrl}/Patient/pt-1`, r.json.access_token);
		assert.equal(e.status, 401);
		assert.match(e.headers.get('www-authenticate'), /invalid_token/);
		assert.match(e.json.issue[0].diagnostics, /expired/);
	} finally {
		await s.stop();
	}
});
