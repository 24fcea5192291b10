// Driving a real n8n (the cached install) from scripts: user folder, community package install,
// import, headless execute. Plain Node, no dependencies.
import { existsSync, mkdirSync, writeFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { npm, run, info, ROOT } from './lib.mjs';

export const ENCRYPTION_KEY = 'n8n-nodes-eclinicalworks-e2e-not-a-secret';
export const PACKAGE_NAME = 'n8n-nodes-eclinicalworks';

export function n8nEnv(userFolder, extra = {}) {
	const env = {
		...process.env,
		N8N_USER_FOLDER: userFolder,
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		// no calls home from tests and demos (the machine may have no internet)
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_DYNAMIC_BANNERS_ENABLED: 'false',
		N8N_AI_ENABLED: 'false',
		N8N_LOG_LEVEL: 'info',
		N8N_ENCRYPTION_KEY: ENCRYPTION_KEY,
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
		N8N_SECURE_COOKIE: 'false',
		N8N_RUNNERS_ENABLED: 'true',
		N8N_BLOCK_ENV_ACCESS_IN_NODE: 'false',
		N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem',
		// the example workflows write to disk under the user folder
		N8N_RESTRICT_FILE_ACCESS_TO: '',
		GENERIC_TIMEZONE: process.env.GENERIC_TIMEZONE || 'UTC',
		TZ: process.env.TZ || 'UTC',
		...extra,
	};
	// n8n must not pick up the developer's own settings
	delete env.N8N_CONFIG_FILES;
	return env;
}

/** Build the package and `npm pack` it into `destDir`; returns the .tgz path. */
export async function buildAndPack(destDir, { skipBuild = false } = {}) {
	if (!skipBuild) await npm(['run', 'build'], { cwd: ROOT, prefix: '    build| ' });
	mkdirSync(destDir, { recursive: true });
	const res = await npm(['pack', '--json', '--pack-destination', destDir], { cwd: ROOT, capture: true });
	const json = JSON.parse(res.stdout.slice(res.stdout.indexOf('[')));
	const tgz = path.join(destDir, json[0].filename);
	info(`packed ${json[0].filename}: ${json[0].entryCount} files, ${(json[0].size / 1024).toFixed(1)} kB`);
	return tgz;
}

/**
 * Install the packed tarball the way n8n 2.40's Community Nodes screen does
 * (CommunityPackagesService.downloadPackage): unpack it into
 * $N8N_USER_FOLDER/.n8n/nodes/node_modules/<name>, drop dev/peer/optional dependencies from its
 * package.json, `npm install` there with n8n's flags, and record it in .n8n/nodes/package.json.
 * n8n loads every package listed there at start-up; node types get the package-name prefix.
 */
export async function installPackage(userFolder, tgz) {
	const nodesDir = path.join(userFolder, '.n8n', 'nodes');
	const pkgDir = path.join(nodesDir, 'node_modules', PACKAGE_NAME);
	rmSync(pkgDir, { recursive: true, force: true });
	mkdirSync(pkgDir, { recursive: true });
	await run('tar', ['-xzf', tgz, '-C', pkgDir, '--strip-components=1'], { quiet: true });
	const pkgJsonPath = path.join(pkgDir, 'package.json');
	const { devDependencies, peerDependencies, optionalDependencies, ...pkgJson } = JSON.parse(readFileSync(pkgJsonPath, 'utf8'));
	writeFileSync(pkgJsonPath, JSON.stringify(pkgJson, null, 2), 'utf8');
	await npm(['install', '--audit=false', '--fund=false', '--bin-links=false', '--install-strategy=shallow', '--ignore-scripts=true', '--package-lock=false'], {
		cwd: pkgDir,
		prefix: '    npm| ',
	});
	const nodesPkgPath = path.join(nodesDir, 'package.json');
	const nodesPkg = existsSync(nodesPkgPath) ? JSON.parse(readFileSync(nodesPkgPath, 'utf8')) : { name: 'installed-nodes', private: true, dependencies: {} };
	nodesPkg.dependencies = { ...(nodesPkg.dependencies || {}), [PACKAGE_NAME]: pkgJson.version };
	writeFileSync(nodesPkgPath, JSON.stringify(nodesPkg, null, 2), 'utf8');
	return pkgDir;
}

export class N8n {
	constructor({ bin, userFolder, env = {}, node = process.execPath }) {
		this.bin = bin;
		this.node = node;
		this.userFolder = userFolder;
		this.extraEnv = env;
	}

	async cli(args, { capture = true, allowFail = false, env = {} } = {}) {
		const brokerPort = env.N8N_RUNNERS_BROKER_PORT || this.extraEnv.N8N_RUNNERS_BROKER_PORT;
		return run(this.node, [this.bin, ...args], {
			cwd: this.userFolder,
			env: n8nEnv(this.userFolder, { ...this.extraEnv, ...env, ...(brokerPort ? { N8N_RUNNERS_BROKER_PORT: String(brokerPort) } : {}) }),
			capture,
			allowFail,
		});
	}

	async importCredentials(credentials, file) {
		writeFileSync(file, JSON.stringify(credentials, null, 2));
		const res = await this.cli(['import:credentials', `--input=${file}`]);
		const out = `${res.stdout}\n${res.stderr}`;
		if (!/Successfully imported/i.test(out)) throw new Error(`n8n import:credentials did not confirm the import:\n${out.slice(-2000)}`);
		return res;
	}

	/**
	 * All workflows in one `n8n import:workflow --separate` (each n8n start-up costs seconds).
	 * `activeState: 'fromJson'` publishes those with `active: true` (queue mode only, n8n 2.x).
	 */
	async importWorkflows(workflows, dir, { activeState } = {}) {
		mkdirSync(dir, { recursive: true });
		for (const wf of workflows) writeFileSync(path.join(dir, `${wf.id}.json`), JSON.stringify(wf, null, 2));
		const res = await this.cli(['import:workflow', '--separate', `--input=${dir}`, ...(activeState ? [`--activeState=${activeState}`] : [])]);
		const out = `${res.stdout}\n${res.stderr}`;
		if (!/Successfully imported/i.test(out)) throw new Error(`n8n import:workflow did not confirm the import:\n${out.slice(-2000)}`);
		return res;
	}

	/** `n8n execute --id=<id> --rawOutput`; returns { code, run, stdout, stderr, seconds }. */
	async execute(id) {
		const t = Date.now();
		const res = await this.cli(['execute', `--id=${id}`, '--rawOutput'], { allowFail: true });
		const seconds = (Date.now() - t) / 1000;
		return { ...res, run: parseRawOutput(res.stdout), seconds };
	}
}

/** The JSON that `n8n execute --rawOutput` prints, found among any log lines around it. */
export function parseRawOutput(stdout) {
	const lines = stdout.split('\n');
	for (let i = 0; i < lines.length; i++) {
		if (!lines[i].startsWith('{')) continue;
		for (let j = lines.length; j > i; j--) {
			if (!lines[j - 1].startsWith('}')) continue;
			try {
				return JSON.parse(lines.slice(i, j).join('\n'));
			} catch {}
		}
	}
	return null;
}

/** Output items (json only) of a node in a run: runData[node][run].data.main[output]. */
export function nodeItems(runResult, nodeName, { output = 0, runIndex = 0 } = {}) {
	const runData = runResult?.data?.resultData?.runData ?? runResult?.resultData?.runData ?? runResult?.runData;
	const taskData = runData?.[nodeName]?.[runIndex];
	if (!taskData) return undefined;
	return (taskData.data?.main?.[output] ?? []).map((i) => i.json);
}
export function nodeError(runResult, nodeName) {
	const runData = runResult?.data?.resultData?.runData ?? runResult?.resultData?.runData ?? runResult?.runData;
	return runData?.[nodeName]?.[0]?.error;
}
export function listFiles(dir) {
	if (!existsSync(dir)) return [];
	return readdirSync(dir, { recursive: true, withFileTypes: true })
		.filter((e) => e.isFile())
		.map((e) => path.join(e.parentPath ?? e.path, e.name));
}
