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

/**
 * Reads NDJSON from a stream line by line, without holding more than one line in memory (and never
 * more than `maxLineBytes` of it). Handles lines split across chunks (also inside a multi-byte
 * character), CRLF, blank lines and a last line without a newline (reported: `terminated` false).
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

	const handleLine = (line: Buffer, cutOff = false): boolean => {
		lines += 1;
		let end = line.length;
		if (end > 0 && line[end - 1] === CR) end -= 1;
		let start = 0;
		while (start < end && (line[start] === 0x20 || line[start] === 0x09)) start += 1;
		while (end > start && (line[end - 1] === 0x20 || line[end - 1] === 0x09)) end -= 1;
		if (start === end) return true;
		records += 1;
		if (records <= skip) return true;
		let record: unknown = undefined;
		let valid = true;
		try {
			record = JSON.parse(line.toString('utf8', start, end));
		} catch {
			valid = false;
		}
		if (!valid) throw new NdjsonError(options.fileLabel, lines, cutOff ? 'is not valid JSON and has no line break: the body was cut off' : 'is not valid JSON');
		if (typeof record !== 'object' || record === null || Array.isArray(record)) {
			throw new NdjsonError(options.fileLabel, lines, 'is not a JSON object');
		}
		return options.onRecord(record as Record<string, unknown>, lines) !== false;
	};

	try {
		for await (const raw of stream) {
			const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
			bytes += chunk.length;
			options.onBytes?.(chunk.length);
			let from = 0;
			let at = chunk.indexOf(NEWLINE, from);
			while (at !== -1) {
				let line: Buffer;
				if (pendingLength + at - from > maxLineBytes) throw new LineTooLongError(options.fileLabel, lines + 1, maxLineBytes);
				if (pendingLength > 0) {
					pending.push(chunk.subarray(from, at));
					line = Buffer.concat(pending, pendingLength + at - from);
					pending = [];
					pendingLength = 0;
				} else {
					line = chunk.subarray(from, at);
				}
				if (!handleLine(line)) {
					stopped = true;
					break;
				}
				from = at + 1;
				at = chunk.indexOf(NEWLINE, from);
			}
			if (stopped) break;
			if (from < chunk.length) {
				pending.push(chunk.subarray(from));
				pendingLength += chunk.length - from;
				if (pendingLength > maxLineBytes) throw new LineTooLongError(options.fileLabel, lines + 1, maxLineBytes);
			}
		}
		if (!stopped && pendingLength > 0) {
			const last = Buffer.concat(pending, pendingLength);
			pending = [];
			// blank bytes after the last line break are not a line
			terminated = last.every((byte) => byte === 0x20 || byte === 0x09 || byte === CR);
			if (!handleLine(last, !terminated)) stopped = true;
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
