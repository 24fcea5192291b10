#!/usr/bin/env node
// `npm start`: the FHIR sandbox with demo data, a mail server with a web inbox (MailDev, on
// 127.0.0.1 only, relaying nowhere) and a real n8n with this package, the demo credentials and the
// example workflows. Ctrl-C stops everything.
//
//   npm start                         ecw profile (like eClinicalWorks: visits, Group export)
//   npm start -- --profile smart      a standard SMART server (Appointment, all export levels)
//   npm start -- --port 5679          n8n's port (default 5678, or any free port if taken)
//   npm start -- --check              exit 0 once everything is ready (also DEMO_EXIT_AFTER_READY=1)
//   npm start -- --reset              start over: new user folder, examples imported again
//
// Environment: DEMO_USER_FOLDER (default .cache/demo-user), DEMO_TGZ (use this packed tarball,
// skip build and pack), DEMO_READY_JSON=1 (print one `DEMO_READY {...}` line for scripts).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CACHE, assertNode24, elapsed, freePort, info, step } from './lib.mjs';
import { installN8n } from './install-n8n.mjs';
import { ENCRYPTION_KEY, N8n, buildAndPack, installPackage, n8nEnv } from './n8n.mjs';
import { DEMO_PRACTICES, EXAMPLES, loadExample, mrnOf, practiceTemplateCredential, prepareFilesDir, sampleIntake, sandboxCredentials, toImport, variant, writePracticeSheet } from './fixtures.mjs';
import { smtpCredential, startMailServer } from './mail.mjs';
import { n8nConsoleFilter } from './n8n-console.mjs';
import { startSandbox } from '../sandbox/index.mjs';

/** The credential a new eClinicalWorks node gets in the demo's editor: the one that works as it is. */
export const DEFAULT_CREDENTIAL_ID = 'ecwSandboxRS384';

/**
 * n8n's editor gives a new node the most recently updated credential of its type (not the first,
 * not the only one that works): mark every demo credential as updated a minute ago and the
 * preferred one now, so a new eClinicalWorks node picks it rather than the practice code template.
 */
export function preferCredential(creds, id, now = Date.now()) {
	for (const c of creds) c.updatedAt = new Date(c.id === id ? now : now - 60_000).toISOString();
	return creds;
}

export const DEMO_LOGIN = { email: 'demo@n8n-nodes-eclinicalworks.dev', password: 'Sandbox-Demo-1', firstName: 'Demo', lastName: 'Scheduler' };
const TZ = 'America/New_York';

function parseArgs(argv) {
	const o = { profile: 'ecw', port: 5678, check: process.env.DEMO_EXIT_AFTER_READY === '1', patients: 200, seed: 1 };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === '--profile') o.profile = argv[++i];
		else if (a.startsWith('--profile=')) o.profile = a.split('=')[1];
		else if (a === '--port') o.port = Number(argv[++i]);
		else if (a === '--patients') o.patients = Number(argv[++i]);
		else if (a === '--check') o.check = true;
		else if (a === '--reset') o.reset = true;
		else if (a === '--help' || a === '-h') o.help = true;
	}
	if (!['ecw', 'smart'].includes(o.profile)) throw new Error(`--profile must be ecw or smart, not ${o.profile}`);
	return o;
}

/**
 * n8n's environment for the demo (n8n 2.x): no Assistant page after sign-in (the editor opens on
 * the Overview with the examples) and no MCP server registry (a call home that fails offline);
 * no variable n8n reports as deprecated.
 */
function demoN8nEnv(userFolder, extra) {
	const env = n8nEnv(userFolder, { N8N_DISABLED_MODULES: 'instance-ai,mcp-registry', ...extra });
	// n8n 2.x runs its task runners without it, and warns that it is no longer needed
	delete env.N8N_RUNNERS_ENABLED;
	return env;
}

async function waitForHttp(url, { timeoutMs = 180000, child, logTail } = {}) {
	const started = Date.now();
	let last = 0;
	while (Date.now() - started < timeoutMs) {
		if (child && child.exitCode !== null) throw new Error(`n8n exited with code ${child.exitCode} before it was ready${logTail ? `; the end of its log:\n${logTail()}` : ''}`);
		try {
			const res = await fetch(url);
			if (res.ok) return;
		} catch {}
		if (Date.now() - last > 15000) {
			if (last) info(`waiting for n8n (${elapsed(started)})`);
			last = Date.now();
		}
		await new Promise((r) => setTimeout(r, 500));
	}
	throw new Error(`n8n did not answer ${url} within ${timeoutMs / 1000}s`);
}

