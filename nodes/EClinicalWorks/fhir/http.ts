/**
 * The one HTTP contract every FHIR module in this package is written against.
 *
 * The plain modules (auth, paging, retries, bulk) never import n8n or a HTTP library: they take an
 * `HttpTransport`. In n8n it is built from `this.helpers.httpRequest(WithAuthentication)`
 * (see `../transport/`); in tests it is built from `fetch` against the sandbox.
 */

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface HttpRequest {
	method: HttpMethod;
	/** Absolute URL. */
	url: string;
	headers?: Record<string, string>;
	/** Already serialised (form-encoded or JSON text). */
	body?: string;
	/**
	 * Makes the body again for a retry: a token request signs a new assertion (new `jti`) for every
	 * try. Without it a retry sends the same body.
	 */
	freshBody?: () => string;
	/** Return the body as a readable stream (large downloads) instead of text. */
	stream?: boolean;
	timeoutMs?: number;
}

export interface HttpResponse {
	status: number;
	/** Header names in lower case. */
	headers: Record<string, string>;
	/** Text body, or a Node.js Readable when `stream` was asked for. */
	body: string | NodeJS.ReadableStream;
}

export type HttpFunction = (request: HttpRequest) => Promise<HttpResponse>;

/**
 * `authorized` attaches the FHIR server's credentials (bearer token); `anonymous` never sends any.
 * Only the FHIR client decides which one a URL gets (same origin as the base URL or not).
 */
export interface HttpTransport {
	authorized: HttpFunction;
	anonymous: HttpFunction;
	/** Drop the current token so the next authorized request mints a fresh one (after a 401). */
	invalidateToken?: () => void;
	/** `sleep` from n8n-workflow in n8n; a timer in tests. */
	sleep: (ms: number) => Promise<void>;
	now?: () => number;
}

export function headerValue(headers: Record<string, string>, name: string): string | undefined {
	const value = headers[name.toLowerCase()];
	return value === undefined || value === '' ? undefined : value;
}
