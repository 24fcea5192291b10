// Logging the sandbox's demo user in as n8n's OAuth2 flow does (authorize with PKCE S256 and aud,
// then the code exchange), for tests of the User Login credential.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';

/** The token response (access and refresh token, scope) for the sandbox's public PKCE client. */
export async function loginAsDemoUser(sb, scope = 'openid fhirUser offline_access user/Patient.read user/Encounter.read') {
	const verifier = randomBytes(32).toString('base64url');
	const redirectUri = 'http://127.0.0.1:1/rest/oauth2-credential/callback';
	const q = new URLSearchParams({
		response_type: 'code',
		client_id: 'sandbox-user-pkce',
		redirect_uri: redirectUri,
		scope,
		state: randomBytes(16).toString('hex'),
		aud: sb.baseUrl,
		code_challenge: createHash('sha256').update(verifier).digest('base64url'),
		code_challenge_method: 'S256',
	});
	const res = await fetch(`${sb.authorizeUrl}?${q}`, { redirect: 'manual' });
	const code = new URL(res.headers.get('location')).searchParams.get('code');
	assert.ok(code, 'authorization code');
	const token = await fetch(sb.tokenUrl, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: 'sandbox-user-pkce' }),
	}).then((r) => r.json());
	assert.ok(token.access_token, 'access token');
	return token;
}

/** The user-login credential as n8n stores it after a login, against the sandbox's public PKCE client. */
export function userLoginCredential(sb, oauthTokenData) {
	return {
		environment: 'custom',
		baseUrl: sb.baseUrl,
		customAuthUrl: sb.authorizeUrl,
		customAccessTokenUrl: sb.tokenUrl,
		clientId: 'sandbox-user-pkce',
		clientSecret: '',
		rateLimitPerMinute: 0,
		oauthTokenData,
	};
}
