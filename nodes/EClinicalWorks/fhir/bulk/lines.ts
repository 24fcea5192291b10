import { LineTooLongError } from './limits';

/**
 * One pass over an NDJSON body as it is read (Files mode), without holding any of it: counts the
 * records (non-blank lines), checks that each line's first and last non-blank bytes are `{` and `}`
 * (what a cut or merged line almost never keeps), bounds every line's length, and says whether the
 * body ended with a line break. It finds the line breaks with Buffer.indexOf and reads one or two
 * bytes at each line's ends, so it costs little beside the download (docs/bulk-export.md: measured).
 * Records mode parses every line anyway (ndjson.ts).
 */

const NEWLINE = 0x0a;
const OPEN = 0x7b;
const CLOSE = 0x7d;

function blank(byte: number): boolean {
	return byte === 0x20 || byte === 0x09 || byte === 0x0d;
}

export interface ScanResult {
	/** Non-blank lines. */
	records: number;
	bytes: number;
	/** The body ended with a line break (or with blank bytes after the last one). */
	terminated: boolean;
	/** The first line that is not shaped like a JSON object, 1-based. */
	damagedLine?: number;
}

export class LineScanner {
	records = 0;
	bytes = 0;
	/** Physical lines ended so far. */
	private lines = 0;
	private lineBytes = 0;
	/** First and last non-blank byte of the current line (-1: none yet). */
	private first = -1;
	private last = -1;
	private damagedLine?: number;

	constructor(
		private readonly fileLabel: string,
		private readonly maxLineBytes: number,
	) {}

	/** Reads the next bytes of the body; throws LineTooLongError past the bound. */
	push(data: Uint8Array): void {
		const buffer = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
		this.bytes += buffer.length;
		let from = 0;
		while (from < buffer.length) {
			const at = buffer.indexOf(NEWLINE, from);
			const end = at === -1 ? buffer.length : at;
			if (end > from) this.segment(buffer, from, end);
			if (at === -1) break;
			this.endLine();
			from = at + 1;
		}
	}

	/** The number of the line being read (1-based). */
	get lineNumber(): number {
		return this.lines + 1;
	}

	/** The damaged line so far, if any: the caller may stop reading at once. */
	get damaged(): number | undefined {
		return this.damagedLine;
	}

	/** At the end of the body: counts a last line that has no line break (reported as cut off, not as damaged). */
	finish(): ScanResult {
		const open = this.first !== -1;
		if (open) this.endLine(false);
		return { records: this.records, bytes: this.bytes, terminated: !open, damagedLine: this.damagedLine };
	}

	private segment(buffer: Buffer, from: number, end: number): void {
		this.lineBytes += end - from;
		if (this.lineBytes > this.maxLineBytes) throw new LineTooLongError(this.fileLabel, this.lines + 1, this.maxLineBytes);
		let i = from;
		if (this.first === -1) {
			while (i < end && blank(buffer[i])) i++;
			if (i === end) return;
			this.first = buffer[i];
		}
		let j = end - 1;
		while (j >= i && blank(buffer[j])) j--;
		if (j >= i) this.last = buffer[j];
	}

	private endLine(checkShape = true): void {
		this.lines += 1;
		if (this.first !== -1) {
			this.records += 1;
			if (checkShape && this.damagedLine === undefined && (this.first !== OPEN || this.last !== CLOSE)) this.damagedLine = this.lines;
		}
		this.first = -1;
		this.last = -1;
		this.lineBytes = 0;
	}
}
