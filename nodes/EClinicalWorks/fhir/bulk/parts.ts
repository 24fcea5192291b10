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
}

const NEWLINE = 0x0a;

function countRecords(data: Buffer): number {
	let records = 0;
	let start = 0;
	while (start < data.length) {
		let end = data.indexOf(NEWLINE, start);
		if (end === -1) end = data.length;
		for (let i = start; i < end; i++) {
			const byte = data[i];
			if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) {
				records += 1;
				break;
			}
		}
		start = end + 1;
	}
	return records;
}

/**
 * Reads `stream` and calls `onPart` with parts of at most `maxBytes` that end at a line break (a
 * part is longer only when a single line is). Reading waits for `onPart`, so no more than one part
 * and one chunk of the stream are held at a time, and every part is built in the same buffer
 * (a gigabyte file would otherwise leave a gigabyte of garbage for the collector).
 */
export async function splitAtLines(
	stream: BodyStream,
	maxBytes: number,
	onPart: (part: FilePart) => Promise<void>,
): Promise<{ parts: number; bytes: number }> {
	const size = Math.max(1, Math.floor(maxBytes));
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

	const emit = async (data: Buffer) => {
		await onPart({ index, data, records: countRecords(data) });
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
			if (cut === -1) break;
			await emit(take(cut));
		}
	}
	if (length > 0) await emit(take(length));
	return { parts: index, bytes };
}

/** `Patient-1.ndjson`, part 3 of 12 -> `Patient-1.part-003.ndjson`. */
export function partFileName(fileName: string, index: number, parts: number): string {
	const width = Math.max(3, String(parts).length);
	const number = String(index + 1).padStart(width, '0');
	const dot = fileName.lastIndexOf('.');
	return dot > 0 ? `${fileName.slice(0, dot)}.part-${number}${fileName.slice(dot)}` : `${fileName}.part-${number}`;
}
