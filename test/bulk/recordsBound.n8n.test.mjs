// Records output is bounded by Max Records in Memory (issue 24): n8n keeps every output item in
// memory and again while it saves the execution, so past the bound the node stops with an error
// that says to use Output "Files". Refused before any download where the manifest gives counts,
// stopped while reading where it does not; a Limit under the bound is not an error.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';

import { runNode, shutdown } from '../helpers/n8n.mjs';
import { sandboxStarter } from '../helpers/sandboxes.mjs';
import { credentials } from '../helpers/sandboxCredentials.mjs';
import { DEFAULT_MAX_RECORDS, RecordsHeld } from '../../nodes/EClinicalWorks/fhir/bulk/limits.ts';

const sandbox = sandboxStarter({ profile: 'smart', patients: 40, seed: 11, bulkDelayMs: 100, pollRetryAfterSeconds: 0 });
after(shutdown);

async function exportRun(sb, extra = {}) {
	return await runNode({
		parameters: { resource: 'bulkExport', operation: 'export', serverRules: 'generic', level: 'system', resourceTypes: ['Patient'], pollFloorSeconds: 0, maxWaitMinutes: 1, outputMode: 'records', ...extra },
		credentials: credentials(sb),
	});
}

const errorText = (result) => (result.error ? `${result.error.message} ${result.error.description ?? ''}` : '');
const fileFetches = (sb) => sb.stats.log.filter((e) => /\.ndjson$/.test(e.path)).length;

test('the manifest lists more records than Max Records in Memory: refused before any download, naming the setting and Files', async () => {
	const sb = await sandbox();
	const result = await exportRun(sb, { recordLimit: 0, downloadOptions: { maxRecords: 30 } });
	assert.match(errorText(result), /The export lists 40 records, more than Max Records in Memory \(30\) for Output "Records"/);
	assert.match(errorText(result), /Use Output "Files" for an export this large/);
	assert.match(errorText(result), /Raise Max Records in Memory under Download Options/);
	assert.equal(fileFetches(sb), 0, 'no file downloaded');
	assert.equal(result.itemsOf('Node')?.length ?? 0, 0);
});

test('no counts in the manifest: reading stops at Max Records in Memory with the error, outputting nothing', async () => {
	const sb = await sandbox({ quirks: { noFileCounts: true } });
	const result = await exportRun(sb, { recordLimit: 0, downloadOptions: { maxRecords: 30 } });
	assert.match(errorText(result), /The export holds more than 30 records \(Max Records in Memory\), too many for Output "Records": the download stopped there/);
	assert.match(errorText(result), /Use Output "Files"/);
	assert.equal(result.itemsOf('Node')?.length ?? 0, 0);
});

test('within the bound: a Limit under it stops with a warning as before, and an export under it comes out whole', async () => {
	const sb = await sandbox();
	const limited = await exportRun(sb, { recordLimit: 20, downloadOptions: { maxRecords: 30 } });
	assert.equal(limited.error, undefined, errorText(limited));
	assert.equal(limited.itemsOf('Node').length, 20);
	const whole = await exportRun(sb, { recordLimit: 0, downloadOptions: { maxRecords: 40 } });
	assert.equal(whole.error, undefined, errorText(whole));
	assert.equal(whole.itemsOf('Node').length, 40);
});

test('an attempt read again gives back what it held (a file cut short, then whole, under a tight bound)', async () => {
	const sb = await sandbox({ quirks: { noFileCounts: true } });
	sb.inject({ kind: 'truncate', path: 'Patient-1\\.ndjson', afterLines: 30, midLine: true });
	const result = await exportRun(sb, { recordLimit: 0, downloadOptions: { maxRecords: 40 } });
	assert.equal(result.error, undefined, errorText(result));
	assert.equal(result.itemsOf('Node').length, 40);
});

test('RecordsHeld: counts listed records up to the Limit and error records; 100,000 by default', () => {
	assert.equal(DEFAULT_MAX_RECORDS, 100_000);
	const held = new RecordsHeld(100);
	held.checkListed([60, 40], [], 0);
	held.checkListed([600, undefined], [], 90);
	assert.throws(() => held.checkListed([60, 41], [], 0), /lists 101 records/);
	assert.throws(() => held.checkListed([60], [50], 90), /lists 110 records/);
	held.hold(100);
	held.release(10);
	held.hold(10);
	assert.throws(() => held.hold(), /more than 100 records/);
});
