#!/usr/bin/env node
// Installs a real n8n into .cache/n8n-<version>/ (ignored by git), first run only.
//
//   node scripts/install-n8n.mjs            # the pinned version (scripts/n8n-version.mjs)
//   node scripts/install-n8n.mjs --force    # reinstall even if the marker exists
//
// Recipe (see docs/development.md, "End-to-end tests"): a plain `npm install n8n` fails offline-ish machines
// because @confluentinc/kafka-javascript downloads a prebuilt binary in its install script. So:
//   1. npm install --ignore-scripts n8n@<version>
//   2. rebuild the native modules n8n needs at start from source against this Node's headers
//      (sqlite3: against the system's SQLite library when its headers are there, Debian's
//      libsqlite3-dev, which compiles in seconds instead of minutes; else with its bundled SQLite.
//      isolated-vm ships a prebuild for Node 24, checked and rebuilt only if missing)
//   3. smoke check `n8n --version`, then write the marker file.
// Must run on the Node n8n needs (2.x: Node >= 22.16). `npm run ...` scripts get the repo's
// Node 24 (devDependency "node") first on PATH; this script spawns everything with process.execPath.
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE, ROOT, npm, npmCli, run, step, info, elapsed } from './lib.mjs';
import { N8N_VERSION } from './n8n-version.mjs';

export function n8nDir(version = N8N_VERSION) {
	return path.join(CACHE, `n8n-${version}`);
}
export function n8nBin(version = N8N_VERSION) {
	return path.join(n8nDir(version), 'node_modules', 'n8n', 'bin', 'n8n');
}
const marker = (dir) => path.join(dir, '.installed.json');
/** Everything npm and the compiler print during the install (the console gets progress and errors). */
export const installLog = (dir) => `${dir}.install.log`;

/** The oldest system SQLite the sqlite3 module is built against (n8n 2.40 bundles 3.44; Debian 12 has 3.40). */
const MIN_SYSTEM_SQLITE = 3_038_000;

