import { DateTime } from 'luxon';
import { sleep } from 'n8n-workflow';
import type { IBinaryData, IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { cancelExport } from '../../fhir/bulk/cancel';
import { planTargets, runPool, withFileRetries } from '../../fhir/bulk/download';
import type { DownloadTarget } from '../../fhir/bulk/download';
import type { BulkLevel, KickoffOptions } from '../../fhir/bulk/kickoff';
import type { Manifest } from '../../fhir/bulk/manifest';
import { parseNdjson } from '../../fhir/bulk/ndjson';
import { partFileName, splitAtLines } from '../../fhir/bulk/parts';
import { exportKey, keyForStatusUrl, readState, recordCompleted } from '../../fhir/bulk/state';
import type { BodyStream, BulkClient, BulkRuntime } from '../../fhir/bulk/types';
import { isAborted } from '../../fhir/bulk/types';
import { cancelledError, hasQuery, publicUrl } from '../../fhir/bulk/util';
import { InputError } from '../../fhir/errors';
import { formatWait } from '../../fhir/retry';
import { logInfo } from '../../transport/report';
import { DEFAULT_FILE_PART_MB, DEFAULT_PARALLEL_DOWNLOADS } from './fields';
import { getFhirClient } from '../../transport';

export interface LongWait {
	ms: number;
	reason: string;
}

export interface BulkSetup {
	client: BulkClient;
	runtime: BulkRuntime;
	ecw: boolean;
	/** Waits of a minute or more in this item, for the output hint (each is also logged as it starts). */
	longWaits: LongWait[];
}


/** The FHIR client with the bulk scope (eCW: system/Group.read), the runtime and the server rules. */
export async function bulkSetup(ctx: IExecuteFunctions, itemIndex: number): Promise<BulkSetup> {
	const fhirClient = await getFhirClient.call(ctx, itemIndex, { bulk: true });
	const client: BulkClient = fhirClient;
	const rules = ctx.getNodeParameter('serverRules', itemIndex, 'auto') as string;
	let ecw = rules === 'ecw';
	if (rules === 'auto') {
		// the credential's eCW environment or an eCW host (not the CapabilityStatement: eCW's lists more
		// export levels than eCW documents serving)
		ecw = fhirClient.knownEcw;
	}
	const signal = typeof ctx.getExecutionCancelSignal === 'function' ? ctx.getExecutionCancelSignal() : undefined;
	const longWaits: LongWait[] = [];
	const runtime: BulkRuntime = {
		sleep: async (ms, abortSignal) => await sleep(ms, abortSignal),
		now: () => Date.now(),
		signal,
		onLongWait: (ms, reason) => {
			longWaits.push({ ms, reason });
			logLongWait(ctx, `waiting ${formatWait(ms)} for ${reason}`);
		},
	};
	return { client, runtime, ecw, longWaits };
}

/** n8n's log (never a token, a URL or a record): what a long-running bulk export is waiting for. */
export function logLongWait(ctx: IExecuteFunctions, message: string): void {
	logInfo(ctx, `Bulk Export: ${message}`);
}

/** One output hint for the waits of a minute or more in this item (they are in n8n's log too). */
export function reportLongWaits(ctx: IExecuteFunctions, setup: BulkSetup): void {
	const waits = setup.longWaits;
	if (waits.length === 0) return;
	const total = waits.reduce((sum, w) => sum + w.ms, 0);
	const longest = [...waits].sort((a, b) => b.ms - a.ms).slice(0, 3);
	const detail = longest.map((w) => `${formatWait(w.ms)} for ${w.reason}`).join('; ');
	addHint(
		ctx,
		`Waited longer than a minute ${waits.length === 1 ? 'once' : `${waits.length} times`} (${formatWait(total)} in all): ${detail}.`,
		'info',
	);
}

/**
 * Best-effort DELETE of the export when the execution is cancelled while this node waits for it or
 * downloads it (where n8n lets the node notice). Returns the function that ends that watch.
 */
export function cancelOnAbort(ctx: IExecuteFunctions, setup: BulkSetup, statusUrl: () => string | undefined): () => void {
	let watching = true;
	if (typeof ctx.onExecutionCancellation === 'function') {
		ctx.onExecutionCancellation(() => {
			const url = statusUrl();
			if (watching && url) void cancelExport(setup.client, url).catch(() => undefined);
		});
	}
	return () => {
		watching = false;
	};
}

function splitList(value: unknown): string[] {
	if (Array.isArray(value)) return value.map(String).map((v) => v.trim()).filter((v) => v !== '');
	if (typeof value === 'string') return value.split(',').map((v) => v.trim()).filter((v) => v !== '');
	return [];
}

function readGroupId(ctx: IExecuteFunctions, itemIndex: number): string {
	const raw = ctx.getNodeParameter('groupId', itemIndex, '', { extractValue: true }) as unknown;
	let id = typeof raw === 'string' ? raw.trim() : String(raw ?? '').trim();
	// accept "Group/123" or a full URL pasted by the user
	const match = /(?:^|\/)Group\/([^/?#]+)\/?(?:[?#].*)?$/.exec(id);
	if (match) id = match[1];
	return id;
}

export interface ExportRequest {
	options: KickoffOptions;
	key: string;
	sinceMode: string;
}

/** Reads the export fields into kick-off options (without _since for "last successful"). */
export function readExportRequest(ctx: IExecuteFunctions, itemIndex: number, setup: BulkSetup): ExportRequest {
	const level = ctx.getNodeParameter('level', itemIndex, 'group') as BulkLevel;
	const groupId = level === 'group' ? readGroupId(ctx, itemIndex) : undefined;
	const types = splitList(ctx.getNodeParameter('resourceTypes', itemIndex, []));
	const params = ctx.getNodeParameter('exportParameters', itemIndex, {}) as IDataObject;
	const sinceMode = ctx.getNodeParameter('sinceMode', itemIndex, 'none') as string;
	let since: string | undefined;
	if (sinceMode === 'date') {
		const raw = ctx.getNodeParameter('sinceDate', itemIndex, '') as unknown;
		since = toInstant(raw, ctx.getTimezone());
	}
	const options: KickoffOptions = {
		level,
		groupId,
		types,
		since,
		typeFilter: splitList(params.typeFilter),
		elements: splitList(params.elements),
		outputFormat: params.outputFormat === undefined ? 'application/fhir+ndjson' : (params.outputFormat as string) || undefined,
		method: (params.method as 'GET' | 'POST' | undefined) ?? 'GET',
		ecw: setup.ecw,
	};
	const key = exportKey({ baseUrl: setup.client.baseUrl, level, groupId, types });
	return { options, key, sinceMode };
}

/** A date-time from the date picker (or an expression) as a FHIR instant with an offset. */
export function toInstant(raw: unknown, zone: string): string {
	let value: DateTime;
	if (raw instanceof Date) value = DateTime.fromJSDate(raw);
	else if (DateTime.isDateTime(raw)) value = raw;
	else if (typeof raw === 'string' && raw.trim() !== '') value = DateTime.fromISO(raw.trim(), { zone, setZone: true });
	else throw new InputError('Changed Since', 'is empty', 'Pick a date and time, or choose Since "Everything".');
	if (!value.isValid) throw new InputError('Changed Since', 'is not a valid date and time', 'Pick a date and time, e.g. 2025-01-06T00:00:00.');
	return value.toISO({ suppressMilliseconds: true }) as string;
}

/** eClinicalWorks notes about what some types export (shown as hints, never blocking). */
export function ecwTypeNotes(ctx: IExecuteFunctions, setup: BulkSetup, request: ExportRequest): void {
	if (!setup.ecw) return;
	const types = request.options.types ?? [];
	const all = types.length === 0;
	const notes: string[] = [];
	const wide = ['Practitioner', 'Location'].filter((t) => all || types.includes(t));
	if (wide.length > 0) {
		notes.push(`eClinicalWorks exports every ${wide.join(' and ')} in the EMR, not only those linked to the Group's patients`);
	}
	if (types.includes('DocumentReference')) notes.push('eClinicalWorks DocumentReference exports also pull the documents (Binary): expect large files');
	for (const note of notes) addHint(ctx, `${note}.`, 'info');
}

/** Applies "since last successful export" from workflow static data. */
export function applySince(ctx: IExecuteFunctions, request: ExportRequest): void {
	if (request.sinceMode !== 'lastSuccess') return;
	const state = readState(ctx.getWorkflowStaticData('node'), request.key);
	request.options.since = state.lastTransactionTime;
}

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

export function addHint(ctx: IExecuteFunctions, message: string, type: 'info' | 'warning'): void {
	const withHints = ctx as IExecuteFunctions & { addExecutionHints?: IExecuteFunctions['addExecutionHints'] };
	if (typeof withHints.addExecutionHints === 'function') {
		withHints.addExecutionHints({ message, type, location: 'outputPane' });
	}
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
	if (complete && statusUrl !== undefined) {
		const staticData = ctx.getWorkflowStaticData('node');
		const key = keyForStatusUrl(staticData, statusUrl);
		if (key) recordCompleted(staticData, key, manifest.transactionTime, new Date(), statusUrl);
	}
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
