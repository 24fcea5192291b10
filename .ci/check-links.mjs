#!/usr/bin/env node
// Checks every relative link and image in README.md, CHANGELOG.md and docs/**/*.md: the file (or
// folder) must exist, and a `#anchor` must match a heading of the target page, slugged the way GitHub
// does. Links to this repository's own GitHub pages (package.json `repository`), there and in the
// nodes' codex files and the credentials' documentation URLs, are checked the same way against the
// files here. Links to other sites are not fetched. Exits 1 with the list of broken links.
// Usage: node .ci/check-links.mjs [file.md ...]
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const repoUrl = String(pkg.repository?.url ?? pkg.repository ?? '')
	.replace(/^git\+/, '')
	.replace(/\.git$/, '');

// `https://github.com/o/r#x` is the README; `.../blob/<branch>/<path>#x` and `.../tree/<branch>/<path>`
// are files here. Returns the target relative to the repository root, or null for other sites.
function ownRepoTarget(url) {
	if (!repoUrl.startsWith('https://github.com/') || !url.startsWith(repoUrl)) return null;
	const rest = url.slice(repoUrl.length);
	if (rest === '' || rest.startsWith('#')) return `README.md${rest}`;
	const inTree = /^\/(?:blob|tree)\/[^/]+\/(.*)$/.exec(rest);
	return inTree ? inTree[1] || '.' : null;
}

function packageCodeFiles() {
	const files = [];
	for (const dir of ['nodes', 'credentials']) {
		if (!existsSync(path.join(root, dir))) continue;
		for (const entry of readdirSync(path.join(root, dir), { recursive: true })) {
			if (/\.(ts|json)$/.test(String(entry))) files.push(path.join(dir, String(entry)));
		}
	}
	return files.sort();
}

function defaultFiles() {
	const files = ['README.md', 'CHANGELOG.md'].filter((f) => existsSync(path.join(root, f)));
	const docs = path.join(root, 'docs');
	if (existsSync(docs)) {
		for (const entry of readdirSync(docs, { recursive: true })) {
			if (String(entry).endsWith('.md')) files.push(path.join('docs', String(entry)));
		}
	}
	return files.sort();
}

// Lines of a page with fenced code blocks blanked (line numbers kept) and inline code spans replaced,
// so that examples such as `[x](y)` inside code are not taken for links.
function proseLines(text) {
	let fence = null;
	return text.split('\n').map((line) => {
		const marker = /^\s*(`{3,}|~{3,})/.exec(line);
		if (fence) {
			if (marker && marker[1][0] === fence[0] && marker[1].length >= fence.length) fence = null;
			return '';
		}
		if (marker) {
			fence = marker[1];
			return '';
		}
		return line.replace(/(`+)(?:(?!\1)[\s\S])*?\1/g, 'code');
	});
}

// GitHub's heading ids (github-slugger): the rendered text, lower case, every character that is not a
// letter, mark, number, connector punctuation, hyphen or space removed, spaces turned into hyphens;
// a repeated slug gets -1, -2, ...
function slugify(heading) {
	const rendered = heading
		.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
		.replace(/<[^>]+>/g, '')
		.replace(/`([^`]*)`/g, '$1')
		.replace(/(\*\*|__|\*|_|~~)(.+?)\1/g, '$2');
	return rendered
		.trim()
		.toLowerCase()
		.replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
		.replace(/ /g, '-');
}

const anchorCache = new Map();
function anchorsOf(file) {
	if (anchorCache.has(file)) return anchorCache.get(file);
	const anchors = new Set();
	const seen = new Map();
	let fence = null;
	for (const line of readFileSync(file, 'utf8').split('\n')) {
		const marker = /^\s*(`{3,}|~{3,})/.exec(line);
		if (fence) {
			if (marker && marker[1][0] === fence[0] && marker[1].length >= fence.length) fence = null;
			continue;
		}
		if (marker) {
			fence = marker[1];
			continue;
		}
		const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
		if (heading) {
			const base = slugify(heading[1]);
			const count = seen.get(base) ?? 0;
			seen.set(base, count + 1);
			anchors.add(count === 0 ? base : `${base}-${count}`);
		}
		for (const [, id] of line.matchAll(/<a\s+(?:[^>]*\s)?(?:id|name)=["']([^"']+)["']/g)) anchors.add(id);
	}
	anchorCache.set(file, anchors);
	return anchors;
}

function linksOf(text) {
	const links = [];
	proseLines(text).forEach((line, index) => {
		const patterns = [
			/(!?)\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+["'(][^)]*)?\)/g,
			/^( {0,3})\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/g,
			/<(img)\s[^>]*\bsrc=["']([^"']+)["']/g,
			/<(a)\s[^>]*\bhref=["']([^"']+)["']/g,
		];
		for (const pattern of patterns) {
			for (const match of line.matchAll(pattern)) {
				links.push({ line: index + 1, target: match[2], image: match[1] === '!' || match[1] === 'img' });
			}
		}
	});
	return links;
}

function problemWith(file, target, image) {
	if (target === '') return 'empty link';
	const own = ownRepoTarget(target);
	if (own !== null) return problemWith(path.join(root, 'package.json'), own, image);
	if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return null;
	const hashAt = target.indexOf('#');
	const rawPath = hashAt === -1 ? target : target.slice(0, hashAt);
	const anchor = hashAt === -1 ? null : decodeURIComponent(target.slice(hashAt + 1));
	const pathPart = decodeURIComponent(rawPath.split('?')[0]);
	const resolved = pathPart === '' ? file : path.resolve(path.dirname(file), pathPart);
	if (!resolved.startsWith(root)) return 'points outside the repository';
	if (!existsSync(resolved)) return `${image ? 'image' : 'file'} not found: ${path.relative(root, resolved)}`;
	if (image && !statSync(resolved).isFile()) return `image is not a file: ${path.relative(root, resolved)}`;
	if (anchor !== null) {
		if (!resolved.endsWith('.md')) return `anchor #${anchor} on a file that is not Markdown`;
		if (!anchorsOf(resolved).has(anchor)) {
			return `no heading for #${anchor} in ${path.relative(root, resolved)}`;
		}
	}
	return null;
}

const files = (process.argv.length > 2 ? process.argv.slice(2) : defaultFiles()).map((f) => path.resolve(root, f));
const problems = [];
let checked = 0;
for (const file of files) {
	for (const { line, target, image } of linksOf(readFileSync(file, 'utf8'))) {
		checked++;
		const problem = problemWith(file, target, image);
		if (problem) problems.push(`${path.relative(root, file)}:${line}: ${target} -> ${problem}`);
	}
}

// Documentation URLs in package code (credential documentationUrl, codex resources) that point at
// this repository: n8n shows them in the editor, so a renamed README heading breaks them.
for (const file of process.argv.length > 2 ? [] : packageCodeFiles()) {
	readFileSync(path.join(root, file), 'utf8')
		.split('\n')
		.forEach((line, index) => {
			for (const [url] of line.matchAll(/https:\/\/github\.com\/[^\s'"`)]+/g)) {
				if (ownRepoTarget(url) === null) continue;
				checked++;
				const problem = problemWith(path.join(root, file), url, false);
				if (problem) problems.push(`${file}:${index + 1}: ${url} -> ${problem}`);
			}
		});
	files.push(file);
}

if (problems.length > 0) {
	console.error(`link check: ${problems.length} broken link(s) of ${checked} in ${files.length} file(s):`);
	for (const p of problems) console.error(`  ${p}`);
	process.exit(1);
}
console.log(`link check: ${checked} links in ${files.length} files, all resolve`);