/** `{ prefix, version }` of the system's SQLite headers and library, or null (then sqlite3 builds its own). */
export function systemSqlite(prefixes = ['/usr', '/usr/local']) {
	if (process.platform !== 'linux' || process.env.N8N_SQLITE_BUNDLED === '1') return null;
	for (const prefix of prefixes) {
		const header = path.join(prefix, 'include', 'sqlite3.h');
		if (!existsSync(header)) continue;
		const number = Number(/#define SQLITE_VERSION_NUMBER (\d+)/.exec(readFileSync(header, 'utf8'))?.[1] ?? 0);
		const version = /#define SQLITE_VERSION\s+"([^"]+)"/.exec(readFileSync(header, 'utf8'))?.[1] ?? String(number);
		if (number >= MIN_SYSTEM_SQLITE) return { prefix, version };
	}
	return null;
}

/** Headers of the running Node, for node-gyp (`npm_config_nodedir`). */
function nodeDir() {
	if (process.env.npm_config_nodedir && existsSync(process.env.npm_config_nodedir)) return process.env.npm_config_nodedir;
	const candidates = [
		// the repo's devDependency `node` (Node 24)
		path.join(ROOT, 'node_modules', 'node', 'node_modules', `node-linux-${process.arch}`),
		// a regular install: <prefix>/bin/node with <prefix>/include/node
		path.resolve(path.dirname(process.execPath), '..'),
	];
	for (const dir of candidates) {
		const header = path.join(dir, 'include', 'node', 'node_version.h');
		if (!existsSync(header)) continue;
		const src = readFileSync(header, 'utf8');
		const v = ['MAJOR', 'MINOR', 'PATCH'].map((k) => src.match(new RegExp(`#define NODE_${k}_VERSION (\\d+)`))?.[1]).join('.');
		if (v === process.versions.node) return dir;
	}
	return null;
}

function lock(dir) {
	const lockDir = `${dir}.lock`;
	for (;;) {
		try {
			mkdirSync(lockDir);
			writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
			return () => rmSync(lockDir, { recursive: true, force: true });
		} catch (e) {
			if (e.code !== 'EEXIST') throw e;
			let pid = 0;
			try {
				pid = Number(readFileSync(path.join(lockDir, 'pid'), 'utf8'));
			} catch {}
			let alive = false;
			try {
				if (pid) process.kill(pid, 0), (alive = true);
			} catch {}
			if (!alive) {
				rmSync(lockDir, { recursive: true, force: true });
				continue;
			}
			return null; // someone else is installing
		}
	}
}

async function waitForOther(dir) {
	info(`another process is installing n8n into ${path.relative(ROOT, dir)}; waiting for it...`);
	const started = Date.now();
	while (existsSync(`${dir}.lock`) && !existsSync(marker(dir))) {
		await new Promise((r) => setTimeout(r, 5000));
		if ((Date.now() - started) % 60000 < 5000) info(`still waiting (${elapsed(started)})`);
	}
}

/** Native modules (binding.gyp) in the tree without a built binary. */
function unbuiltNative(nodeModules) {
	const wanted = ['sqlite3', 'isolated-vm'];
	const out = [];
	for (const name of wanted) {
		const dirs = [];
		const walk = (nm, depth) => {
			if (depth > 4 || !existsSync(nm)) return;
			const p = path.join(nm, name);
			if (existsSync(path.join(p, 'binding.gyp'))) dirs.push(p);
			for (const entry of readdirSync(nm)) {
				if (entry.startsWith('.')) continue;
				const pkgs = entry.startsWith('@') ? readdirSync(path.join(nm, entry)).map((e) => path.join(nm, entry, e)) : [path.join(nm, entry)];
				for (const pkg of pkgs) if (existsSync(path.join(pkg, 'node_modules'))) walk(path.join(pkg, 'node_modules'), depth + 1);
			}
		};
		walk(nodeModules, 0);
		for (const d of dirs) {
			const hasBinary = (dir) => {
				if (!existsSync(dir)) return false;
				for (const e of readdirSync(dir, { withFileTypes: true })) {
					if (e.isFile() && e.name.endsWith('.node')) return true;
					if (e.isDirectory() && hasBinary(path.join(dir, e.name))) return true;
				}
				return false;
			};
			out.push({ name, dir: d, built: hasBinary(path.join(d, 'build')) || hasBinary(path.join(d, 'prebuilds')) || hasBinary(path.join(d, 'lib', 'binding')) });
		}
	}
	return out;
}

async function loadsNative(dir, name) {
	const code = `try { require(${JSON.stringify(name)}); console.log('ok') } catch (e) { console.log('fail: ' + e.message.split('\\n')[0]) }`;
	const res = await run(process.execPath, ['-e', code], { cwd: dir, capture: true, allowFail: true });
	return res.stdout.trim();
}

export async function installN8n({ version = N8N_VERSION, force = false } = {}) {
	const dir = n8nDir(version);
	const bin = n8nBin(version);
	if (!force && existsSync(marker(dir)) && existsSync(bin)) {
		const m = JSON.parse(readFileSync(marker(dir), 'utf8'));
		if (m.node === process.versions.node) {
			info(`n8n ${version} already installed in ${path.relative(ROOT, dir)} (Node ${m.node})`);
			return { dir, bin, version, cached: true };
		}
		info(`n8n ${version} was built for Node ${m.node}, this is Node ${process.versions.node}: rebuilding native modules`);
		force = false;
		rmSync(marker(dir));
	}
	mkdirSync(CACHE, { recursive: true });
	const unlock = lock(dir);
	if (!unlock) {
		await waitForOther(dir);
		if (existsSync(marker(dir))) return { dir, bin, version, cached: true };
		throw new Error(`the other n8n install into ${dir} did not finish`);
	}
	const started = Date.now();
	try {
		mkdirSync(dir, { recursive: true });
		if (!existsSync(path.join(dir, 'package.json'))) {
			const pkg = { name: `n8n-cache-${version}`, private: true };
			// n8n 1.x depends on xlsx as a tarball from cdn.sheetjs.com, which machines limited to the
			// npm registry cannot fetch: use the registry's last xlsx instead (only the spreadsheet
			// nodes use it; the e2e tests of this package do not).
			if (version.startsWith('1.')) pkg.overrides = { xlsx: '0.18.5' };
			writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
		}
		const log = installLog(dir);
		writeFileSync(log, `n8n ${version} install, ${new Date().toISOString()}, Node ${process.versions.node}\n`);
		step(`[1/3] npm install --ignore-scripts n8n@${version} into ${path.relative(ROOT, dir)} (Node ${process.versions.node}; ~2,400 packages, ~2.8 GB: 5 to 15 minutes with an empty npm cache)`);
		info(`npm's own output: ${path.relative(ROOT, log)}`);
		const progress = npmProgress(log);
		const heartbeat = setInterval(() => info(`... ${elapsed(started)}: ${progress.summary()}`), 20000);
		try {
			await npm(['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=http', '--no-progress', '--save-exact', `n8n@${version}`], {
				cwd: dir,
				prefix: '    npm| ',
				quiet: false,
				capture: false,
				onLine: progress.onLine,
			});
		} finally {
			clearInterval(heartbeat);
		}
		info(`npm install done (${elapsed(started)}): ${progress.summary()}`);
		if (progress.warnings) info(`${progress.warnings} lines of npm warnings (peer dependency notices among n8n's own packages, deprecations: harmless) are in ${path.relative(ROOT, log)}`);

		step('[2/3] native modules');
		const nd = nodeDir();
		if (nd) info(`node headers: ${path.relative(ROOT, nd) || nd}`);
		else info('no local Node headers found for this Node; node-gyp will try to download them');
		const natives = unbuiltNative(path.join(dir, 'node_modules'));
		let sqlite = 'as installed';
		for (const { name, dir: modDir, built } of natives) {
			const rel = path.relative(dir, modDir);
			const status = await loadsNative(path.dirname(path.dirname(modDir)), name);
			if (built && status === 'ok') {
				info(`${rel}: binary present and loads`);
				continue;
			}
			const engines = JSON.parse(readFileSync(path.join(modDir, 'package.json'), 'utf8')).engines?.node ?? '';
			const minMajor = Number(/>=\s*(\d+)/.exec(engines)?.[1] ?? 0);
			if (name === 'isolated-vm' && minMajor > Number(process.versions.node.split('.')[0])) {
				// n8n 1.123.x pins isolated-vm 6 (Node >= 22): on Node 20 run n8n with N8N_EXPRESSION_ENGINE=legacy
				info(`${rel}: needs Node ${engines}, this is ${process.versions.node}: not built (run n8n with N8N_EXPRESSION_ENGINE=legacy)`);
				continue;
			}
			const system = name === 'sqlite3' ? systemSqlite() : null;
			if (name === 'sqlite3') sqlite = system ? `built against the system's SQLite ${system.version} (${system.prefix})` : 'built with its bundled SQLite';
			info(
				`${rel}: ${built ? `binary does not load (${status})` : 'no binary'}; building from source${
					system ? ` against the system's SQLite ${system.version} (under a minute)` : name === 'sqlite3' ? ' with its bundled SQLite (2 to 7 minutes; with the system\'s SQLite headers, e.g. Debian\'s libsqlite3-dev, it takes seconds)' : ''
				}`,
			);
			const t = Date.now();
			try {
				await buildNative(modDir, nd, name, { log, extraArgs: system ? [`--sqlite=${system.prefix}`] : [] });
				const after = await loadsNative(path.dirname(path.dirname(modDir)), name);
				if (after !== 'ok') throw new Error(`${name} still does not load after rebuild: ${after}`);
				info(`${rel}: built and loads (${elapsed(t)})`);
			} catch (e) {
				// isolated-vm (expression sandbox) is loaded on demand; n8n 1.x pins a release that
				// does not compile on Node 20. Go on; the smoke check and the e2e tests decide.
				if (name !== 'isolated-vm') throw e;
				info(`WARNING ${rel}: could not be built for Node ${process.versions.node} (${e.message.split('\n')[0].slice(0, 120)}); continuing without it`);
			}
		}

		step('[3/3] smoke check: n8n --version');
		const res = await run(process.execPath, [bin, '--version'], {
			cwd: dir,
			capture: true,
			env: { ...process.env, N8N_DIAGNOSTICS_ENABLED: 'false', N8N_VERSION_NOTIFICATIONS_ENABLED: 'false' },
		});
		const reported = res.stdout.trim().split('\n').pop();
		info(`n8n --version -> ${reported}`);
		if (!reported.includes(version)) throw new Error(`expected n8n ${version}, got "${reported}"`);
		writeFileSync(
			marker(dir),
			JSON.stringify({ version, node: process.versions.node, sqlite, installedAt: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000) }, null, 2) + '\n',
		);
		info(`n8n ${version} installed in ${elapsed(started)}`);
		return { dir, bin, version, cached: false };
	} finally {
		unlock();
	}
}

/**
 * node-gyp rebuild in the module's folder, against the given Node headers. Called directly (npm's
 * bundled node-gyp) rather than through `npm rebuild`: npm 11 skips install scripts it has no
 * allowScripts entry for, and the prebuild download step would need GitHub anyway.
 */
async function buildNative(modDir, nd, name, { log, extraArgs = [] } = {}) {
	const cli = npmCli();
	const gyp = cli && path.join(path.dirname(path.dirname(cli)), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
	const jobs = String(Math.max(1, os.availableParallelism?.() ?? os.cpus().length));
	if (gyp && existsSync(gyp)) {
		// compiler output is thousands of warning lines: all into the log, the build steps on the console, the tail kept for errors
		const tail = [];
		const t = Date.now();
		const heartbeat = setInterval(() => info(`... ${name}: compiling, ${elapsed(t)}`), 20000);
		try {
			await run(process.execPath, [gyp, 'rebuild', '--release', `--jobs=${jobs}`, ...(nd ? [`--nodedir=${nd}`] : []), ...extraArgs], {
				cwd: modDir,
				env: { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`, JOBS: jobs },
				onLine(line) {
					if (log) appendFileSync(log, `${name}| ${line}\n`);
					tail.push(line);
					if (tail.length > 60) tail.shift();
					if (/^\s*(CC|CXX|LINK|SOLINK_MODULE)\b|gyp (info ok|ERR!)/.test(line)) console.log(`    ${name}| ${line.trim()}`);
				},
			});
		} catch (e) {
			console.log(tail.map((l) => `    ${name}| ${l}`).join('\n'));
			clearInterval(heartbeat);
			e.message += `\n${name} is built from source: it needs python3, make and a C++ compiler (Debian: apt-get install -y python3 make g++)`;
			throw e;
		} finally {
			clearInterval(heartbeat);
		}
		return;
	}
	await npm(['rebuild', name, '--build-from-source', '--foreground-scripts'], {
		cwd: path.dirname(path.dirname(modDir)),
		prefix: `    ${name}| `,
		env: nd ? { npm_config_nodedir: nd } : {},
	});
}

