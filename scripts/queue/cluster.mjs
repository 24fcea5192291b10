// n8n in queue mode on one machine, laid out like a deployment: a main process (editor, triggers,
// webhooks) and workers, each with its own user folder and its own copy of the community package,
// sharing one PostgreSQL, one Redis and one encryption key. Used by scripts/e2e/queue.test.mjs and
// scripts/bench-queue.mjs; the same variables are listed per process in docs/queue-mode.md.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { freePort, info } from '../lib.mjs';
import { ENCRYPTION_KEY, N8n, installPackage, n8nEnv } from '../n8n.mjs';

/**
 * The variables every process of the cluster gets (docs/queue-mode.md lists them per process).
 * `mode: 'regular'`: one n8n process on the same PostgreSQL, no Redis (the benchmark's baseline).
 */
export function queueEnv({ pg, redis, mode = 'queue' }) {
	const shared = {
		DB_TYPE: 'postgresdb',
		DB_POSTGRESDB_HOST: '127.0.0.1',
		DB_POSTGRESDB_PORT: String(pg.port),
		DB_POSTGRESDB_DATABASE: pg.database,
		DB_POSTGRESDB_USER: pg.user,
		DB_POSTGRESDB_PASSWORD: '',
		N8N_ENCRYPTION_KEY: ENCRYPTION_KEY,
	};
	if (mode === 'regular') return { ...shared, EXECUTIONS_MODE: 'regular', N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem' };
	return {
		...shared,
		EXECUTIONS_MODE: 'queue',
		QUEUE_BULL_REDIS_HOST: '127.0.0.1',
		QUEUE_BULL_REDIS_PORT: String(redis.port),
		// what n8n documents for queue mode (and its default there): binary data in the database
		N8N_DEFAULT_BINARY_DATA_MODE: 'database',
	};
}

/** RSS of a process in bytes (Linux /proc), 0 once it is gone. */
export function rssBytes(pid) {
	try {
		const status = readFileSync(`/proc/${pid}/status`, 'utf8');
		const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? 0);
		return kb * 1024;
	} catch {
		return 0;
	}
}

/** Samples a process's RSS every `everyMs` until stopped; `peak` and `samples` so far. */
export function sampleRss(pid, everyMs = 100) {
	const out = { peak: rssBytes(pid), samples: 0 };
	const timer = setInterval(() => {
		const rss = rssBytes(pid);
		out.samples++;
		if (rss > out.peak) out.peak = rss;
	}, everyMs);
	out.stop = () => {
		clearInterval(timer);
		return out.peak;
	};
	return out;
}

class Proc {
	constructor(name, role, userFolder, logFile) {
		this.name = name;
		this.role = role;
		this.userFolder = userFolder;
		this.logFile = logFile;
		this.child = null;
		this.lines = [];
		/** execution id -> this worker, from its "Worker started execution <id>" lines */
		this.started = new Set();
		this.finished = new Set();
		this.waiters = [];
	}

	get pid() {
		return this.child?.pid;
	}

	get running() {
		return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
	}

	onLine(line) {
		appendFileSync(this.logFile, `${line}\n`);
		this.lines.push(line);
		if (this.lines.length > 5000) this.lines.splice(0, 1000);
		const started = /Worker started execution (\d+)/.exec(line);
		if (started) this.started.add(started[1]);
		const finished = /Worker finished execution (\d+)/.exec(line);
		if (finished) this.finished.add(finished[1]);
		for (const w of [...this.waiters]) {
			if (w.re.test(line)) {
				this.waiters.splice(this.waiters.indexOf(w), 1);
				w.resolve(line);
			}
		}
	}

	/** Resolves with the first log line (from now on) that matches. */
	waitForLine(re, timeoutMs = 120000) {
		return new Promise((resolve, reject) => {
			const w = { re, resolve };
			const timer = setTimeout(() => {
				this.waiters.splice(this.waiters.indexOf(w), 1);
				reject(new Error(`${this.name}: no log line matching ${re} within ${timeoutMs / 1000}s; last lines:\n${this.lines.slice(-15).join('\n')}`));
			}, timeoutMs);
			w.resolve = (line) => {
				clearTimeout(timer);
				resolve(line);
			};
			this.waiters.push(w);
		});
	}

	tail(n = 20) {
		return this.lines.slice(-n).join('\n');
	}
}

export class QueueCluster {
	/**
	 * @param {{ n8nBin: string, node?: string, work: string, tgz: string, pg: any, redis?: any,
	 *   mode?: 'queue'|'regular', workers?: number, concurrency?: number, env?: Record<string,string> }} o
	 */
	constructor(o) {
		this.o = { mode: 'queue', workers: 2, concurrency: 20, env: {}, ...o, node: o.node ?? process.execPath };
		if (this.o.mode === 'regular') this.o.workers = 0;
		this.procs = new Map();
		this.mainPort = null;
	}

	get main() {
		return this.procs.get('main');
	}

	get workers() {
		return [...this.procs.values()].filter((p) => p.role === 'worker');
	}

