import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { planTargets, runPool } from '../../fhir/bulk/download';
import type { DownloadTarget } from '../../fhir/bulk/download';
import { checkFileCount, DEFAULT_LIMITS, RecordsHeld } from '../../fhir/bulk/limits';
import type { FileLimits } from '../../fhir/bulk/limits';
import type { Manifest } from '../../fhir/bulk/manifest';
import { hasQuery, publicUrl } from '../../fhir/bulk/util';
import { InputError } from '../../fhir/errors';
import { splitsFiles } from './binaryStorage';
import type { SplitFiles } from './binaryStorage';
import { DEFAULT_FILE_PART_MB, DEFAULT_PARALLEL_DOWNLOADS } from './fields';
import { readRecords, storeInParts, storeWhole } from './readFiles';
import type { FileReader } from './readFiles';
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
	/** Files mode: split always, never, or where n8n's binary storage holds items in memory (binaryStorage.ts). */
	split: SplitFiles;
	/** Max Line Size, File Timeout, Max Files (Download Options). */
	limits: FileLimits;
	/** Verify Files: compare each file with the manifest's count and check its lines. */
	verify: boolean;
	/** Attempts per File (first one included). */
	attempts: number;
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
		split: mode === 'files' ? (ctx.getNodeParameter('splitFiles', itemIndex, 'auto') as SplitFiles) : 'never',
		...readDownloadOptions(ctx, itemIndex),
	};
}

/** A number of 1 or more from the Download Options, else the default; a bad value names its field. */
function positiveOption(options: IDataObject, name: string, field: string, fallback: number): number {
	const raw = options[name];
	if (raw === undefined || raw === null || raw === '') return fallback;
	const value = Number(raw);
	if (!Number.isFinite(value) || value <= 0) {
		throw new InputError(field, `"${String(raw).slice(0, 20)}" is not a number above 0`, `Enter a number above 0, or remove the option for the default (${fallback}).`);
	}
	return value;
}

function readDownloadOptions(ctx: IExecuteFunctions, itemIndex: number): { limits: FileLimits; verify: boolean; attempts: number } {
	const options = (ctx.getNodeParameter('downloadOptions', itemIndex, {}) ?? {}) as IDataObject;
	const mb = 1024 * 1024;
	return {
		limits: {
			maxLineBytes: Math.round(positiveOption(options, 'maxLineMb', 'Max Line Size (MB)', DEFAULT_LIMITS.maxLineBytes / mb) * mb),
			deadlineMs: Math.round(positiveOption(options, 'fileTimeoutMinutes', 'File Timeout (Minutes)', DEFAULT_LIMITS.deadlineMs / 60_000) * 60_000),
			maxFiles: Math.floor(positiveOption(options, 'maxFiles', 'Max Files', DEFAULT_LIMITS.maxFiles)),
			maxRecords: Math.floor(positiveOption(options, 'maxRecords', 'Max Records in Memory', DEFAULT_LIMITS.maxRecords)),
		},
		verify: options.verifyFiles !== false,
		attempts: Math.min(20, Math.floor(positiveOption(options, 'fileAttempts', 'Attempts per File', 5))),
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

/**
 * Downloads every file of a manifest (output, then deleted, then error files), `parallel` at a time,
 * after checking the manifest lists no more than Max Files. Each file is read by readFiles.ts: Files
 * mode streams it into n8n's binary data storage, Records mode parses it line by line, and either way
 * a file that does not arrive whole is fetched again, with nothing output twice.
 */
export async function downloadManifest(
	ctx: IExecuteFunctions,
	itemIndex: number,
	setup: BulkSetup,
	manifest: Manifest,
	settings: DownloadSettings,
	statusUrl?: string,
): Promise<DownloadOutcome> {
	const targets: DownloadTarget[] = [
		...planTargets(manifest.output, 'output'),
		...planTargets(manifest.deleted, 'deleted'),
		...planTargets(manifest.error, 'error'),
	];
	checkFileCount(targets.length, settings.limits);
	let emitted = 0;
	let limitHit = false;
	let errorIssues = 0;
	const codeCounts = new Map<string, number>();
	const limit = settings.limit;

	const reader: FileReader = {
		ctx,
		itemIndex,
		setup,
		settings,
		describe: (target) => ({
			kind: target.kind,
			type: target.file.type,
			fileName: target.fileName,
			count: target.file.count,
			url: publicUrl(target.file.url),
			transactionTime: manifest.transactionTime,
		}),
	};
	const held = new RecordsHeld(settings.limits.maxRecords);
	if (settings.mode === 'records') {
		const errorsAsItems = settings.errorFiles === 'items' ? manifest.error : [];
		held.checkListed([...manifest.output, ...manifest.deleted].map((f) => f.count), errorsAsItems.map((f) => f.count), limit);
	}
	/** Room under the Records Limit for one more record (within Max Records in Memory, or it throws). */
	const take = () => {
		if (limit > 0 && emitted >= limit) {
			limitHit = true;
			return false;
		}
		held.hold();
		emitted += 1;
		return true;
	};
	const give = (records: number, items: number) => {
		emitted -= records;
		held.release(items);
	};

	const inParts = settings.mode === 'files' && targets.length > 0 ? (await splitsFiles(ctx, settings.split, settings.partBytes)).split : false;
	const worker = async (target: DownloadTarget): Promise<INodeExecutionData[]> => {
		const isError = target.kind === 'error';
		const warnOnly = isError && settings.errorFiles === 'warning';
		if (settings.mode === 'files' && !warnOnly) {
			return inParts ? await storeInParts(reader, target, isError) : await storeWhole(reader, target, isError);
		}
		const read = await readRecords(reader, target, { asItems: !warnOnly, take, give, hold: () => held.hold() });
		errorIssues += read.issues;
		if (warnOnly) for (const code of read.codes) codeCounts.set(code, (codeCounts.get(code) ?? 0) + 1);
		return read.items;
	};

	const perFile = await runPool(targets, settings.parallel, worker, setup.runtime);
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
export function summaryItem(itemIndex: number, manifest: Manifest, outcome: DownloadOutcome, statusUrl?: string, typesLeftOut?: string[]): INodeExecutionData {
	return {
		json: {
			state: 'complete',
			statusUrl,
			transactionTime: manifest.transactionTime,
			outputFiles: manifest.output.length,
			errorFiles: manifest.error.length,
			deletedFiles: manifest.deleted.length,
			records: outcome.records,
			...(typesLeftOut ? { typesLeftOut } : {}),
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
