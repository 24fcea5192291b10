// Bulk Export operations run in a real n8n execution (test/helpers/n8n.mjs) against both sandbox
// profiles: lifecycle, incremental runs, resume, cancel, error files, malformed lines, resets
// mid-file, token expiry during downloads, files on another origin, 429 and transient polling.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';

import { runNode, shutdown } from '../helpers/n8n.mjs';
import { sandboxStarter } from '../helpers/sandboxes.mjs';
import { credentials } from '../helpers/sandboxCredentials.mjs';

const sandbox = sandboxStarter({ patients: 30, seed: 7, bulkDelayMs: 300, fastBulk: true, pollRetryAfterSeconds: 0 });
after(shutdown);

const GROUP = { __rl: true, mode: 'id', value: 'grp-1' };

function params(sb, operation, extra = {}) {
	const ecw = sb.profile === 'ecw';
	return {
		resource: 'bulkExport',
		operation,
		serverRules: ecw ? 'ecw' : 'generic',
		level: ecw ? 'group' : 'system',
		groupId: GROUP,
		resourceTypes: ['Patient', 'Encounter'],
		pollFloorSeconds: 0,
		maxWaitMinutes: 1,
		...extra,
	};
}

async function run(sb, operation, extra = {}, options = {}) {
	const result = await runNode({
		parameters: params(sb, operation, extra),
		credentials: credentials(sb, { clientId: options.clientId }),
		staticData: options.staticData,
		continueOnFail: options.continueOnFail,
	});
	return result;
}

function nodeErrorText(result) {
	const e = result.error;
	return e ? `${e.message} ${e.description ?? ''}` : '';
}

const kickoffs = (sb) => sb.stats.log.filter((e) => /\$export$/.test(e.path)).length;
const lines = (buffer) => buffer.toString('utf8').split('\n').filter((l) => l.trim() !== '');

test('eCW: Export in one node (Files), incremental since the last successful export', async () => {
	const sb = await sandbox({ profile: 'ecw', maxResourcesPerFile: 20, tokenLifetimeSeconds: 2 });
	const first = await run(sb, 'export');
	assert.equal(first.error, undefined, nodeErrorText(first));
	const items = first.itemsOf('Node');
	assert.ok(items.length >= 3, 'several files');
	let total = 0;
	for (const item of items) {
		assert.equal(item.json.kind, 'output');
		assert.match(item.json.fileName, /^(Patient|Encounter)-\d+\.ndjson$/);
		assert.ok(item.json.transactionTime);
		assert.doesNotMatch(item.json.url, /\?/);
		const bytes = await first.binary(item);
		assert.equal(item.json.bytes, bytes.length);
		assert.equal(item.binary.data.mimeType, 'application/fhir+ndjson');
		const records = lines(bytes);
		assert.equal(records.length, item.json.count);
		for (const l of records) assert.equal(JSON.parse(l).resourceType, item.json.type);
		total += records.length;
	}
	assert.ok(total > 30);
	const staticData = first.staticDataAfterRun;
	const entry = Object.values(staticData.global.eClinicalWorksBulkExport.rows)[0];
	assert.equal(entry.lastTransactionTime, items[0].json.transactionTime);
	assert.equal(entry.phase, '', 'no export in flight');
	assert.equal(entry.statusUrl, '');

	// next run: "since last successful export" sends the previous transactionTime as _since
	const started = await run(sb, 'start', { sinceMode: 'lastSuccess' }, { staticData });
	assert.equal(started.error, undefined, nodeErrorText(started));
	const out = started.outputOf('Node')[0];
	assert.equal(out.since, entry.lastTransactionTime);
	assert.match(out.statusUrl, /\$export-poll-location\?job_id=/);
	assert.deepEqual(started.data.data.resultData.runData.Node[0].hints ?? [], []);

	// eCW exports every Practitioner of the EMR: said as a hint
	const wide = await run(sb, 'start', { resourceTypes: ['Patient', 'Practitioner'] });
	const hints = wide.data.data.resultData.runData.Node[0].hints ?? [];
	assert.ok(hints.some((h) => /every Practitioner in the EMR/.test(h.message)), JSON.stringify(hints));
});

