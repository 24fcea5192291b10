// The export state in real n8n executions on one n8n process (test/helpers/n8n.mjs), workflow static
// data store, against the eCW sandbox: two runs at once give one kick-off, an interrupted kick-off is
// reported instead of repeated, and the node says what to set when the Data Table store lacks its
// credential. The same cases on queue-mode workers and a regular n8n: scripts/e2e/queue.test.mjs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';

import { runNode, shutdown } from '../helpers/n8n.mjs';
import { sandboxStarter } from '../helpers/sandboxes.mjs';
import { credentials } from '../helpers/sandboxCredentials.mjs';

const sandbox = sandboxStarter({ profile: 'ecw', patients: 30, seed: 7, bulkDelayMs: 300, fastBulk: true, pollRetryAfterSeconds: 0 });
after(shutdown);

const run = (sb, extra = {}, staticData) =>
	runNode({
		parameters: {
			resource: 'bulkExport',
			operation: 'export',
			serverRules: 'ecw',
			level: 'group',
			groupId: { __rl: true, mode: 'id', value: 'grp-1' },
			resourceTypes: ['Patient'],
			sinceMode: 'lastSuccess',
			pollFloorSeconds: 0,
			maxWaitMinutes: 1,
			...extra,
		},
		credentials: credentials(sb),
		staticData,
	});

const kickoffs = (sb) => sb.stats.log.filter((e) => /\$export$/.test(e.path) && e.status === 202).length;
const errorText = (result) => (result.error ? `${result.error.message} ${result.error.description ?? ''}` : '');
const hints = (result) => (result.data.data.resultData.runData.Node[0].hints ?? []).map((h) => h.message);

test('two Export runs of one workflow at once on one n8n process: one kick-off; the other starts nothing and says which execution has it', async () => {
	const sb = await sandbox({ bulkDelayMs: 1500 });
	const [a, b] = await Promise.all([run(sb), run(sb)]);
	for (const r of [a, b]) assert.equal(r.error, undefined, errorText(r));
	assert.equal(kickoffs(sb), 1, 'one export on the server');
	const outputs = [a.outputOf('Node'), b.outputOf('Node')];
	const files = outputs.find((o) => o.some((i) => i.kind === 'output'));
	const other = outputs.find((o) => o !== files);
	assert.ok(files, 'one run downloaded the files');
	assert.equal(other.length, 1);
	assert.match(other[0].state, /^(running|done)-elsewhere$/);
	assert.match(other[0].message, /Execution \d+ (is running|finished) this export/);
	assert.match(other[0].message, /This run started nothing/);
});

