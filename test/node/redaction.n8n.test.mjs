// Secrets out of errors (issue 19.3), through n8n's real error path: a sandbox whose token and FHIR
// endpoints echo every request back (fault `echo`: client secret, Basic header, client assertion,
// bearer token, token JSON, query string, a PEM block, a patient's name and MRN). Nothing secret may
// reach the node's error (message, description, context), the saved run data, a continueOnFail item,
// n8n's log (every level, at debug) or its error reporter; the credential's Test says nothing secret
// either. The server's own words stay (they are what the user needs) unless the credential leaves them out.
process.env.N8N_LOG_LEVEL = 'debug';

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const { runNode, shutdown, reportedErrors, testCredential, n8nWorkflow } = await import('../helpers/n8n.mjs');
const { startSandbox } = await import('../../sandbox/index.mjs');
const { tokenCache } = await import('../../nodes/EClinicalWorks/fhir/auth/tokenCache.ts');
const { backendSettings } = await import('../../nodes/EClinicalWorks/fhir/auth/backend.ts');
const { clearDiscoveryCache } = await import('../../nodes/EClinicalWorks/fhir/auth/discovery.ts');
const { clearCapabilitiesCache } = await import('../../nodes/EClinicalWorks/fhir/client.ts');
const { resetPacers } = await import('../../nodes/EClinicalWorks/fhir/pacer.ts');
const { credentialFor } = await import('../transport/_support.mjs');

let sb;
/** Client-secret credentials need the smart profile: eCW's backend services are key-only. */
let smart;
before(async () => {
	sb = await startSandbox({ profile: 'ecw', patients: 5, rateLimitPerMinute: null });
	smart = await startSandbox({ profile: 'smart', patients: 5 });
});
after(async () => {
	await sb?.stop();
	await smart?.stop();
	await shutdown();
});
beforeEach(() => {
	tokenCache.clear();
	clearDiscoveryCache();
	clearCapabilitiesCache();
	resetPacers();
	sb.clearFaults();
	smart.clearFaults();
	reportedErrors.length = 0;
});

/** Everything n8n logs (every level, with its metadata) and writes to stdout/stderr while `fn` runs. */
async function watched(fn) {
	const coreRequire = createRequire(createRequire(import.meta.url).resolve('n8n-core'));
	const { Container } = coreRequire('@n8n/di');
	const { Logger } = coreRequire('@n8n/backend-common');
	const logger = Container.get(Logger);
	const lines = [];
	const levels = ['error', 'warn', 'info', 'debug'];
	const original = Object.fromEntries(levels.map((l) => [l, logger[l]]));
	const proxy = n8nWorkflow.LoggerProxy;
	const originalProxy = Object.fromEntries(levels.map((l) => [l, proxy[l]]));
	const capture = (level) => (message, meta) => void lines.push(`${level}: ${String(message)} ${safeJson(meta)}`);
	for (const level of levels) {
		logger[level] = capture(level);
		proxy[level] = capture(level);
	}
	const writes = { out: process.stdout.write, err: process.stderr.write };
	process.stdout.write = (chunk, ...rest) => (lines.push(String(chunk)), writes.out.call(process.stdout, chunk, ...rest));
	process.stderr.write = (chunk, ...rest) => (lines.push(String(chunk)), writes.err.call(process.stderr, chunk, ...rest));
	try {
		return { result: await fn(), log: lines.join('\n') };
	} finally {
		Object.assign(logger, original);
		Object.assign(proxy, originalProxy);
		process.stdout.write = writes.out;
		process.stderr.write = writes.err;
	}
}

function safeJson(value) {
	try {
		return JSON.stringify(value, errorsToo) ?? '';
	} catch {
		return String(value);
	}
}

/** JSON.stringify leaves out an Error's message and stack: keep them (what n8n would save or print). */
function errorsToo(key, value) {
	if (value instanceof Error) return { ...value, name: value.name, message: value.message, stack: value.stack, description: value.description, context: value.context, cause: value.cause };
	return value;
}

