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
	/** Records output: most items held (records, deleted and error records), each kept in memory by n8n. */
	maxRecords: number;
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

/**
 * 100,000 records: Records output keeps every record as an n8n item, and n8n keeps the items of a run
 * in memory and saves them with the execution as one text (flatted). Measured with `npm run
 * bench:bulk` on ~1 KB Patient records: 345-360 MB of the process's memory per 100,000 records after
 * the run, and 730-740 MB more while n8n saves the execution: about 1.1 GB per 100,000 at the peak.
 * A 2 GB n8n process (250-300 MB at idle) has room for about 160,000 such records; 100,000 leaves
 * room for records half as large again. Files output holds none of this (docs/bulk-export.md).
 */
export const DEFAULT_MAX_RECORDS = 100_000;

export const DEFAULT_LIMITS: FileLimits = {
	maxLineBytes: DEFAULT_MAX_LINE_MB * 1024 * 1024,
	deadlineMs: DEFAULT_FILE_DEADLINE_MINUTES * 60_000,
	maxFiles: DEFAULT_MAX_FILES,
	maxRecords: DEFAULT_MAX_RECORDS,
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

const RECORDS_HINT =
	'Records output keeps every record as an n8n item in memory, and n8n holds them all again while it saves the execution (about 1 GB per 100,000 records), so a larger export can run n8n out of memory. ' +
	`Use Output "Files" for an export this large (files are streamed to n8n's binary storage, not held as items), or narrow it (Resource Types, Since), or set a Limit. Raise Max Records in Memory under ${OPTIONS} only if n8n has the memory to spare.`;

/** The manifest lists more records than Records output may hold: refused before any download. */
export function tooManyRecordsListed(listed: number, maxRecords: number): FhirError {
	return new FhirError(`The export lists ${listed.toLocaleString('en-US')} records, more than Max Records in Memory (${maxRecords.toLocaleString('en-US')}) for Output "Records"`, {
		kind: 'limit',
		hint: RECORDS_HINT,
	});
}

/** Records output went past the bound while reading (the manifest gave no counts): stopped there. */
export function tooManyRecordsRead(maxRecords: number): FhirError {
	return new FhirError(`The export holds more than ${maxRecords.toLocaleString('en-US')} records (Max Records in Memory), too many for Output "Records": the download stopped there`, {
		kind: 'limit',
		hint: RECORDS_HINT,
	});
}

/**
 * Records output: the items an export will make, counted against Max Records in Memory as they are
 * held, and before any download from the manifest's counts where it gives them. A file given back
 * (an attempt that is read again) gives back what it held.
 */
export class RecordsHeld {
	private held = 0;

	constructor(private readonly maxRecords: number) {}

	/**
	 * Refuses before any download when the counts the manifest gives already pass the bound: records
	 * (up to the Limit, 0 = none) and, when they are output as items, error records.
	 */
	checkListed(records: Array<number | undefined>, errorRecords: Array<number | undefined>, limit: number): void {
		const sum = (counts: Array<number | undefined>) => counts.reduce<number>((n, c) => n + (c ?? 0), 0);
		const listed = sum(records);
		const items = (limit > 0 ? Math.min(limit, listed) : listed) + sum(errorRecords);
		if (items > this.maxRecords) throw tooManyRecordsListed(items, this.maxRecords);
	}

	hold(n = 1): void {
		this.held += n;
		if (this.held > this.maxRecords) throw tooManyRecordsRead(this.maxRecords);
	}

	release(n: number): void {
		this.held -= n;
	}
}
