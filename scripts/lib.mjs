// Shared helpers for the scripts (plain Node, no dependencies).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CACHE = path.join(ROOT, '.cache');

const t0 = Date.now();
export const elapsed = (since = t0) => `${((Date.now() - since) / 1000).toFixed(1)}s`;
export function step(msg) {
	console.log(`\n==> ${msg}  [+${elapsed()}]`);
}
export function info(msg) {
	console.log(`    ${msg}`);
}

/** npm's CLI script, run with the current Node (Node 24 under `npm run`). */
export function npmCli() {
	if (process.env.npm_execpath && existsSync(process.env.npm_execpath)) return process.env.npm_execpath;
	const candidates = [
		path.join(path.dirname(process.execPath), '../lib/node_modules/npm/bin/npm-cli.js'),
		'/usr/lib/node_modules/npm/bin/npm-cli.js',
		'/usr/local/lib/node_modules/npm/bin/npm-cli.js',
	];
	for (const c of candidates) if (existsSync(c)) return c;
	return null;
}

/**
 * Run a command; stream its output (prefixed) unless quiet; resolve { code, stdout, stderr }.
 * Rejects on non-zero exit unless allowFail.
 */
export function run(cmd, args, opts = {}) {
	const { cwd = ROOT, env = process.env, quiet = false, capture = false, allowFail = false, prefix = '    | ', input, onLine } =
		opts;
	return new Promise((resolve, reject) => {
		const child = spawn(cmd, args, { cwd, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
		let stdout = '';
		let stderr = '';
		const pending = { out: '', err: '' };
		const echo = (chunk, stream) => {
			if (quiet) return;
			if (onLine) {
				const key = stream === process.stdout ? 'out' : 'err';
				const lines = (pending[key] + chunk.toString()).split('\n');
				pending[key] = lines.pop();
				for (const l of lines) onLine(l, stream);
				return;
			}
			const text = chunk.toString();
			stream.write(
				text
					.split('\n')
					.filter((l, i, a) => !(i === a.length - 1 && l === ''))
					.map((l) => prefix + l)
					.join('\n') + '\n',
			);
		};
		child.stdout.on('data', (c) => {
			if (capture) stdout += c;
			else echo(c, process.stdout);
		});
		child.stderr.on('data', (c) => {
			if (capture) stderr += c;
			else echo(c, process.stderr);
		});
		if (input !== undefined) child.stdin.end(input);
		child.on('error', reject);
		child.on('close', (code, signal) => {
			const res = { code: code ?? (signal ? 128 : 1), stdout, stderr };
			if (res.code !== 0 && !allowFail) {
				const err = new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}\n${stderr.slice(-4000)}`);
				err.result = res;
				reject(err);
			} else resolve(res);
		});
	});
}

/** Run npm with the current Node binary. */
export function npm(args, opts = {}) {
	const cli = npmCli();
	const env = { ...process.env, ...(opts.env || {}) };
	// Make sure child processes (node-gyp, lifecycle scripts) see this Node first.
	env.PATH = `${path.dirname(process.execPath)}${path.delimiter}${env.PATH || ''}`;
	if (cli) return run(process.execPath, [cli, ...args], { ...opts, env });
	return run('npm', args, { ...opts, env });
}

export function freePort(preferred) {
	const tryPort = (p) =>
		new Promise((resolve) => {
			const srv = createServer();
			srv.unref();
			srv.on('error', () => resolve(null));
			srv.listen({ port: p, host: '127.0.0.1' }, () => {
				const { port } = srv.address();
				srv.close(() => resolve(port));
			});
		});
	return (async () => {
		if (preferred) {
			const p = await tryPort(preferred);
			if (p) return p;
		}
		return tryPort(0);
	})();
}

export function assertNode24() {
	const major = Number(process.versions.node.split('.')[0]);
	if (major < 22) {
		throw new Error(
			`n8n 2.x needs Node >= 22.16; this is Node ${process.versions.node}. ` +
				`Run through npm (\`npm run test:e2e\` / \`npm start\`), which puts the repo's Node 24 (devDependency "node") first on PATH.`,
		);
	}
}