async function setupOwner(baseUrl) {
	const settings = await (await fetch(`${baseUrl}/rest/settings`)).json();
	const um = settings.data?.userManagement ?? {};
	if (um.showSetupOnFirstLoad === false) {
		info('owner account already set up');
		return false;
	}
	const res = await fetch(`${baseUrl}/rest/owner/setup`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(DEMO_LOGIN),
	});
	if (!res.ok) throw new Error(`owner setup failed: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
	info('owner account created');
	return true;
}

/**
 * Start the demo; resolves once n8n is ready. Returns { url, login, sandbox, mail, stop() }.
 * @param {{ profile?: string, port?: number, userFolder?: string, tgz?: string, patients?: number, seed?: number, quietN8n?: boolean }} opts
 */
export async function startDemo(opts = {}) {
	const started = Date.now();
	const profile = opts.profile ?? 'ecw';
	assertNode24();

	step('n8n (installed once into .cache/, first run takes several minutes)');
	const n8nInstall = await installN8n();

	let tgz = opts.tgz ?? process.env.DEMO_TGZ;
	let packDir;
	if (!tgz) {
		step('build and pack n8n-nodes-eclinicalworks');
		packDir = mkdtempSync(path.join(os.tmpdir(), 'ecw-demo-pack-'));
		tgz = await buildAndPack(packDir);
	}

	const userFolder = path.resolve(opts.userFolder ?? process.env.DEMO_USER_FOLDER ?? path.join(CACHE, 'demo-user'));
	if (opts.reset) {
		info(`--reset: removing ${userFolder}`);
		rmSync(userFolder, { recursive: true, force: true });
	}
	const filesDir = path.join(userFolder, 'files');
	prepareFilesDir(filesDir);
	step(`install the package into ${userFolder}/.n8n/nodes (as the Community Nodes screen does)`);
	await installPackage(userFolder, tgz);
	if (packDir) rmSync(packDir, { recursive: true, force: true });

	step(`start the FHIR sandbox (${profile} profile, ${opts.patients ?? 200} patients)`);
	// "demo" first (the base URL of the single-practice credentials), then the many-practices example's practices
	const practices = ['demo', ...DEMO_PRACTICES];
	const sandbox = await startSandbox({ profile, patients: opts.patients ?? 200, seed: opts.seed ?? 1, timeZone: TZ, admin: true, bulkDelayMs: 1500, pollRetryAfterSeconds: 2, fastBulk: true, practices, rejectedPractices: ['closed'] });
	info(`FHIR base URL ${sandbox.baseUrl}`);
	info(`token URL     ${sandbox.tokenUrl}`);

	step('start the demo mail server (SMTP and web inbox on 127.0.0.1, no relay: mail stays on this computer)');
	let mail;
	try {
		// MailDev's usual ports when free; messages kept in the user folder across restarts
		mail = await startMailServer({ mailDirectory: path.join(userFolder, 'mail'), smtpPort: await freePort(1025), webPort: await freePort(1080) });
	} catch (e) {
		await sandbox.stop();
		throw e;
	}
	info(`SMTP          ${mail.smtpHost}:${mail.smtpPort}`);
	info(`inbox         ${mail.inboxUrl}`);

	const port = await freePort(opts.port ?? 5678);
	const brokerPort = await freePort();
	const env = { N8N_RUNNERS_BROKER_PORT: String(brokerPort), N8N_RESTRICT_FILE_ACCESS_TO: filesDir, GENERIC_TIMEZONE: TZ };
	const n8n = new N8n({ bin: n8nInstall.bin, userFolder, env });

	step('import the demo credentials and the example workflows');
	const creds = [...sandboxCredentials(sandbox, { tag: 'ecwSandbox', label: `eClinicalWorks sandbox` }), practiceTemplateCredential(sandbox), smtpCredential(mail)];
	preferCredential(creds, DEFAULT_CREDENTIAL_ID);
	writePracticeSheet(filesDir);
	await n8n.importCredentials(toImport(creds), path.join(userFolder, 'demo-credentials.json'));
	rmSync(path.join(userFolder, 'demo-credentials.json'), { force: true });
	info(`${creds.length} credentials: ${creds.map((c) => c.name).join('; ')}`);
	const wfDir = path.join(userFolder, 'demo-workflows');
	// the intake example's sample intake (Run now, and the data pinned on its Webhook) is a demo patient's MRN
	const samplePatient = sandbox.admin.get('demo', 'Patient', 'pt-3');
	const workflows = EXAMPLES.map((name) => {
		const wf = variant(loadExample(name), { filesDir, ...(name === 'new-patient-intake-email' ? sampleIntake(mrnOf(samplePatient)) : {}) });
		if (profile === 'smart' && name === 'nightly-incremental-bulk-export') {
			// the smart profile has no practice-built groups to pick: export everything
			for (const node of wf.nodes) if (node.parameters?.operation === 'export') node.parameters.level = 'system';
		}
		return wf;
	});
	// examples are imported on the first start only, so edits made in the editor survive restarts
	const marker = path.join(userFolder, 'demo-examples-imported.json');
	if (!existsSync(marker)) {
		await n8n.importWorkflows(workflows, wfDir);
		rmSync(wfDir, { recursive: true, force: true });
		writeFileSync(marker, JSON.stringify({ profile, workflows: workflows.map((w) => w.id), at: new Date().toISOString() }, null, 2));
		info(`${workflows.length} workflows: ${workflows.map((w) => w.name).join('; ')}`);
	} else {
		info('example workflows already imported (start over with `npm start -- --reset`)');
	}

	step(`start n8n on port ${port}`);
	const child = spawn(process.execPath, [n8nInstall.bin, 'start'], {
		cwd: userFolder,
		env: demoN8nEnv(userFolder, { ...env, N8N_PORT: String(port), N8N_LISTEN_ADDRESS: '127.0.0.1', N8N_HOST: 'localhost', N8N_EDITOR_BASE_URL: `http://localhost:${port}`, N8N_WEBHOOK_URL: `http://localhost:${port}/` }),
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: false,
	});
	const logFile = path.join(userFolder, 'n8n.log');
	writeFileSync(logFile, '');
	const { appendFileSync } = await import('node:fs');
	let ready = false;
	// everything into the log file; on the console, n8n's lines without its known-harmless noise
	const filter = n8nConsoleFilter();
	const forward = (chunk) => {
		appendFileSync(logFile, chunk);
		for (const line of chunk.toString().split('\n')) {
			if (!line.trim() || filter.isNoise(line)) continue;
			if (opts.quietN8n && ready) continue;
			console.log(`    n8n| ${line}`);
		}
	};
	child.stdout.on('data', forward);
	child.stderr.on('data', forward);

	let stopping;
	const stop = () =>
		(stopping ??= (async () => {
			if (child.exitCode === null && child.signalCode === null) {
				const exited = new Promise((r) => child.once('exit', r));
				child.kill('SIGTERM');
				const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
				await exited;
				clearTimeout(timer);
			}
			await Promise.all([sandbox.stop(), mail.stop()]);
		})());

	const url = `http://localhost:${port}`;
	try {
		const logTail = () => readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
		await waitForHttp(`${url}/healthz/readiness`, { child, logTail });
		await waitForHttp(`${url}/rest/settings`, { child, logTail });
		await setupOwner(url);
	} catch (e) {
		await stop();
		throw e;
	}
	ready = true;
	return { url, login: DEMO_LOGIN, sandbox, mail, userFolder, filesDir, logFile, logOnlyLines: () => filter.hidden, stop, child, seconds: (Date.now() - started) / 1000 };
}