test('eCW: parameters other than _type/_since/_outputFormat and other levels are refused before any request', async () => {
	const sb = await sandbox({ profile: 'ecw' });
	const before = kickoffs(sb);
	const filtered = await run(sb, 'export', { exportParameters: { typeFilter: ['Patient?gender=female'] } });
	assert.match(nodeErrorText(filtered), /_typeFilter/);
	assert.match(nodeErrorText(filtered), /_type.*_since.*_outputFormat/);
	const system = await run(sb, 'start', { level: 'system' });
	assert.match(nodeErrorText(system), /Group level/);
	const badGroup = await run(sb, 'start', { groupId: { __rl: true, mode: 'list', value: 'a b' } });
	assert.match(nodeErrorText(badGroup), /Group ID/);
	assert.equal(kickoffs(sb), before);

	// a 401 that survives a fresh token (tokens here expire at once): explained as "token rejected or Group not authorised"
	const expiring = await sandbox({ profile: 'ecw', tokenLifetimeSeconds: 0 });
	const refused = await run(expiring, 'start');
	assert.match(nodeErrorText(refused), /refused \(HTTP 401: Access token expired\), also with a freshly issued token/);
	assert.match(nodeErrorText(refused), /not authorised for the app/);
	assert.match(nodeErrorText(refused), /Bulk\/Backend Apps/);
	assert.equal(kickoffs(expiring), 2, 'tried again with a fresh token');
	assert.ok(expiring.stats.tokenRequests >= 2, 'a fresh token was minted');

	// a Group eCW does not know: 401, as eCW's bulk documents say, explained with the Group ID among the causes
	const unknown = await run(sb, 'start', { groupId: { __rl: true, mode: 'id', value: 'grp-999' } });
	assert.match(nodeErrorText(unknown), /refused \(HTTP 401: Access token invalid or expired, or the group id is invalid or unauthorized\), also with a freshly issued token/);
	assert.match(nodeErrorText(unknown), /unknown or not authorised for the app \(eCW answers 401 for all three, not 404 for a wrong Group ID\)/);
	assert.match(nodeErrorText(unknown), /check the Group ID is one the practice built/);
	assert.doesNotMatch(nodeErrorText(unknown), /Group was not found/);
});

test('eCW: max total wait returns the status URL; the next run resumes it instead of starting another', async () => {
	const sb = await sandbox({ profile: 'ecw', bulkDelayMs: 2500, pollRetryAfterSeconds: 1 });
	const first = await run(sb, 'export', { maxWaitMinutes: 0.02, outputMode: 'records', recordLimit: 0 });
	assert.equal(first.error, undefined, nodeErrorText(first));
	const pending = first.outputOf('Node')[0];
	assert.equal(pending.state, 'in-progress');
	assert.equal(pending.timedOut, true);
	assert.match(pending.progress, /% Completed/);
	assert.match(pending.statusUrl, /job_id=/);
	assert.equal(kickoffs(sb), 1);

	await new Promise((r) => setTimeout(r, 2600));
	const second = await run(sb, 'export', { outputMode: 'records', recordLimit: 0 }, { staticData: first.staticDataAfterRun });
	assert.equal(second.error, undefined, nodeErrorText(second));
	assert.equal(kickoffs(sb), 1, 'resumed, no duplicate export');
	const records = second.outputOf('Node');
	assert.ok(records.length > 30);
	assert.ok(records.every((r) => r.resourceType === 'Patient' || r.resourceType === 'Encounter'));

	// explicit "Resume From Status URL" on an export that is done and cancelled -> clear error
	const gone = await run(sb, 'export', { resumeStatusUrl: pending.statusUrl });
	assert.equal(gone.error, undefined, 'the finished export can still be downloaded');
});

test('Start, Check Status, Cancel (smart, POST kick-off)', async () => {
	const sb = await sandbox({ profile: 'smart', bulkDelayMs: 60000 });
	const started = await run(sb, 'start', { exportParameters: { method: 'POST', typeFilter: ['Patient?gender=female'] } });
	assert.equal(started.error, undefined, nodeErrorText(started));
	const { statusUrl } = started.outputOf('Node')[0];
	const status = await runNode({ parameters: { resource: 'bulkExport', operation: 'checkStatus', statusUrl }, credentials: credentials(sb) });
	const s = status.outputOf('Node')[0];
	assert.equal(s.state, 'in-progress');
	assert.equal(s.done, false);
	assert.match(s.progress, /%/);
	const cancelled = await runNode({ parameters: { resource: 'bulkExport', operation: 'cancel', statusUrl }, credentials: credentials(sb) });
	assert.equal(cancelled.outputOf('Node')[0].cancelled, true);
	const after = await runNode({ parameters: { resource: 'bulkExport', operation: 'checkStatus', statusUrl }, credentials: credentials(sb) });
	const a = after.outputOf('Node')[0];
	assert.equal(a.state, 'failed');
	assert.equal(a.failed, true);
	assert.match(a.error, /not found/);
	const again = await runNode({ parameters: { resource: 'bulkExport', operation: 'cancel', statusUrl }, credentials: credentials(sb) });
	assert.equal(again.outputOf('Node')[0].alreadyGone, true);
});

