import { FhirError } from '../errors';
import type { HttpResponse } from '../http';
import { comparableLength, IncompleteFileError, incompleteError } from './completeness';
import { DEFAULT_LIMITS, FileDeadlineError } from './limits';
import type { ManifestFile } from './manifest';
import { observeChunks } from './observe';
import { isAborted } from './types';
import type { BodyStream, BulkClient, BulkRuntime } from './types';
import {
	backoff,
	cancelledError,
	destroyStream,
	errorFromResponse,
	header,
	isNetworkError,
	parseRetryAfter,
	pathOf,
	pause,
	requestLabel,
	sameOrigin,
	settle,
} from './util';

export type FileKind = 'output' | 'error' | 'deleted';

export interface DownloadTarget {
	file: ManifestFile;
	kind: FileKind;
	/** Stable name for the file, e.g. `Patient-1.ndjson`. */
	fileName: string;
}

export interface DownloadOptions {
	/** Files downloaded at the same time (the node's default: 5, see DEFAULT_PARALLEL_DOWNLOADS). */
	concurrency?: number;
	/** Attempts per file, first one included (default 5). */
	maxAttempts?: number;
	backoffBaseMs?: number;
	backoffCapMs?: number;
	/** Longest wait honoured from a Retry-After on a file (default 10 min; waits over a minute are reported). */
	maxRetryAfterMs?: number;
	/** Longest one download of the file may take (File Timeout; default 60 minutes). */
	deadlineMs?: number;
}

/** An opened file: its body, and its Content-Length where the bytes read can be compared with it. */
export interface OpenedFile {
	body: BodyStream;
	declaredBytes?: number;
}

const FILE_ACCEPT = [200, 404, 410, 429, 500, 502, 503, 504];

/** Names files `<Type>-<n>.ndjson` (n counts per type and kind), errors `errors-<n>.ndjson`. */
export function planTargets(files: ManifestFile[], kind: FileKind): DownloadTarget[] {
	const counters = new Map<string, number>();
	return files.map((file) => {
		const base = kind === 'error' ? 'errors' : kind === 'deleted' ? `deleted-${file.type}` : file.type;
		const safe = base.replace(/[^A-Za-z0-9_-]/g, '_') || 'file';
		const n = (counters.get(safe) ?? 0) + 1;
		counters.set(safe, n);
		return { file, kind, fileName: `${safe}-${n}.ndjson` };
	});
}

/**
 * Whether a file may get the bearer token. The token goes only to the FHIR server's own origin,
 * and only when the manifest says `requiresAccessToken: true`.
 */
export function tokenRule(baseUrl: string, file: ManifestFile): { withToken: boolean } {
	if (!file.requiresAccessToken) return { withToken: false };
	if (!sameOrigin(file.url, baseUrl)) {
		throw new FhirError('A bulk file on another server needs the access token: refusing to send it there', {
			kind: 'origin',
			hint:
				'The manifest says requiresAccessToken is true, but the file is not on the FHIR server\'s origin. ' +
				'Sending the bearer token to another origin would leak it. Ask the server operator to use pre-signed file URLs (requiresAccessToken false) or serve files from the FHIR server.',
			request: requestLabel('GET', file.url),
		});
	}
	return { withToken: true };
}

class RetryableFileError extends Error {
	readonly retryAfterMs?: number;
	readonly cause?: unknown;

	constructor(message: string, retryAfterMs?: number, cause?: unknown) {
		super(message);
		this.retryAfterMs = retryAfterMs;
		this.cause = cause;
	}
}

/** Opens one file as a stream. Retryable answers (429, 5xx) throw RetryableFileError. */
export async function openFile(client: BulkClient, target: DownloadTarget, runtime: BulkRuntime): Promise<OpenedFile> {
	const { withToken } = tokenRule(client.baseUrl, target.file);
	const url = target.file.url;
	const elsewhere = !sameOrigin(url, client.baseUrl);
	const response: HttpResponse = await client.send({
		method: 'GET',
		url,
		headers: { Accept: 'application/fhir+ndjson' },
		stream: true,
		withToken,
		// a pre-signed URL on another host answers 401/403 when it has expired
		acceptStatus: elsewhere ? [...FILE_ACCEPT, 401, 403] : FILE_ACCEPT,
	});
	const { status } = response;
	if (status === 200) {
		if (typeof response.body === 'string') {
			throw new FhirError('The transport returned text where a stream was asked for', { kind: 'protocol' });
		}
		return { body: response.body as BodyStream, declaredBytes: comparableLength(response.headers, response.body) };
	}
	if (status === 429 || status >= 500) {
		destroyStream(response.body);
		throw new RetryableFileError(`HTTP ${status}`, parseRetryAfter(header(response, 'retry-after'), runtime.now()));
	}
	throw await errorFromResponse(
		response,
		`Bulk file ${target.fileName} could not be downloaded`,
		'GET',
		url,
		status === 404 || status === 410
			? 'The file URL has expired or was removed (servers keep bulk files for a limited time): run the export again.'
			: status === 401 || status === 403
				? 'The file host refused the pre-signed file URL: it has probably expired (they are valid for a limited time). Run the export again and download it soon after it completes.'
				: undefined,
	);
}

