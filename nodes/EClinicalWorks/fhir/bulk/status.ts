import { FhirError } from '../errors';
import type { HttpResponse } from '../http';
import { isTransient, parseErrorBody } from '../operationOutcome';
import type { ParsedError } from '../operationOutcome';
import { looksLikeJson, parsedJson } from '../responseBody';
import { ECW_HINT_401 } from './kickoff';
import { collectManifest, parseManifest } from './manifest';
import type { Manifest } from './manifest';
import { isElsewhere, isOriginRefusal, statusElsewhereError } from './origin';
import { isAborted } from './types';
import type { BulkClient, BulkRuntime } from './types';
import {
	cancelledError,
	destroyStream,
	header,
	isNetworkError,
	parseRetryAfter,
	pause,
	readText,
	requestLabel,
	settle,
	untilNextMinute,
} from './util';

export type BulkJobState = 'in-progress' | 'complete' | 'failed';

export interface StatusResult {
	state: BulkJobState;
	/** X-Progress as sent by the server (e.g. "6% Completed"). */
	progress?: string;
	/** The server's Retry-After, in ms. */
	retryAfterMs?: number;
	/** On `complete`: the manifest with all `link` next pages merged. */
	manifest?: Manifest;
	httpStatus: number;
	/** On `failed` (or a transient problem): what happened and what the server said (redacted), for output. */
	error?: string;
	/** On `failed`: what happened in the package's own words (no server text: an error message is logged). */
	reason?: string;
	/** On `failed`: the server's error answer, read (the error shows it as "Server said"). */
	outcome?: ParsedError;
	/** 429: polled too often. */
	throttled?: boolean;
	/** A transient error: the export is still expected to finish. */
	transient?: boolean;
	/** 404/410: the job does not exist (cancelled, expired or wrong id). */
	gone?: boolean;
}

export interface StatusOptions {
	/** eClinicalWorks: explain 401 as "group not authorised", wait to the next minute on a bare 429. */
	ecw?: boolean;
	now?: () => number;
}

const STATUS_ACCEPT = [200, 202, 400, 404, 410, 429, 500, 502, 503, 504];

async function safeText(response: HttpResponse): Promise<string> {
	try {
		return await readText(response.body);
	} catch {
		return '';
	}
}

/** One status request. Never sleeps. */
export async function checkStatus(client: BulkClient, statusUrl: string, options: StatusOptions = {}): Promise<StatusResult> {
	const now = options.now ?? Date.now;
	const sent = await settle(
		client.send({ method: 'GET', url: statusUrl, headers: { Accept: 'application/json' }, acceptStatus: STATUS_ACCEPT }),
	);
	if (!sent.ok) {
		const error = sent.error;
		// a status URL on another host that wants the token: it never gets it, and the user is told why
		if (isOriginRefusal(error) && isElsewhere(client, statusUrl)) throw statusElsewhereError(client, statusUrl, error.status, 'not-tried');
		if (error instanceof FhirError && error.status === 401) {
			throw new FhirError('The bulk export status request was refused (HTTP 401)', {
				kind: 'http',
				status: 401,
				outcome: error.outcome,
				hint: options.ecw ? ECW_HINT_401 : 'The token was rejected: check the credential and its scopes.',
				request: error.request,
			});
		}
		throw error;
	}
	const response: HttpResponse = sent.value;
	const { status } = response;
	const retryAfterMs = parseRetryAfter(header(response, 'retry-after'), now());

	if (status === 202) {
		destroyStream(response.body);
		return { state: 'in-progress', httpStatus: status, progress: header(response, 'x-progress'), retryAfterMs };
	}
	if (status === 200) {
		const text = await readText(response.body);
		// cut short or damaged (not JSON): a failed try, like a 5xx; the poll loop asks again
		if (looksLikeJson(text) && !parsedJson(text)) {
			return { state: 'in-progress', httpStatus: status, transient: true, error: 'The server sent a broken status answer (cut short or not valid JSON)' };
		}
		const manifest = await collectManifest(client, parseManifest(text, statusUrl));
		return { state: 'complete', httpStatus: status, manifest, progress: '100%' };
	}
	const parsed = parseErrorBody(await safeText(response));
	const said = parsed.summary || undefined;
	if (status === 429) {
		return {
			state: 'in-progress',
			httpStatus: status,
			throttled: true,
			retryAfterMs: retryAfterMs ?? (options.ecw ? untilNextMinute(now()) : undefined),
			error: said ?? 'The server asked to poll less often (HTTP 429)',
		};
	}
	if (status === 404 || status === 410) {
		const reason = `The export job was not found (HTTP ${status}): it was cancelled, has expired, or the status URL is wrong`;
		return { state: 'failed', httpStatus: status, gone: true, reason, outcome: parsed, error: `${reason}${said ? `. Server said: ${said}` : ''}` };
	}
	if (status >= 500 && (isTransient(parsed) || parsed.issues.length === 0)) {
		return {
			state: 'in-progress',
			httpStatus: status,
			transient: true,
			retryAfterMs,
			error: said ?? `The server had a temporary problem (HTTP ${status})`,
		};
	}
	if (isTransient(parsed)) {
		return { state: 'in-progress', httpStatus: status, transient: true, retryAfterMs, error: said };
	}
	const reason = `The export failed (HTTP ${status})`;
	return { state: 'failed', httpStatus: status, reason, outcome: parsed, error: `${reason}${said ? `: ${said}` : ''}` };
}

