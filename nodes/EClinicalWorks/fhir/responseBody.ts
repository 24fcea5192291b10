import { FhirError } from './errors';
import type { HttpRequest, HttpResponse } from './http';
import { serverTextLeftOut } from './operationOutcome';
import { redact } from './redact';
import type { Bundle, FhirResource } from './types';
import { describeRequest } from './urls';

/**
 * Reading response bodies (string or stream) without ever holding more than allowed: the one reader
 * for every JSON answer (search pages, reads, metadata, discovery, tokens, bulk status and manifests).
 * Bytes are counted as they arrive, after decompression, before anything is parsed.
 */

/** The credential settings that raise the bounds (named in the errors, so they cannot drift apart). */
export const MAX_RESPONSE_SIZE_SETTING = 'Max Response Size (MB)';
export const RESPONSE_TIME_LIMIT_SETTING = 'Response Time Limit (Seconds)';
export const LIMITS_TOGGLE_SETTING = 'Response Limits and Error Text';

export interface ResponseLimits {
	/** Most bytes one answer may have (decompressed). */
	maxBytes: number;
	/** Longest one answer may take, from sending the request to its last byte. */
	deadlineMs: number;
}

export const MB = 1024 * 1024;

export const DEFAULT_RESPONSE_LIMITS: ResponseLimits = { maxBytes: 50 * MB, deadlineMs: 120_000 };

/** Bytes of an error answer kept for its diagnostics; the rest is not read. */
export const ERROR_BODY_MAX_BYTES = 64 * 1024;

/** How the transport finishes every answer (built from the credential). */
export interface ResponsePolicy {
	limits: ResponseLimits;
	/** The secrets this execution holds, read when an error answer arrives (client secret, tokens). */
	secrets?: () => Array<string | undefined>;
	/** false: error answers keep their codes only, never the server's own words. Default true. */
	serverText?: boolean;
	now?: () => number;
}

type Chunk = string | Uint8Array;
type Readable = AsyncIterable<Chunk> & { destroy?: (error?: Error) => unknown; resume?: () => unknown };

