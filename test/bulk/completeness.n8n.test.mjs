// Bulk completeness and bounds (issue 19) in real n8n executions (test/helpers/n8n.mjs) against the
// sandbox's hostile file faults: a body that ends early but cleanly (close-delimited, at a line break
// or mid-line), a line twice, a damaged line, a Content-Length the body falls short of, in Files (whole
// and in parts) and Records mode; then the bounds: an over-long line, a 2,000-file manifest, a body
// that drips. Each bound's test samples this process's memory while it runs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';

import { runNode, shutdown } from '../helpers/n8n.mjs';
import { sandboxStarter } from '../helpers/sandboxes.mjs';
import { credentials } from '../helpers/sandboxCredentials.mjs';

const sandbox = sandboxStarter({ profile: 'smart', patients: 40, seed: 11, bulkDelayMs: 100, pollRetryAfterSeconds: 0 });
after(shutdown);

/** One Export run (system level, Patient only: one file of 40 records unless said otherwise). */
async function exportRun(sb, extra = {}) {
	return await runNode({
		parameters: { resource: 'bulkExport', operation: 'export', serverRules: 'generic', level: 'system', resourceTypes: ['Patient'], pollFloorSeconds: 0, maxWaitMinutes: 1, ...extra },
		credentials: credentials(sb),
	});
}

const errorText = (result) => (result.error ? `${result.error.message} ${result.error.description ?? ''}` : '');
const lines = (buffer) => buffer.toString('utf8').split('\n').filter((l) => l.trim() !== '');
const fetches = (sb, name) => sb.stats.log.filter((e) => e.path.endsWith(`/${name}`)).length;
/** The sandbox logs a request when its response closes, which follows the client's hang-up by a moment. */
const loggedFetches = async (sb, name) => {
	await new Promise((r) => setTimeout(r, 300));
	return fetches(sb, name);
};

/** The records of a Files run, from every item's binary, in order. */
async function storedRecords(result) {
	const out = [];
	for (const item of result.itemsOf('Node')) {
		const recs = lines(await result.binary(item));
		assert.equal(recs.length, item.json.count, `${item.json.fileName}: count says what is stored`);
		out.push(...recs.map((l) => JSON.parse(l)));
	}
	return out;
}

/** Runs `fn` while sampling this process's RSS every 10 ms; returns its result and the peak growth. */
async function withPeakRss(fn) {
	global.gc?.();
	const start = process.memoryUsage.rss();
	let peak = start;
	const timer = setInterval(() => {
		peak = Math.max(peak, process.memoryUsage.rss());
	}, 10);
	try {
		const value = await fn();
		peak = Math.max(peak, process.memoryUsage.rss());
		return { value, growthMb: (peak - start) / 1024 / 1024 };
	} finally {
		clearInterval(timer);
	}
}

const MODES = [
	['Records', { outputMode: 'records', recordLimit: 0 }],
	['Files (one item per file)', { outputMode: 'files', filePartMb: 0 }],
	['Files (in parts)', { outputMode: 'files', splitFiles: 'always', filePartMb: 0.004 }],
];

async function records(result, mode) {
	return mode.outputMode === 'records' ? result.outputOf('Node') : await storedRecords(result);
}