test('"Since Last Successful Export" without an n8n API credential: static data, and the first run says what that means', async () => {
	const kicks = [];
	const sb = await sandbox({ onRequest: (e) => /\$export$/.test(e.path) && kicks.push(new URLSearchParams(e.query)) });
	const first = await run(sb);
	assert.equal(first.error, undefined, errorText(first));
	assert.equal(kicks[0].get('_since'), null, 'the first run exports everything');
	assert.ok(hints(first).some((h) => /No earlier successful export is recorded in the workflow's static data/.test(h) && /Data Table/.test(h)), hints(first).join('\n'));
	const transactionTime = first.outputOf('Node')[0].transactionTime;
	const second = await run(sb, {}, first.staticDataAfterRun);
	assert.equal(second.error, undefined, errorText(second));
	assert.equal(kicks.length, 2);
	assert.equal(kicks[1].get('_since'), transactionTime, 'the second run sends the first one\'s transactionTime');
	assert.deepEqual(hints(second).filter((h) => /static data/.test(h)), [], 'said only when nothing is recorded');
});

test('a kick-off whose status URL was never recorded (its run was killed): the next run starts nothing, says what happened and what to do', async () => {
	const sb = await sandbox();
	const probe = await run(sb, { stateStore: 'staticData' });
	const rows = probe.staticDataAfterRun.global.eClinicalWorksBulkExport.rows;
	const [key] = Object.keys(rows);
	const before = kickoffs(sb);
	// the row as a killed run leaves it: intent recorded, no status URL, its claim lapsed
	const staticData = { global: { eClinicalWorksBulkExport: { rows: { [key]: { ...rows[key], phase: 'starting', owner: '4711', startedAt: '2026-01-05T02:00:01.000Z', leaseUntil: '2026-01-05T02:02:01.000Z', statusUrl: '', statusHash: '', version: rows[key].version + 1 } } } } };
	// a fresh key in this process's copy: another workflow id is not possible here, so use another group of types
	const interrupted = await runNode({
		parameters: { resource: 'bulkExport', operation: 'export', serverRules: 'ecw', level: 'group', groupId: { __rl: true, mode: 'id', value: 'grp-1' }, resourceTypes: ['Patient'], sinceMode: 'lastSuccess', stateStore: 'staticData', pollFloorSeconds: 0 },
		credentials: credentials(await sandbox({ port: 0 })),
		staticData: rebase(staticData, key, sandbox.started.at(-1)),
	});
	assert.match(errorText(interrupted), /execution 4711 \(at 2026-01-05T02:00:01.000Z\) sent the kick-off of this export and stopped before it recorded the server's answer/);
	assert.match(errorText(interrupted), /Start Again After an Interrupted Kick-Off/);
	assert.match(errorText(interrupted), /Nothing was started/);
	assert.equal(kickoffs(sandbox.started.at(-1)), 0, 'no kick-off');
	assert.equal(kickoffs(sb), before);
});

/** The same stored row under the key of another sandbox (its own port, so this process has no copy of it yet). */
function rebase(staticData, key, sb) {
	const rows = staticData.global.eClinicalWorksBulkExport.rows;
	const newKey = key.replace(/http:\/\/127\.0\.0\.1:\d+/, sb.origin);
	return { global: { eClinicalWorksBulkExport: { rows: { [newKey]: { ...rows[key], key: newKey } } } } };
}

test('Keep Export State In "Data Table" without its credential: the node names the credential and the alternative, and sends nothing', async () => {
	const sb = await sandbox();
	const result = await run(sb, { stateStore: 'dataTable' });
	assert.match(errorText(result), /eClinicalWorks Export State API/);
	assert.match(errorText(result), /Settings > n8n API/);
	assert.match(errorText(result), /Workflow Static Data/);
	assert.equal(sb.stats.log.filter((e) => /\$export/.test(e.path)).length, 0);
});

test('Start in one node, Download in another node of the workflow: the download counts as the last successful export for the next Start', async () => {
	const kicks = [];
	const sb = await sandbox({ onRequest: (e) => /\$export$/.test(e.path) && kicks.push(new URLSearchParams(e.query)) });
	const node = (name, parameters, staticData) =>
		runNode({ name, parameters: { resource: 'bulkExport', serverRules: 'ecw', level: 'group', groupId: { __rl: true, mode: 'id', value: 'grp-1' }, resourceTypes: ['Patient'], sinceMode: 'lastSuccess', ...parameters }, credentials: credentials(sb), staticData });
	const started = await node('Start export', { operation: 'start' });
	assert.equal(started.error, undefined, errorText(started));
	const { statusUrl } = started.outputOf('Start export')[0];
	await new Promise((r) => setTimeout(r, 500));
	const downloaded = await node('Download export', { operation: 'download', source: 'statusUrl', statusUrl }, started.staticDataAfterRun);
	assert.equal(downloaded.error, undefined, errorText(downloaded));
	const transactionTime = downloaded.outputOf('Download export')[0].transactionTime;
	const next = await node('Start export', { operation: 'start' }, downloaded.staticDataAfterRun);
	assert.equal(next.error, undefined, errorText(next));
	assert.equal(next.outputOf('Start export')[0].since, transactionTime, 'the next Start sends the downloaded export\'s transactionTime');
	assert.equal(kicks.at(-1).get('_since'), transactionTime);
});
