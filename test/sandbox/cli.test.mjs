import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { signAssertion } from '../../sandbox/jwt.mjs';
import { ASSERTION_TYPE, postForm } from './helpers.mjs';

const CLI = fileURLToPath(new URL('../../sandbox/cli.mjs', import.meta.url));

function run(args) {
	const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
	let out = '';
	child.stdout.setEncoding('utf8');
	const firstLine = new Promise((resolve, reject) => {
		child.stdout.on('data', (d) => {
			out += d;
			if (out.includes('\n')) resolve(out);
		});
		child.once('exit', (code) => reject(new Error(`exited ${code} before output`)));
	});
	return { child, firstLine, all: () => out };
}

test('--json prints one JSON line with working credentials; SIGTERM exits cleanly', async () => {
	const { child, firstLine } = run(['--json', '--port', '0', '--profile', 'smart', '--patients', '12', '--seed', '3', '--practices', 'alpha,beta']);
	const line = await firstLine;
	assert.equal(line.trim().split('\n').length, 1);
	const info = JSON.parse(line);
	assert.match(info.baseUrl, /\/fhir\/r4\/alpha$/);
	assert.match(info.tokenUrl, /\/oauth\/oauth2\/token$/);
	for (const k of ['clientId', 'authMethod', 'alg', 'kid', 'privateKeyPem', 'clientSecret', 'scopes']) assert.ok(k in info.clients[0], k);
	const c = info.clients.find((x) => x.alg === 'ES384');
	const r = await postForm(info.tokenUrl, { grant_type: 'client_credentials', scope: 'system/Appointment.read', client_assertion_type: ASSERTION_TYPE, client_assertion: signAssertion({ clientId: c.clientId, tokenUrl: info.tokenUrl, privateKeyPem: c.privateKeyPem, alg: 'ES384', kid: c.kid }) });
	assert.equal(r.status, 200);
	const b = await fetch(`${info.practices[1].baseUrl}/Appointment?_count=1`, { headers: { authorization: `Bearer ${r.json.access_token}` } });
	assert.equal((await b.json()).total, 24);
	child.kill('SIGTERM');
	const [code] = await once(child, 'exit');
	assert.equal(code, 0);
});

test('human-readable output names the URLs and clients but prints no key', async () => {
	const { child, firstLine, all } = run(['--patients', '5']);
	await firstLine;
	await new Promise((r) => setTimeout(r, 200));
	child.kill('SIGINT');
	const [code] = await once(child, 'exit');
	assert.equal(code, 0);
	const stdout = all();
	assert.match(stdout, /Credentials written to /);
	assert.match(stdout, /FHIR base URL/);
	assert.doesNotMatch(stdout, /BEGIN PRIVATE KEY/);
});

test('bad flags exit with status 2', async () => {
	const child = spawn(process.execPath, [CLI, '--nope'], { stdio: 'ignore' });
	const [code] = await once(child, 'exit');
	assert.equal(code, 2);
});