function isStream(body: unknown): body is Readable {
	return !!body && typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

function formatSize(bytes: number): string {
	if (bytes < MB) return `${bytes} bytes`;
	const mb = bytes / MB;
	return `${mb >= 10 ? Math.round(mb) : Math.round(mb * 10) / 10} MB`;
}

export function tooLargeError(request: string, maxBytes: number): FhirError {
	return new FhirError(`The answer to ${request} is larger than ${formatSize(maxBytes)} (${MAX_RESPONSE_SIZE_SETTING}), so it was not read further`, {
		kind: 'limit',
		request,
		hint:
			`One answer this big is unusual: narrow the search or ask for fewer records per page (Limit). ` +
			`If the server really sends answers this big, raise ${MAX_RESPONSE_SIZE_SETTING} in the credential (turn on ${LIMITS_TOGGLE_SETTING}).`,
	});
}

export function tooSlowError(request: string, deadlineMs: number, bytes: number): FhirError {
	return new FhirError(
		`The answer to ${request} took longer than ${Math.round(deadlineMs / 1000)} s (${RESPONSE_TIME_LIMIT_SETTING}), so it was stopped after ${formatSize(bytes)}`,
		{
			kind: 'limit',
			request,
			hint:
				`The server sent its answer very slowly. Try again later. ` +
				`If its answers are large and the connection is slow, raise ${RESPONSE_TIME_LIMIT_SETTING} in the credential (turn on ${LIMITS_TOGGLE_SETTING}).`,
		},
	);
}

export interface ReadOptions {
	maxBytes: number;
	/** Over maxBytes: 'fail' with an error naming the setting, or 'cut' (diagnostics: keep the start). */
	overflow: 'fail' | 'cut';
	/** ms epoch after which the body is stopped (checked as each piece arrives; a silent server meets the idle timeout). */
	deadlineAt?: number;
	deadlineMs?: number;
	now?: () => number;
	/** The request, for errors: method and URL without query. */
	request?: string;
}

/** Reads a body into text without ever holding more than `maxBytes` of it. */
export async function readBounded(body: HttpResponse['body'] | Uint8Array | null | undefined, options: ReadOptions): Promise<string> {
	const request = options.request ?? 'the request';
	if (body === undefined || body === null) return '';
	if (typeof body === 'string' || body instanceof Uint8Array) {
		const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
		if (text.length <= options.maxBytes) return text;
		if (options.overflow === 'cut') return text.slice(0, options.maxBytes);
		throw tooLargeError(request, options.maxBytes);
	}
	if (!isStream(body)) return '';
	const now = options.now ?? Date.now;
	// the bytes as they came, decoded once at the end: one flat string (one byte per character when the
	// text is ASCII), which JSON.parse reads as fast as n8n's own buffered answers; decoding chunk by
	// chunk and joining the pieces cost the search benchmark a tenth of its time
	const chunks: Uint8Array[] = [];
	let size = 0;
	let failure: FhirError | undefined;
	let stopped = false;
	let finished = false;
	try {
		for await (const chunk of body) {
			const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
			if (size + bytes.length > options.maxBytes) {
				stopped = true;
				if (options.overflow === 'fail') failure = tooLargeError(request, options.maxBytes);
				else {
					chunks.push(bytes.subarray(0, options.maxBytes - size));
					size = options.maxBytes;
				}
				break;
			}
			size += bytes.length;
			chunks.push(bytes);
			if (options.deadlineAt !== undefined && now() > options.deadlineAt) {
				stopped = true;
				if (options.overflow === 'fail') failure = tooSlowError(request, options.deadlineMs ?? 0, size);
				break;
			}
		}
		finished = !stopped;
	} finally {
		// stopped early (a bound, a broken stream): make sure it is released; a body read to its end keeps its connection
		if (!finished) discard(body);
	}
	if (failure) throw failure;
	return Buffer.concat(chunks, size).toString('utf8');
}

/** Text of a body for diagnostics: at most `maxBytes`, the rest left unread. */
export async function readText(body: HttpResponse['body'], maxBytes = ERROR_BODY_MAX_BYTES): Promise<string> {
	return await readBounded(body, { maxBytes, overflow: 'cut' });
}

/** Releases a body nobody will read (so the connection is freed). */
export function discard(body: HttpResponse['body']): void {
	if (body && typeof body !== 'string') {
		const stream = body as unknown as { destroy?: () => void; resume?: () => void };
		if (typeof stream.destroy === 'function') stream.destroy();
		else if (typeof stream.resume === 'function') stream.resume();
	}
}

/**
 * Finishes an answer as every transport hands it on: a success body read within the bounds (a
 * stream when one was asked for), an error body cut to its first 64 KB, its secrets taken out,
 * and with Server Text in Errors off only its codes kept.
 */
export async function finishResponse(
	request: HttpRequest,
	raw: { status: number; headers: Record<string, string>; body: unknown },
	policy: ResponsePolicy,
	startedAt: number,
): Promise<HttpResponse> {
	const { status, headers } = raw;
	const label = describeRequest(request.method, request.url);
	const ok = status >= 200 && status < 300;
	if (ok && request.stream && isStream(raw.body)) return { status, headers, body: raw.body as unknown as HttpResponse['body'] };
	const body = raw.body as HttpResponse['body'] | Uint8Array | null | undefined;
	const deadline = { deadlineAt: startedAt + policy.limits.deadlineMs, deadlineMs: policy.limits.deadlineMs, now: policy.now, request: label };
	if (ok) return { status, headers, body: await readBounded(body, { ...deadline, maxBytes: policy.limits.maxBytes, overflow: 'fail' }) };
	// an error answer that breaks off still has its status: keep what arrived, or nothing
	let text = await readBounded(body, { ...deadline, maxBytes: ERROR_BODY_MAX_BYTES, overflow: 'cut' }).catch(() => '');
	text = redact(text, policy.secrets?.() ?? []);
	if (policy.serverText === false) text = serverTextLeftOut(text);
	return { status, headers, body: text };
}

/** The parsed value, or undefined when the text is not JSON. */
export function parsedJson<T>(text: string): { value: T } | undefined {
	try {
		return { value: JSON.parse(text) as T };
	} catch {
		return undefined;
	}
}

export function notJsonError(request: string): FhirError {
	return new FhirError('The FHIR server answered with something that is not JSON', {
		kind: 'protocol',
		request,
		hint: 'Check that the FHIR base URL points at the FHIR API (for eCW it ends with /fhir/r4/ and the practice code), not at a web page.',
	});
}

/** A JSON answer that arrived cut short or damaged on every try. */
export function brokenPageError(request: string, tries: number): FhirError {
	return new FhirError(`The FHIR server sent a broken answer (cut short or not valid JSON)${tries > 1 ? ` ${tries} times in a row` : ''}`, {
		kind: 'protocol',
		request,
		hint: 'The server or the network broke the answer off: a temporary problem on their side, not in the workflow or the credential. Try again later; if it persists, contact the server operator with the time of the error.',
	});
}

/** Text that starts like JSON: an answer that does not parse was cut short or damaged, not a web page. */
export function looksLikeJson(text: string): boolean {
	return /^\s*[[{]/.test(text);
}

export function asBundle(value: unknown, request: string): Bundle {
	if (!value || typeof value !== 'object' || (value as FhirResource).resourceType !== 'Bundle') {
		throw new FhirError('The FHIR server answered a search with something that is not a Bundle', { kind: 'protocol', request });
	}
	return value as Bundle;
}
