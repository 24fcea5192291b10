// Files mode in parts, in a real n8n execution (test/helpers/n8n.mjs, binary data in filesystem
// mode): with Split Large Files "Always", a file larger than "Split Files Larger Than (MB)" comes out
// as several binary items that end at line breaks and add up to the file; a reset mid-file stores no
// part twice; 0 keeps one item per file. "Automatic" (the default) keeps it whole here.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';

import { runNode, shutdown } from '../helpers/n8n.mjs';
import { sandboxStarter } from '../helpers/sandboxes.mjs';

const sandbox = sandboxStarter();
after(shutdown);

async function exportFiles(sbOptions, extra, inject) {
	// one Patient file of about 600 kB (300 padded records), in the eCW profile's Group export
	const sb = await sandbox({ profile: 'ecw', patients: 300, seed: 4, fastBulk: true, bulkDelayMs: 200, pollRetryAfterSeconds: 0, maxResourcesPerFile: 100000, bulkPaddingBytes: 1000, ...sbOptions });
	if (inject) sb.inject(inject);
	const c = sb.clients.find((x) => x.clientId === 'sandbox-rs384');
	const result = await runNode({
		parameters: { resource: 'bulkExport', operation: 'export', serverRules: 'ecw', level: 'group', groupId: { __rl: true, mode: 'id', value: 'grp-1' }, resourceTypes: ['Patient'], pollFloorSeconds: 0, maxWaitMinutes: 1, ...extra },
		credentials: { eClinicalWorksApi: { environment: 'custom', baseUrl: `${sb.origin}/fhir/r4/{practiceCode}`, practiceCode: sb.practices[0], tokenUrl: sb.tokenUrl, authMethod: 'privateKeyJwt', clientId: c.clientId, privateKey: c.privateKeyPem, keyId: c.kid, algorithm: c.alg, scopes: c.scopes } },
	});
	assert.equal(result.error, undefined, result.error?.message);
	return { sb, result, items: result.itemsOf('Node') };
}

test('a file larger than the part size: parts at line breaks, named, counted, adding up to the file', async () => {
	const { sb, result, items } = await exportFiles({}, { splitFiles: 'always', filePartMb: 0.1 });
	const group = sb.admin.get('demo', 'Group', 'grp-1').quantity;
	assert.ok(items.length >= 5, `several parts (${items.length})`);
	const buffers = [];
	items.forEach((item, i) => {
		assert.equal(item.json.part, i + 1);
		assert.equal(item.json.parts, items.length);
		assert.equal(item.json.file, 'Patient-1.ndjson');
		assert.equal(item.json.fileName, `Patient-1.part-${String(i + 1).padStart(3, '0')}.ndjson`);
		assert.equal(item.binary.data.fileName, item.json.fileName);
		assert.equal(item.binary.data.mimeType, 'application/fhir+ndjson');
	});
	for (const item of items) {
		const data = await result.binary(item);
		assert.ok(data.length <= 0.1 * 1024 * 1024, `${item.json.fileName}: ${data.length} bytes`);
		assert.equal(item.json.bytes, data.length);
		const lines = data.toString('utf8').split('\n').filter(Boolean);
		assert.equal(lines.length, item.json.count);
		for (const line of lines) assert.equal(JSON.parse(line).resourceType, 'Patient');
		buffers.push(data);
	}
	const ids = Buffer.concat(buffers).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).id);
	assert.equal(ids.length, group, 'every patient of the group');
	assert.equal(new Set(ids).size, ids.length, 'none twice');
});

test('a connection reset in the middle of a split file: fetched again, no part stored twice', async () => {
	const { sb, result, items } = await exportFiles({}, { splitFiles: 'always', filePartMb: 0.1 }, { kind: 'reset', path: 'Patient-1\\.ndjson', afterBytes: 350000, count: 1 });
	assert.equal(sb.stats.log.filter((e) => /Patient-1\.ndjson/.test(e.path)).length, 2, 'the file was fetched again');
	const ids = [];
	for (const item of items) ids.push(...(await result.binary(item)).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).id));
	assert.equal(ids.length, sb.admin.get('demo', 'Group', 'grp-1').quantity);
	assert.equal(new Set(ids).size, ids.length);
	assert.deepEqual(items.map((i) => i.json.part), items.map((_, i) => i + 1));
});

test('0 = one item per file; a file within the size is one item named as before', async () => {
	for (const filePartMb of [0, 8]) {
		const { items } = await exportFiles({}, { splitFiles: 'always', filePartMb });
		assert.equal(items.length, 1, `Split Files Larger Than ${filePartMb}`);
		assert.equal(items[0].json.fileName, 'Patient-1.ndjson');
		assert.equal(items[0].binary.data.fileName, 'Patient-1.ndjson');
		assert.equal(items[0].json.part, undefined);
	}
});

test('Automatic (the default) keeps a large file whole in filesystem mode, where n8n streams it to disk', async () => {
	const { result, items } = await exportFiles({}, { filePartMb: 0.1 });
	assert.equal(items.length, 1, 'one item, not parts');
	assert.equal(items[0].json.fileName, 'Patient-1.ndjson');
	assert.equal(items[0].json.part, undefined);
	assert.match(items[0].binary.data.id, /^filesystem(-v2)?:/);
	const data = await result.binary(items[0]);
	assert.ok(data.length > 0.5 * 1024 * 1024, `the whole file (${data.length} bytes)`);
	assert.equal(items[0].json.bytes, data.length);
	assert.equal(data.toString('utf8').split('\n').filter(Boolean).length, items[0].json.count);
});

test('a bad size names the field', async () => {
	const sb = await sandbox({ profile: 'ecw', patients: 5, fastBulk: true });
	const c = sb.clients.find((x) => x.clientId === 'sandbox-rs384');
	const result = await runNode({
		parameters: { resource: 'bulkExport', operation: 'export', serverRules: 'ecw', level: 'group', groupId: { __rl: true, mode: 'id', value: 'grp-1' }, filePartMb: -1 },
		credentials: { eClinicalWorksApi: { environment: 'custom', baseUrl: sb.baseUrl, tokenUrl: sb.tokenUrl, authMethod: 'privateKeyJwt', clientId: c.clientId, privateKey: c.privateKeyPem, keyId: c.kid, algorithm: c.alg, scopes: c.scopes } },
	});
	assert.match(`${result.error?.message} ${result.error?.description ?? ''}`, /Split Files Larger Than \(MB\)/);
	assert.equal(sb.stats.log.filter((e) => /\$export$/.test(e.path)).length, 0, 'refused before the kick-off');
});
