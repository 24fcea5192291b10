import type { HttpFunction, HttpResponse } from '../http';

/**
 * Every request the readiness check makes, for the report: method and URL without its query (a
 * query can carry codes or ids), the status, timing, and for requests sent with a token which token
 * (its issue and expiry times, never the token).
 */

export type RequestKind = 'discovery' | 'token' | 'fhir' | 'sandbox';

export interface TokenTimes {
	obtainedAt: number;
	expiresAt: number;
}

export interface RequestRecord {
	kind: RequestKind;
	method: string;
	/** Origin and path, no query. */
	url: string;
	/** undefined: no answer (network error). */
	status?: number;
	startedAt: number;
	ms: number;
	token?: TokenTimes;
}

/** Told of each request when its answer is in; `started` (if set) as it leaves. */
export type RequestObserver = ((record: RequestRecord) => void) & { started?: () => void };

export class RequestLog {
	readonly records: RequestRecord[] = [];

	/** Requests that have left, answered or not. */
	sent = 0;

	readonly observe: RequestObserver = Object.assign(
		(record: RequestRecord) => {
			this.records.push(record);
		},
		{
			started: () => {
				this.sent++;
			},
		},
	);

	/** Records from index `from` on (a check marks where it started). */
	since(from: number): RequestRecord[] {
		return this.records.slice(from);
	}

	get length(): number {
		return this.records.length;
	}
}

/** Origin and path of a URL, never its query or fragment. */
export function withoutQuery(url: string): string {
	try {
		const parsed = new URL(url);
		return `${parsed.origin}${parsed.pathname}`;
	} catch {
		return url.replace(/[?#].*$/, '');
	}
}

function kindOf(method: string, url: string, signed: boolean): RequestKind {
	const path = (() => {
		try {
			return new URL(url).pathname;
		} catch {
			return url;
		}
	})();
	if (/^\/admin(\/|$)/.test(path)) return 'sandbox';
	if (signed) return 'fhir';
	if (/\/\.well-known\/smart-configuration$/.test(path) || /\/metadata$/.test(path)) return 'discovery';
	// the only anonymous POSTs the package sends are token requests
	return method === 'POST' ? 'token' : 'fhir';
}

/**
 * An HttpFunction that tells `observe` about each request it sends. `signed` marks the function that
 * attaches the token; `tokenTimes` says which token that is at the moment the request leaves.
 */
export function observeHttp(
	http: HttpFunction,
	observe: RequestObserver | undefined,
	options: { signed?: boolean; now?: () => number; tokenTimes?: () => TokenTimes | undefined } = {},
): HttpFunction {
	if (!observe) return http;
	const now = options.now ?? Date.now;
	return async (request) => {
		const startedAt = now();
		const token = options.signed ? options.tokenTimes?.() : undefined;
		const base = { kind: kindOf(request.method, request.url, options.signed === true), method: request.method, url: withoutQuery(request.url), startedAt, token };
		observe.started?.();
		let response: HttpResponse | undefined;
		let failure: unknown;
		try {
			response = await http(request);
		} catch (error) {
			failure = error;
		}
		observe({ ...base, status: response?.status, ms: now() - startedAt });
		if (!response) throw failure;
		return response;
	};
}
