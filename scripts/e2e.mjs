#!/usr/bin/env node
// `npm run test:e2e`: the package in a real n8n, the way users get it.
//   1. install n8n (pinned in scripts/n8n-version.mjs) into .cache/ (first run only)
//   2. build, `npm pack`
//   3. run the node:test suites in scripts/e2e/ (they share the packed tarball and the n8n install):
//      - workflows.test.mjs: fresh N8N_USER_FOLDER, tarball installed in .n8n/nodes like the
//        Community Nodes screen, sandbox (ecw + smart), credentials for every auth method and the
//        example workflows imported, each run with `n8n execute --id ... --rawOutput`
//      - demo-browser.test.mjs: `npm start` (scripts/demo.mjs) and the editor in headless Chromium
//
// N8N_E2E_VERSION=1.123.81 N8N_E2E_NODE=/usr/bin/node: the same suites on another n8n / Node.
// Options: --suite <file prefix> (workflows | demo-browser), --only <pattern> (node --test-name-pattern),
// --skip-build, E2E_KEEP=1 keeps temp folders.
import { mkdtempSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, run, step, info, elapsed, assertNode24 } from './lib.mjs';
import { installN8n, n8nBin } from './install-n8n.mjs';
import { buildAndPack } from './n8n.mjs';
import { N8N_VERSION } from './n8n-version.mjs';

const args = process.argv.slice(2);
const suiteFilter = args.includes('--suite') ? args[args.indexOf('--suite') + 1] : null;
const started = Date.now();

async function main() {
	assertNode24();
	step(`n8n ${N8N_VERSION} (cached in .cache/n8n-${N8N_VERSION})`);
	const t1 = Date.now();
	// N8N_E2E_NODE: run n8n on another Node (e.g. n8n 1.x on the system's Node 20); the installer
	// then runs on that Node too, so native modules are built for it.
	const n8nNode = process.env.N8N_E2E_NODE || process.execPath;
	let n8n;
	if (n8nNode !== process.execPath) {
		await run(n8nNode, [path.join(ROOT, 'scripts', 'install-n8n.mjs'), '--version', N8N_VERSION], { prefix: '' });
		n8n = { bin: n8nBin(N8N_VERSION), version: N8N_VERSION, cached: true };
		const v = await run(n8nNode, ['--version'], { capture: true });
		info(`n8n runs on Node ${v.stdout.trim()} (${n8nNode})`);
		if (N8N_VERSION.startsWith('1.') && Number(v.stdout.trim().slice(1).split('.')[0]) < 22 && !process.env.N8N_EXPRESSION_ENGINE) {
			// n8n 1.123.x's default 'vm' expression engine needs isolated-vm 6, which needs Node >= 22
			process.env.N8N_EXPRESSION_ENGINE = 'legacy';
			info('N8N_EXPRESSION_ENGINE=legacy (n8n 1.123.x on Node < 22)');
		}
	} else {
		n8n = await installN8n();
	}
	info(`n8n ready (${n8n.cached ? 'cached' : 'installed now'}, ${elapsed(t1)})`);

	step('build and pack the package');
	const t2 = Date.now();
	const work = mkdtempSync(path.join(os.tmpdir(), 'ecw-e2e-'));
	const tgz = await buildAndPack(path.join(work, 'pack'), { skipBuild: args.includes('--skip-build') });
	info(`built and packed (${elapsed(t2)})`);

	const context = { n8nBin: n8n.bin, n8nVersion: n8n.version, n8nNode, tgz, work };
	const contextFile = path.join(work, 'context.json');
	writeFileSync(contextFile, JSON.stringify(context, null, 2));

	const suites = readdirSync(path.join(ROOT, 'scripts', 'e2e'))
		.filter((f) => f.endsWith('.test.mjs'))
		.filter((f) => !suiteFilter || f.startsWith(suiteFilter))
		.sort()
		.map((f) => path.join('scripts', 'e2e', f));
	step(`node --test ${suites.join(' ')}`);
	const testArgs = ['--test', '--test-concurrency=1', '--test-reporter=spec'];
	const only = args.indexOf('--only');
	if (only >= 0) testArgs.push(`--test-name-pattern=${args[only + 1]}`);
	const res = await run(process.execPath, [...testArgs, ...suites], {
		cwd: ROOT,
		env: { ...process.env, E2E_CONTEXT: contextFile },
		prefix: '',
		allowFail: true,
	});
	if (!process.env.E2E_KEEP) rmSync(work, { recursive: true, force: true });
	else info(`kept ${work}`);
	step(`e2e finished: ${res.code === 0 ? 'PASS' : 'FAIL'} in ${elapsed(started)}`);
	process.exitCode = res.code;
}

main().catch((e) => {
	console.error(`\ne2e failed: ${e.stack || e.message}`);
	process.exitCode = 1;
});
