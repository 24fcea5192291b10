import { FhirError } from './errors';
import type { HttpResponse } from './http';
import type { Bundle, FhirResource } from './types';

/** Reading response bodies (string or stream) without ever holding more than asked. */

export async function readText(body: HttpResponse['body'], maxBytes = 64_000): Promise<string> {
	if (typeof body === 'string') return body;
	if (!body || typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') return '';
	const decoder = new TextDecoder();
	let text = '';
	let size = 0;
	for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
		const part = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
		text += part;
		size += part.length;
		if (size >= maxBytes) break;
	}
	discard(body);
	return text;
}

/** Releases a body nobody will read (so the connection is freed). */
export function discard(body: HttpResponse['body']): void {
	if (body && typeof body !== 'string') {
		const stream = body as unknown as { destroy?: () => void; resume?: () => void };
		if (typeof stream.destroy === 'function') stream.destroy();
		else if (typeof stream.resume === 'function') stream.resume();
	}
}

export function parseJson<T>(text: string, request: string): T {
	let parsed: { value: T } | undefined;
	try {
		parsed = { value: JSON.parse(text) as T };
	} catch {
		parsed = undefined;
	}
	if (parsed) return parsed.value;
	throw new FhirError('The FHIR server answered with something that is not JSON', {
		kind: 'protocol',
		request,
		hint: 'Check that the FHIR base URL points at the FHIR API (it usually ends with /fhir/r4/<practice code> for eCW), not at a web page.',
	});
}

export function asBundle(value: unknown, request: string): Bundle {
	if (!value || typeof value !== 'object' || (value as FhirResource).resourceType !== 'Bundle') {
		throw new FhirError('The FHIR server answered a search with something that is not a Bundle', { kind: 'protocol', request });
	}
	return value as Bundle;
}
