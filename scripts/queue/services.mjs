// PostgreSQL and Redis for the queue-mode suite and benchmark: Debian's packages (installed with
// apt-get when missing), each started on loopback with its own data folder and a free port, so
// nothing collides with a system instance or another run. Plain Node, no dependencies.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, info, run } from '../lib.mjs';

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** initdb, pg_ctl, postgres, psql: on PATH, else Debian's /usr/lib/postgresql/<version>/bin (newest). */
export function postgresBin() {
	const onPath = (name) => spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
	const root = '/usr/lib/postgresql';
	if (existsSync(root)) {
		const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
		if (versions.length) {
			const dir = path.join(root, versions[0], 'bin');
			return { initdb: path.join(dir, 'initdb'), postgres: path.join(dir, 'postgres'), psql: onPath('psql') || path.join(dir, 'psql'), version: versions[0] };
		}
	}
	const initdb = onPath('initdb');
	if (!initdb) return null;
	return { initdb, postgres: onPath('postgres'), psql: onPath('psql'), version: '?' };
}

export function redisBin() {
	const bin = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
	return bin || null;
}

/** Installs postgresql and redis-server from Debian when missing (root, or passwordless sudo). */
export async function ensureServices() {
	const missing = [];
	if (!postgresBin()) missing.push('postgresql');
	if (!redisBin()) missing.push('redis-server');
	if (!missing.length) {
		info(`PostgreSQL ${postgresBin().version} and ${path.basename(redisBin())} found`);
		return;
	}
	let sudo = [];
	if (!isRoot()) {
		const ok = spawnSync('sudo', ['-n', 'true']).status === 0;
		if (!ok) throw new Error(`${missing.join(' and ')} missing and apt-get needs root: install them (apt-get install -y ${missing.join(' ')}) and run again`);
		sudo = ['sudo', '-n'];
	}
	info(`installing ${missing.join(', ')} (apt-get; about a minute)`);
	const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
	const apt = async (args) => {
		const [cmd, ...rest] = [...sudo, 'apt-get', ...args];
		await run(cmd, rest, { env, prefix: '    apt| ', onLine: (line) => /^(Setting up|Unpacking|E:|Err)/.test(line) && console.log(`    apt| ${line}`) });
	};
	await apt(['update', '-qq']);
	await apt(['install', '-y', '-qq', '--no-install-recommends', ...missing]);
	if (!postgresBin() || !redisBin()) throw new Error(`apt-get finished but ${missing.join(' / ')} is still not found`);
}

/** As root, PostgreSQL refuses to run: its commands run as the `postgres` user, in folders it owns. */
function asPostgresUser(cmd, args) {
	if (!isRoot()) return [cmd, args];
	return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', cmd, ...args]];
}

function postgresIds() {
	const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
	const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
	if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('running as root, but there is no `postgres` user to run PostgreSQL as (the Debian package creates it)');
	return { uid, gid };
}

/**
 * A throw-away PostgreSQL on 127.0.0.1:<free port>: trust authentication for user n8n, database n8n,
 * durability off (fsync) because the data is thrown away. Returns { port, user, database, dir,
 * query(sql), sizeBytes(), stop() }.
 */
export async function startPostgres({ log = info } = {}) {
	const bin = postgresBin();
	const dir = mkdtempSync(path.join(os.tmpdir(), 'ecw-queue-pg-'));
	const dataDir = path.join(dir, 'data');
	mkdirSync(dataDir);
	if (isRoot()) {
		const { uid, gid } = postgresIds();
		chownSync(dir, uid, gid);
		chownSync(dataDir, uid, gid);
	}
	const port = await freePort();
	const [initCmd, initArgs] = asPostgresUser(bin.initdb, ['-D', dataDir, '-U', 'n8n', '--auth=trust', '--encoding=UTF8', '--no-instructions']);
	await run(initCmd, initArgs, { capture: true });
	const [cmd, args] = asPostgresUser(bin.postgres, [
		'-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
		'-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
	]);
	const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '';
	child.stdout.on('data', (c) => (output += c));
	child.stderr.on('data', (c) => (output = (output + c).slice(-20000)));
	const psql = (sql, database = 'n8n') =>
		run(bin.psql, ['-h', '127.0.0.1', '-p', String(port), '-U', 'n8n', '-d', database, '-v', 'ON_ERROR_STOP=1', '-At', '-c', sql], { capture: true }).then((r) => r.stdout.replace(/\n$/, ''));
	const started = Date.now();
	for (;;) {
		if (child.exitCode !== null) throw new Error(`PostgreSQL exited (${child.exitCode}):\n${output.slice(-2000)}`);
		const ok = await psql('select 1', 'postgres').then(() => true, () => false);
		if (ok) break;
		if (Date.now() - started > 60000) throw new Error(`PostgreSQL did not accept connections within 60 s:\n${output.slice(-2000)}`);
		await new Promise((r) => setTimeout(r, 300));
	}
	await psql('create database n8n', 'postgres');
	log(`PostgreSQL ${bin.version} on 127.0.0.1:${port} (data in ${dir}), database n8n, user n8n`);
	let stopped;
	return {
		port,
		user: 'n8n',
		database: 'n8n',
		dir,
		pid: child.pid,
		query: psql,
		/** Size of the n8n database on disk (pg_database_size), bytes. */
		sizeBytes: async () => Number(await psql("select pg_database_size('n8n')")),
		stop: () =>
			(stopped ??= (async () => {
				if (child.exitCode === null) {
					const exited = new Promise((r) => child.once('exit', r));
					child.kill('SIGINT'); // fast shutdown
					const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
					await exited;
					clearTimeout(timer);
				}
				if (!process.env.E2E_KEEP) rmSync(dir, { recursive: true, force: true });
			})()),
	};
}

/** A throw-away Redis on 127.0.0.1:<free port>, nothing saved to disk. Returns { port, stop() }. */
export async function startRedis({ log = info } = {}) {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'ecw-queue-redis-'));
	const port = await freePort();
	const conf = path.join(dir, 'redis.conf');
	writeFileSync(conf, [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, 'save ""', 'appendonly no', 'protected-mode yes', 'daemonize no', 'loglevel warning', ''].join('\n'));
	const child = spawn(redisBin(), [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '';
	child.stdout.on('data', (c) => (output = (output + c).slice(-20000)));
	child.stderr.on('data', (c) => (output = (output + c).slice(-20000)));
	const started = Date.now();
	for (;;) {
		if (child.exitCode !== null) throw new Error(`Redis exited (${child.exitCode}):\n${output.slice(-2000)}`);
		const ok = await pingRedis(port);
		if (ok) break;
		if (Date.now() - started > 30000) throw new Error(`Redis did not answer PING within 30 s:\n${output.slice(-2000)}`);
		await new Promise((r) => setTimeout(r, 200));
	}
	log(`Redis on 127.0.0.1:${port}`);
	let stopped;
	return {
		port,
		pid: child.pid,
		stop: () =>
			(stopped ??= (async () => {
				if (child.exitCode === null) {
					const exited = new Promise((r) => child.once('exit', r));
					child.kill('SIGTERM');
					const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
					await exited;
					clearTimeout(timer);
				}
				rmSync(dir, { recursive: true, force: true });
			})()),
	};
}

async function pingRedis(port) {
	const net = await import('node:net');
	return await new Promise((resolve) => {
		const socket = net.connect({ port, host: '127.0.0.1' });
		const done = (ok) => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(1000, () => done(false));
		socket.on('error', () => done(false));
		socket.on('connect', () => socket.write('PING\r\n'));
		socket.on('data', (d) => done(d.toString().startsWith('+PONG')));
	});
}
