// Bounds on one server answer (issue 19.2), through n8n's real request path (httpRequest with
// httpRequestWithAuthentication, axios, its decompression) in-process, against the sandbox in a child
// process (so this process's memory is the node's alone). Each bound: a hostile answer stops at the
// bound with an error that names the setting, and this process's peak memory stays within it.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

import { runNode, shutdown } from '../helpers/n8n.mjs';
import { tokenCache } from '../../nodes/EClinicalWorks/fhir/auth/tokenCache.ts';
import { clearDiscoveryCache } from '../../nodes/EClinicalWorks/fhir/auth/discovery.ts';
import { clearCapabilitiesCache } from '../../nodes/EClinicalWorks/fhir/client.ts';
import { resetPacers } from '../../nodes/EClinicalWorks/fhir/pacer.ts';
import { credentialFor } from '../transport/_support.mjs';

const CLI = fileURLToPath(new URL('../../sandbox/cli.mjs', import.meta.url));
const MB = 1024 * 1024;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

let child;
let sandbox;

before(async () => {
	child = spawn(process.execPath, [CLI, '--json', '--admin', '--patients', '20', '--rate-limit', 'off'], { stdio: ['ignore', 'pipe', 'inherit'] });
	let out = '';
	child.stdout.setEncoding('utf8');
	const info = await new Promise((resolve, reject) => {
		child.stdout.on('data', (d) => {
			out += d;
			if (out.includes('\n')) resolve(JSON.parse(out));
		});
		child.once('exit', (code) => reject(new Error(`sandbox exited ${code}`)));
	});
	sandbox = { ...info, profile: 'ecw' };
});

after(async () => {
	child?.kill('SIGTERM');
	if (child) await once(child, 'exit');
	await shutdown();
});

beforeEach(async () => {
	tokenCache.clear();
	clearDiscoveryCache();
	clearCapabilitiesCache();
	resetPacers();
	await admin('DELETE', '/admin/faults');
	await admin('POST', '/admin/stats/reset');
});

async function admin(method, path, body) {
	const res = await fetch(`${sandbox.origin}${path}`, { method, body: body ? JSON.stringify(body) : undefined });
	if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
	return await res.json().catch(() => undefined);
}

const inject = (fault) => admin('POST', '/admin/faults', fault);

function credentials(extra = {}) {
	const client = sandbox.clients.find((c) => c.clientId === 'sandbox-rs384');
	return { eClinicalWorksApi: credentialFor(sandbox, client, extra) };
}

const encounterSearch = { authentication: 'backendService', resource: 'fhirResource', operation: 'search', resourceType: 'Encounter', returnAll: false, limit: 5, output: 'raw' };

/** Runs the node and samples this process's resident memory while it runs. */
async function measured(parameters, credentialExtra) {
	gc();
	const before = process.memoryUsage().rss;
	let peak = before;
	const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
	const started = Date.now();
	let result;
	try {
		result = await runNode({ parameters, credentials: credentials(credentialExtra) });
	} finally {
		clearInterval(timer);
	}
	peak = Math.max(peak, process.memoryUsage().rss);
	const error = result.nodeError('Node') ?? result.error;
	return { result, error, text: `${error?.message ?? ''}\n${error?.description ?? ''}`, growthMb: (peak - before) / MB, seconds: (Date.now() - started) / 1000 };
}

function report(name, m) {
	process.stdout.write(`# ${name}: peak RSS +${m.growthMb.toFixed(0)} MB above the start, ${m.seconds.toFixed(1)} s\n`);
}

test('a 200 MB search page stops at the default Max Response Size (50 MB), named in the error; memory stays within it', async () => {
	await inject({ kind: 'huge-page', bytes: 200 * MB, path: '/Encounter$' });
	const m = await measured(encounterSearch);
	report('200 MB page, default bound', m);
	assert.ok(m.error, 'the node fails');
	assert.match(m.error.message, /is larger than 50 MB \(Max Response Size \(MB\)\)/);
	assert.match(m.text, /raise Max Response Size \(MB\) in the credential/);
	assert.match(m.text, /Request: GET http:\/\/127\.0\.0\.1:\d+\/fhir\/r4\/demo\/Encounter\./);
	assert.ok(m.growthMb < 150, `peak RSS +${m.growthMb.toFixed(0)} MB`);
});

