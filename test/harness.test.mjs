// Proves test/helpers/n8n.mjs against test-only nodes/credentials and a real loopback HTTP server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';

import { runWorkflow, runNode, runPoll, testCredential, binaryItem, createCredentialsStore, engine, n8nWorkflow, reportedErrors, shutdown } from './helpers/n8n.mjs';
import { FetchNode, EchoNode, PollNode } from './helpers/fixtures/TestNodes.node.mjs';
import { TokenApi, GenericApi, ClientCredentialsApi } from './helpers/fixtures/TestApi.credentials.mjs';

const nodeTypes = { 'test.fetch': FetchNode, 'test.echo': EchoNode, 'test.poll': PollNode };
const credentialTypes = { testTokenApi: TokenApi, testGenericApi: GenericApi, testOAuth2Api: ClientCredentialsApi };

// ---- a tiny FHIR-ish server -------------------------------------------------------------------
const state = { tokenCalls: 0, valid: new Set(), hits: [], changes: [] };
const EXPORT_BYTES = Buffer.from(
	Array.from({ length: 2000 }, (_, i) => JSON.stringify({ resourceType: 'Patient', id: `p${i}` })).join('\n') + '\n',
);

function reset() {
	state.tokenCalls = 0;
	state.valid = new Set();
	state.hits = [];
}

const server = http.createServer((req, res) => {
	const url = new URL(req.url, 'http://x');
	const send = (status, body, headers = { 'content-type': 'application/json' }) => {
		res.writeHead(status, headers);
		res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
	};
	let raw = '';
	req.on('data', (c) => (raw += c));
	req.on('end', () => {
		state.hits.push({ method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body: raw });
		if (url.pathname === '/token') {
			const body = JSON.parse(raw || '{}');
			if (body.client_secret !== 'secret') return send(401, { error: 'invalid_client' });
			state.tokenCalls++;
			const token = `tok-${state.tokenCalls}`;
			state.valid.add(token);
			return send(200, { access_token: token, token_type: 'bearer', expires_in: 300 });
		}
		if (url.pathname === '/oauth/token') {
			const form = new URLSearchParams(raw);
			if (form.get('grant_type') !== 'client_credentials' || form.get('client_secret') !== 'secret') {
				return send(401, { error: 'invalid_client' });
			}
			state.tokenCalls++;
			const token = `oauth-${state.tokenCalls}`;
			state.valid.add(token);
			return send(200, { access_token: token, token_type: 'bearer', expires_in: 300, scope: form.get('scope') });
		}
		if (url.pathname === '/generic') {
			return send(200, { headers: req.headers, query: Object.fromEntries(url.searchParams) });
		}
		const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
		if (!state.valid.has(bearer)) return send(401, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] });
		if (url.pathname === '/data') return send(200, { token: bearer });
		if (url.pathname === '/fail') return send(500, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception' }] });
		if (url.pathname === '/export') {
			res.writeHead(200, { 'content-type': 'application/fhir+ndjson' });
			// stream it in chunks
			let offset = 0;
			const pump = () => {
				if (offset >= EXPORT_BYTES.length) return res.end();
				res.write(EXPORT_BYTES.subarray(offset, offset + 8192));
				offset += 8192;
				setImmediate(pump);
			};
			return pump();
		}
		if (url.pathname === '/changes') {
			const since = Number(url.searchParams.get('since') ?? 0);
			const items = state.changes.filter((c) => c.seq > since);
			const cursor = state.changes.reduce((max, c) => Math.max(max, c.seq), since);
			return send(200, { items, cursor });
		}
		send(404, { error: 'not found' });
	});
});

let baseUrl;
before(async () => {
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	baseUrl = `http://127.0.0.1:${server.address().port}`;
});
after(async () => {
	server.close();
	await shutdown();
});

const tokenCreds = () => ({ baseUrl, clientId: 'client', clientSecret: 'secret', accessToken: '' });

// ---- tests --------------------------------------------------------------------------------------
test('engine: binary data in filesystem mode, expression engine reported', () => {
	assert.equal(engine.binaryDataMode, 'filesystem');
	assert.ok(['vm', 'legacy'].includes(engine.expressionEngine));
});