/** Every place a secret could surface after a run: the error, the saved run, the items, the log, the error reporter. */
function surfaces(result, log) {
	const error = result.nodeError('Node') ?? result.error;
	return {
		'error message': error?.message ?? '',
		'error description': error?.description ?? '',
		'error context': safeJson(error?.context),
		'saved run data': safeJson(result.data),
		'output items': safeJson(result.outputOf('Node')),
		"n8n's log": log,
		'error reporter': safeJson(reportedErrors),
	};
}

function assertNoSecret(places, secrets) {
	for (const [where, text] of Object.entries(places)) {
		for (const [name, secret] of Object.entries(secrets)) {
			if (!secret) continue;
			assert.ok(!text.includes(secret), `${name} appears in the ${where}: ${text.slice(Math.max(0, text.indexOf(secret) - 200), text.indexOf(secret) + 100)}`);
		}
	}
}

const patientSearch = { authentication: 'backendService', resource: 'patient', operation: 'search', criteria: { identifier: '1104729' } };

function credentialData(clientId, extra = {}, server = sb) {
	return credentialFor(server, server.clients.find((c) => c.clientId === clientId), extra);
}

const firstPatient = () => sb.admin.get('demo', 'Patient', 'pt-1');

async function run(clientId, extra, options = {}) {
	const data = credentialData(clientId, extra, options.server);
	reportedErrors.length = 0;
	const { result, log } = await watched(() => runNode({ parameters: patientSearch, credentials: { eClinicalWorksApi: data }, continueOnFail: options.continueOnFail }));
	return { result, log, data, places: surfaces(result, log) };
}

test('token endpoint echo, client secret in a Basic header: no secret anywhere, the server still quoted', async () => {
	smart.inject({ kind: 'echo', path: '/token$' });
	const client = smart.clients.find((c) => c.clientId === 'sandbox-secret');
	const { result, places } = await run('sandbox-secret', {}, { server: smart });
	const basic = Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64');
	assert.ok(result.nodeError('Node'), 'the node fails');
	assertNoSecret(places, { 'the client secret': client.clientSecret, 'the Basic header': basic, 'a private key': 'BEGIN PRIVATE KEY' });
	assert.match(places['error description'], /Server said: invalid_request: Request received: POST \/oauth\/oauth2\/token \|/, 'the server\'s words, redacted, are kept');
	assert.match(places['error description'], /authorization: Basic \[removed\]/);
	assert.match(places['error description'], /client secret as sent: \[removed\]/);
});

test('token endpoint echo, client secret in the body and a signed assertion: neither appears', async () => {
	const client = smart.clients.find((c) => c.clientId === 'sandbox-secret');
	smart.inject({ kind: 'echo', path: '/token$' });
	const post = await run('sandbox-secret', { authMethod: 'clientSecretPost' }, { server: smart });
	assertNoSecret(post.places, { 'the client secret': client.clientSecret });
	assert.match(post.places['error description'], /client_secret=\[removed\]/);

	tokenCache.clear();
	sb.inject({ kind: 'echo', path: '/token$' });
	const jwt = await run('sandbox-rs384');
	// a signed JWT always starts with eyJ (base64 of '{"'): none may surface
	assertNoSecret(jwt.places, { 'a client assertion (JWT)': 'eyJ', 'a private key': 'BEGIN PRIVATE KEY' });
	assert.match(jwt.places['error description'], /client_assertion=\[removed\]/);
});

