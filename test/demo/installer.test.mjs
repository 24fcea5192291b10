// The n8n installer's console (scripts/install-n8n.mjs): one progress line that agrees with itself,
// npm's warnings in the install log instead of the console, and the sqlite3 build against the
// system's SQLite when its headers are there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { npmProgress, systemSqlite } from '../../scripts/install-n8n.mjs';

test('npm progress: manifests while resolving, then packages; warnings and request lines only in the log', () => {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'ecw-installer-'));
	const log = path.join(dir, 'install.log');
	const written = [];
	const stream = { write: (text) => written.push(text) };
	try {
		const progress = npmProgress(log);
		assert.match(progress.summary(), /resolving the dependency tree: 0 package manifests read, downloading not started/);
		for (let i = 0; i < 1200; i++) progress.onLine(`npm http fetch GET 200 https://registry.npmjs.org/pkg-${i} 31ms (cache miss)`, stream);
		assert.equal(progress.summary(), 'resolving the dependency tree: 1,200 package manifests read, downloading not started');
		progress.onLine('npm warn ERESOLVE overriding peer dependency', stream);
		progress.onLine('npm warn   node_modules/@n8n/n8n-nodes-langchain', stream);
		for (let i = 0; i < 300; i++) progress.onLine(`npm http fetch GET 200 https://registry.npmjs.org/pkg-${i}/-/pkg-${i}-1.0.0.tgz 80ms (cache miss)`, stream);
		assert.equal(progress.summary(), '1,200 package manifests read; 300 packages downloaded, 0 unpacked');
		// npm 11 then reads each tarball from its cache to unpack it: not a second download
		for (let i = 0; i < 120; i++) progress.onLine(`npm http cache pkg-${i}@https://registry.npmjs.org/pkg-${i}/-/pkg-${i}-1.0.0.tgz 0ms (cache hit)`, stream);
		assert.equal(progress.summary(), '1,200 package manifests read; 300 packages downloaded, 120 unpacked');
		progress.onLine('added 2353 packages in 7m', stream);
		assert.deepEqual(written, ['    npm| added 2353 packages in 7m\n'], 'the console gets npm\'s summary, not its requests or warnings');
		assert.equal(progress.warnings, 2);
		const lines = readFileSync(log, 'utf8').trim().split('\n');
		assert.equal(lines.length, 1200 + 2 + 300 + 120 + 1, 'the log keeps every line');
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test('sqlite3 is built against the system SQLite only when its headers are there and recent enough', () => {
	const root = mkdtempSync(path.join(os.tmpdir(), 'ecw-sqlite-'));
	const prefix = (name, version, number) => {
		mkdirSync(path.join(root, name, 'include'), { recursive: true });
		writeFileSync(path.join(root, name, 'include', 'sqlite3.h'), `#define SQLITE_VERSION        "${version}"\n#define SQLITE_VERSION_NUMBER ${number}\n`);
		return path.join(root, name);
	};
	try {
		const debian = prefix('debian12', '3.40.1', 3040001);
		const old = prefix('old', '3.31.1', 3031001);
		if (process.platform === 'linux') assert.deepEqual(systemSqlite([path.join(root, 'none'), old, debian]), { prefix: debian, version: '3.40.1' });
		assert.equal(systemSqlite([old]), null, 'too old: its bundled SQLite is used');
		assert.equal(systemSqlite([path.join(root, 'none')]), null, 'no headers: its bundled SQLite is used');
	} finally {
		rmSync(root, { recursive: true, force: true });
	}
});