test('(1) a workflow runs: manual trigger -> echo -> noOp, items carry pairedItem', async () => {
	const result = await runWorkflow({
		nodes: [
			{ name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
			{ name: 'Echo', type: 'test.echo', typeVersion: 1, position: [200, 0], parameters: { value: '={{ $json.mrn }}' } },
			{ name: 'Pass', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [400, 0], parameters: {} },
		],
		connections: {
			Start: { main: [[{ node: 'Echo', type: 'main', index: 0 }]] },
			Echo: { main: [[{ node: 'Pass', type: 'main', index: 0 }]] },
		},
		inputItems: [{ json: { mrn: 'A1' } }, { json: { mrn: 'B2' } }],
		nodeTypes,
	});
	assert.equal(result.error, undefined);
	assert.equal(result.status, 'success');
	assert.deepEqual(result.nodeExecutionOrder, ['Start', 'Echo', 'Pass']);
	assert.deepEqual(result.outputOf('Pass').map((j) => j.value), ['A1', 'B2']);
	assert.deepEqual(result.itemsOf('Echo').map((i) => i.pairedItem), [{ item: 0 }, { item: 1 }]);
	assert.deepEqual(result.itemsOf('Pass').map((i) => i.pairedItem.item), [0, 1]);
	assert.deepEqual(result.outputOf('Start'), [{ mrn: 'A1' }, { mrn: 'B2' }]);
});

test('manual trigger without input items emits one empty item (real ManualTrigger behaviour)', async () => {
	const result = await runWorkflow({
		nodes: [{ name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} }],
		nodeTypes,
	});
	assert.deepEqual(result.outputOf('Start'), [{}]);
});