/**
 * Downloads one file with retries: the whole file is fetched again after a network error
 * (connection reset mid-file), a 429/5xx, or a body that did not arrive whole (IncompleteFileError
 * from `consume`: short or long of the manifest's count, cut off, a damaged line). `consume` reads
 * the stream to its end; it gets the attempt number so it can drop what an earlier attempt produced.
 * Each attempt must end within the deadline, whatever pace the server keeps (a body that drips one
 * byte at a time never trips the idle timeout): past it the download stops with FileDeadlineError.
 */
export async function withFileRetries<T>(
	client: BulkClient,
	target: DownloadTarget,
	runtime: BulkRuntime,
	options: DownloadOptions,
	consume: (body: BodyStream, attempt: number, opened: OpenedFile) => Promise<T>,
): Promise<T> {
	const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
	const base = options.backoffBaseMs ?? 1000;
	const cap = options.backoffCapMs ?? 30000;
	const maxRetryAfter = options.maxRetryAfterMs ?? 600000;
	const deadlineMs = options.deadlineMs ?? DEFAULT_LIMITS.deadlineMs;
	let lastProblem = '';
	let incomplete = false;
	for (let attempt = 0; attempt < maxAttempts; attempt++) {
		if (isAborted(runtime)) throw cancelledError();
		let body: BodyStream | undefined;
		let received = 0;
		let overdue = false;
		const timer = new AbortController();
		// what the deadline may stop; let go after the attempt (where n8n's sleep cannot be ended early,
		// the timer runs on, holding nothing)
		const watched: { stream?: BodyStream } = {};
		const outcome = await settle(
			(async () => {
				const opened = await openFile(client, target, runtime);
				body = opened.body;
				const stream = body;
				// a cancelled execution stops the transfer at once, not at the end of the file
				const onAbort = () => destroyStream(stream, cancelledError());
				runtime.signal?.addEventListener('abort', onAbort, { once: true });
				const unobserve = observeChunks(stream, (chunk) => {
					received += chunk.length;
				});
				watched.stream = stream;
				void runtime.timer?.(deadlineMs, timer.signal).then(
					() => {
						if (!watched.stream) return;
						overdue = true;
						destroyStream(watched.stream, new FileDeadlineError(target.fileName, deadlineMs, received));
					},
					() => undefined,
				);
				try {
					return await consume(stream, attempt, opened);
				} finally {
					unobserve();
					runtime.signal?.removeEventListener('abort', onAbort);
				}
			})(),
		);
		timer.abort();
		watched.stream = undefined;
		if (overdue) throw new FileDeadlineError(target.fileName, deadlineMs, received);
		if (outcome.ok) return outcome.value;
		const error = outcome.error;
		if (body) destroyStream(body);
		if (isAborted(runtime)) throw cancelledError();
		let wait: number;
		let reason = `a pause before downloading bulk file ${target.fileName} again`;
		incomplete = false;
		if (error instanceof RetryableFileError) {
			lastProblem = error.message;
			wait = error.retryAfterMs !== undefined ? Math.min(error.retryAfterMs, maxRetryAfter) : backoff(attempt, base, cap);
			if (error.retryAfterMs !== undefined) reason = `the server's Retry-After on bulk file ${target.fileName} (${error.message})`;
		} else if (error instanceof IncompleteFileError) {
			lastProblem = error.problem;
			incomplete = true;
			wait = backoff(attempt, base, cap);
		} else if (isNetworkError(error)) {
			lastProblem = 'the connection failed';
			wait = backoff(attempt, base, cap);
		} else if (error instanceof FhirError && (error.status === 429 || (error.status ?? 0) >= 500)) {
			lastProblem = `HTTP ${error.status}`;
			wait = backoff(attempt, base, cap);
		} else {
			throw error;
		}
		if (attempt + 1 >= maxAttempts) break;
		await pause(runtime, wait, reason);
	}
	if (incomplete) throw incompleteError(target.fileName, target.file.url, maxAttempts, lastProblem);
	throw new FhirError(`Bulk file ${target.fileName} could not be downloaded after ${maxAttempts} attempts (${lastProblem})`, {
		kind: 'network',
		hint: 'The server or the network kept failing. Run Download again later with the same status URL.',
		request: `GET ${pathOf(target.file.url)}`,
	});
}

/** Runs `worker` over `items`, at most `concurrency` at once, keeping the order of results. */
export async function runPool<T, R>(
	items: T[],
	concurrency: number,
	worker: (item: T, index: number) => Promise<R>,
	runtime?: BulkRuntime,
): Promise<R[]> {
	const results = new Array<R>(items.length);
	let next = 0;
	let failure: { error: unknown } | undefined;
	const lanes = Math.max(1, Math.min(concurrency, items.length));
	const lane = async () => {
		while (!failure && next < items.length) {
			if (runtime && isAborted(runtime)) {
				failure = { error: cancelledError() };
				return;
			}
			const index = next++;
			try {
				results[index] = await worker(items[index], index);
			} catch (error) {
				failure ??= { error };
			}
		}
	};
	await Promise.all(Array.from({ length: lanes }, lane));
	if (failure) throw failure.error;
	return results;
}