for (const [name, mode] of MODES) {
	test(`${name}: a close-delimited body that ends early at a line break is fetched again; every record once`, async () => {
		const sb = await sandbox();
		sb.inject({ kind: 'truncate', path: 'Patient-1\\.ndjson', afterLines: 25 });
		const result = await exportRun(sb, mode);
		assert.equal(result.error, undefined, errorText(result));
		const ids = (await records(result, mode)).map((r) => r.id);
		assert.equal(ids.length, 40, 'all 40 records, not the 25 of the short body');
		assert.equal(new Set(ids).size, 40, 'none twice');
		assert.equal(fetches(sb, 'Patient-1.ndjson'), 2);
	});

	test(`${name}: a line sent twice (one over the count) and a damaged line are failed attempts`, async () => {
		const sb = await sandbox();
		sb.inject({ kind: 'extra-line', path: 'Patient-1\\.ndjson', line: 7 });
		sb.inject({ kind: 'malformed-ndjson', path: 'Patient-1\\.ndjson', line: 30 });
		const result = await exportRun(sb, mode);
		assert.equal(result.error, undefined, errorText(result));
		const ids = (await records(result, mode)).map((r) => r.id);
		assert.equal(ids.length, 40);
		assert.equal(new Set(ids).size, 40, 'the doubled record is not output');
		assert.equal(fetches(sb, 'Patient-1.ndjson'), 3);
	});

	test(`${name}: a file that stays short fails after the attempts, naming the file, what was expected and what arrived`, async () => {
		const sb = await sandbox();
		sb.inject({ kind: 'truncate', path: 'Patient-1\\.ndjson', afterLines: 25, count: 2 });
		const result = await exportRun(sb, { ...mode, downloadOptions: { fileAttempts: 2 } });
		assert.match(errorText(result), /Bulk file Patient-1\.ndjson did not arrive whole in 2 attempts: the manifest lists 40 records and 25 arrived \(the body ended early, at a line break\)/);
		assert.match(errorText(result), /Nothing from this file was output/);
		assert.equal(result.itemsOf('Node')?.length ?? 0, 0, 'no resources reported as delivered');
	});
}

test('Files in parts: a short attempt of a many-part file is stored afresh, never a part twice or a short part kept', async () => {
	const sb = await sandbox({ patients: 120, bulkPaddingBytes: 300 });
	sb.inject({ kind: 'truncate', path: 'Patient-1\\.ndjson', afterLines: 70 });
	sb.inject({ kind: 'reset', path: 'Patient-1\\.ndjson', afterBytes: 20000 });
	const result = await exportRun(sb, { outputMode: 'files', splitFiles: 'always', filePartMb: 0.01 });
	assert.equal(result.error, undefined, errorText(result));
	const items = result.itemsOf('Node');
	assert.ok(items.length > 4, `several parts (${items.length})`);
	items.forEach((item, i) => assert.equal(item.json.part, i + 1));
	const ids = (await storedRecords(result)).map((r) => r.id);
	assert.equal(ids.length, 120);
	assert.equal(new Set(ids).size, 120);
	assert.equal(fetches(sb, 'Patient-1.ndjson'), 3);
});

test('no count in the manifest: a body cut mid-line (no final line break) is fetched again; one short of its Content-Length too', async () => {
	for (const mode of [{ outputMode: 'records', recordLimit: 0 }, { outputMode: 'files', filePartMb: 0 }]) {
		const sb = await sandbox({ quirks: { noFileCounts: true } });
		sb.inject({ kind: 'truncate', path: 'Patient-1\\.ndjson', afterLines: 12, midLine: true });
		const result = await exportRun(sb, mode);
		assert.equal(result.error, undefined, errorText(result));
		const ids = (await records(result, mode)).map((r) => r.id);
		assert.equal(ids.length, 40);
		assert.equal(fetches(sb, 'Patient-1.ndjson'), 2);
		if (mode.outputMode === 'files') assert.equal(result.itemsOf('Node')[0].json.count, 40, 'the count read, where the manifest gives none');

		sb.inject({ kind: 'truncate', path: 'Patient-1\\.ndjson', afterLines: 12, midLine: true, count: 2 });
		const failed = await exportRun(sb, { ...mode, downloadOptions: { fileAttempts: 2 } });
		assert.match(
			errorText(failed),
			mode.outputMode === 'records'
				? /Patient-1\.ndjson did not arrive whole in 2 attempts: line 13 is not valid JSON and has no line break: the body was cut off/
				: /Patient-1\.ndjson did not arrive whole in 2 attempts: its last line has no line break: the body was cut off \(13 records arrived\)/,
		);

		sb.inject({ kind: 'truncate', path: 'Patient-1\\.ndjson', afterLines: 12, framing: 'length' });
		const short = await exportRun(sb, mode);
		assert.equal(short.error, undefined, errorText(short));
		assert.equal((await records(short, mode)).length, 40);
	}
});

test('Verify Files off: a short body is stored as it came (the old behaviour, for servers whose counts are wrong)', async () => {
	const sb = await sandbox();
	sb.inject({ kind: 'truncate', path: 'Patient-1\\.ndjson', afterLines: 25 });
	const result = await exportRun(sb, { outputMode: 'files', filePartMb: 0, downloadOptions: { verifyFiles: false } });
	assert.equal(result.error, undefined, errorText(result));
	assert.equal(lines(await result.binary(result.itemsOf('Node')[0])).length, 25);
});

