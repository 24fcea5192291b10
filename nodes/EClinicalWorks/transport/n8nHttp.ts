import type { IDataObject, IHttpRequestOptions } from 'n8n-workflow';

import type { HttpFunction, HttpRequest, HttpResponse } from '../fhir/http';

/** Maps the package's HttpRequest/HttpResponse to n8n's `httpRequest` options and full responses. */

export type FullResponse = { statusCode?: number; status?: number; headers?: Record<string, unknown>; body?: unknown };

export function lowerHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
	const out: Record<string, string> = {};
	if (!headers) return out;
	for (const [name, value] of Object.entries(headers)) {
		if (value === undefined || value === null) continue;
		out[name.toLowerCase()] = Array.isArray(value) ? value.map(String).join(', ') : String(value);
	}
	return out;
}

export function toResponse(raw: FullResponse): HttpResponse {
	let body = raw.body;
	if (body === undefined || body === null) body = '';
	else if (typeof body !== 'string' && typeof (body as { pipe?: unknown }).pipe !== 'function') {
		body = body instanceof Uint8Array ? new TextDecoder().decode(body) : JSON.stringify(body);
	}
	return {
		status: Number(raw.statusCode ?? raw.status ?? 0),
		headers: lowerHeaders(raw.headers),
		body: body as HttpResponse['body'],
	};
}

export function toOptions(request: HttpRequest): IHttpRequestOptions {
	const options: IHttpRequestOptions = {
		method: request.method,
		url: request.url,
		headers: { ...(request.headers ?? {}) } as IDataObject,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
		disableFollowRedirect: true,
		encoding: request.stream ? 'stream' : 'text',
		json: false,
		timeout: request.timeoutMs,
	};
	if (request.body !== undefined) options.body = request.body;
	return options;
}

/** An HttpFunction on n8n's `httpRequest` (no credentials): statuses are returned, not thrown. */
export function httpFunctionFrom(httpRequest: (options: IHttpRequestOptions) => Promise<unknown>): HttpFunction {
	return async (request) => toResponse((await httpRequest(toOptions(request))) as FullResponse);
}
