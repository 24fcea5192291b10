import { FhirError, InputError } from '../errors';
import type { HttpFunction, HttpResponse } from '../http';
import { headerValue } from '../http';
import type { Clock, Pacer } from '../pacer';
import { discard } from '../responseBody';
import { backoffDelay, isRetryableStatus, rateLimitDelay, retryPolicy } from '../retry';
import type { RetryPolicy } from '../retry';

/**
 * Requests to the auth server (discovery, token) go through here, like FHIR requests go through the
 * client: paced in the practice's budget (eCW counts them), a 429 waited out (Retry-After, else the
 * next minute on eCW), 5xx and network errors retried with backoff within the retry policy. A request
 * with `freshBody` gets a new body for every try: a token request signs a new assertion (new `jti`,
 * `iat`, `exp`) each time, never re-sending one the server has seen.
 */

/** No answer from the server after the tries allowed: the last network error, and how many tries. */
export class NoAnswerError extends Error {
	readonly failure: unknown;
	readonly tries: number;

	constructor(failure: unknown, tries: number) {
		super('No answer');
		this.name = 'NoAnswerError';
		this.failure = failure;
		this.tries = tries;
	}
}

/** How many times a response's request was sent, when a retrying layer sent it more than once. */
const triesOf = new WeakMap<HttpResponse, number>();

export function triesFor(response: HttpResponse): number {
	return triesOf.get(response) ?? 1;
}

export function pacedHttp(http: HttpFunction, pacer: Pacer | null, clock: Clock, retry?: Partial<RetryPolicy>): HttpFunction {
	const policy = retryPolicy(retry);
	return async (first) => {
		let request = first;
		let failures = 0;
		let rateLimited = 0;
		for (;;) {
			if (pacer) await pacer.acquire(clock);
			let response: HttpResponse | undefined;
			let failure: unknown;
			try {
				response = await http(request);
			} catch (error) {
				failure = error;
			}
			if (failure instanceof FhirError || failure instanceof InputError) throw failure;
			let wait: number;
			if (!response) {
				failures++;
				if (failures >= policy.maxAttempts) throw new NoAnswerError(failure, failures);
				wait = backoffDelay(failures, policy);
			} else if (response.status === 429 && rateLimited < policy.maxRateLimitRetries) {
				rateLimited++;
				wait = rateLimitDelay(headerValue(response.headers, 'retry-after'), rateLimited, policy, clock.now());
				discard(response.body);
				if (pacer) {
					pacer.pauseUntil(clock.now() + wait);
					wait = 0;
				}
			} else if (isRetryableStatus(response.status) && failures + 1 < policy.maxAttempts) {
				failures++;
				const retryAfter = headerValue(response.headers, 'retry-after');
				wait = response.status === 503 && retryAfter !== undefined ? rateLimitDelay(retryAfter, failures, policy, clock.now()) : backoffDelay(failures, policy);
				discard(response.body);
			} else {
				if (failures + rateLimited > 0) triesOf.set(response, failures + rateLimited + 1);
				return response;
			}
			if (wait > 0) await clock.sleep(wait);
			if (request.freshBody) request = { ...request, body: request.freshBody() };
		}
	};
}