test('a lower Max Response Size set in the credential applies (5 MB): memory stays within it', async () => {
	await inject({ kind: 'huge-page', bytes: 200 * MB, path: '/Encounter$' });
	const m = await measured(encounterSearch, { responseOptions: true, maxResponseMb: 5 });
	report('200 MB page, 5 MB bound', m);
	assert.match(m.error?.message ?? '', /is larger than 5 MB \(Max Response Size \(MB\)\)/);
	assert.ok(m.growthMb < 60, `peak RSS +${m.growthMb.toFixed(0)} MB`);
	// a raised bound lets a big (valid) page through
	await inject({ kind: 'huge-page', bytes: 8 * MB, path: '/Encounter$' });
	const ok = await measured(encounterSearch, { responseOptions: true, maxResponseMb: 20 });
	assert.equal(ok.error, undefined, ok.text);
	assert.equal(ok.result.outputOf('Node').length, 5);
});

test('a gzip bomb (300 MB inflated from a few hundred kB) stops at the bound, counted after decompression', async () => {
	await inject({ kind: 'gzip-bomb', bytes: 300 * MB, path: '/Encounter$' });
	const m = await measured(encounterSearch);
	report('300 MB gzip bomb, default bound', m);
	assert.match(m.error?.message ?? '', /is larger than 50 MB \(Max Response Size \(MB\)\)/);
	assert.ok(m.growthMb < 150, `peak RSS +${m.growthMb.toFixed(0)} MB`);
});

test('an answer that drips (1 byte every 0.5 s) stops at the Response Time Limit, named in the error', { timeout: 60_000 }, async () => {
	await inject({ kind: 'drip', intervalMs: 500, path: '/Encounter$' });
	const m = await measured(encounterSearch, { responseOptions: true, responseTimeLimitSeconds: 5 });
	report('dripping answer, 5 s limit', m);
	assert.match(m.error?.message ?? '', /took longer than 5 s \(Response Time Limit \(Seconds\)\)/);
	assert.match(m.text, /raise Response Time Limit \(Seconds\) in the credential/);
	assert.ok(m.seconds >= 5 && m.seconds < 15, `${m.seconds} s`);
});

test('the token and discovery answers are bounded too', async () => {
	await inject({ kind: 'huge-page', bytes: 200 * MB, path: 'smart-configuration$' });
	const m = await measured(encounterSearch, { responseOptions: true, maxResponseMb: 2 });
	assert.match(m.error?.message ?? '', /The answer to GET http:\/\/127\.0\.0\.1:\d+\/fhir\/r4\/demo\/\.well-known\/smart-configuration is larger than 2 MB/);
	assert.ok(m.growthMb < 60, `peak RSS +${m.growthMb.toFixed(0)} MB`);
});

test('a search page cut short (complete at the HTTP level) is fetched again, and the search succeeds', async () => {
	await inject({ kind: 'truncated-page', path: '/Encounter$', count: 2 });
	const since = new Date().toISOString();
	const m = await measured(encounterSearch);
	assert.equal(m.error, undefined, m.text);
	assert.equal(m.result.outputOf('Node').length, 5);
	const stats = await admin('GET', '/admin/stats');
	// requests of this test only (an earlier test's answer may be logged late, when its connection closes)
	assert.equal(stats.log.filter((e) => /\/Encounter$/.test(e.path) && e.t >= since).length, 3, 'two broken answers, then the whole page');
});

test('a page that is broken on every try fails after the retries, saying the server sent a broken answer (not a base URL problem)', async () => {
	await inject({ kind: 'truncated-page', path: '/Encounter$', count: 10 });
	const m = await measured(encounterSearch);
	assert.match(m.error?.message ?? '', /sent a broken answer \(cut short or not valid JSON\) 4 times in a row/);
	assert.match(m.text, /broke the answer off: a temporary problem/);
	assert.doesNotMatch(m.text, /base URL/);
});
