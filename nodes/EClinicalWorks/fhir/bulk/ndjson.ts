import { FhirError } from '../errors';
import { DEFAULT_LIMITS, LineTooLongError } from './limits';
import type { BodyStream } from './types';

export interface NdjsonOptions {
	/** File name shown in errors (never the URL's query string or the line's content). */
	fileLabel: string;
	/** Records (non-blank lines) to count but not parse or emit: already emitted before a retry. */
	skip?: number;
	/** Called for each record in order; return `false` to stop reading. */
	onRecord: (record: Record<string, unknown>, lineNumber: number) => boolean | void;
	/** Called with every chunk's byte length (progress). */
	onBytes?: (bytes: number) => void;
	/** Longest line held while it is read (Max Line Size); longer stops with LineTooLongError. */
	maxLineBytes?: number;
}

export interface NdjsonResult {
	/** Records seen, including skipped ones. */
	records: number;
	/** Physical lines read. */
	lines: number;
	bytes: number;
	/** Stopped early because `onRecord` returned false. */
	stopped: boolean;
	/** The body ended with a line break (NDJSON ends every line with one). */
	terminated: boolean;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

export class NdjsonError extends FhirError {
	readonly lineNumber: number;
	readonly fileLabel: string;
	/** e.g. "is not valid JSON". */
	readonly problem: string;

	constructor(fileLabel: string, lineNumber: number, problem: string) {
		super(`Line ${lineNumber} of bulk file ${fileLabel} ${problem}`, {
			kind: 'protocol',
			hint: 'The server sent a damaged NDJSON file. Download it again, or use Output "Files" to keep the raw file.',
		});
		this.name = 'NdjsonError';
		this.lineNumber = lineNumber;
		this.fileLabel = fileLabel;
		this.problem = problem;
	}
}

/** Only spaces, tabs and a carriage return: a blank line, not a record. */
const BLANK = /^[ \t\r]*$/;

function byteLength(text: string): number {
	return Buffer.byteLength(text, 'utf8');
}

/**
 * Reads NDJSON from a stream line by line, without holding more than one line in memory (and never
 * more than `maxLineBytes` of it). Handles lines split across chunks (also inside a multi-byte
 * character), CRLF, blank lines and a last line without a newline (reported: `terminated` false).
 *
 * Each chunk's whole lines are decoded to text at once and cut at the line breaks there (one decode
 * per chunk, not per line: a line is a slice of that text); only the line a chunk boundary cuts
 * through is put together from bytes. JSON.parse reads a line as it is (it skips the whitespace and
 * carriage return around it).
 */
export async function parseNdjson(stream: BodyStream, options: NdjsonOptions): Promise<NdjsonResult> {
	const skip = options.skip ?? 0;
	const maxLineBytes = options.maxLineBytes ?? DEFAULT_LIMITS.maxLineBytes;
	let pending: Buffer[] = [];
	let pendingLength = 0;
	let lines = 0;
	let records = 0;
	let bytes = 0;
	let stopped = false;
	let terminated = true;

	const tooLong = (text: string): boolean =>
		text.length > maxLineBytes || (text.length * 3 > maxLineBytes && byteLength(text) > maxLineBytes);

	const handleLine = (line: string, cutOff = false): boolean => {
		lines += 1;
		if (line.length === 0 || (line.charCodeAt(0) !== 0x7b && BLANK.test(line))) return true;
		records += 1;
		if (records <= skip) return true;
		let record: unknown = undefined;
		let valid = true;
		try {
			record = JSON.parse(line);
		} catch {
			valid = false;
		}
		if (!valid) throw new NdjsonError(options.fileLabel, lines, cutOff ? 'is not valid JSON and has no line break: the body was cut off' : 'is not valid JSON');
		if (typeof record !== 'object' || record === null || Array.isArray(record)) {
			throw new NdjsonError(options.fileLabel, lines, 'is not a JSON object');
		}
		return options.onRecord(record as Record<string, unknown>, lines) !== false;
	};

	/** The whole lines in `text` (which ends at a line break), one after the other; false: stop. */
	const handleLines = (text: string): boolean => {
		let from = 0;
		while (from < text.length) {
			let at = text.indexOf('\n', from);
			if (at === -1) at = text.length;
			const line = text.slice(from, at);
			if (tooLong(line)) throw new LineTooLongError(options.fileLabel, lines + 1, maxLineBytes);
			if (!handleLine(line)) return false;
			from = at + 1;
		}
		return true;
	};

	try {
		for await (const raw of stream) {
			const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
			bytes += chunk.length;
			options.onBytes?.(chunk.length);
			const first = chunk.indexOf(NEWLINE);
			if (first === -1) {
				pending.push(chunk);
				pendingLength += chunk.length;
				if (pendingLength > maxLineBytes) throw new LineTooLongError(options.fileLabel, lines + 1, maxLineBytes);
				continue;
			}
			let from = 0;
			if (pendingLength > 0) {
				// the line cut by the chunk boundary, put together from its bytes
				if (pendingLength + first > maxLineBytes) throw new LineTooLongError(options.fileLabel, lines + 1, maxLineBytes);
				pending.push(chunk.subarray(0, first));
				const line = Buffer.concat(pending, pendingLength + first).toString('utf8');
				pending = [];
				pendingLength = 0;
				from = first + 1;
				if (!handleLine(line)) {
					stopped = true;
					break;
				}
			}
			const last = chunk.lastIndexOf(NEWLINE);
			if (last >= from && !handleLines(chunk.toString('utf8', from, last + 1))) {
				stopped = true;
				break;
			}
			if (last + 1 < chunk.length) {
				pending.push(chunk.subarray(last + 1));
				pendingLength += chunk.length - last - 1;
				if (pendingLength > maxLineBytes) throw new LineTooLongError(options.fileLabel, lines + 1, maxLineBytes);
			}
		}
		if (!stopped && pendingLength > 0) {
			const last = Buffer.concat(pending, pendingLength);
			pending = [];
			// blank bytes after the last line break are not a line
			terminated = last.every((byte) => byte === 0x20 || byte === 0x09 || byte === CR);
			if (!handleLine(last.toString('utf8'), !terminated)) stopped = true;
		}
	} finally {
		if (stopped) {
			try {
				stream.destroy?.();
			} catch {
				// closed
			}
		}
	}
	return { records, lines, bytes, stopped, terminated };
}
