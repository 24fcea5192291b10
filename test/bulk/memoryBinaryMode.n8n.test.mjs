// Files mode, one item per file, with n8n's binary data held in memory (N8N_DEFAULT_BINARY_DATA_MODE
// "default"; the database mode of queue mode reads streams the same way): n8n reads the stream only
// through 'data' events, so the line checks must see the bytes without pausing or starting the stream.
// An earlier draft paused it, and every such download hung.
process.env.N8N_DEFAULT_BINARY_DATA_MODE = 'default';

const { test, after } = await import('node:test');
const assert = (await import('node:assert/strict')).default;
const { runNode, shutdown, engine } = await import('../helpers/n8n.mjs');
const { sandboxStarter } = await import('../helpers/sandboxes.mjs');
const { credentials } = await import('../helpers/sandboxCredentials.mjs');

const sandbox = sandboxStarter();
after(shutdown);

test('in-memory binary data: a whole file is stored and checked; a short one is fetched again', { timeout: 60_000 }, async () => {
	assert.equal(engine.binaryDataMode, 'default');
	const sb = await sandbox({ profile: 'smart', patients: 40, seed: 3, bulkDelayMs: 100, pollRetryAfterSeconds: 0 });
	sb.inject({ kind: 'truncate', path: 'Patient-1\\.ndjson', afterLines: 25 });
	const result = await runNode({
		parameters: { resource: 'bulkExport', operation: 'export', serverRules: 'generic', level: 'system', resourceTypes: ['Patient'], pollFloorSeconds: 0, maxWaitMinutes: 1, outputMode: 'files', filePartMb: 0 },
		credentials: credentials(sb),
	});
	assert.equal(result.error, undefined, result.error?.message);
	const [item] = result.itemsOf('Node');
	const lines = (await result.binary(item)).toString('utf8').split('\n').filter(Boolean);
	assert.equal(lines.length, 40);
	assert.equal(item.json.count, 40);
	assert.equal(sb.stats.log.filter((e) => e.path.endsWith('/Patient-1.ndjson')).length, 2);
});

test('in-memory binary data: Automatic (the default) splits a large file into parts', { timeout: 60_000 }, async () => {
	const sb = await sandbox({ profile: 'smart', patients: 40, seed: 3, bulkDelayMs: 100, pollRetryAfterSeconds: 0 });
	const result = await runNode({
		parameters: { resource: 'bulkExport', operation: 'export', serverRules: 'generic', level: 'system', resourceTypes: ['Patient'], pollFloorSeconds: 0, maxWaitMinutes: 1, outputMode: 'files', filePartMb: 0.004 },
		credentials: credentials(sb),
	});
	assert.equal(result.error, undefined, result.error?.message);
	const items = result.itemsOf('Node');
	assert.ok(items.length > 2, `parts (${items.length})`);
	items.forEach((item, i) => {
		assert.equal(item.json.part, i + 1);
		assert.equal(item.binary.data.id, undefined, 'held in memory: no id');
	});
	let lines = 0;
	for (const item of items) lines += (await result.binary(item)).toString('utf8').split('\n').filter(Boolean).length;
	assert.equal(lines, 40);
});
