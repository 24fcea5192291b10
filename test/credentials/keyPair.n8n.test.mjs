// The Key Pair (Setup) operations run in-process in n8n.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';

import { runNode } from '../helpers/n8n.mjs';
import { startSandbox } from '../../sandbox/index.mjs';
import { createClientAssertion } from '../../nodes/EClinicalWorks/fhir/auth/assertion.ts';

const NODE_TYPE = 'n8n-nodes-eclinicalworks.eClinicalWorks';

let sb;
let smart;
before(async () => {
	sb = await startSandbox({ port: 0, profile: 'ecw', patients: 2 });
	smart = await startSandbox({ port: 0, profile: 'smart', patients: 2 });
});
after(async () => {
	await sb?.stop();
	await smart?.stop();
});

test('Generate Key Pair offers RS384 only for eClinicalWorks, ES384 for other servers', async () => {
	const { description } = await import('../../nodes/EClinicalWorks/actions/utility/generateKeyPair.operation.ts');
	const algorithms = description.filter((p) => p.name === 'keyAlgorithm');
	assert.deepEqual(algorithms.map((a) => [a.displayOptions.show.keyServer, a.options.map((o) => o.value)]), [[['ecw'], ['RS384']], [['other'], ['RS384', 'ES384']]]);
	assert.equal(description.find((p) => p.name === 'keyServer').default, 'ecw');
	// ES384 set through JSON or the API (the editor hides Algorithm for eClinicalWorks): refused, naming the field, never replaced
	const result = await runNode({
		type: NODE_TYPE,
		parameters: { authentication: 'backendService', resource: 'utility', operation: 'generateKeyPair', keyServer: 'ecw', keyAlgorithm: 'ES384', keyId: '' },
		credentials: {},
		inputItems: [{}],
	});
	assert.ok(result.error, 'refused');
	assert.match(result.error.message, /^Algorithm: is "ES384", but For Server is "ecw": eClinicalWorks documents RS384 only/);
	assert.match(result.error.description, /For Server to "Other SMART on FHIR Server"/);
	assert.deepEqual(result.outputOf('Node') ?? [], [], 'no key was made');
	// RS384 stored with For Server eClinicalWorks is what the editor makes: an RSA key
	const rsa = await runNode({
		type: NODE_TYPE,
		parameters: { authentication: 'backendService', resource: 'utility', operation: 'generateKeyPair', keyServer: 'ecw', keyAlgorithm: 'RS384', keyId: '' },
		credentials: {},
		inputItems: [{}],
	});
	assert.equal(rsa.error, undefined, rsa.error?.message);
	assert.equal(rsa.outputOf('Node')[0].jwks.keys[0].kty, 'RSA');
});

test('Generate Key Pair works without a credential and outputs a usable key and JWKS', async () => {
	for (const [keyAlgorithm, keySize, keyServer] of [['RS384', 3072, 'ecw'], ['ES384', 2048, 'other']]) {
		const result = await runNode({
			type: NODE_TYPE,
			parameters: { authentication: 'backendService', resource: 'utility', operation: 'generateKeyPair', keyServer, keyAlgorithm, keySize, keyId: '' },
			credentials: {},
			inputItems: [{}],
		});
		assert.equal(result.error, undefined, result.error?.message);
		const [out] = result.outputOf('Node');
		assert.equal(out.algorithm, keyAlgorithm);
		assert.match(out.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
		assert.equal(out.jwks.keys[0].kid, out.kid);
		assert.deepEqual(JSON.parse(out.jwksJson), out.jwks);
		assert.ok(!JSON.stringify(out.jwks).includes('"d"'), 'no private part in the JWKS');
		const pub = createPublicKey({ key: out.jwks.keys[0], format: 'jwk' });
		assert.deepEqual(pub.export({ format: 'jwk' }), createPublicKey(createPrivateKey(out.privateKeyPem)).export({ format: 'jwk' }));
		if (keyAlgorithm === 'RS384') assert.equal(pub.asymmetricKeyDetails.modulusLength, 3072);
		assert.ok(createClientAssertion({ clientId: 'c', tokenUrl: 'https://t', privateKey: out.privateKeyPem, algorithm: keyAlgorithm, keyId: out.kid }));
	}
});

test('Get Public JWKS derives the registered public key from the credential', async () => {
	const c = smart.clients.find((x) => x.alg === 'ES384');
	const result = await runNode({
		type: NODE_TYPE,
		parameters: { authentication: 'backendService', resource: 'utility', operation: 'getPublicJwks' },
		credentials: { eClinicalWorksApi: { environment: 'custom', baseUrl: smart.baseUrl, clientId: c.clientId, authMethod: 'privateKeyJwt', privateKey: c.privateKeyPem, algorithm: 'ES384', keyId: c.kid, accessToken: '' } },
		inputItems: [{}],
	});
	assert.equal(result.error, undefined, result.error?.message);
	const [out] = result.outputOf('Node');
	assert.equal(out.kid, c.kid);
	const key = out.jwks.keys[0];
	assert.equal(key.x, c.publicJwk.x);
	assert.equal(key.y, c.publicJwk.y);
	assert.equal(key.alg, 'ES384');
	assert.equal(smart.stats.requests, 0, 'no request to the server');
});

test('Get Public JWKS with a mismatched algorithm fails clearly', async () => {
	const c = sb.clients.find((x) => x.alg === 'RS384');
	const result = await runNode({
		type: NODE_TYPE,
		parameters: { authentication: 'backendService', resource: 'utility', operation: 'getPublicJwks' },
		credentials: { eClinicalWorksApi: { environment: 'custom', baseUrl: sb.baseUrl, clientId: c.clientId, authMethod: 'privateKeyJwt', privateKey: c.privateKeyPem, algorithm: 'ES384', keyId: '', accessToken: '' } },
		inputItems: [{}],
		continueOnFail: true,
	});
	const [out] = result.outputOf('Node');
	assert.match(out.error, /Algorithm: ES384 needs an EC P-384 key/);
	assert.match(out.description, /RS384/);
});
