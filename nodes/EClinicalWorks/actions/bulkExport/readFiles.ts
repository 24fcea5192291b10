import type { IBinaryData, IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { checkDelivered, checkNotOver, deliveryProblem, IncompleteFileError } from '../../fhir/bulk/completeness';
import { withFileRetries } from '../../fhir/bulk/download';
import type { DownloadOptions, DownloadTarget, OpenedFile } from '../../fhir/bulk/download';
import { LineScanner } from '../../fhir/bulk/lines';
import { NdjsonError, parseNdjson } from '../../fhir/bulk/ndjson';
import { observeChunks } from '../../fhir/bulk/observe';
import type { NdjsonResult } from '../../fhir/bulk/ndjson';
import { partFileName, splitAtLines } from '../../fhir/bulk/parts';
import type { BodyStream } from '../../fhir/bulk/types';
import { isAborted } from '../../fhir/bulk/types';
import { cancelledError, destroyStream, settle } from '../../fhir/bulk/util';
import type { DownloadSettings } from './output';
import type { BulkSetup } from './setup';

/**
 * One bulk file read into n8n items, in each output mode, with the completeness checks
 * (fhir/bulk/completeness.ts): an attempt whose file does not check out fails, the file is fetched
 * again, and nothing from the failed attempt is output. Files: streamed into n8n's binary storage,
 * whole or in parts, every line counted and checked on the way (lines.ts). Records: parsed line by
 * line.
 */

export interface FileReader {
	ctx: IExecuteFunctions;
	itemIndex: number;
	setup: BulkSetup;
	settings: DownloadSettings;
	/** The item's JSON besides the binary: kind, type, fileName, count, url, transactionTime. */
	describe: (target: DownloadTarget) => IDataObject;
}

type PrepareInput = Parameters<IExecuteFunctions['helpers']['prepareBinaryData']>[0];

function downloadOptions(reader: FileReader): DownloadOptions {
	return { deadlineMs: reader.settings.limits.deadlineMs, maxAttempts: reader.settings.attempts };
}

/** A damaged line stops the attempt at once (the file will be fetched again). */
function damaged(lineNumber: number): IncompleteFileError {
	return new IncompleteFileError(`line ${lineNumber} is not a whole JSON object`);
}

/**
 * Files mode in parts: each part is stored as it is read, so memory holds one part per download.
 * After a connection failure mid-file the parts already stored are read again without being stored
 * twice (bulk files do not change, and a part is only stored once it ends at a line break); after an
 * attempt that did not check out (short, long, cut off, damaged) every part is stored afresh.
 */
export async function storeInParts(reader: FileReader, target: DownloadTarget, isError: boolean): Promise<INodeExecutionData[]> {
	const { ctx, settings, itemIndex, setup } = reader;
	const expected = target.file.count;
	let stored: INodeExecutionData[] = [];
	let startOver = false;
	let recordsInFile: number | undefined;
	await withFileRetries(setup.client, target, setup.runtime, downloadOptions(reader), async (body, _attempt, opened) => {
		if (startOver) stored = [];
		startOver = false;
		const read = await settle(
			splitAtLines(
				body,
				settings.partBytes,
				async (part) => {
					if (settings.verify) {
						if (part.damagedLine !== undefined) throw damaged(part.damagedLine);
						checkNotOver(expected, part.recordsSoFar);
					}
					if (part.index < stored.length) return;
					const binary = await ctx.helpers.prepareBinaryData(part.data, partFileName(target.fileName, part.index, part.index + 1), 'application/fhir+ndjson');
					if (isAborted(setup.runtime)) throw cancelledError();
					stored.push({
						json: { ...reader.describe(target), count: part.records, bytes: part.data.length, ...(isError ? { errorFile: true } : {}) },
						binary: { [settings.binaryProperty]: binary },
						pairedItem: { item: itemIndex },
					});
				},
				{ fileLabel: target.fileName, maxLineBytes: settings.limits.maxLineBytes },
			),
		);
		if (!read.ok) {
			if (read.error instanceof IncompleteFileError) startOver = true;
			throw read.error;
		}
		const { scan } = read.value;
		const problem = settings.verify ? deliveryProblem(expected, { ...scan, declaredBytes: opened.declaredBytes }) : undefined;
		if (problem !== undefined) {
			startOver = true;
			throw new IncompleteFileError(problem);
		}
		recordsInFile = scan.records;
	});
	if (stored.length === 1) {
		// one part: the file as it is, as without splitting
		stored[0].json.count = target.file.count ?? recordsInFile ?? stored[0].json.count;
		stored[0].binary![settings.binaryProperty].fileName = target.fileName;
		return stored;
	}
	stored.forEach((item, index) => {
		const fileName = partFileName(target.fileName, index, stored.length);
		item.binary![settings.binaryProperty].fileName = fileName;
		item.json = { ...item.json, fileName, file: target.fileName, part: index + 1, parts: stored.length };
	});
	return stored;
}

/**
 * Files mode, one item per file: the stream goes straight into n8n's binary storage while a listener
 * counts and checks its lines on the way (the same bytes, read once). A file that does not check out
 * is stored again on the next attempt; the copy of the failed one is left to n8n's clean-up of the
 * execution's binary data.
 */
export async function storeWhole(reader: FileReader, target: DownloadTarget, isError: boolean): Promise<INodeExecutionData[]> {
	const { ctx, settings, itemIndex, setup } = reader;
	const expected = target.file.count;
	return await withFileRetries(setup.client, target, setup.runtime, downloadOptions(reader), async (body, _attempt, opened: OpenedFile) => {
		const scanner = settings.verify ? watchLines(body, target, expected, settings.limits.maxLineBytes) : undefined;
		const stored = await settle(ctx.helpers.prepareBinaryData(body as unknown as PrepareInput, target.fileName, 'application/fhir+ndjson'));
		if (scanner?.problem) throw scanner.problem;
		if (!stored.ok) throw stored.error;
		if (isAborted(setup.runtime)) throw cancelledError();
		let count = expected;
		if (scanner) {
			const scan = scanner.lines.finish();
			checkDelivered(expected, { ...scan, declaredBytes: opened.declaredBytes });
			count = expected ?? scan.records;
		}
		const binary: IBinaryData = stored.value;
		const bytes = (binary as IBinaryData & { bytes?: number }).bytes;
		return [
			{
				json: { ...reader.describe(target), count, bytes, ...(isError ? { errorFile: true } : {}) },
				binary: { [settings.binaryProperty]: binary },
				pairedItem: { item: itemIndex },
			},
		];
	});
}

/** Scans the lines of a stream that n8n's storage reads; a problem stops the stream and is kept. */
function watchLines(body: BodyStream, target: DownloadTarget, expected: number | undefined, maxLineBytes: number): { lines: LineScanner; problem?: unknown } {
	const watch: { lines: LineScanner; problem?: unknown } = { lines: new LineScanner(target.fileName, maxLineBytes) };
	observeChunks(body, (chunk) => {
		if (watch.problem !== undefined) return;
		const pushed = (() => {
			try {
				watch.lines.push(chunk);
				if (watch.lines.damaged !== undefined) return damaged(watch.lines.damaged);
				checkNotOver(expected, watch.lines.records);
				return undefined;
			} catch (error) {
				return error;
			}
		})();
		if (pushed !== undefined) {
			watch.problem = pushed;
			destroyStream(body, pushed instanceof Error ? pushed : undefined);
		}
	});
	return watch;
}

export interface ReadRecords {
	items: INodeExecutionData[];
	/** Output records (not error file records) in `items`. */
	records: number;
	/** OperationOutcome issues in an error file's records. */
	issues: number;
	codes: string[];
	/** Stopped at the Limit before the end of the file. */
	stopped: boolean;
}

function issueCodes(outcome: Record<string, unknown>): string[] {
	const issues = Array.isArray(outcome.issue) ? (outcome.issue as Array<Record<string, unknown>>) : [];
	return issues.map((i) => (typeof i?.code === 'string' ? i.code : 'unknown'));
}

/**
 * Records mode (and error files shown as a warning): one item per line. After a failed attempt the
 * file is read again from its start and what the failed attempt produced is dropped, so no record is
 * output twice, also when a line came twice. `take()` asks for room under the Limit for the next
 * record (false: stop) and `hold()` for an error record output as an item, both within Max Records in
 * Memory (past it they throw); `give(records, items)` hands back what a dropped attempt took.
 */
export async function readRecords(
	reader: FileReader,
	target: DownloadTarget,
	mode: { asItems: boolean; take: () => boolean; give: (records: number, items: number) => void; hold: () => void },
): Promise<ReadRecords> {
	const { settings, itemIndex, setup } = reader;
	const expected = target.file.count;
	const isError = target.kind === 'error';
	let out: ReadRecords = { items: [], records: 0, issues: 0, codes: [], stopped: false };
	await withFileRetries(setup.client, target, setup.runtime, downloadOptions(reader), async (body, _attempt, opened) => {
		mode.give(out.records, out.items.length);
		out = { items: [], records: 0, issues: 0, codes: [], stopped: false };
		const current = out;
		let seen = 0;
		const parsed = await settle(
			parseNdjson(body, {
				fileLabel: target.fileName,
				maxLineBytes: settings.limits.maxLineBytes,
				onRecord: (record) => {
					if (isAborted(setup.runtime)) return false;
					seen += 1;
					if (settings.verify) checkNotOver(expected, seen);
					if (isError) {
						const codes = issueCodes(record);
						current.issues += Math.max(1, codes.length);
						current.codes.push(...codes);
						if (mode.asItems) {
							mode.hold();
							current.items.push({ json: { errorFile: true, fileName: target.fileName, ...record } as IDataObject, pairedItem: { item: itemIndex } });
						}
						return true;
					}
					if (!mode.take()) {
						current.stopped = true;
						return false;
					}
					current.records += 1;
					const json = (target.kind === 'deleted' ? { deletedFile: true, ...record } : record) as IDataObject;
					current.items.push({ json, pairedItem: { item: itemIndex } });
					return true;
				},
			}),
		);
		if (isAborted(setup.runtime)) throw cancelledError();
		if (!parsed.ok) {
			const error = parsed.error;
			if (settings.verify && error instanceof NdjsonError) throw new IncompleteFileError(`line ${error.lineNumber} ${error.problem}`);
			throw error;
		}
		const result: NdjsonResult = parsed.value;
		if (settings.verify && !result.stopped) checkDelivered(expected, { ...result, declaredBytes: opened.declaredBytes });
	});
	return out;
}
