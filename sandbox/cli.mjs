#!/usr/bin/env node
// CLI for the FHIR sandbox: npm run sandbox -- --port 8080 --profile ecw --patients 50 --seed 1 [--json]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startSandbox } from './index.mjs';
import { isLoopback } from './util.mjs';

const HELP = `Usage: npm run sandbox -- [options]
  --port <n>              port (default 0 = any free port)
  --host <addr>           listen address (default 127.0.0.1)
  --profile <ecw|smart>   server behaviour (default ecw)
  --patients <n>          patients per practice (default 50, up to 100000)
  --seed <n>              data seed (default 1)
  --practices <a,b>       practice codes (default demo)
  --rejected <a,b>        practice codes that reject the client (401 invalid_client)
  --time-zone <zone>      IANA zone of the generated schedule (default America/New_York)
  --range-edge-visits     two fixed visits at the edges of a day (23:30 today, 00:00 tomorrow), as the tests use
  --token-lifetime <s>    access token lifetime in seconds (ecw 300, smart 3600)
  --rate-limit <n|off>    requests per minute per practice (ecw 250, smart off)
  --bulk-delay <ms>       how long an export stays in progress (default 1500)
  --fast-bulk             ecw: bulk kick-off and status say Retry-After: 1 instead of eCW's 120 (demo, tests)
  --quirk <name[=value]>  smart: switch on a real server's behaviour (repeatable; see sandbox/contracts/smart.mjs)
  --file-origin <same|other>       bulk file URLs on the FHIR origin (token) or a second origin (no token)
  --next-link-origin <same|other>  paging links on the FHIR origin or the second origin
  --bulk-repeat <n>       emit each exported resource n times (benchmarks)
  --admin                 enable the HTTP admin endpoints under /admin (loopback callers only)
  --admin-remote          let callers that are not on loopback use the admin endpoints too (with --admin)
  --json                  print one JSON line with URLs and credentials once listening
  --help`;

let args;
try {
	({ values: args } = parseArgs({
		options: {
			port: { type: 'string' },
			host: { type: 'string' },
			profile: { type: 'string' },
			patients: { type: 'string' },
			seed: { type: 'string' },
			practices: { type: 'string' },
			rejected: { type: 'string' },
			'time-zone': { type: 'string' },
			'range-edge-visits': { type: 'boolean' },
			'token-lifetime': { type: 'string' },
			'rate-limit': { type: 'string' },
			'bulk-delay': { type: 'string' },
			'fast-bulk': { type: 'boolean' },
			quirk: { type: 'string', multiple: true },
			'file-origin': { type: 'string' },
			'next-link-origin': { type: 'string' },
			'bulk-repeat': { type: 'string' },
			admin: { type: 'boolean' },
			'admin-remote': { type: 'boolean' },
			json: { type: 'boolean' },
			help: { type: 'boolean' },
		},
		strict: true,
	}));
} catch (e) {
	process.stderr.write(`${e.message}\n${HELP}\n`);
	process.exit(2);
}
if (args.help) {
	process.stdout.write(`${HELP}\n`);
	process.exit(0);
}

const num = (v, name) => {
	if (v === undefined) return undefined;
	const n = Number(v);
	if (!Number.isFinite(n) || n < 0) {
		process.stderr.write(`--${name} must be a non-negative number\n`);
		process.exit(2);
	}
	return n;
};
const list = (v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);

/** `--quirk typedReferencesOnly --quirk epochRetryAfter=ms --quirk omitTypes=Location,Coverage` */
const quirks = args.quirk?.length
	? Object.fromEntries(args.quirk.map((q) => {
		const [name, value] = q.split('=');
		if (value === undefined) return [name, true];
		return [name, name === 'omitTypes' ? value.split(',') : value];
	}))
	: undefined;

