/**
 * When to retry and how long to wait. Pure functions: the FHIR client does the waiting with the
 * transport's `sleep`, so tests run on a fake clock.
 */

export interface RetryPolicy {
	/** Total tries for 5xx, 408 and network errors on GET/DELETE (1 = no retry). */
	maxAttempts: number;
	/** First backoff delay; doubles each try, plus jitter. */
	baseDelayMs: number;
	/** Longest single backoff delay. */
	maxDelayMs: number;
	/** How many 429 answers to wait out before failing. */
	maxRateLimitRetries: number;
	/** Longest single wait asked by Retry-After (or to the next minute). */
	maxRetryAfterMs: number;
	/** eCW: a 429 without Retry-After blocks until the end of the current minute. */
	waitForNextMinuteOn429: boolean;
	/** Up to this much random delay is added to every wait. */
	jitterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
	maxAttempts: 4,
	baseDelayMs: 500,
	maxDelayMs: 8_000,
	maxRateLimitRetries: 4,
	maxRetryAfterMs: 120_000,
	waitForNextMinuteOn429: false,
	jitterMs: 1_000,
};

export function retryPolicy(overrides?: Partial<RetryPolicy>): RetryPolicy {
	const policy = { ...DEFAULT_RETRY_POLICY };
	for (const [key, value] of Object.entries(overrides ?? {})) {
		if (value !== undefined) (policy as unknown as Record<string, unknown>)[key] = value;
	}
	return policy;
}

/** Numbers this large are not delays but points in time: epoch seconds from 2001, epoch milliseconds from 1973. */
const EPOCH_SECONDS_FROM = 1e9;
const EPOCH_MILLISECONDS_FROM = 1e11;

/**
 * Retry-After as milliseconds from `nowMs`; undefined when absent or unreadable, never negative.
 * Reads delta-seconds (`120`, `1.5`), an HTTP date, and the epoch time points some servers send
 * instead (SMART's reference server: epoch milliseconds, then epoch seconds). The one parser for
 * the FHIR client and the bulk modules.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
	if (value === undefined) return undefined;
	const text = value.trim();
	if (text === '') return undefined;
	if (/^\d+(\.\d+)?$/.test(text)) {
		const n = Number(text);
		if (n >= EPOCH_MILLISECONDS_FROM) return Math.max(0, Math.round(n - nowMs));
		if (n >= EPOCH_SECONDS_FROM) return Math.max(0, Math.round(n * 1000 - nowMs));
		return Math.round(n * 1000);
	}
	// an HTTP date names a month and a time of day; anything else is not a date we trust
	if (!/\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b/i.test(text) || !/\d{1,2}:\d{2}:\d{2}/.test(text)) return undefined;
	const date = Date.parse(text);
	if (Number.isNaN(date)) return undefined;
	return Math.max(0, date - nowMs);
}

/** Waits at least this long are reported (output hint and n8n's log): nothing silent for minutes. */
export const LONG_WAIT_MS = 60_000;

/** A wait for people: "45 s", "2 min", "6 min 5 s", "1 h 2 min". */
export function formatWait(ms: number): string {
	const seconds = Math.max(0, Math.round(ms / 1000));
	if (seconds < 60) return `${seconds} s`;
	const hours = Math.floor(seconds / 3600);
	const minutes = Math.floor((seconds % 3600) / 60);
	const rest = seconds % 60;
	if (hours > 0) return `${hours} h${minutes ? ` ${minutes} min` : ''}`;
	return `${minutes} min${rest ? ` ${rest} s` : ''}`;
}

export function jitter(policy: RetryPolicy, random: () => number = Math.random): number {
	return Math.floor(random() * policy.jitterMs);
}

/** Backoff before try number `attempt + 1` (attempt counts from 1). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
	const exp = policy.baseDelayMs * 2 ** Math.max(0, attempt - 1);
	return Math.min(policy.maxDelayMs, exp) + jitter(policy, random);
}

/** Milliseconds to the start of the next wall-clock minute. */
export function msToNextMinute(nowMs: number): number {
	const rest = 60_000 - (nowMs % 60_000);
	return rest === 0 ? 60_000 : rest;
}

/** Wait after a 429: Retry-After (capped), else the next minute boundary (eCW), else backoff. */
export function rateLimitDelay(
	retryAfterHeader: string | undefined,
	rateLimitRetry: number,
	policy: RetryPolicy,
	nowMs: number,
	random: () => number = Math.random,
): number {
	const retryAfter = parseRetryAfter(retryAfterHeader, nowMs);
	let wait: number;
	if (retryAfter !== undefined) wait = retryAfter + Math.floor(random() * Math.min(policy.jitterMs, 250));
	else if (policy.waitForNextMinuteOn429) wait = msToNextMinute(nowMs) + jitter(policy, random);
	else wait = Math.max(1_000, backoffDelay(rateLimitRetry + 1, { ...policy, maxDelayMs: policy.maxRetryAfterMs }, random));
	return Math.min(wait, policy.maxRetryAfterMs);
}

/** Status codes worth another try on an idempotent request. */
export function isRetryableStatus(status: number): boolean {
	return status === 408 || status === 500 || status === 502 || status === 503 || status === 504 || status === 599;
}