test('smart: Check Status then Download from the manifest; paged manifest; error files as items and as a warning', async () => {
	const sb = await sandbox({ profile: 'smart', bulkErrors: true, maxResourcesPerFile: 10, manifestPageSize: 2 });
	const started = await run(sb, 'start');
	const { statusUrl } = started.outputOf('Node')[0];
	await new Promise((r) => setTimeout(r, 350));
	const status = await runNode({ parameters: { resource: 'bulkExport', operation: 'checkStatus', statusUrl }, credentials: credentials(sb) });
	const s = status.outputOf('Node')[0];
	assert.equal(s.state, 'complete');
	assert.ok(s.manifest.pages > 1, 'paged manifest followed');
	assert.ok(s.manifest.output.length > 2);
	assert.equal(s.manifest.error.length, 1);

	const records = await runNode({
		parameters: { resource: 'bulkExport', operation: 'download', source: 'manifest', manifest: s.manifest, outputMode: 'records', recordLimit: 0 },
		credentials: credentials(sb),
	});
	assert.equal(records.error, undefined, nodeErrorText(records));
	const out = records.outputOf('Node');
	const errors = out.filter((r) => r.errorFile);
	assert.equal(errors.length, 2);
	assert.equal(errors[0].resourceType, 'OperationOutcome');
	const resources = out.filter((r) => !r.errorFile);
	assert.equal(resources.length, s.manifest.output.reduce((n, f) => n + f.count, 0));

	const files = await runNode({
		parameters: { resource: 'bulkExport', operation: 'download', source: 'statusUrl', statusUrl, outputMode: 'files', errorFiles: 'warning' },
		credentials: credentials(sb),
	});
	assert.equal(files.error, undefined, nodeErrorText(files));
	const fileItems = files.itemsOf('Node');
	assert.equal(fileItems.length, s.manifest.output.length, 'error file turned into a warning, not an item');
	const hints = files.data.data.resultData.runData.Node[0].hints ?? [];
	assert.ok(hints.some((h) => /2 problem\(s\) in 1 error file/.test(h.message)), JSON.stringify(hints));
});

test('Records: a connection reset mid-file is retried without duplicate records; a malformed line is fetched again, and named with its file when it stays', async () => {
	const sb = await sandbox({ profile: 'smart', maxResourcesPerFile: 25 });
	sb.inject({ kind: 'reset', path: 'Patient-1\\.ndjson', afterBytes: 6000, count: 1 });
	const result = await run(sb, 'export', { outputMode: 'records', recordLimit: 0, resourceTypes: ['Patient'], parallelDownloads: 2 });
	assert.equal(result.error, undefined, nodeErrorText(result));
	const ids = result.outputOf('Node').map((r) => r.id);
	assert.equal(ids.length, 30);
	assert.equal(new Set(ids).size, 30, 'no duplicates after the retry');
	assert.equal(sb.stats.log.filter((e) => /Patient-1\.ndjson/.test(e.path)).length, 2, 'the file was fetched twice');

	// a damaged line is a failed attempt: the file is fetched again and its records come once
	sb.stats.log.length = 0;
	sb.inject({ kind: 'malformed-ndjson', path: 'Patient-2\\.ndjson', line: 3, count: 1 });
	const again = await run(sb, 'export', { outputMode: 'records', recordLimit: 0, resourceTypes: ['Patient'] });
	assert.equal(again.error, undefined, nodeErrorText(again));
	const againIds = again.outputOf('Node').map((r) => r.id);
	assert.equal(againIds.length, 30);
	assert.equal(new Set(againIds).size, 30);
	assert.equal(sb.stats.log.filter((e) => /Patient-2\.ndjson/.test(e.path)).length, 2, 'the damaged file was fetched again');

	sb.inject({ kind: 'malformed-ndjson', path: 'Patient-2\\.ndjson', line: 3, count: 2 });
	const bad = await run(sb, 'export', { outputMode: 'records', recordLimit: 0, resourceTypes: ['Patient'], downloadOptions: { fileAttempts: 2 } });
	assert.match(nodeErrorText(bad), /Bulk file Patient-2\.ndjson did not arrive whole in 2 attempts: line 3 is not valid JSON/);
	assert.equal(bad.outputOf('Node').length, 0);
});