async function main() {
	const o = parseArgs(process.argv.slice(2));
	if (o.help) {
		console.log('usage: npm start [-- --profile ecw|smart] [--port 5678] [--patients 200] [--reset] [--check]');
		return;
	}
	const demo = await startDemo({ profile: o.profile, port: o.port, patients: o.patients, reset: o.reset, quietN8n: true });
	const line = '─'.repeat(66);
	console.log(`\n${line}`);
	console.log(`  n8n with n8n-nodes-eclinicalworks is ready (${demo.seconds.toFixed(0)} s)`);
	console.log(`  Editor:    ${demo.url}`);
	console.log(`  Login:     ${demo.login.email}`);
	console.log(`  Password:  ${demo.login.password}`);
	console.log(`  Sandbox:   ${demo.sandbox.baseUrl} (${o.profile} profile)`);
	console.log(`  Inbox:     ${demo.mail.inboxUrl} (the demo's mail server; its mail never leaves this computer)`);
	console.log(`  Workflows: ${EXAMPLES.length} examples under Overview; credentials "eClinicalWorks sandbox (...)"`);
	console.log(`  Files the workflows write: ${demo.filesDir}`);
	console.log(`  n8n log:   ${demo.logFile} (${demo.logOnlyLines()} lines of n8n's known-harmless warnings are only there)`);
	console.log(`  Stop:      Ctrl-C`);
	console.log(`${line}\n`);
	if (process.env.DEMO_READY_JSON === '1') {
		console.log(`DEMO_READY ${JSON.stringify({ url: demo.url, email: demo.login.email, password: demo.login.password, baseUrl: demo.sandbox.baseUrl, inboxUrl: demo.mail.inboxUrl, smtpPort: demo.mail.smtpPort, userFolder: demo.userFolder })}`);
	}
	let exiting = false;
	const shutdown = async (signal) => {
		if (exiting) return;
		exiting = true;
		console.log(`\n${signal ? `${signal}: ` : ''}stopping n8n, the sandbox and the mail server...`);
		await demo.stop();
		console.log('stopped.');
		process.exit(0);
	};
	if (o.check) return shutdown('--check');
	process.on('SIGINT', () => shutdown('SIGINT'));
	process.on('SIGTERM', () => shutdown('SIGTERM'));
	demo.child.on('exit', (code) => {
		if (exiting) return;
		console.error(`n8n exited unexpectedly (code ${code}); see ${demo.logFile}`);
		Promise.all([demo.sandbox.stop(), demo.mail.stop()]).finally(() => process.exit(1));
	});
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
	main().catch((e) => {
		console.error(`\ndemo failed: ${e.message}`);
		process.exit(1);
	});
}
