import { FhirError } from '../errors';
import { requestLabel } from './util';

/**
 * Whether a bulk file arrived whole. A body can end cleanly at the HTTP level and still be short (a
 * close-delimited body that stops at a line break), so what arrived is compared with what the server
 * said: the manifest's `count` (records read in Records mode, lines stored in Files mode, across
 * parts), the Content-Length when the body was not decompressed on the way, the final line break
 * (NDJSON ends every line with one) and each line's JSON. A mismatch is a failed attempt: the file is
 * fetched again, and what an attempt produced is never output unless the whole file checks out.
 */

export interface Delivered {
	records: number;
	bytes: number;
	/** The body ended with a line break. */
	terminated: boolean;
	/** The first damaged line (not JSON, or not shaped like an object), 1-based. */
	damagedLine?: number;
	/** Content-Length of the body as sent, when it can be compared with the bytes read. */
	declaredBytes?: number;
}

/** A failed attempt at one file: retried, then reported with what was expected and what arrived. */
export class IncompleteFileError extends Error {
	constructor(readonly problem: string) {
		super(problem);
		this.name = 'IncompleteFileError';
	}
}

function records(n: number): string {
	return `${n.toLocaleString('en-US')} record${n === 1 ? '' : 's'}`;
}

/** What is wrong with a delivery, or undefined when it checks out. */
export function deliveryProblem(expected: number | undefined, got: Delivered): string | undefined {
	if (got.damagedLine !== undefined) return `line ${got.damagedLine} is not a whole JSON object (${records(got.records)} arrived)`;
	if (got.declaredBytes !== undefined && got.bytes !== got.declaredBytes) {
		return `the server announced ${got.declaredBytes.toLocaleString('en-US')} bytes (Content-Length) and ${got.bytes.toLocaleString('en-US')} arrived`;
	}
	if (expected !== undefined && got.records < expected) {
		return `the manifest lists ${records(expected)} and ${got.records.toLocaleString('en-US')} arrived${got.terminated ? ' (the body ended early, at a line break)' : ''}`;
	}
	if (expected !== undefined && got.records > expected) {
		return `the manifest lists ${records(expected)} and ${got.records.toLocaleString('en-US')} arrived (more than listed: a line sent twice?)`;
	}
	if (!got.terminated) return `its last line has no line break: the body was cut off (${records(got.records)} arrived)`;
	return undefined;
}

export function checkDelivered(expected: number | undefined, got: Delivered): void {
	const problem = deliveryProblem(expected, got);
	if (problem) throw new IncompleteFileError(problem);
}

/** More records than the manifest lists: no need to read the rest of the file. */
export function checkNotOver(expected: number | undefined, recordsSoFar: number): void {
	if (expected !== undefined && recordsSoFar > expected) {
		throw new IncompleteFileError(`the manifest lists ${records(expected)} and more arrived (more than listed: a line sent twice?)`);
	}
}

/** The error after the last attempt: the file, what was expected and what arrived. */
export function incompleteError(fileLabel: string, url: string, attempts: number, problem: string): FhirError {
	return new FhirError(`Bulk file ${fileLabel} did not arrive whole in ${attempts} attempt${attempts === 1 ? '' : 's'}: ${problem}`, {
		kind: 'protocol',
		hint: 'Nothing from this file was output. The server ended or damaged the file the same way each time: run Download again later with the same status URL, and if it keeps failing, report it to the server operator (the export itself may be faulty).',
		request: requestLabel('GET', url),
	});
}

/**
 * The body's Content-Length when the bytes read can be compared with it: sent, and the body not
 * decompressed on the way (a decoded body is longer than its Content-Length, and n8n's HTTP client
 * drops the Content-Encoding header when it decodes, so a decoded body is recognised by its stream:
 * the raw one is the HTTP response itself, which carries its status code).
 */
export function comparableLength(headers: Record<string, string>, body: unknown): number | undefined {
	const raw = headers['content-length'];
	if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
	const encoding = (headers['content-encoding'] ?? 'identity').toLowerCase();
	if (encoding !== 'identity') return undefined;
	if (typeof (body as { statusCode?: unknown } | null)?.statusCode !== 'number') return undefined;
	return Number(raw);
}
