#!/usr/bin/env node
// Checks that `npm pack` ships exactly what n8n needs: the files the `n8n` field lists, their icons and
// codex files, and nothing else (no sources, tests, sandbox, scripts, source maps or build info).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const [report] = JSON.parse(execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' }));
const files = new Set(report.files.map((f) => f.path));
const problems = [];

const alwaysAllowed = new Set(['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']);
for (const file of files) {
	if (alwaysAllowed.has(file)) continue;
	if (!file.startsWith('dist/')) problems.push(`unexpected file outside dist/: ${file}`);
	// n8n loads the compiled .js; .d.ts declarations are not used, and the official scanner applies its
	// credential filename rule to them (`*.credentials.d.ts` fails cred-filename-against-convention)
	if (/\.(map|tsbuildinfo|ts)$/.test(file)) problems.push(`must not ship: ${file}`);
	if (/(^|\/)(test|tests|sandbox|scripts|examples|bench)\//.test(file)) problems.push(`dev-only file shipped: ${file}`);
	if (/\.(pem|key|env)$/.test(file)) problems.push(`secret-like file shipped: ${file}`);
}

const listed = [...(pkg.n8n?.nodes ?? []), ...(pkg.n8n?.credentials ?? [])];
if (listed.length === 0) problems.push('package.json n8n field lists no nodes or credentials');
for (const entry of listed) {
	if (!files.has(entry)) {
		problems.push(`n8n field lists ${entry}, which the package does not contain (did the build run?)`);
		continue;
	}
	const source = readFileSync(path.join(root, entry), 'utf8');
	for (const [, icon] of source.matchAll(/['"]file:([^'"]+)['"]/g)) {
		const iconPath = path.posix.join(path.posix.dirname(entry), icon);
		if (!files.has(iconPath)) problems.push(`${entry} uses icon ${icon}, missing from the package (${iconPath})`);
	}
	if (entry.endsWith('.node.js')) {
		const codex = entry.replace(/\.js$/, '.json');
		if (!files.has(codex)) problems.push(`${entry} has no codex file ${codex}`);
	}
}

if (pkg.dependencies && Object.keys(pkg.dependencies).length > 0) problems.push('package.json must have no runtime dependencies');
if (JSON.stringify(pkg.peerDependencies) !== JSON.stringify({ 'n8n-workflow': '*' })) {
	problems.push('peerDependencies must be exactly { "n8n-workflow": "*" }');
}
if (!pkg.keywords?.includes('n8n-community-node-package')) problems.push('keyword n8n-community-node-package missing');

// n8n's verification compares the npm package with its GitHub repository: repository, homepage and
// bugs must name the same one (npm provenance also requires `repository` to be the publishing repo).
const repo = /^git\+https:\/\/github\.com\/([^/]+\/[^/]+?)\.git$/.exec(pkg.repository?.url ?? '')?.[1];
if (!repo) problems.push('repository.url must be git+https://github.com/<owner>/<repo>.git');
else {
	const base = `https://github.com/${repo}`;
	if (pkg.homepage !== `${base}#readme`) problems.push(`homepage must be ${base}#readme`);
	if (pkg.bugs?.url !== `${base}/issues`) problems.push(`bugs.url must be ${base}/issues`);
}
if (!pkg.author?.name) problems.push('author.name missing');
if (pkg.license !== 'MIT') problems.push('license must be MIT (n8n verification)');

console.log(`npm pack: ${files.size} files, ${(report.size / 1024).toFixed(1)} kB packed, ${(report.unpackedSize / 1024).toFixed(1)} kB unpacked`);
if (problems.length > 0) {
	for (const p of problems) console.error(`pack check: ${p}`);
	process.exit(1);
}
console.log('pack check: contents match the n8n field, nothing dev-only shipped');
