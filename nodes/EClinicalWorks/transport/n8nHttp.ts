import type { IDataObject, IHttpRequestOptions } from 'n8n-workflow';

import type { HttpFunction, HttpRequest, HttpResponse } from '../fhir/http';
import { DEFAULT_RESPONSE_LIMITS, finishResponse } from '../fhir/responseBody';
import type { ResponsePolicy } from '../fhir/responseBody';

/**
 * Maps the package's HttpRequest/HttpResponse to n8n's `httpRequest` options and full responses.
 * Every body is asked for as a stream, so nothing is buffered before it is counted: success bodies
 * are read within the credential's bounds, error bodies cut and redacted (`finishResponse`).
 */

export type FullResponse = { statusCode?: number; status?: number; headers?: Record<string, unknown>; body?: unknown };

export const DEFAULT_RESPONSE_POLICY: ResponsePolicy = { limits: DEFAULT_RESPONSE_LIMITS };

export function lowerHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
	const out: Record<string, string> = {};
	if (!headers) return out;
	for (const [name, value] of Object.entries(headers)) {
		if (value === undefined || value === null) continue;
		out[name.toLowerCase()] = Array.isArray(value) ? value.map(String).join(', ') : String(value);
	}
	return out;
}

/** A body n8n already parsed (older versions, other helpers) back to text; streams and bytes as they are. */
function rawBody(body: unknown): unknown {
	if (body === undefined || body === null) return '';
	if (typeof body === 'string' || body instanceof Uint8Array) return body;
	if (typeof (body as { pipe?: unknown }).pipe === 'function' || typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') return body;
	return JSON.stringify(body);
}

export async function toResponse(raw: FullResponse, request: HttpRequest, policy: ResponsePolicy, startedAt: number): Promise<HttpResponse> {
	const response = { status: Number(raw.statusCode ?? raw.status ?? 0), headers: lowerHeaders(raw.headers), body: rawBody(raw.body) };
	return await finishResponse(request, response, policy, startedAt);
}

export function toOptions(request: HttpRequest): IHttpRequestOptions {
	const options: IHttpRequestOptions = {
		method: request.method,
		url: request.url,
		headers: { ...(request.headers ?? {}) } as IDataObject,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
		disableFollowRedirect: true,
		// a stream for every body: n8n's 'text' would buffer all of it before anything could count it
		encoding: 'stream',
		json: false,
		timeout: request.timeoutMs,
	};
	if (request.body !== undefined) options.body = request.body;
	return options;
}

/** An HttpFunction on n8n's `httpRequest` (no credentials): statuses are returned, not thrown. */
export function httpFunctionFrom(httpRequest: (options: IHttpRequestOptions) => Promise<unknown>, policy: ResponsePolicy = DEFAULT_RESPONSE_POLICY): HttpFunction {
	return async (request) => {
		const startedAt = policy.now ? policy.now() : Date.now();
		return await toResponse((await httpRequest(toOptions(request))) as FullResponse, request, policy, startedAt);
	};
}
