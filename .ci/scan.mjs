#!/usr/bin/env node
// n8n's official community-package scanner (@n8n/scan-community-package), run offline with its own
// analyzePackage and its own file patterns, on both things n8n looks at:
//   tarball leg: what `npm pack` ships (unpacked), with analyzePackage's default patterns
//                (every .js, .ts and .json: stricter than the by-name scan, which lints only the
//                .js files and package.json of the tarball);
//   source leg:  the repository, with the scanner's SOURCE_FILE_PATTERNS (package.json and
//                nodes/credentials sources), the files the by-name scan lints in the attested source.
// Left out: the registry and provenance look-ups of analyzePackageByName, which need a published
// version. The scanner ignores eslint-disable comments (allowInlineConfig: false); this script also
// fails if nodes/ or credentials/ contain any, so `npm run lint` cannot pass on a rule the scanner
// enforces. Needs a build first (`npm run build`). Exits 1 on any error.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyzePackage, SOURCE_FILE_PATTERNS } from '@n8n/scan-community-package/scanner/scanner.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const scannerVersion = JSON.parse(
	readFileSync(path.join(root, 'node_modules/@n8n/scan-community-package/package.json'), 'utf8'),
).version;
const failures = [];

function report(leg, result) {
	if (result.passed) {
		console.log(`scan: ${leg}: passed${result.message ? ` (${result.message})` : ''}`);
		if (result.message === 'No files found to analyze') failures.push(`${leg}: no files found to analyze`);
		return;
	}
	console.error(`scan: ${leg}: FAILED: ${result.message}`);
	if (result.details) console.error(result.details);
	failures.push(`${leg}: ${result.message}`);
}

function unpackedTarball(workDir) {
	for (const entry of pkg.n8n?.nodes ?? []) {
		if (!existsSync(path.join(root, entry))) {
			console.error(`scan: ${entry} is missing: run \`npm run build\` first`);
			process.exit(1);
		}
	}
	const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
	const [packed] = JSON.parse(
		execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', workDir], {
			cwd: root,
			encoding: 'utf8',
		}),
	);
	execFileSync('tar', ['-xzf', path.join(workDir, packed.filename), '-C', workDir]);
	console.log(`scan: packed ${packed.filename} (${packed.files.length} files)`);
	return path.join(workDir, 'package');
}

function inlineEslintConfig() {
	const found = [];
	for (const dir of ['nodes', 'credentials']) {
		for (const entry of readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })) {
			if (!entry.isFile()) continue;
			const file = path.join(entry.parentPath ?? entry.path, entry.name);
			readFileSync(file, 'utf8')
				.split('\n')
				.forEach((line, index) => {
					if (/eslint-disable|eslint-enable|\/\*\s*eslint\s/.test(line)) {
						found.push(`${path.relative(root, file)}:${index + 1}: ${line.trim()}`);
					}
				});
		}
	}
	return found;
}

console.log(`scan: @n8n/scan-community-package ${scannerVersion}, ${pkg.name}@${pkg.version}, offline`);
const workDir = mkdtempSync(path.join(os.tmpdir(), 'n8n-scan-'));
try {
	report('tarball (npm pack, all .js/.ts/.json)', await analyzePackage(unpackedTarball(workDir)));
	report(`source (${SOURCE_FILE_PATTERNS.join(', ')})`, await analyzePackage(root, SOURCE_FILE_PATTERNS));
} finally {
	rmSync(workDir, { recursive: true, force: true });
}

const disables = inlineEslintConfig();
if (disables.length > 0) {
	console.error('scan: inline eslint comments in package code (the scanner ignores them; fix the code instead):');
	for (const d of disables) console.error(`  ${d}`);
	failures.push(`${disables.length} inline eslint comment(s) in nodes/ or credentials/`);
} else {
	console.log('scan: no inline eslint comments in nodes/ or credentials/');
}

if (failures.length > 0) {
	console.error(`scan: FAILED (${failures.join('; ')})`);
	process.exit(1);
}
console.log('scan: passed (registry and provenance look-ups left out: they need a published version)');