	/** One user folder per process, the packed package installed into each (as on separate machines). */
	async install() {
		const names = ['main', ...Array.from({ length: this.o.workers }, (_, i) => `worker-${i + 1}`)];
		mkdirSync(path.join(this.o.work, 'logs'), { recursive: true });
		for (const name of names) {
			const userFolder = path.join(this.o.work, name);
			mkdirSync(userFolder, { recursive: true });
			const logFile = path.join(this.o.work, 'logs', `${name}.log`);
			writeFileSync(logFile, '');
			this.procs.set(name, new Proc(name, name === 'main' ? 'main' : 'worker', userFolder, logFile));
		}
		for (const proc of this.procs.values()) {
			const t = Date.now();
			await installPackage(proc.userFolder, this.o.tgz);
			info(`${proc.name}: package installed in ${path.relative(this.o.work, proc.userFolder)}/.n8n/nodes (${((Date.now() - t) / 1000).toFixed(1)}s)`);
		}
		this.mainPort = await freePort();
	}

	env(proc, extra = {}) {
		return n8nEnv(proc.userFolder, {
			...queueEnv(this.o),
			...this.o.env,
			...extra,
		});
	}

	/** An n8n CLI command (import:*) against the shared database, from main's user folder. */
	cli() {
		return new N8n({ bin: this.o.n8nBin, node: this.o.node, userFolder: this.main.userFolder, env: { ...queueEnv(this.o), ...this.o.env } });
	}

	get baseUrl() {
		return `http://127.0.0.1:${this.mainPort}`;
	}

	async start(name) {
		const proc = this.procs.get(name);
		if (proc.running) return proc;
		const runnerPort = String(await freePort());
		let args;
		let extra;
		if (proc.role === 'main') {
			args = ['start'];
			extra = {
				N8N_PORT: String(this.mainPort),
				N8N_LISTEN_ADDRESS: '127.0.0.1',
				N8N_HOST: '127.0.0.1',
				WEBHOOK_URL: `${this.baseUrl}/`,
				N8N_EDITOR_BASE_URL: this.baseUrl,
				N8N_RUNNERS_BROKER_PORT: runnerPort,
			};
		} else {
			proc.healthPort ??= await freePort();
			args = ['worker', `--concurrency=${this.o.concurrency}`];
			extra = {
				QUEUE_HEALTH_CHECK_ACTIVE: 'true',
				QUEUE_HEALTH_CHECK_PORT: String(proc.healthPort),
				N8N_WORKER_SERVER_ADDRESS: '127.0.0.1',
				N8N_RUNNERS_BROKER_PORT: runnerPort,
			};
		}
		const child = spawn(this.o.node, [this.o.n8nBin, ...args], { cwd: proc.userFolder, env: this.env(proc, extra), stdio: ['ignore', 'pipe', 'pipe'] });
		proc.child = child;
		proc.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
		for (const stream of [child.stdout, child.stderr]) {
			let pending = '';
			stream.on('data', (chunk) => {
				const parts = (pending + chunk.toString()).split('\n');
				pending = parts.pop();
				for (const line of parts) proc.onLine(line);
			});
		}
		const readiness = proc.role === 'main' ? `${this.baseUrl}/healthz/readiness` : `http://127.0.0.1:${proc.healthPort}/healthz/readiness`;
		const started = Date.now();
		for (;;) {
			if (!proc.running) throw new Error(`${name} exited before it was ready (${child.exitCode ?? child.signalCode}); log tail:\n${proc.tail(30)}`);
			const ok = await fetch(readiness).then((r) => r.ok, () => false);
			if (ok) break;
			if (Date.now() - started > 240000) throw new Error(`${name} not ready within 240 s; log tail:\n${proc.tail(30)}`);
			await new Promise((r) => setTimeout(r, 500));
		}
		info(`${name} ready (pid ${child.pid}, ${((Date.now() - started) / 1000).toFixed(1)}s)`);
		return proc;
	}

	/** Stops a process: SIGTERM (n8n's graceful shutdown), or `SIGKILL` to kill it on the spot. */
	async stop(name, signal = 'SIGTERM') {
		const proc = this.procs.get(name);
		if (!proc?.running) return;
		proc.child.kill(signal);
		const timer = setTimeout(() => proc.running && proc.child.kill('SIGKILL'), 30000);
		await proc.exit;
		clearTimeout(timer);
	}

	async stopAll() {
		await Promise.all([...this.procs.keys()].map((name) => this.stop(name)));
	}

	/** The worker that logged "Worker started execution <id>", or undefined. */
	workerOf(executionId) {
		return this.workers.find((w) => w.started.has(String(executionId)))?.name;
	}