test('(2) preAuthentication runs once when the token is empty and the token is persisted', async () => {
	reset();
	const first = await runNode({
		type: 'test.fetch',
		parameters: { path: '/data' },
		credentials: { testTokenApi: tokenCreds() },
		inputItems: [{ json: { n: 1 } }, { json: { n: 2 } }, { json: { n: 3 } }],
		nodeTypes,
		credentialTypes,
	});
	assert.equal(first.error, undefined);
	assert.equal(state.tokenCalls, 1, 'one token request for three items');
	assert.deepEqual(first.outputOf('Node').map((j) => j.token), ['tok-1', 'tok-1', 'tok-1']);
	assert.equal(first.preAuthenticationCalls.length, 1);
	assert.equal(first.preAuthenticationCalls[0].credentialsExpired, false);
	const stored = first.credentialsStore['testTokenApi-id'];
	assert.equal(stored.data.accessToken, 'tok-1', 'token persisted into the credential store');
	assert.equal(stored.data.clientSecret, 'secret', 'other fields kept');
	assert.equal(first.credentialUpdates.length, 1);

	// a second execution reads the stored credential: no new token request
	const second = await runWorkflow({
		nodes: [
			{ name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
			{
				name: 'Fetch',
				type: 'test.fetch',
				typeVersion: 2,
				position: [200, 0],
				parameters: { path: '/data' },
				credentials: { testTokenApi: { id: 'testTokenApi-id', name: 'testTokenApi account' } },
			},
		],
		connections: { Start: { main: [[{ node: 'Fetch', type: 'main', index: 0 }]] } },
		credentials: first.credentialsStore,
		nodeTypes,
		credentialTypes,
	});
	assert.equal(second.error, undefined);
	assert.equal(state.tokenCalls, 1);
	assert.equal(second.preAuthenticationCalls.length, 0);
	assert.equal(second.outputOf('Fetch')[0].token, 'tok-1');
});

test('(3) after a 401 preAuthentication runs again (expired) and the request is retried once', async () => {
	reset();
	// a stored token the server no longer accepts
	const result = await runNode({
		type: 'test.fetch',
		parameters: { path: '/data' },
		credentials: { testTokenApi: { ...tokenCreds(), accessToken: 'stale-token' } },
		nodeTypes,
		credentialTypes,
	});
	assert.equal(result.error, undefined);
	assert.equal(state.tokenCalls, 1);
	assert.deepEqual(
		result.preAuthenticationCalls.map((c) => [c.credentialsExpired, c.previousValue]),
		[[true, 'stale-token']],
		'no call for a non-empty token; one call flagged expired after the 401',
	);
	const dataHits = state.hits.filter((h) => h.path === '/data');
	assert.deepEqual(dataHits.map((h) => h.headers.authorization), ['Bearer stale-token', 'Bearer tok-1']);
	assert.equal(result.outputOf('Node')[0].token, 'tok-1');
	assert.equal(result.credentialsStore['testTokenApi-id'].data.accessToken, 'tok-1');

	// when the retry is rejected too, there is exactly one retry, then the node fails
	reset();
	const origAdd = state.valid.add.bind(state.valid);
	state.valid.add = () => state.valid; // the server accepts no token at all
	try {
		const failing = await runNode({
			type: 'test.fetch',
			parameters: { path: '/data' },
			credentials: { testTokenApi: { ...tokenCreds(), accessToken: 'stale-token' } },
			nodeTypes,
			credentialTypes,
		});
		assert.ok(failing.error, 'workflow error');
		// n8n stores the execution error as a plain copy ({ ...error, message, stack })
		assert.equal(failing.error.name, 'NodeApiError');
		assert.equal(failing.error.httpCode, '401');
		assert.equal(state.hits.filter((h) => h.path === '/data').length, 2, 'one retry only');
		assert.equal(state.tokenCalls, 1);
	} finally {
		state.valid.add = origAdd;
	}
});

test('(4) generic authenticate resolves $credentials expressions in keys and values', async () => {
	reset();
	const result = await runNode({
		type: 'test.fetch',
		parameters: { credentialType: 'testGenericApi', path: '/generic', baseUrl },
		credentials: { testGenericApi: { apiKey: 'k-123', tenant: 'acme' } },
		nodeTypes,
		credentialTypes,
	});
	assert.equal(result.error, undefined);
	const { headers, query } = result.outputOf('Node')[0];
	assert.equal(headers['x-api-key'], 'k-123');
	assert.equal(headers['x-tenant-acme'], 'yes');
	assert.deepEqual(query, { tenant: 'ACME' });
	assert.equal(result.preAuthenticationCalls.length, 0, 'no expirable property: no preAuthentication');
});

test('(5) continueOnFail turns an API error into an error item; without it the workflow fails', async () => {
	reset();
	const creds = { testTokenApi: tokenCreds() };
	const cont = await runNode({
		type: 'test.fetch',
		parameters: { path: '/fail' },
		credentials: creds,
		continueOnFail: true,
		inputItems: [{ json: { n: 1 } }, { json: { n: 2 } }],
		nodeTypes,
		credentialTypes,
	});
	assert.equal(cont.error, undefined);
	const items = cont.itemsOf('Node');
	assert.equal(items.length, 2);
	assert.ok(items.every((i) => typeof i.json.error === 'string' && i.json.error.length > 0));
	assert.deepEqual(items.map((i) => i.pairedItem), [{ item: 0 }, { item: 1 }]);

	const failed = await runNode({
		type: 'test.fetch',
		parameters: { path: '/fail' },
		credentials: creds,
		nodeTypes,
		credentialTypes,
	});
	assert.ok(failed.error);
	assert.equal(failed.status, 'error');
	assert.equal(failed.error.httpCode, '500');
	assert.ok(failed.nodeError('Node'));
});

test('(6) expressions in parameters resolve ($json, arithmetic, $now with the workflow timezone)', async () => {
	const result = await runNode({
		type: 'test.echo',
		parameters: { value: '={{ $json.mrn }}-{{ $json.name.toUpperCase() }}', number: '={{ $json.n * 2 }}' },
		inputItems: [{ json: { mrn: 'M1', name: 'ann', n: 21 } }],
		timezone: 'Europe/Paris',
		nodeTypes,
	});
	assert.equal(result.error, undefined);
	assert.deepEqual(result.outputOf('Node'), [{ value: 'M1-ANN', number: 42, timezone: 'Europe/Paris' }]);
	const tz = await runNode({
		type: 'test.echo',
		parameters: { value: '={{ $now.zoneName }}' },
		timezone: 'Asia/Tokyo',
		nodeTypes,
	});
	assert.equal(tz.outputOf('Node')[0].value, 'Asia/Tokyo');
});

test('(7) prepareBinaryData from an HTTP stream stores the file; the bytes read back', async () => {
	reset();
	const result = await runNode({
		type: 'test.fetch',
		parameters: { path: '/export', download: true },
		credentials: { testTokenApi: tokenCreds() },
		nodeTypes,
		credentialTypes,
	});
	assert.equal(result.error, undefined);
	const [item] = result.itemsOf('Node');
	assert.equal(item.binary.data.mimeType, 'application/fhir+ndjson');
	assert.equal(item.binary.data.fileName, 'export.ndjson');
	if (engine.binaryDataMode === 'filesystem') {
		assert.match(item.binary.data.id, /^filesystem(-v2)?:/, 'stored on disk, not inline');
	}
	const bytes = await result.binary('Node', 0);
	assert.ok(bytes.equals(EXPORT_BYTES));
	assert.ok((await result.binary(item)).equals(EXPORT_BYTES));
});

test('runPoll: trigger mode keeps the cursor in static data; manual mode does not persist it', async () => {
	reset();
	state.changes = [
		{ seq: 1, id: 'a' },
		{ seq: 2, id: 'b' },
	];
	const creds = { testTokenApi: tokenCreds() };
	const first = await runPoll({ type: 'test.poll', credentials: creds, nodeTypes, credentialTypes });
	assert.deepEqual(first.json.map((j) => j.id), ['a', 'b']);
	assert.deepEqual(first.staticData, { 'node:Trigger': { cursor: 2 } });
	assert.equal(first.credentialsStore['testTokenApi-id'].data.accessToken, 'tok-1');
	assert.equal(first.staticDataSaved, true, 'items emitted: n8n saves static data');

	const empty = await runPoll({ type: 'test.poll', credentials: creds, staticData: first.staticData, nodeTypes, credentialTypes });
	assert.equal(empty.items, null);
	assert.equal(empty.staticDataSaved, false, 'poll returned null: n8n does not save static data');
	assert.deepEqual(empty.staticData, first.staticData);

	state.changes.push({ seq: 3, id: 'c' });
	const next = await runPoll({ type: 'test.poll', credentials: creds, staticData: empty.staticData, nodeTypes, credentialTypes });
	assert.deepEqual(next.json.map((j) => j.id), ['c']);
	assert.equal(next.staticData['node:Trigger'].cursor, 3);

	const manual = await runPoll({ type: 'test.poll', mode: 'manual', credentials: creds, nodeTypes, credentialTypes });
	assert.deepEqual(manual.json.map((j) => j.id), ['a', 'b', 'c']);
	assert.deepEqual(manual.staticData, {});
});

test('credential test ("Test" button) runs the declarative test request with preAuthentication', async () => {
	reset();
	const ok = await testCredential({ type: 'testTokenApi', data: tokenCreds(), credentialTypes });
	assert.deepEqual([ok.status, ok.message], ['OK', 'Connection successful!']);
	assert.equal(state.tokenCalls, 1);
	assert.equal(ok.storedCredential.accessToken, 'tok-1', 'the fetched token is saved with the credential');

	const bad = await testCredential({ type: 'testTokenApi', data: { ...tokenCreds(), clientSecret: 'wrong' }, credentialTypes });
	assert.equal(bad.status, 'Error');

	const none = await testCredential({ type: 'testGenericApi', data: { apiKey: 'x' }, credentialTypes });
	assert.deepEqual(none, { ...none, status: 'Error', message: 'No testing function found for this credential.' });
});

test('a credential extending oAuth2Api goes through n8n-core requestOAuth2 (client credentials)', async () => {
	reset();
	const creds = { testOAuth2Api: { baseUrl, clientId: 'client', clientSecret: 'secret' } };
	const first = await runNode({
		type: 'test.fetch',
		parameters: { credentialType: 'testOAuth2Api', path: '/data', baseUrl },
		credentials: creds,
		nodeTypes,
		credentialTypes,
	});
	assert.equal(first.error, undefined, first.error?.message);
	assert.equal(first.outputOf('Node')[0].token, 'oauth-1');
	assert.equal(first.storedCredential('testOAuth2Api').oauthTokenData.access_token, 'oauth-1');
	assert.deepEqual(first.credentialUpdates.map((u) => u.kind), ['updateCredentialsOauthTokenData']);
	const tokenRequest = state.hits.find((h) => h.path === '/oauth/token');
	assert.match(tokenRequest.body, /scope=system%2FPatient.read/);

	const second = await runNode({
		type: 'test.fetch',
		parameters: { credentialType: 'testOAuth2Api', path: '/data', baseUrl },
		credentials: { testOAuth2Api: first.storedCredential('testOAuth2Api') },
		nodeTypes,
		credentialTypes,
	});
	assert.equal(second.outputOf('Node')[0].token, 'oauth-1');
	assert.equal(state.tokenCalls, 1, 'stored oauthTokenData reused');
});

test('errors n8n-core reports are collected, node code shares n8n-core\'s n8n-workflow module', async () => {
	const before = reportedErrors.length;
	reset();
	await runNode({ type: 'test.fetch', parameters: { path: '/fail' }, credentials: { testTokenApi: tokenCreds() }, nodeTypes, credentialTypes });
	assert.ok(reportedErrors.length >= before);
	const fromFixture = (await import('./helpers/fixtures/TestNodes.node.mjs')).FetchNode;
	assert.ok(fromFixture);
	const { createRequire } = await import('node:module');
	assert.equal(createRequire(import.meta.url)('n8n-workflow'), n8nWorkflow);
});

test('binary input items reach the node (getBinaryDataBuffer) and pass through', async () => {
	const item = await binaryItem(Buffer.from('hello n8n'), { fileName: 'a.txt', mimeType: 'text/plain', json: { n: 1 } });
	const result = await runWorkflow({
		nodes: [
			{ name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
			{ name: 'Pass', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [200, 0], parameters: {} },
		],
		connections: { Start: { main: [[{ node: 'Pass', type: 'main', index: 0 }]] } },
		inputItems: [item],
	});
	assert.equal(result.error, undefined);
	assert.equal((await result.binary('Pass', 0)).toString(), 'hello n8n');
	assert.equal(result.itemsOf('Pass')[0].binary.data.fileName, 'a.txt');
});

test('a workflow starting with a poll trigger runs it in manual mode (WorkflowExecute.executePollNode)', async () => {
	reset();
	state.changes = [{ seq: 5, id: 'z' }];
	const result = await runWorkflow({
		nodes: [
			{
				name: 'Poll',
				type: 'test.poll',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
				credentials: { testTokenApi: { id: 'c1', name: 'token' } },
			},
			{ name: 'Pass', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [200, 0], parameters: {} },
		],
		connections: { Poll: { main: [[{ node: 'Pass', type: 'main', index: 0 }]] } },
		credentials: { c1: { type: 'testTokenApi', data: tokenCreds() } },
		nodeTypes,
		credentialTypes,
	});
	assert.equal(result.error, undefined, result.error?.message);
	assert.deepEqual(result.outputOf('Pass').map((j) => j.id), ['z']);
	assert.deepEqual(result.staticData, {}, 'manual executions do not persist static data');
	assert.equal(result.storedCredential('c1').accessToken, 'tok-1');
});

test('a shared credentials store persists tokens across runNode/runPoll calls like the database', async () => {
	reset();
	const store = await createCredentialsStore();
	const creds = { testTokenApi: tokenCreds() };
	const a = await runNode({ type: 'test.fetch', parameters: { path: '/data' }, credentials: creds, credentialsStore: store, nodeTypes, credentialTypes });
	const b = await runNode({ type: 'test.fetch', parameters: { path: '/data' }, credentials: creds, credentialsStore: store, nodeTypes, credentialTypes });
	assert.equal(a.outputOf('Node')[0].token, 'tok-1');
	assert.equal(b.outputOf('Node')[0].token, 'tok-1');
	assert.equal(state.tokenCalls, 1, 'the second run reads the persisted token');
	state.changes = [];
	const p = await runPoll({ type: 'test.poll', credentials: creds, credentialsStore: store, nodeTypes, credentialTypes });
	assert.equal(p.items, null);
	assert.equal(state.tokenCalls, 1);
	assert.equal((await store.snapshot())['testTokenApi-id'].data.accessToken, 'tok-1');
});
