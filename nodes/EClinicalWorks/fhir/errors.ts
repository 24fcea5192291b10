import type { ParsedError } from './operationOutcome';

/**
 * Errors thrown by the plain FHIR modules. Messages are written for the person running the
 * workflow and never contain a token, a key, a query string or a resource (patient data).
 * `../transport/errors.ts` turns them into n8n's NodeApiError / NodeOperationError.
 */

export type FhirErrorKind =
	| 'http' // the FHIR server answered with an error status
	| 'auth' // token endpoint or credential problem
	| 'network' // no answer (refused, reset, timeout, DNS)
	| 'rateLimit' // still 429 after the allowed waits
	| 'origin' // a URL on another origin would need our bearer token
	| 'protocol' // the server answered something we cannot use (not a Bundle, loop in paging, ...)
	| 'limit'; // an answer went past a bound the user can raise (size, time)

export class FhirError extends Error {
	readonly kind: FhirErrorKind;
	readonly status?: number;
	readonly outcome?: ParsedError;
	/** What the user can do about it. */
	readonly hint?: string;
	/** Method and URL of the failing request, without query string. */
	readonly request?: string;

	constructor(
		message: string,
		options: { kind: FhirErrorKind; status?: number; outcome?: ParsedError; hint?: string; request?: string },
	) {
		super(message);
		this.name = 'FhirError';
		this.kind = options.kind;
		this.status = options.status;
		this.outcome = options.outcome;
		this.hint = options.hint;
		this.request = options.request;
	}
}

/** Bad input caught before any request is sent: names the field and the fix. */
export class InputError extends Error {
	readonly field: string;
	readonly fix: string;

	constructor(field: string, problem: string, fix: string) {
		super(`${field}: ${problem}`);
		this.name = 'InputError';
		this.field = field;
		this.fix = fix;
	}
}

/**
 * A bad value for a message, as the user typed it or an expression produced it: shortened, in
 * quotes, with line breaks and other invisible characters shown (`"2025-13-01"`, `"12 34\n"`).
 */
export function quoteValue(value: unknown, max = 40): string {
	let text: string;
	if (typeof value === 'string') text = value;
	else if (value instanceof Date) text = Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
	else if (value && typeof value === 'object' && typeof (value as { toISO?: unknown }).toISO === 'function') {
		const dt = value as { toISO: () => string | null; invalidExplanation?: string | null };
		text = dt.toISO() ?? `an invalid date${dt.invalidExplanation ? ` (${dt.invalidExplanation})` : ''}`;
	} else text = value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
	return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** The error with "(practice X)" at the end of its message, once: one failing practice of many is easy to spot. */
export function withPractice<E>(error: E, practiceCode: string | undefined): E {
	if (!practiceCode) return error;
	const suffix = ` (practice ${practiceCode})`;
	if (error instanceof FhirError && !error.message.endsWith(suffix)) {
		return new FhirError(`${error.message}${suffix}`, {
			kind: error.kind,
			status: error.status,
			outcome: error.outcome,
			hint: error.hint,
			request: error.request,
		}) as unknown as E;
	}
	if (error instanceof InputError && !error.message.endsWith(suffix)) {
		return new InputError(error.field, `${error.message.slice(error.field.length + 2)}${suffix}`, error.fix) as unknown as E;
	}
	return error;
}
