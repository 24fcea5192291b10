// Where the sandbox listens, and who may use its admin API (issue 19.6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { startSandbox } from '../../sandbox/index.mjs';

const CLI = fileURLToPath(new URL('../../sandbox/cli.mjs', import.meta.url));

/** This machine's first non-loopback IPv4 address: a caller from it is not on loopback. */
const outside = Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
const skip = outside ? false : 'this machine has no non-loopback IPv4 address to call from';

function startCli(args) {
	const child = spawn(process.execPath, [CLI, '--json', '--patients', '5', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
	let out = '';
	let err = '';
	child.stdout.setEncoding('utf8');
	child.stderr.setEncoding('utf8');
	child.stderr.on('data', (d) => (err += d));
	const info = new Promise((resolve, reject) => {
		child.stdout.on('data', (d) => {
			out += d;
			if (out.includes('\n')) resolve(JSON.parse(out));
		});
		child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
	});
	return { child, info, stderr: () => err };
}

async function stop(child) {
	child.kill('SIGTERM');
	await once(child, 'exit');
}

test('--host on loopback prints no warning; any other address prints one that names it', async () => {
	const quiet = startCli(['--host', '127.0.0.1']);
	await quiet.info;
	await stop(quiet.child);
	assert.equal(quiet.stderr(), '');

	const loud = startCli(['--host', '0.0.0.0', '--admin']);
	await loud.info;
	await stop(loud.child);
	assert.match(loud.stderr(), /Warning: --host 0\.0\.0\.0 is not a loopback address/);
	assert.match(loud.stderr(), /admin API still answers loopback callers only/);
});

test('--admin-remote without --admin is refused', async () => {
	const child = spawn(process.execPath, [CLI, '--admin-remote'], { stdio: 'ignore' });
	const [code] = await once(child, 'exit');
	assert.equal(code, 2);
});

test('the admin API refuses callers that are not on loopback, unless started with --admin-remote', { skip }, async () => {
	const local = startCli(['--host', '0.0.0.0', '--admin']);
	const { origin } = await local.info;
	const port = new URL(origin).port;
	try {
		assert.equal((await fetch(`http://127.0.0.1:${port}/admin/stats`)).status, 200, 'loopback caller');
		const refused = await fetch(`http://${outside}:${port}/admin/stats`);
		assert.equal(refused.status, 403, `caller from ${outside}`);
		assert.match(JSON.stringify(await refused.json()), /loopback callers only/);
		const faults = await fetch(`http://${outside}:${port}/admin/faults`, { method: 'POST', body: JSON.stringify({ kind: '500' }) });
		assert.equal(faults.status, 403, 'no fault injected from outside');
		// the FHIR API itself still answers (the warning says so)
		assert.equal((await fetch(`http://${outside}:${port}/fhir/r4/demo/metadata`)).status, 200);
	} finally {
		await stop(local.child);
	}

	const remote = startCli(['--host', '0.0.0.0', '--admin', '--admin-remote']);
	const second = await remote.info;
	try {
		assert.match(remote.stderr(), /answers anyone too: --admin-remote/);
		assert.equal((await fetch(`http://${outside}:${new URL(second.origin).port}/admin/stats`)).status, 200);
	} finally {
		await stop(remote.child);
	}
});

test('in-process: adminRemote lets any caller in; the default only loopback', { skip }, async () => {
	for (const adminRemote of [false, true]) {
		const sb = await startSandbox({ host: '0.0.0.0', admin: true, adminRemote, patients: 5 });
		try {
			const port = new URL(sb.origin).port;
			assert.equal((await fetch(`http://${outside}:${port}/admin/stats`)).status, adminRemote ? 200 : 403);
			assert.equal((await fetch(`http://127.0.0.1:${port}/admin/stats`)).status, 200);
		} finally {
			await sb.stop();
		}
	}
});
