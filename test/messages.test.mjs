// n8n's error view drops anything in angle brackets ("…/r4/<practice code>" shows as "…/r4/."):
// no string in the package (messages, hints, descriptions) may hold an angle-bracket placeholder.
// Every string literal of nodes/ and credentials/ is read with TypeScript's own parser, so comments,
// generics and regular expressions are not mistaken for text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function sources(dir) {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const full = path.join(dir, entry.name);
		if (entry.isDirectory()) return sources(full);
		return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
	});
}

/** The text of every string literal and template part in a file, with its line. */
export function stringsOf(file) {
	const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
	const found = [];
	const visit = (node) => {
		if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
			found.push({ text: node.text, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
		}
		ts.forEachChild(node, visit);
	};
	visit(source);
	return found;
}

/**
 * A placeholder in angle brackets: `<practice code>`, `<id>`, `<Patient ID>`. Links in node field
 * descriptions (`<a href="…">expression</a>`) are HTML that n8n renders on purpose, and stay.
 */
function placeholders(text) {
	const withoutLinks = text.replace(/<a href="[^"]*">/g, '').replace(/<\/a>/g, '');
	return withoutLinks.match(/<[A-Za-z{][^<>]{0,80}>/g) ?? [];
}

/** Files that write an HTML page (the readiness report, read in a browser, never in n8n's error view). */
const HTML_PAGES = new Set(['nodes/EClinicalWorks/fhir/readiness/reportHtml.ts']);

test('no angle-bracket placeholder in any string of nodes/ or credentials/', () => {
	const files = [...sources(path.join(root, 'nodes')), ...sources(path.join(root, 'credentials'))].filter((file) => !HTML_PAGES.has(path.relative(root, file)));
	assert.ok(files.length > 50, `read ${files.length} files`);
	const offenders = [];
	let strings = 0;
	for (const file of files) {
		for (const { text, line } of stringsOf(file)) {
			strings++;
			for (const match of placeholders(text)) offenders.push(`${path.relative(root, file)}:${line}: ${match} in "${text.slice(0, 120)}"`);
		}
	}
	assert.ok(strings > 1000, `read ${strings} strings`);
	assert.deepEqual(offenders, [], `write placeholders another way ({practiceCode}, "the practice code"):\n${offenders.join('\n')}`);
});

test('the scan finds a placeholder where there is one (so it cannot pass by reading nothing)', () => {
	assert.deepEqual(placeholders('ends with the practice code: …/r4/<practice code>'), ['<practice code>']);
	assert.deepEqual(placeholders('Use Patient/<id>.'), ['<id>']);
	assert.deepEqual(placeholders('specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.'), []);
	assert.deepEqual(placeholders('a < b and c > d'), []);
});