	/** The owner account (created on first use) and a session cookie for main's REST API. */
	async session() {
		if (this.cookie) return this.cookie;
		const login = { email: 'queue@n8n-nodes-eclinicalworks.dev', password: 'Queue-Suite-1', firstName: 'Queue', lastName: 'Suite' };
		const settings = await (await fetch(`${this.baseUrl}/rest/settings`)).json();
		if (settings.data?.userManagement?.showSetupOnFirstLoad !== false) {
			const res = await fetch(`${this.baseUrl}/rest/owner/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(login) });
			if (!res.ok) throw new Error(`owner setup failed: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
		}
		const res = await fetch(`${this.baseUrl}/rest/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ emailOrLdapLoginId: login.email, password: login.password }),
		});
		if (!res.ok) throw new Error(`login failed: HTTP ${res.status}`);
		this.cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
		return this.cookie;
	}

	/** n8n's REST API on main (as the editor calls it). */
	async rest(method, url, body) {
		const cookie = await this.session();
		const res = await fetch(`${this.baseUrl}/rest${url}`, {
			method,
			headers: { cookie, ...(body ? { 'content-type': 'application/json' } : {}) },
			body: body ? JSON.stringify(body) : undefined,
		});
		const text = await res.text();
		if (!res.ok) throw new Error(`${method} /rest${url}: HTTP ${res.status} ${text.slice(0, 500)}`);
		return JSON.parse(text).data;
	}

	/**
	 * Publishes (activates) a workflow the way the editor's toggle does: main registers its webhooks and
	 * triggers. `triggers: false` for a sub-workflow (only an Execute Workflow Trigger): published, nothing to register.
	 */
	async activate(workflowId, { timeoutMs = 60000, triggers = true } = {}) {
		const wf = await this.rest('GET', `/workflows/${workflowId}`);
		await this.rest('POST', `/workflows/${workflowId}/activate`, { versionId: wf.versionId });
		// n8n 2.40 publishes through an outbox: webhooks and triggers go live a moment later
		const started = Date.now();
		for (;;) {
			const status = await this.rest('GET', `/workflows/${workflowId}/publication-status`);
			const failed = status.triggers?.find((t) => t.status !== 'activated' && t.errorMessage);
			if (failed) throw new Error(`workflow ${workflowId}: trigger ${failed.nodeId} failed to activate: ${failed.errorMessage}`);
			if (!status.pendingVersionId && (!triggers || (status.triggers?.length && status.triggers.every((t) => t.status === 'activated')))) return status;
			if (Date.now() - started > timeoutMs) throw new Error(`workflow ${workflowId} not live within ${timeoutMs / 1000}s: ${JSON.stringify(status)}`);
			await new Promise((r) => setTimeout(r, 300));
		}
	}

	/** Unpublishes a workflow (the editor's toggle): its triggers stop. */
	async deactivate(workflowId) {
		await this.rest('POST', `/workflows/${workflowId}/deactivate`, {});
	}

	/** Calls a production webhook on main; resolves { status, body }. */
	async webhook(webhookPath, body = {}, { timeoutMs = 600000 } = {}) {
		const res = await fetch(`${this.baseUrl}/webhook/${webhookPath}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(body),
			signal: AbortSignal.timeout(timeoutMs),
		});
		const text = await res.text();
		let json;
		try {
			json = JSON.parse(text);
		} catch {}
		return { status: res.status, body: json ?? text };
	}
}

/** Reads n8n's stored executions from PostgreSQL (the `flatted` run data, parsed with n8n's own copy). */
export class Executions {
	constructor(pg, n8nBin) {
		this.pg = pg;
		this.flatted = createRequire(n8nBin)('flatted');
	}

	async list(workflowId) {
		const out = await this.pg.query(
			`select json_agg(json_build_object('id', id, 'status', status, 'mode', mode, 'startedAt', "startedAt", 'stoppedAt', "stoppedAt") order by id) from execution_entity where "workflowId" = '${workflowId.replace(/'/g, "''")}'`,
		);
		return JSON.parse(out || 'null') ?? [];
	}

	/** The run data of one execution: { resultData: { runData, error, lastNodeExecuted } }. */
	async runData(executionId) {
		const text = await this.pg.query(`select data from execution_data where "executionId" = ${Number(executionId)}`);
		return text ? this.flatted.parse(text) : null;
	}

	async staticData(workflowId) {
		const out = await this.pg.query(`select "staticData" from workflow_entity where id = '${workflowId.replace(/'/g, "''")}'`);
		return out ? JSON.parse(out) : null;
	}

	/** Waits until the workflow has `count` executions that are no longer new/running/waiting. */
	async waitFinished(workflowId, count, { timeoutMs = 300000, every = 1000 } = {}) {
		const started = Date.now();
		for (;;) {
			const list = await this.list(workflowId);
			const done = list.filter((e) => !['new', 'running', 'waiting'].includes(e.status));
			if (done.length >= count) return list;
			if (Date.now() - started > timeoutMs) throw new Error(`workflow ${workflowId}: ${done.length}/${count} executions finished within ${timeoutMs / 1000}s (${list.map((e) => `${e.id}:${e.status}`).join(', ')})`);
			await new Promise((r) => setTimeout(r, every));
		}
	}
}

/** Output items (json) of a node in stored run data. */
export function itemsOf(runData, nodeName, { output = 0, runIndex = 0 } = {}) {
	const task = runData?.resultData?.runData?.[nodeName]?.[runIndex];
	if (!task) return undefined;
	return (task.data?.main?.[output] ?? []).map((i) => i.json);
}