export interface PollOptions extends StatusOptions {
	/** Never poll more often than this (default 30 s). */
	floorMs?: number;
	/** Never wait longer than this in one go, whatever Retry-After says (default: no limit but the total). */
	maxSingleWaitMs?: number;
	/** Give up (return `timedOut`) when the next poll would pass this (default 1 h). */
	maxTotalWaitMs?: number;
	/** Wait before the first poll (the kick-off's Retry-After); 0 = poll at once. */
	initialWaitMs?: number;
	/** Consecutive transient errors / network failures tolerated (default 10). */
	maxConsecutiveErrors?: number;
	onPoll?: (result: StatusResult) => void;
}

export interface PollResult extends StatusResult {
	timedOut: boolean;
	polls: number;
	waitedMs: number;
	/** On timedOut: the wait that did not fit in the total any more, and why it was asked for. */
	nextWaitMs?: number;
	nextWaitReason?: string;
}

/** Why the poll loop waits, for the output hint and the log (never a URL). */
function waitReason(result: StatusResult): string {
	if (result.throttled) return result.retryAfterMs !== undefined ? 'the server\'s Retry-After after a 429 Too Many Requests' : 'a pause after a 429 Too Many Requests';
	if (result.transient) return result.retryAfterMs !== undefined ? 'the server\'s Retry-After after a temporary error' : 'a pause after a temporary server error';
	return result.retryAfterMs !== undefined ? 'the server\'s Retry-After while the export runs' : 'the poll interval while the export runs';
}

/** Polls a status URL until the export completes, fails, or the total wait is used up. */
export async function pollUntilDone(
	client: BulkClient,
	statusUrl: string,
	runtime: BulkRuntime,
	options: PollOptions = {},
): Promise<PollResult> {
	const floor = Math.max(0, options.floorMs ?? 30000);
	// the server's Retry-After is honoured up to the total wait (polling before the time it named only
	// earns another 429); the package's own backoff stays under 5 minutes
	const serverCap = Math.max(floor, options.maxSingleWaitMs ?? Number.POSITIVE_INFINITY);
	const cap = Math.max(floor, Math.min(options.maxSingleWaitMs ?? 300000, 300000));
	const maxTotal = options.maxTotalWaitMs ?? 3600000;
	const maxErrors = options.maxConsecutiveErrors ?? 10;
	const start = runtime.now();
	const clamp = (ms: number) => Math.min(cap, Math.max(floor, ms));
	const clampServer = (ms: number) => Math.min(serverCap, Math.max(floor, ms));

	let polls = 0;
	let errors = 0;
	let noHintWait = Math.max(floor, 1000);
	let last: StatusResult | undefined;

	// 0 (a resumed export): check at once, whatever the floor, so Max Total Wait 0 still checks once
	let wait = options.initialWaitMs ? clampServer(options.initialWaitMs) : 0;
	let reason = 'the server\'s Retry-After on the kick-off';
	for (;;) {
		if (wait > 0) {
			if (runtime.now() + wait - start > maxTotal) {
				const waitedMs = runtime.now() - start;
				return { ...(last ?? { state: 'in-progress', httpStatus: 202 }), timedOut: true, polls, waitedMs, nextWaitMs: wait, nextWaitReason: reason };
			}
			await pause(runtime, wait, reason);
		}
		if (isAborted(runtime)) throw cancelledError();

		const checked = await settle(checkStatus(client, statusUrl, { ...options, now: runtime.now }));
		if (!checked.ok) {
			if (isAborted(runtime)) throw cancelledError();
			if (!isNetworkError(checked.error) || errors + 1 >= maxErrors) throw checked.error;
		}
		const result: StatusResult = checked.ok
			? checked.value
			: { state: 'in-progress', httpStatus: 0, transient: true, error: 'No answer from the server' };
		polls += 1;
		options.onPoll?.(result);
		if (result.state !== 'in-progress') return { ...result, timedOut: false, polls, waitedMs: runtime.now() - start };

		if (result.transient) {
			errors += 1;
			if (errors >= maxErrors) {
				throw new FhirError(`The export status kept failing (${errors} times in a row)`, {
					kind: 'http',
					status: result.httpStatus || undefined,
					hint: result.error,
					request: requestLabel('GET', statusUrl),
				});
			}
		} else {
			errors = 0;
		}
		// keep the last real progress when a poll only said "slow down"
		last = result.progress === undefined && last?.progress ? { ...result, progress: last.progress } : result;

		reason = waitReason(result);
		if (result.retryAfterMs !== undefined) {
			wait = clampServer(result.retryAfterMs);
		} else if (result.throttled || result.transient) {
			wait = clamp(noHintWait * 2 ** Math.min(errors, 6));
		} else {
			wait = clamp(noHintWait);
			noHintWait = Math.min(cap, Math.round(noHintWait * 1.5));
		}
		if (wait === 0 && floor === 0) wait = 1;
	}
}
