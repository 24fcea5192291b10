import { InputError } from './errors';

/** Validates and normalises a FHIR base URL (no trailing slash, http(s), no query or fragment). */
export function normalizeBaseUrl(raw: unknown, field = 'FHIR Base URL'): string {
	const text = typeof raw === 'string' ? raw.trim() : '';
	if (text === '') {
		throw new InputError(field, 'is empty', 'Enter the FHIR R4 base URL, e.g. https://fhir4.eclinicalworks.com/fhir/r4/ABCDEF (ending with your practice code).');
	}
	const url = URL.canParse(text) ? new URL(text) : undefined;
	if (!url) throw new InputError(field, 'is not a valid URL', 'Enter a full URL starting with https://');
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		throw new InputError(field, 'must start with https:// (or http:// for a local test server)', 'Enter a full URL starting with https://');
	}
	if (url.search !== '' || url.hash !== '') {
		throw new InputError(field, 'must not contain "?" or "#"', 'Remove the query string: enter only the FHIR base URL.');
	}
	if (/\{[^}]*\}/.test(decodeURIComponent(url.pathname))) {
		throw new InputError(field, 'still contains a {placeholder}', 'Set the Practice Code (in the credential or the node) so {practiceCode} can be filled in.');
	}
	return url.toString().replace(/\/+$/, '');
}

/** `base` + relative path, keeping every segment of the base (the eCW practice code). */
export function joinUrl(baseUrl: string, path: string, query?: Array<[string, string]>): string {
	const relative = path.replace(/^\/+/, '');
	if (/^[a-z][a-z0-9+.-]*:/i.test(relative) || relative.startsWith('//')) {
		throw new InputError('Path', 'must be relative to the FHIR base URL', 'Use a path like "Patient/123", not a full URL.');
	}
	const url = new URL(relative, `${baseUrl.replace(/\/+$/, '')}/`);
	for (const [name, value] of query ?? []) url.searchParams.append(name, value);
	return url.toString();
}

/** Method and URL without its query string (which can carry patient data or a signature): safe for error messages. */
export function describeRequest(method: string, url: string): string {
	try {
		const parsed = new URL(url);
		return `${method} ${parsed.origin}${parsed.pathname}`;
	} catch {
		return method;
	}
}
