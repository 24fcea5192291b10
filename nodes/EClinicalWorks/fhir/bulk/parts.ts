import { DEFAULT_LIMITS, LineTooLongError } from './limits';
import { LineScanner } from './lines';
import type { ScanResult } from './lines';
import type { BodyStream } from './types';

/**
 * Files mode's parts: a bulk file read from its stream and handed on in pieces of bounded size,
 * each ending at a line break, so every part is a valid NDJSON file on its own. n8n's database
 * binary mode (its default in queue mode) holds a whole binary item in memory while it stores it,
 * and refuses items over its size limit: parts keep both in check.
 */

export interface FilePart {
	/** 0-based position of the part in the file. */
	index: number;
	/** Valid until `onPart` resolves: the next part is read into the same memory. */
	data: Buffer;
	/** Non-blank lines (records) in the part. */
	records: number;
	/** Records in this part and the ones before it. */
	recordsSoFar: number;
	/** The first line so far that is not shaped like a JSON object (lines.ts), 1-based in the file. */
	damagedLine?: number;
}

export interface SplitOptions {
	/** File name for errors. */
	fileLabel?: string;
	/** Longest line held (Max Line Size): a longer one stops with LineTooLongError, before it is held whole. */
	maxLineBytes?: number;
}

const NEWLINE = 0x0a;

/**
 * Reads `stream` and calls `onPart` with parts of at most `maxBytes` that end at a line break (a
 * part is longer only when a single line is, up to `maxLineBytes`). Reading waits for `onPart`, so no
 * more than one part and one chunk of the stream are held at a time, and every part is built in the
 * same buffer (a gigabyte file would otherwise leave a gigabyte of garbage for the collector). Each
 * part's lines are counted and checked once, as it is handed on (lines.ts); `scan` says what the
 * whole body held.
 */
export async function splitAtLines(
	stream: BodyStream,
	maxBytes: number,
	onPart: (part: FilePart) => Promise<void>,
	options: SplitOptions = {},
): Promise<{ parts: number; bytes: number; scan: ScanResult }> {
	const size = Math.max(1, Math.floor(maxBytes));
	const fileLabel = options.fileLabel ?? 'file';
	const maxLineBytes = options.maxLineBytes ?? DEFAULT_LIMITS.maxLineBytes;
	const scanner = new LineScanner(fileLabel, maxLineBytes);
	const chunks: Buffer[] = [];
	let length = 0;
	let bytes = 0;
	let index = 0;
	/** A line longer than a part is pending: its first `size` bytes hold no line break. */
	let longLine = false;
	/** Bytes of the pending data already searched for the end of that long line. */
	let searchedPastSize = 0;

	/** Offset just after the last line break within the first `size` bytes, else after the first one past them; -1: none yet. */
	const findCut = (): number => {
		let offset = 0;
		if (!longLine) {
			let lastWithin = -1;
			for (const chunk of chunks) {
				if (offset >= size) break;
				const at = chunk.lastIndexOf(NEWLINE, Math.min(chunk.length, size - offset) - 1);
				if (at !== -1) lastWithin = offset + at + 1;
				offset += chunk.length;
			}
			if (lastWithin !== -1) return lastWithin;
			longLine = true;
			offset = 0;
		}
		for (const chunk of chunks) {
			const from = Math.max(0, Math.max(size, searchedPastSize) - offset);
			if (from < chunk.length) {
				const at = chunk.indexOf(NEWLINE, from);
				if (at !== -1) return offset + at + 1;
			}
			offset += chunk.length;
		}
		searchedPastSize = length;
		return -1;
	};

	let reused: Buffer | undefined;
	/** Removes the first `cut` bytes from the pending chunks, as one buffer (the reused one unless a line is longer than a part). */
	const take = (cut: number): Buffer => {
		let out: Buffer;
		if (cut <= size) {
			reused ??= Buffer.allocUnsafe(size);
			out = reused.subarray(0, cut);
		} else {
			out = Buffer.allocUnsafe(cut);
		}
		let filled = 0;
		while (filled < cut) {
			const chunk = chunks[0];
			const need = cut - filled;
			if (chunk.length <= need) {
				chunk.copy(out, filled);
				filled += chunk.length;
				chunks.shift();
			} else {
				chunk.copy(out, filled, 0, need);
				chunks[0] = chunk.subarray(need);
				filled += need;
			}
		}
		length -= cut;
		longLine = false;
		searchedPastSize = 0;
		return out;
	};

	let scan: ScanResult | undefined;
	const emit = async (data: Buffer, last: boolean) => {
		const before = scanner.records;
		scanner.push(data);
		if (last) scan = scanner.finish();
		await onPart({ index, data, records: scanner.records - before, recordsSoFar: scanner.records, damagedLine: scanner.damaged });
		index += 1;
	};

	for await (const raw of stream) {
		const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
		if (chunk.length === 0) continue;
		bytes += chunk.length;
		chunks.push(chunk);
		length += chunk.length;
		while (length >= size) {
			const cut = findCut();
			if (cut === -1) {
				// everything pending is one line with no end yet: stop before holding more than the bound
				if (length > maxLineBytes) throw new LineTooLongError(fileLabel, scanner.lineNumber, maxLineBytes);
				break;
			}
			await emit(take(cut), false);
		}
	}
	if (length > 0) await emit(take(length), true);
	return { parts: index, bytes, scan: scan ?? scanner.finish() };
}

/** `Patient-1.ndjson`, part 3 of 12 -> `Patient-1.part-003.ndjson`. */
export function partFileName(fileName: string, index: number, parts: number): string {
	const width = Math.max(3, String(parts).length);
	const number = String(index + 1).padStart(width, '0');
	const dot = fileName.lastIndexOf('.');
	return dot > 0 ? `${fileName.slice(0, dot)}.part-${number}${fileName.slice(dot)}` : `${fileName}.part-${number}`;
}
