import type { IBinaryData, IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { planTargets, runPool, withFileRetries } from '../../fhir/bulk/download';
import type { DownloadTarget } from '../../fhir/bulk/download';
import type { Manifest } from '../../fhir/bulk/manifest';
import { parseNdjson } from '../../fhir/bulk/ndjson';
import { partFileName, splitAtLines } from '../../fhir/bulk/parts';
import type { BodyStream } from '../../fhir/bulk/types';
import { isAborted } from '../../fhir/bulk/types';
import { cancelledError, hasQuery, publicUrl } from '../../fhir/bulk/util';
import { InputError } from '../../fhir/errors';
import { DEFAULT_FILE_PART_MB, DEFAULT_PARALLEL_DOWNLOADS } from './fields';
import { addHint } from './setup';
import type { BulkSetup } from './setup';
import { recordExportCompleted } from './state';

/** A finished export's files read into n8n items: Files (binary, in parts) or Records, and the summary. */

export interface DownloadSettings {
	mode: 'files' | 'records';
	binaryProperty: string;
	/** 0 = no limit. */
	limit: number;
	parallel: number;
	errorFiles: 'items' | 'warning';
	/** Files mode: files larger than this are output in parts ending at a line break; 0 = never. */
	partBytes: number;
}

export function readDownloadSettings(ctx: IExecuteFunctions, itemIndex: number): DownloadSettings {
	const mode = ctx.getNodeParameter('outputMode', itemIndex, 'files') as 'files' | 'records';
	return {
		mode,
		binaryProperty: mode === 'files' ? ((ctx.getNodeParameter('binaryProperty', itemIndex, 'data') as string) || 'data') : 'data',
		limit: mode === 'records' ? Math.max(0, Number(ctx.getNodeParameter('recordLimit', itemIndex, 10000)) || 0) : 0,
		parallel: Math.max(1, Math.min(16, Number(ctx.getNodeParameter('parallelDownloads', itemIndex, DEFAULT_PARALLEL_DOWNLOADS)) || DEFAULT_PARALLEL_DOWNLOADS)),
		errorFiles: ctx.getNodeParameter('errorFiles', itemIndex, 'items') as 'items' | 'warning',
		partBytes: mode === 'files' ? readPartBytes(ctx, itemIndex) : 0,
	};
}

function readPartBytes(ctx: IExecuteFunctions, itemIndex: number): number {
	const raw = ctx.getNodeParameter('filePartMb', itemIndex, DEFAULT_FILE_PART_MB) as unknown;
	const mb = raw === '' || raw === undefined || raw === null ? DEFAULT_FILE_PART_MB : Number(raw);
	if (!Number.isFinite(mb) || mb < 0) {
		throw new InputError('Split Files Larger Than (MB)', `"${String(raw).slice(0, 20)}" is not a number of 0 or more`, `Enter a size in MB (default ${DEFAULT_FILE_PART_MB}), or 0 for one item per file.`);
	}
	return Math.round(mb * 1024 * 1024);
}

export interface DownloadOutcome {
	items: INodeExecutionData[];
	/** Every file was read to its end (no record limit hit). */
	complete: boolean;
	files: number;
	records: number;
	errorIssues: number;
}

function addWarning(ctx: IExecuteFunctions, message: string): void {
	addHint(ctx, message, 'warning');
}

function issueCodes(outcome: Record<string, unknown>): string[] {
	const issues = Array.isArray(outcome.issue) ? (outcome.issue as Array<Record<string, unknown>>) : [];
	return issues.map((i) => (typeof i?.code === 'string' ? i.code : 'unknown'));
}

type PrepareInput = Parameters<IExecuteFunctions['helpers']['prepareBinaryData']>[0];

/**
 * Downloads every file of a manifest (output, then deleted, then error files), `parallel` at a time.
 * Files mode streams each file into n8n's binary data storage. Records mode parses line by line;
 * after a retry (connection reset mid-file) the records the failed attempt already produced are
 * skipped, so no record is output twice.
 */
export async function downloadManifest(
	ctx: IExecuteFunctions,
	itemIndex: number,
	setup: BulkSetup,
	manifest: Manifest,
	settings: DownloadSettings,
	statusUrl?: string,
): Promise<DownloadOutcome> {
	const { client, runtime } = setup;
	const targets: DownloadTarget[] = [
		...planTargets(manifest.output, 'output'),
		...planTargets(manifest.deleted, 'deleted'),
		...planTargets(manifest.error, 'error'),
	];
	let emitted = 0;
	let limitHit = false;
	let errorIssues = 0;
	const codeCounts = new Map<string, number>();
	const limit = settings.limit;

	const describe = (target: DownloadTarget): IDataObject => ({
		kind: target.kind,
		type: target.file.type,
		fileName: target.fileName,
		count: target.file.count,
		url: publicUrl(target.file.url),
		transactionTime: manifest.transactionTime,
	});

	const countErrors = async (target: DownloadTarget, body: BodyStream) => {
		let issues = 0;
		const codes: string[] = [];
		await parseNdjson(body, {
			fileLabel: target.fileName,
			onRecord: (record) => {
				const found = issueCodes(record);
				issues += Math.max(1, found.length);
				codes.push(...found);
			},
		});
		return { issues, codes };
	};

	/**
	 * Files mode in parts: each part is stored as it is read, so memory holds one part per download.
	 * A download retried after a failure mid-file reads the parts already stored again (bulk files do
	 * not change) without storing them twice.
	 */
	const storeInParts = async (target: DownloadTarget, isError: boolean): Promise<INodeExecutionData[]> => {
		const stored: INodeExecutionData[] = [];
		await withFileRetries(client, target, runtime, {}, async (body) => {
			await splitAtLines(body, settings.partBytes, async (part) => {
				if (part.index < stored.length) return;
				const binary = await ctx.helpers.prepareBinaryData(part.data, partFileName(target.fileName, part.index, part.index + 1), 'application/fhir+ndjson');
				if (isAborted(runtime)) throw cancelledError();
				stored.push({
					json: { ...describe(target), count: part.records, bytes: part.data.length, ...(isError ? { errorFile: true } : {}) },
					binary: { [settings.binaryProperty]: binary },
					pairedItem: { item: itemIndex },
				});
			});
		});
		if (stored.length === 1) {
			// one part: the file as it is, as without splitting
			stored[0].json.count = target.file.count ?? stored[0].json.count;
			stored[0].binary![settings.binaryProperty].fileName = target.fileName;
			return stored;
		}
		stored.forEach((item, index) => {
			const fileName = partFileName(target.fileName, index, stored.length);
			item.binary![settings.binaryProperty].fileName = fileName;
			item.json = { ...item.json, fileName, file: target.fileName, part: index + 1, parts: stored.length };
		});
		return stored;
	};

	const worker = async (target: DownloadTarget): Promise<INodeExecutionData[]> => {
		const isError = target.kind === 'error';
		if (isError && settings.errorFiles === 'warning') {
			const counted = await withFileRetries(client, target, runtime, {}, async (body) => await countErrors(target, body));
			errorIssues += counted.issues;
			for (const code of counted.codes) codeCounts.set(code, (codeCounts.get(code) ?? 0) + 1);
			return [];
		}
		if (settings.mode === 'files' && settings.partBytes > 0) return await storeInParts(target, isError);
		if (settings.mode === 'files') {
			return await withFileRetries(client, target, runtime, {}, async (body) => {
				const binary: IBinaryData = await ctx.helpers.prepareBinaryData(
					body as unknown as PrepareInput,
					target.fileName,
					'application/fhir+ndjson',
				);
				if (isAborted(runtime)) throw cancelledError();
				const bytes = (binary as IBinaryData & { bytes?: number }).bytes;
				return [
					{
						json: { ...describe(target), bytes, ...(isError ? { errorFile: true } : {}) },
						binary: { [settings.binaryProperty]: binary },
						pairedItem: { item: itemIndex },
					},
				];
			});
		}
		// records
		const records: INodeExecutionData[] = [];
		await withFileRetries(client, target, runtime, {}, async (body) => {
			const result = await parseNdjson(body, {
				fileLabel: target.fileName,
				skip: records.length,
				onRecord: (record) => {
					if (isAborted(runtime)) return false;
					if (isError) {
						errorIssues += Math.max(1, issueCodes(record).length);
						records.push({ json: { errorFile: true, fileName: target.fileName, ...record } as IDataObject, pairedItem: { item: itemIndex } });
						return true;
					}
					if (limit > 0 && emitted >= limit) {
						limitHit = true;
						return false;
					}
					emitted += 1;
					const json = (target.kind === 'deleted' ? { deletedFile: true, ...record } : record) as IDataObject;
					records.push({ json, pairedItem: { item: itemIndex } });
					return true;
				},
			});
			if (isAborted(runtime)) throw cancelledError();
			if (result.stopped && limit > 0 && emitted >= limit) limitHit = true;
		});
		return records;
	};

	const perFile = await runPool(targets, settings.parallel, worker, runtime);
	const items = perFile.flat();

	if (settings.errorFiles === 'warning' && manifest.error.length > 0) {
		const codes = [...codeCounts.entries()].map(([code, n]) => `${code} ×${n}`).join(', ');
		addWarning(
			ctx,
			`The server reported ${errorIssues} problem(s) in ${manifest.error.length} error file(s)${codes ? ` (${codes})` : ''}: some resources were not exported. Set Error Files to "Output as Items" to see them.`,
		);
	}
	if (limitHit) {
		addWarning(
			ctx,
			`Stopped at the limit of ${limit} records: the export holds more. Raise the Limit (0 = none) or use Output "Files".`,
		);
	}

	const complete = !limitHit;
	if (complete && statusUrl !== undefined) await recordExportCompleted(ctx, itemIndex, setup, statusUrl, manifest.transactionTime);
	return { items, complete, files: targets.length, records: emitted, errorIssues };
}

/** One item saying what happened when there is nothing else to output (never a silent empty result). */
export function summaryItem(itemIndex: number, manifest: Manifest, outcome: DownloadOutcome, statusUrl?: string): INodeExecutionData {
	return {
		json: {
			state: 'complete',
			statusUrl,
			transactionTime: manifest.transactionTime,
			outputFiles: manifest.output.length,
			errorFiles: manifest.error.length,
			deletedFiles: manifest.deleted.length,
			records: outcome.records,
			message: 'The export finished and holds no data for these parameters.',
		},
		pairedItem: { item: itemIndex },
	};
}

/**
 * The manifest as plain JSON for an output item. File URLs lose their query string: a pre-signed
 * URL's signature works like a password for as long as it is valid, and output items are stored
 * with the execution. Download reads the full URLs from the status URL when it needs them.
 */
export function manifestJson(manifest: Manifest): IDataObject {
	const all = [...manifest.output, ...manifest.error, ...manifest.deleted];
	const files = (list: Manifest['output']) => list.map((f) => ({ type: f.type, url: publicUrl(f.url), count: f.count }));
	return {
		transactionTime: manifest.transactionTime,
		request: manifest.request,
		requiresAccessToken: manifest.requiresAccessToken,
		output: files(manifest.output),
		error: files(manifest.error),
		deleted: files(manifest.deleted),
		pages: manifest.pages,
		...(all.some((f) => hasQuery(f.url)) ? { fileUrlSignaturesRemoved: true } : {}),
	};
}
