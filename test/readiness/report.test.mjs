// The report files: self-contained HTML and Markdown naming the package, n8n, environment, practice,
// client id, date and every request; no secret, token or patient data; server text escaped.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { startSandbox } from '../../sandbox/index.mjs';
import { tokenCache } from '../../nodes/EClinicalWorks/fhir/auth/tokenCache.ts';
import { reportData } from '../../nodes/EClinicalWorks/fhir/readiness/report.ts';
import { renderHtml } from '../../nodes/EClinicalWorks/fhir/readiness/reportHtml.ts';
import { renderMarkdown } from '../../nodes/EClinicalWorks/fhir/readiness/reportMarkdown.ts';
import { runReadiness } from '../../nodes/EClinicalWorks/fhir/readiness/runner.ts';
import { PACKAGE_VERSION, TEST_EVIDENCE } from '../../nodes/EClinicalWorks/fhir/readiness/testEvidence.ts';
import { testNames } from '../../scripts/readiness-evidence.mjs';
import { freshProcess, readinessContext } from './_support.mjs';

let sb;
before(async () => {
	sb = await startSandbox({ profile: 'ecw', patients: 5, admin: true, fastBulk: true, bulkDelayMs: 100, practices: ['JAFJCD'] });
});
after(async () => sb?.stop());

function meta(ctx, extra = {}) {
	return { packageVersion: PACKAGE_VERSION, n8nVersion: '2.40.7', credential: ctx.credential, generatedAt: '2026-03-09 14:05:00 -04:00', timeZone: 'America/New_York', optIns: [], requestBound: 20, ...extra };
}

test('a real run rendered: header fields, every check, every request; nothing secret, no patient data, no external asset', async () => {
	freshProcess();
	const client = sb.client('sandbox-rs384');
	const { ctx, settings } = readinessContext(sb, { data: { rateLimitPerMinute: 250, baseUrl: `${sb.origin}/fhir/r4/{practiceCode}`, practiceCode: 'JAFJCD' }, options: { tryBulkExport: true } });
	const run = await runReadiness(ctx);
	const token = tokenCache.peek(settings.cacheKey).accessToken;
	const data = reportData(meta(ctx), run);
	const html = renderHtml(data);
	const md = renderMarkdown(data);
	for (const [name, text] of [['html', html], ['markdown', md]]) {
		for (const field of [`n8n-nodes-eclinicalworks ${PACKAGE_VERSION}`, '2.40.7', 'eClinicalWorks Sandbox (Staging)', 'JAFJCD', 'sandbox-rs384', 'Private Key JWT, RS384', '2026-03-09 14:05:00 -04:00', 'America/New_York']) {
			assert.ok(text.includes(field), `${name}: names ${field}`);
		}
		for (const r of run.results) assert.ok(text.includes(r.check.replace(/&/g, '&amp;')), `${name}: check ${r.check}`);
		assert.equal(text.split('/fhir/r4/JAFJCD/Organization').length - 1, run.requests.filter((r) => r.url.endsWith('/Organization')).length, `${name}: every request listed`);
		const keyBody = client.privateKeyPem.split('\n')[5];
		for (const secret of [keyBody, token, 'Bearer ', 'PRIVATE KEY', 'eyJ']) assert.ok(!text.includes(secret), `${name}: no ${secret.slice(0, 12)}`);
		for (let i = 0; i < 5; i++) {
			const patient = sb.admin.get('JAFJCD', 'Patient', `pt-${i + 1}`);
			if (!patient) continue;
			assert.ok(!text.includes(patient.name[0].family), `${name}: no patient name`);
			assert.ok(!text.includes(patient.identifier[0].value), `${name}: no MRN`);
		}
		assert.doesNotMatch(text.slice(text.indexOf('Requests made')), /\?(_count|_type|job_id)=/, `${name}: no query in the request list`);
	}
	assert.match(html, /^<!DOCTYPE html>/);
	assert.doesNotMatch(html, /<script|<link|<img|<iframe|\bsrc=|\bhref=|@import|url\(/i, 'self-contained: no script, no external asset');
	assert.match(md, /^# Production readiness report\n/);
	assert.match(md, /\| Check \| Status \| Evidence \| What to do \|/);
});

test('server-provided text is escaped in HTML and cannot break a Markdown table', async () => {
	const ctx = { credential: { kind: 'backendService', environment: 'custom', baseUrl: 'https://fhir.example.org/r4', clientId: 'app<1>', authMethod: 'privateKeyJwt', algorithm: 'RS384', tokenUrl: '', scopes: '', fitScopes: true, isEcw: false, rateLimitPerMinute: 0, processes: 1, pacePerMinute: 0 } };
	const run = {
		results: [{ check: 'Discovery and SMART configuration', status: 'fail', evidence: 'GET metadata failed: <script>alert(1)</script> | x', whatToDo: 'a|b' }],
		requests: [{ kind: 'fhir', method: 'GET', url: 'https://fhir.example.org/r4/<x>', status: 500, startedAt: 0, ms: 3 }],
		startedAt: 0,
		finishedAt: 1000,
	};
	const data = reportData(meta(ctx), run);
	const html = renderHtml(data);
	assert.ok(!html.includes('<script>'));
	assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
	assert.ok(html.includes('app&lt;1&gt;'));
	const md = renderMarkdown(data);
	const row = md.split('\n').find((l) => l.startsWith('| Discovery'));
	assert.equal(row.split(/(?<!\\)\|/).length, 6, 'four cells: the pipes in the text are escaped');
	assert.match(md, /\| Practice code \| \(none: the FHIR base URL names no practice\) \|/, 'another server: no practice');
	const ecwData = reportData(meta({ credential: { ...ctx.credential, environment: 'ecwSandbox', isEcw: true, baseUrl: 'https://staging-fhir.ecwcloud.com/fhir/r4/JAFJCD' } }), run);
	assert.match(renderMarkdown(ecwData), /\| Practice code \| JAFJCD \(the end of the FHIR base URL\) \|/, 'eCW: the code ends the base URL');
});

test('the error-handling evidence names only tests that exist, at least one per status, and the package version', () => {
	const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
	assert.equal(PACKAGE_VERSION, pkg.version);
	for (const code of ['401', '403', '429', '500']) {
		assert.ok(TEST_EVIDENCE[code].length > 0, `a test for ${code}`);
		for (const { file, test: name } of TEST_EVIDENCE[code]) {
			const names = testNames(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8'));
			assert.ok(names.includes(name), `${file} has a test named "${name}" (run node scripts/readiness-evidence.mjs after renaming one)`);
			assert.match(name, new RegExp(`\\b${code === '500' ? '(500|5xx)' : code}\\b`));
		}
	}
});