// ---------- bounds ----------

for (const [name, mode] of MODES) {
	test(`${name}: a 200 MB line with no line break stops at Max Line Size, holding no more than the bound`, async (t) => {
		const sb = await sandbox({ patients: 5 });
		sb.inject({ kind: 'long-line', path: 'Patient-1\\.ndjson', line: 2, bytes: 200 * 1024 * 1024 });
		const { value: result, growthMb } = await withPeakRss(() => exportRun(sb, { ...mode, downloadOptions: { maxLineMb: 1 } }));
		assert.match(errorText(result), /Line 2 of bulk file Patient-1\.ndjson is longer than 1 MB \(Max Line Size\)/);
		assert.match(errorText(result), /raise Max Line Size \(MB\) under Download Options/);
		t.diagnostic(`peak RSS growth ${growthMb.toFixed(1)} MB`);
		assert.ok(growthMb < 60, `peak RSS grew ${growthMb.toFixed(1)} MB`);
		assert.equal(await loggedFetches(sb, 'Patient-1.ndjson'), 1, 'not fetched again: the server would send the same line');
	});
}

test('a manifest of 2,000 files stops at Max Files before any download; raised, it downloads', async (t) => {
	const sb = await sandbox({ patients: 5 });
	sb.inject({ kind: 'manifest-files', files: 2000 });
	const { value: result, growthMb } = await withPeakRss(() => exportRun(sb, { outputMode: 'records', recordLimit: 0 }));
	assert.match(errorText(result), /The export lists 2,000 files, more than Max Files \(1,000\)/);
	assert.match(errorText(result), /raise Max Files under Download Options/);
	assert.equal(sb.stats.log.filter((e) => /\.ndjson$/.test(e.path)).length, 0, 'no file requested');
	t.diagnostic(`peak RSS growth ${growthMb.toFixed(1)} MB`);
	assert.ok(growthMb < 60, `peak RSS grew ${growthMb.toFixed(1)} MB`);

	// a run after a failed download resumes that export (the export state keeps it): fresh servers,
	// so each run below kicks off its own export
	const other = await sandbox({ patients: 5 });
	other.inject({ kind: 'manifest-files', files: 30 });
	const smaller = await exportRun(other, { outputMode: 'records', recordLimit: 0, downloadOptions: { maxFiles: 20 } });
	assert.match(errorText(smaller), /lists 30 files, more than Max Files \(20\)/);
	const third = await sandbox({ patients: 5 });
	third.inject({ kind: 'manifest-files', files: 30 });
	const raised = await exportRun(third, { outputMode: 'records', recordLimit: 0, downloadOptions: { maxFiles: 30 } });
	assert.equal(raised.error, undefined, errorText(raised));
	assert.equal(raised.outputOf('Node').length, 30);
});

test('a body that drips a byte every 100 ms stops at File Timeout, naming the setting', { timeout: 60_000 }, async (t) => {
	const sb = await sandbox({ patients: 5 });
	sb.inject({ kind: 'drip', path: 'Patient-1\\.ndjson', bytes: 1, intervalMs: 100 });
	const started = Date.now();
	const { value: result, growthMb } = await withPeakRss(() => exportRun(sb, { outputMode: 'files', downloadOptions: { fileTimeoutMinutes: 0.03 } }));
	const seconds = (Date.now() - started) / 1000;
	assert.match(errorText(result), /Bulk file Patient-1\.ndjson did not finish downloading within 2 seconds \(File Timeout\): \d+ bytes had arrived/);
	assert.match(errorText(result), /Raise File Timeout \(Minutes\) under Download Options/);
	assert.ok(seconds < 10, `stopped after ${seconds.toFixed(1)} s`);
	t.diagnostic(`peak RSS growth ${growthMb.toFixed(1)} MB`);
	assert.ok(growthMb < 60, `peak RSS grew ${growthMb.toFixed(1)} MB`);
	assert.equal(await loggedFetches(sb, 'Patient-1.ndjson'), 1, 'not fetched again');
});
