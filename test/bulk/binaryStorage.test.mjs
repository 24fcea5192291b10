// Which binary data storage a stored item names (n8n's id: mode, a colon, the file id), and where
// Files mode splits large files: everywhere but the filesystem modes, which stream to disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { storageOf, streamsToStorage } from '../../nodes/EClinicalWorks/actions/bulkExport/binaryStorage.ts';

test('the storage is the id up to its first colon; no id is memory', () => {
	assert.equal(storageOf({ id: 'filesystem-v2:workflows/wf1/executions/12/binary_data/0b6c0c4e-1d2e-4a7e-9a51-3f2b6f0f4e1a' }), 'filesystem-v2');
	assert.equal(storageOf({ id: 'database:0b6c0c4e-1d2e-4a7e-9a51-3f2b6f0f4e1a' }), 'database');
	assert.equal(storageOf({ id: 's3:workflows/wf1/executions/12/binary_data/x' }), 's3');
	assert.equal(storageOf({ id: 'azure:workflows/wf1/x' }), 'azure');
	assert.equal(storageOf({}), 'memory');
	assert.equal(storageOf({ id: '' }), 'memory');
	assert.equal(storageOf({ id: 'no-colon' }), 'unknown');
});

test('only the filesystem modes are streamed; the database, S3, Azure, memory and anything unknown get parts', () => {
	assert.equal(streamsToStorage('filesystem-v2'), true);
	assert.equal(streamsToStorage('filesystem'), true);
	for (const storage of ['database', 's3', 'azure', 'memory', 'unknown', 'something-new']) assert.equal(streamsToStorage(storage), false, storage);
});