/**
 * npm at loglevel=http prints a line per request (thousands for n8n): first the package manifests
 * (resolving the tree), then the package tarballs (downloading and unpacking). Every line goes to the
 * log file; the console gets one progress line from `summary()` and npm's errors and summary.
 */
export function npmProgress(log) {
	let manifests = 0;
	let downloaded = 0;
	let unpacked = 0;
	let warnings = 0;
	return {
		onLine(line, stream) {
			if (log) appendFileSync(log, `${line}\n`);
			// `fetch` is a download; a tarball's `cache` line is npm reading it from its cache to unpack it
			const http = /npm http (fetch|cache)\b.*?(https?:\/\/\S+)/.exec(line);
			if (http) {
				if (!/\/-\/[^/]+\.tgz\b/.test(http[2])) manifests++;
				else if (http[1] === 'fetch') downloaded++;
				else unpacked++;
				return;
			}
			if (/^npm warn\b/.test(line)) {
				warnings++;
				return;
			}
			if (line.trim()) stream.write(`    npm| ${line}\n`);
		},
		summary() {
			const n = (x) => x.toLocaleString('en-US');
			if (downloaded + unpacked === 0) return `resolving the dependency tree: ${n(manifests)} package manifests read, downloading not started`;
			return `${n(manifests)} package manifests read; ${n(downloaded)} packages downloaded, ${n(unpacked)} unpacked`;
		},
		get warnings() {
			return warnings;
		},
	};
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const force = process.argv.includes('--force');
	const vIdx = process.argv.indexOf('--version');
	const version = vIdx > 0 ? process.argv[vIdx + 1] : N8N_VERSION;
	const major = Number(process.versions.node.split('.')[0]);
	if (version.startsWith('2.') && major < 22) {
		console.error(`n8n ${version} needs Node >= 22.16, this is ${process.versions.node}. Use \`npm run\` (repo Node 24) or run with node_modules/.bin/node.`);
		process.exit(1);
	}
	installN8n({ version, force }).then(
		(r) => {
			console.log(`\nn8n ${r.version}: ${path.relative(ROOT, r.bin)}`);
		},
		(e) => {
			console.error(`\nn8n install failed: ${e.message}`);
			process.exit(1);
		},
	);
}