const host = args.host ?? '127.0.0.1';
if (args['admin-remote'] && !args.admin) {
	process.stderr.write('--admin-remote needs --admin\n');
	process.exit(2);
}
if (!isLoopback(host)) {
	const admin = args.admin ? (args['admin-remote'] ? ' Its admin API (no authentication) answers anyone too: --admin-remote.' : ' Its admin API still answers loopback callers only.') : '';
	process.stderr.write(
		`Warning: --host ${host} is not a loopback address. Anyone who can reach this machine on that address can use the sandbox: get tokens with its demo clients and read its synthetic data.${admin} Use --host 127.0.0.1 unless you mean it.\n`,
	);
}

let sb;
try {
	sb = await startSandbox({
		port: num(args.port, 'port') ?? 0,
		host,
		profile: args.profile ?? 'ecw',
		patients: num(args.patients, 'patients') ?? 50,
		seed: num(args.seed, 'seed') ?? 1,
		practices: list(args.practices),
		rejectedPractices: list(args.rejected),
		timeZone: args['time-zone'],
		rangeEdgeVisits: !!args['range-edge-visits'],
		tokenLifetimeSeconds: num(args['token-lifetime'], 'token-lifetime'),
		rateLimitPerMinute: args['rate-limit'] === 'off' ? null : num(args['rate-limit'], 'rate-limit'),
		bulkDelayMs: num(args['bulk-delay'], 'bulk-delay'),
		fastBulk: !!args['fast-bulk'],
		quirks,
		fileOrigin: args['file-origin'],
		nextLinkOrigin: args['next-link-origin'],
		bulkRepeat: num(args['bulk-repeat'], 'bulk-repeat'),
		admin: !!args.admin,
		adminRemote: !!args['admin-remote'],
	});
} catch (e) {
	process.stderr.write(`${e.message}\n`);
	process.exit(2);
}

if (args.json) {
	const out = {
		baseUrl: sb.baseUrl,
		tokenUrl: sb.tokenUrl,
		clients: sb.clients.map((c) => ({ clientId: c.clientId, authMethod: c.authMethod, alg: c.alg, kid: c.kid, privateKeyPem: c.privateKeyPem, clientSecret: c.clientSecret, scopes: c.scopes, publicJwk: c.publicJwk, description: c.description })),
		origin: sb.origin,
		otherOrigin: sb.otherOrigin,
		authorizeUrl: sb.authorizeUrl,
		profile: sb.profile,
		practices: sb.practices.map((p) => ({ code: p, baseUrl: sb.baseUrlFor(p) })),
		admin: !!args.admin,
	};
	process.stdout.write(`${JSON.stringify(out)}\n`);
} else {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecw-sandbox-keys-'));
	const lines = [
		`FHIR sandbox (${sb.profile} profile) listening`,
		`  FHIR base URL : ${sb.baseUrl}`,
		...sb.practices.slice(1).map((p) => `                  ${sb.baseUrlFor(p)}`),
		`  Token URL     : ${sb.tokenUrl}`,
		`  Authorize URL : ${sb.authorizeUrl}`,
		`  Admin         : ${args.admin ? `${sb.origin}/admin${args['admin-remote'] ? ' (any caller)' : ' (loopback callers only)'}` : 'off (use --admin)'}`,
		'  Clients:',
	];
	for (const c of sb.clients) {
		let where = '';
		if (c.privateKeyPem) {
			const file = path.join(dir, `${c.clientId}.pem`);
			fs.writeFileSync(file, c.privateKeyPem, { mode: 0o600 });
			where = `key ${file} (kid ${c.kid})`;
		} else if (c.clientSecret) {
			const file = path.join(dir, `${c.clientId}.secret`);
			fs.writeFileSync(file, c.clientSecret, { mode: 0o600 });
			where = `secret in ${file}`;
		} else where = 'public client (PKCE), redirect to any http://127.0.0.1:*/ or http://localhost:*/';
		lines.push(`    ${c.clientId.padEnd(22)} ${String(c.authMethod).padEnd(20)} ${(c.alg ?? '').padEnd(6)} ${where}`);
	}
	lines.push(`  Credentials written to ${dir} (use --json to print them)`, '  Ctrl+C to stop.');
	process.stdout.write(`${lines.join('\n')}\n`);
}

let stopping = false;
const shutdown = async () => {
	if (stopping) return;
	stopping = true;
	await sb.stop();
	process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