test('FHIR endpoint echo: the bearer token (opaque), token JSON, query string and key never appear; the patient only with Include', async () => {
	sb.inject({ kind: 'echo', path: '/Patient$' });
	const include = await run('sandbox-rs384');
	const settings = backendSettings(include.data);
	const token = tokenCache.peek(settings.cacheKey)?.accessToken;
	assert.ok(token, 'a token was minted');
	assert.equal(include.result.nodeError('Node').httpCode, '400');
	assertNoSecret(include.places, { 'the access token': token, 'the search query': 'identifier=1104729', 'a private key': 'BEGIN PRIVATE KEY' });
	assert.match(include.places['error description'], /token as sent: \[removed\]/, 'a known token without any label is removed too');
	assert.match(include.places['error description'], /"refresh_token":"\[removed\]"/);
	const patient = firstPatient();
	const mrn = patient.identifier[0].value;
	assert.ok(include.places['error description'].includes(`(MRN ${mrn})`), 'Include keeps the server\'s diagnostics (they can name a patient)');
	// ...in the error shown and saved with the execution, not in its message, nor in n8n's log at its
	// default level (at debug, n8n itself logs a failed execution's error in full: docs/credentials.md)
	assert.ok(!include.places['error message'].includes(mrn));
	const logged = include.log.split('\n').filter((line) => !line.startsWith('debug:')).join('\n');
	assert.ok(!logged.includes(mrn), `the server's words are in n8n's log above debug: ${logged.slice(Math.max(0, logged.indexOf(mrn) - 300), logged.indexOf(mrn) + 100)}`);

	sb.inject({ kind: 'echo', path: '/Patient$' });
	const leaveOut = await run('sandbox-rs384', { responseOptions: true, serverTextInErrors: 'leaveOut' }, { continueOnFail: true });
	assertNoSecret(leaveOut.places, { 'the access token': tokenCache.peek(settings.cacheKey)?.accessToken, 'the patient\'s MRN': mrn, 'the patient\'s family name': patient.name[0].family, 'the search query': 'identifier=1104729' });
	const [item] = leaveOut.result.outputOf('Node');
	assert.match(item.description, /The server's own words are left out \(error invalid\): the credential's Server Text in Errors is set to Leave Out\./);
});

test("the credential's Test with an echoing token endpoint says what failed, without the secret", async () => {
	const client = smart.clients.find((c) => c.clientId === 'sandbox-secret');
	smart.inject({ kind: 'echo', path: '/token$' });
	const { result, log } = await watched(() => testCredential({ type: 'eClinicalWorksApi', data: { ...credentialData('sandbox-secret', {}, smart), accessToken: '' } }));
	assert.equal(result.status, 'Error');
	assert.match(result.message, /Token request failed/);
	assertNoSecret({ 'test message': result.message, "n8n's log": log, 'error reporter': safeJson(reportedErrors) }, { 'the client secret': client.clientSecret });
});

test('User Login: the FHIR echo of the OAuth2 access token (and the refresh token n8n holds) never surfaces', async () => {
	const { createHash, randomBytes } = await import('node:crypto');
	const verifier = randomBytes(32).toString('base64url');
	const redirectUri = 'http://127.0.0.1:1/rest/oauth2-credential/callback';
	const authorize = new URLSearchParams({
		response_type: 'code',
		client_id: 'sandbox-user-pkce',
		redirect_uri: redirectUri,
		scope: 'openid fhirUser offline_access user/Patient.read',
		state: randomBytes(16).toString('hex'),
		aud: sb.baseUrl,
		code_challenge: createHash('sha256').update(verifier).digest('base64url'),
		code_challenge_method: 'S256',
	});
	const code = new URL((await fetch(`${sb.authorizeUrl}?${authorize}`, { redirect: 'manual' })).headers.get('location')).searchParams.get('code');
	const token = await fetch(sb.tokenUrl, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: 'sandbox-user-pkce' }),
	}).then((r) => r.json());
	assert.ok(token.access_token && token.refresh_token, 'logged in, with a refresh token');
	sb.inject({ kind: 'echo', path: '/Patient$' });
	reportedErrors.length = 0;
	const credential = { environment: 'custom', baseUrl: sb.baseUrl, customAuthUrl: sb.authorizeUrl, customAccessTokenUrl: sb.tokenUrl, clientId: 'sandbox-user-pkce', clientSecret: '', rateLimitPerMinute: 0, oauthTokenData: token };
	const { result, log } = await watched(() => runNode({ parameters: { ...patientSearch, authentication: 'userLogin' }, credentials: { eClinicalWorksOAuth2Api: credential } }));
	const places = surfaces(result, log);
	assert.equal(result.nodeError('Node')?.httpCode, '400');
	assertNoSecret(places, { 'the access token': token.access_token, 'the refresh token': token.refresh_token });
	assert.match(places['error description'], /token as sent: \[removed\]/);
});
