import type { IBinaryData, IExecuteFunctions } from 'n8n-workflow';

/**
 * Where n8n keeps binary data, found out at run time, and whether Files mode should split large files
 * into parts there. n8n names a stored item's storage in its id, before the colon
 * (`BinaryDataService.createBinaryDataId`: `filesystem-v2:workflows/...`, `database:{uuid}`,
 * `s3:...`, `azure:...`); in memory (mode "default") an item has no id and carries its bytes as base64.
 * Only the filesystem modes write a stream to disk as it arrives: the database, S3 and Azure
 * managers read the whole item into one buffer first (`binaryToBuffer`), the database refuses items
 * over its size limit (N8N_BINARY_DATA_DATABASE_MAX_FILE_SIZE, 512 MB by default), and in memory a
 * file becomes one base64 string (which V8 caps at about 512 MB). So large files go in parts
 * everywhere but in the filesystem modes.
 *
 * A node cannot read n8n's settings (no environment access), so the node stores an empty item once
 * and reads its id: one empty file (filesystem), one empty row (database) or object, removed with the
 * execution's other binary data.
 */

export type SplitFiles = 'auto' | 'always' | 'never';

/** The storage named by a stored item: `filesystem-v2`, `database`, `s3`, ... or `memory`. */
export function storageOf(binary: Pick<IBinaryData, 'id'>): string {
	const id = typeof binary.id === 'string' ? binary.id : '';
	if (id === '') return 'memory';
	const colon = id.indexOf(':');
	return colon > 0 ? id.slice(0, colon) : 'unknown';
}

/** n8n streams a file into this storage without holding it (the filesystem modes only). */
export function streamsToStorage(storage: string): boolean {
	return storage === 'filesystem' || storage === 'filesystem-v2';
}

const PROBE_NAME = 'binary-storage-probe.ndjson';

/** Stores an empty item and names the storage it went to. */
export async function probeStorage(ctx: IExecuteFunctions): Promise<string> {
	const probe = await ctx.helpers.prepareBinaryData(Buffer.alloc(0), PROBE_NAME, 'application/fhir+ndjson');
	return storageOf(probe);
}

/**
 * Whether this download splits large files: always, never, or (auto) where n8n holds each binary
 * item in memory while it stores it. The storage is probed only when it decides.
 */
export async function splitsFiles(ctx: IExecuteFunctions, split: SplitFiles, partBytes: number): Promise<{ split: boolean; storage?: string }> {
	if (partBytes <= 0 || split === 'never') return { split: false };
	if (split === 'always') return { split: true };
	const storage = await probeStorage(ctx);
	return { split: !streamsToStorage(storage), storage };
}