test('Files: reset mid-file retried; token expiring and revoked during downloads; Records limit', async () => {
	const sb = await sandbox({ profile: 'smart', maxResourcesPerFile: 10, tokenLifetimeSeconds: 1, bulkPaddingBytes: 2000 });
	sb.inject({ kind: 'reset', path: 'Encounter-1\\.ndjson', afterBytes: 3000, count: 1 });
	sb.inject({ kind: 'revoke-tokens', path: 'Patient-2\\.ndjson', count: 1 });
	sb.inject({ kind: 'slow', path: 'Patient-1\\.ndjson', delayMs: 1200, count: 1 });
	const result = await run(sb, 'export', { parallelDownloads: 2 });
	assert.equal(result.error, undefined, nodeErrorText(result));
	for (const item of result.itemsOf('Node')) {
		const recs = lines(await result.binary(item));
		assert.equal(recs.length, item.json.count, item.json.fileName);
		JSON.parse(recs.at(-1));
	}
	assert.ok(sb.stats.tokenRequests >= 2, 'tokens re-minted during the run');
	assert.equal(sb.stats.log.filter((e) => /Encounter-1\.ndjson/.test(e.path)).length, 2, 'the reset file was fetched again');
	assert.ok(sb.stats.log.some((e) => /Patient-2\.ndjson/.test(e.path) && e.status === 401), 'a revoked token was answered 401 and re-minted');

	const before = Object.values(result.staticDataAfterRun.global.eClinicalWorksBulkExport.rows)[0];
	const limited = await run(sb, 'export', { outputMode: 'records', recordLimit: 7 });
	assert.equal(limited.outputOf('Node').length, 7);
	const entry = Object.values(limited.staticDataAfterRun.global.eClinicalWorksBulkExport.rows)[0];
	assert.equal(entry.lastCompletedAt, before.lastCompletedAt, 'a partial download is not a successful export');
	assert.equal(entry.lastTransactionTime, before.lastTransactionTime);
	assert.equal(entry.phase, 'running', 'the export stays to be resumed');
	assert.equal(entry.owner, '', 'and the run that ended holds it no more');
});

test('files on another origin get no token; 429 and transient errors while polling', async () => {
	const sb = await sandbox({ profile: 'smart', fileOrigin: 'other', bulkDelayMs: 200, maxResourcesPerFile: 15 });
	sb.inject({ kind: '429', path: 'bulkstatus', retryAfter: 1, count: 2 });
	sb.inject({ kind: 'transient-status', count: 1 });
	const result = await run(sb, 'export');
	assert.equal(result.error, undefined, nodeErrorText(result));
	const items = result.itemsOf('Node');
	assert.ok(items.length >= 2);
	for (const item of items) assert.equal(lines(await result.binary(item)).length, item.json.count);
	assert.equal(sb.stats.authHeaderSeenOnOtherOrigin, 0);
	const statusCalls = sb.stats.log.filter((e) => /bulkstatus/.test(e.path));
	assert.ok(statusCalls.some((e) => e.status === 429));

	// an expired pre-signed URL: a clear error, not a retry loop, no token offered
	sb.inject({ kind: 'expired-file-url', path: 'Patient-1\\.ndjson', count: 5 });
	const expired = await run(sb, 'export', { resourceTypes: ['Patient'] });
	assert.match(nodeErrorText(expired), /Patient-1\.ndjson could not be downloaded \(HTTP 403\)/);
	assert.match(nodeErrorText(expired), /expired/);
	assert.doesNotMatch(nodeErrorText(expired), /Signature/);
	assert.equal(sb.stats.authHeaderSeenOnOtherOrigin, 0);
});

test('Group list for the Group field, read with the bulk token (list search method)', async () => {
	const sb = await sandbox({ profile: 'ecw' });
	const { methods } = await import('../../nodes/EClinicalWorks/methods/index.ts');
	const { EClinicalWorks } = await import('../../nodes/EClinicalWorks/EClinicalWorks.node.ts');
	const real = new EClinicalWorks().description;
	// a probe node with the real node's credentials and Authentication field runs the list search
	class GroupsProbe {
		description = { ...real, name: 'groupsProbe', displayName: 'Groups probe', properties: real.properties.filter((p) => p.name === 'authentication') };
		async execute() {
			const all = await methods.listSearch.searchBulkGroups.call(this);
			const filtered = await methods.listSearch.searchBulkGroups.call(this, 'cohort');
			return [[{ json: { all: all.results, filtered: filtered.results } }]];
		}
	}
	const result = await runNode({ type: 'groupsProbe', nodeTypes: { groupsProbe: GroupsProbe }, parameters: { authentication: 'backendService' }, credentials: credentials(sb) });
	assert.equal(result.error, undefined, nodeErrorText(result));
	const { all, filtered } = result.outputOf('Node')[0];
	assert.ok(all.some((g) => g.value === 'grp-1' && /All active patients/.test(g.name)), JSON.stringify(all));
	assert.ok(filtered.length >= 1 && filtered.every((g) => /cohort/i.test(g.name)), JSON.stringify(filtered));
});
