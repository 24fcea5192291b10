import { ECW_ENABLE_APP_HINT } from './ecw';
import { FhirError } from './errors';
import type { HttpResponse } from './http';
import { parseErrorBody } from './operationOutcome';
import type { ParsedError } from './operationOutcome';
import { readText } from './responseBody';
import { forbiddenAdvice } from './scopeAdvice';
import { describeRequest } from './urls';

/** The FhirError a user reads for an error status: what happened, what to do, and the server's own words. */

export interface ErrorContext {
	method: string;
	url: string;
	baseUrl: string;
	/** Scopes the token holds (granted, else configured), to explain a 403. */
	configuredScopes?: string;
	/** The server's published scopes_supported, when known: a 403's advice names only those. */
	scopesSupported?: string[];
	/** The server is eClinicalWorks: its admin menu is named only then. */
	ecw?: boolean;
	tries: { rateLimited: number; failures: number; reminted: boolean };
}

/** The path segments of a URL under the base URL. */
function segmentsOf(url: string, baseUrl: string): string[] {
	const base = new URL(`${baseUrl}/`).pathname;
	const path = new URL(url).pathname;
	const rest = path.startsWith(base) ? path.slice(base.length) : path;
	return rest.split('/').filter(Boolean);
}

/** The resource type a URL under the base URL addresses, if any. */
export function resourceTypeOf(url: string, baseUrl: string): string | undefined {
	const first = segmentsOf(url, baseUrl)[0] ?? '';
	return /^[A-Z][A-Za-z]+$/.test(first) ? first : undefined;
}

/** `Type` or `Type/_search`: a search (no id to be wrong). */
function isSearch(url: string, baseUrl: string): boolean {
	const segments = segmentsOf(url, baseUrl);
	return resourceTypeOf(url, baseUrl) !== undefined && (segments.length === 1 || (segments.length === 2 && segments[1] === '_search'));
}

function scopeNamedIn(parsed: ParsedError): string | undefined {
	const text = [parsed.summary, parsed.oauthDescription].filter(Boolean).join(' ');
	return /\b(?:system|user|patient)\/[A-Za-z*]+\.[A-Za-z*]+/.exec(text)?.[0];
}

/** Why a request got no answer at all, in words (connection refused, host not found, ...). */
export function networkReason(error: unknown): string {
	const e = error as { code?: unknown; cause?: { code?: unknown }; httpCode?: unknown } | undefined;
	const code = [e?.code, e?.cause?.code, e?.httpCode].find((c) => typeof c === 'string' && /^[A-Z_]+$/.test(c));
	const known: Record<string, string> = {
		ECONNREFUSED: 'connection refused',
		ECONNRESET: 'connection reset',
		ENOTFOUND: 'host name not found',
		EAI_AGAIN: 'host name lookup failed',
		ETIMEDOUT: 'timed out',
		ECONNABORTED: 'timed out',
		EHOSTUNREACH: 'host unreachable',
		CERT_HAS_EXPIRED: 'TLS certificate expired',
		DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed TLS certificate',
		UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate not trusted',
	};
	if (typeof code === 'string') return known[code] ?? code;
	return 'no response';
}

export async function httpError(response: HttpResponse, ctx: ErrorContext): Promise<FhirError> {
	const status = response.status;
	const outcome = parseErrorBody(await readText(response.body));
	const request = describeRequest(ctx.method, ctx.url);
	const type = resourceTypeOf(ctx.url, ctx.baseUrl);
	const base = { kind: 'http' as const, status, outcome, request };
	switch (true) {
		case status === 400:
			return new FhirError('The FHIR server rejected the request as invalid (400 Bad Request)', {
				...base,
				hint: 'Check the search fields and their values against what the server said (the parameters each type accepts are listed by Server > Get Capabilities; dates need a time zone, codes system|code).',
			});
		case status === 401:
			return new FhirError(
				ctx.tries.reminted ? 'The FHIR server rejected the access token (401), also a freshly issued one' : 'The FHIR server rejected the access token (401)',
				{
					...base,
					hint: ctx.ecw
						? `The token was issued but this practice refuses it: on eClinicalWorks that means the practice has not enabled the app: check that ${ECW_ENABLE_APP_HINT}. Also check the credential (client ID, key, scopes). A group the app may not read also answers 401 on eCW bulk export.`
						: 'The server refuses the token for this FHIR base URL: check that the app is authorised for this server (or this organisation), and the credential (client ID, key, scopes).',
				},
			);
		case status === 403: {
			const path = new URL(ctx.url).pathname;
			const advice = forbiddenAdvice({
				type,
				search: isSearch(ctx.url, ctx.baseUrl),
				everything: /\/\$everything$/.test(path),
				named: scopeNamedIn(outcome),
				held: ctx.configuredScopes,
				supported: ctx.scopesSupported,
			});
			return new FhirError(advice.message, { ...base, hint: advice.hint });
		}
		case status === 404 && isSearch(ctx.url, ctx.baseUrl):
			return new FhirError(`Not found (404): the server does not offer ${type} searches at this FHIR base URL`, {
				...base,
				hint: `A search that matches nothing answers an empty list, not 404: the server does not serve ${type} (or this search) here. Server > Get Capabilities lists what it serves; check that the FHIR base URL (with its practice code) is right.`,
			});
		case status === 404:
			return new FhirError(`Not found (404)${type ? `: no such ${type}` : ''}`, {
				...base,
				hint: 'Check the ID, and that the FHIR base URL (with its practice code) is right. A resource type the server does not serve also answers 404.',
			});
		case status === 405:
			return new FhirError(`The FHIR server does not allow ${ctx.method} here (405)${type ? ` for ${type}` : ''}`, {
				...base,
				hint: 'Server > Get Capabilities shows which interactions (read, search) each resource type offers on this server.',
			});
		case status === 410:
			return new FhirError(`Gone (410)${type ? `: the ${type} was deleted` : ''}`, { ...base, hint: 'The resource no longer exists on the server.' });
		case status === 429:
			return new FhirError(`Rate limit: the FHIR server still answered 429 Too Many Requests after ${ctx.tries.rateLimited} waits`, {
				...base,
				kind: 'rateLimit',
				hint: 'Lower the credential\'s Rate Limit (requests per minute), or run fewer workflows against this practice at the same time. eCW allows 250 requests per minute per practice, token requests included.',
			});
		case status >= 500:
			return new FhirError(`The FHIR server failed (${status})${ctx.tries.failures > 1 ? ` ${ctx.tries.failures} times in a row` : ''}`, {
				...base,
				hint: 'A temporary problem on the server side. Try again later; if it persists, contact the server operator with the time of the error.',
			});
		default:
			return new FhirError(`The FHIR server answered ${status}`, { ...base });
	}
}
