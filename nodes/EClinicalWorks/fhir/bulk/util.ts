import { FhirError } from '../errors';
import { headerValue } from '../http';
import type { HttpResponse } from '../http';
import { parseErrorBody } from '../operationOutcome';
import { DEFAULT_RESPONSE_LIMITS, readBounded } from '../responseBody';
import { LONG_WAIT_MS } from '../retry';
import { describeRequest } from '../urls';
import type { BodyStream, BulkRuntime } from './types';

/** The same Retry-After parser as the FHIR client's (delta seconds, HTTP date, epoch time points). */
export { parseRetryAfter } from '../retry';

/** Milliseconds until the next minute boundary (eCW: a 429 blocks the rest of the minute). */
export function untilNextMinute(now: number): number {
	return 60000 - (now % 60000);
}

/** Request label for errors: method and path only, never the query string. */
export const requestLabel = describeRequest;

/**
 * A URL for output items: origin and path, no query string or fragment. Pre-signed file URLs carry
 * their signature in the query, and it works like a password for as long as it is valid.
 */
export function publicUrl(url: string): string {
	try {
		const parsed = new URL(url);
		return `${parsed.origin}${parsed.pathname}`;
	} catch {
		return '';
	}
}

/** True when the URL has a query string (e.g. a pre-signed URL's signature). */
export function hasQuery(url: string): boolean {
	try {
		return new URL(url).search !== '';
	} catch {
		return false;
	}
}

export function pathOf(url: string): string {
	try {
		return new URL(url).pathname;
	} catch {
		return '';
	}
}

export function originOf(url: string): string | undefined {
	try {
		return new URL(url).origin;
	} catch {
		return undefined;
	}
}

export function sameOrigin(a: string, b: string): boolean {
	const oa = originOf(a);
	return oa !== undefined && oa === originOf(b);
}

/**
 * A whole body as text: the transport has already read every answer except bulk files within the
 * credential's bounds, so this only bounds what is left (a stream: the default Max Response Size).
 */
export async function readText(body: HttpResponse['body']): Promise<string> {
	// text was read by the transport, within the credential's own Max Response Size
	if (typeof body === 'string') return body;
	return await readBounded(body, { maxBytes: DEFAULT_RESPONSE_LIMITS.maxBytes, overflow: 'fail' });
}

export function destroyStream(body: HttpResponse['body'], error?: Error): void {
	if (typeof body === 'string') return;
	const stream = body as BodyStream;
	try {
		if (typeof stream.destroy === 'function') stream.destroy(error);
	} catch {
		// already closed
	}
}

/** Build a FhirError from a response we did not expect, reading its OperationOutcome. */
export async function errorFromResponse(
	response: HttpResponse,
	message: string,
	method: string,
	url: string,
	hint?: string,
): Promise<FhirError> {
	let text = '';
	try {
		text = await readText(response.body);
	} catch {
		// body unreadable: keep the status
	}
	return new FhirError(`${message} (HTTP ${response.status})`, {
		kind: response.status === 429 ? 'rateLimit' : 'http',
		status: response.status,
		outcome: parseErrorBody(text),
		hint,
		request: requestLabel(method, url),
	});
}

/**
 * Sleep that ends early when the execution is cancelled. A wait of a minute or more is reported
 * first (`runtime.onLongWait`) with `reason`: what the package is waiting for, never a URL.
 */
export async function pause(runtime: BulkRuntime, ms: number, reason = 'a pause between retries'): Promise<void> {
	if (ms <= 0 || runtime.signal?.aborted) return;
	if (ms >= LONG_WAIT_MS) runtime.onLongWait?.(ms, reason);
	const slept = await settle(runtime.sleep(ms, runtime.signal));
	// n8n's sleep rejects when the signal fires: the caller checks the signal and stops
	if (!slept.ok && !runtime.signal?.aborted) throw slept.error;
}

/** Exponential backoff with jitter: base * 2^attempt, capped. */
export function backoff(attempt: number, baseMs: number, capMs: number): number {
	const raw = Math.min(capMs, baseMs * 2 ** attempt);
	return Math.round(raw * (0.8 + Math.random() * 0.4));
}

export function cancelledError(): FhirError {
	return new FhirError('The execution was cancelled', { kind: 'network' });
}

export function isNetworkError(error: unknown): boolean {
	if (error instanceof FhirError) return error.kind === 'network';
	if (!(error instanceof Error)) return false;
	const code = (error as { code?: unknown }).code;
	if (typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|ECONNABORTED|ERR_STREAM_PREMATURE_CLOSE|UND_ERR_SOCKET|ABORT_ERR|ERR_HTTP2_STREAM_ERROR|EAI_AGAIN)$/.test(code))
		return true;
	return /aborted|socket hang up|terminated|premature close|ECONNRESET/i.test(error.message);
}

export function header(response: HttpResponse, name: string): string | undefined {
	return headerValue(response.headers, name);
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Resolves to the value or the error, so callers decide what to throw outside any catch block. */
export async function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
	return await promise.then(
		(value): Settled<T> => ({ ok: true, value }),
		(error: unknown): Settled<T> => ({ ok: false, error }),
	);
}
