import { FhirError } from '../errors';

/**
 * The bounds on what a bulk file server may make the node hold or wait for, each with a default and
 * a setting in the node's Download Options, and the errors that name that setting.
 */

export interface FileLimits {
	/** Longest NDJSON line (bytes). A line is held whole while it is read (Records, parts). */
	maxLineBytes: number;
	/** Longest one download of one file may take, first byte to last, beside the idle timeout. */
	deadlineMs: number;
	/** Most files one manifest may list (output, deleted and error files together). */
	maxFiles: number;
}

/**
 * 64 MB: a line is one FHIR resource, and most are a few kilobytes; a Binary or a DocumentReference
 * with its document inline can be tens of megabytes (eCW's DocumentReference exports pull Binary).
 */
export const DEFAULT_MAX_LINE_MB = 64;
/** 60 minutes: a 1 GB file at 300 KB/s. */
export const DEFAULT_FILE_DEADLINE_MINUTES = 60;
/** 1,000 files: one item (or more) each in Files mode, and one request each (eCW counts them). */
export const DEFAULT_MAX_FILES = 1000;

export const DEFAULT_LIMITS: FileLimits = {
	maxLineBytes: DEFAULT_MAX_LINE_MB * 1024 * 1024,
	deadlineMs: DEFAULT_FILE_DEADLINE_MINUTES * 60_000,
	maxFiles: DEFAULT_MAX_FILES,
};

const OPTIONS = 'Download Options';

function size(bytes: number): string {
	if (bytes < 1024) return `${bytes} byte${bytes === 1 ? '' : 's'}`;
	if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
	const mb = bytes / (1024 * 1024);
	return mb >= 10 ? `${Math.round(mb)} MB` : `${Number(mb.toFixed(2))} MB`;
}

/** A line longer than the bound: stops at once (no retry: the server sends the same file again). */
export class LineTooLongError extends FhirError {
	constructor(fileLabel: string, lineNumber: number, maxLineBytes: number) {
		super(`Line ${lineNumber} of bulk file ${fileLabel} is longer than ${size(maxLineBytes)} (Max Line Size): reading stopped there`, {
			kind: 'protocol',
			hint: `A line holds one resource and is kept in memory while it is read. If the server really exports resources this large (a document inline in a Binary or DocumentReference), raise Max Line Size (MB) under ${OPTIONS}; otherwise the file is damaged (a missing line break): ask the server operator.`,
		});
		this.name = 'LineTooLongError';
	}
}

/** A download that ran past the deadline (a body that drips keeps the idle timeout from firing). */
export class FileDeadlineError extends FhirError {
	constructor(fileLabel: string, deadlineMs: number, bytes: number) {
		const minutes = deadlineMs / 60_000;
		const limit = minutes >= 1 ? `${Number(minutes.toFixed(1))} minutes` : `${Math.round(deadlineMs / 1000)} seconds`;
		super(`Bulk file ${fileLabel} did not finish downloading within ${limit} (File Timeout): ${size(bytes)} had arrived`, {
			kind: 'protocol',
			hint: `The server sent the file too slowly. Raise File Timeout (Minutes) under ${OPTIONS} if the files are large and the link slow, or run Download again later with the same status URL.`,
		});
		this.name = 'FileDeadlineError';
	}
}

/** A manifest listing more files than the bound, refused before any download. */
export function tooManyFiles(listed: number, maxFiles: number): FhirError {
	return new FhirError(`The export lists ${listed.toLocaleString('en-US')} files, more than Max Files (${maxFiles.toLocaleString('en-US')})`, {
		kind: 'protocol',
		hint: `Each file becomes at least one item (Files) and one request. Narrow the export (Resource Types, Since) or raise Max Files under ${OPTIONS}.`,
	});
}

export function checkFileCount(listed: number, limits: FileLimits): void {
	if (listed > limits.maxFiles) throw tooManyFiles(listed, limits.maxFiles);
}
