import { redact, shorten } from './redact';

/**
 * Reads FHIR OperationOutcome bodies (and OAuth error bodies) into plain, safe text.
 * Only the server's own diagnostic fields are kept: never echo a request or resource back. Every
 * text is redacted (anything that looks like a secret or a query string) and shortened.
 */

export interface OutcomeIssue {
	severity: string;
	code: string;
	diagnostics?: string;
	details?: string;
	expression?: string[];
}

export interface ParsedError {
	issues: OutcomeIssue[];
	/** OAuth `error` (e.g. `invalid_client`), when the body was an OAuth error. */
	oauthError?: string;
	oauthDescription?: string;
	/** One line summarising the server's message, '' when the body said nothing usable. */
	summary: string;
	/** The server's own words were left out (the credential's Server Text in Errors): codes only. */
	textLeftOut?: boolean;
}

/** Longest text kept of one field, and of the whole summary. */
const MAX_TEXT = 500;
const MAX_SUMMARY = 1000;

/** Marks a body the transport reduced to codes (Server Text in Errors off). */
const LEFT_OUT_MARK = 'n8nServerTextLeftOut';

function clip(value: unknown): string | undefined {
	if (typeof value !== 'string') return undefined;
	const text = redact(value.replace(/\s+/g, ' ').trim());
	if (text === '') return undefined;
	return shorten(text, MAX_TEXT + 1);
}

/** A code (issue code, OAuth error): a short token, never free text. */
function code(value: unknown): string | undefined {
	return typeof value === 'string' && /^[A-Za-z0-9_.:-]{1,64}$/.test(value.trim()) ? value.trim() : undefined;
}

function parseBody(body: unknown): unknown {
	if (typeof body !== 'string') return body;
	const trimmed = body.trim();
	if (!trimmed.startsWith('{')) return undefined;
	try {
		return JSON.parse(trimmed);
	} catch {
		return undefined;
	}
}

function readIssue(raw: unknown): OutcomeIssue | undefined {
	if (typeof raw !== 'object' || raw === null) return undefined;
	const issue = raw as Record<string, unknown>;
	const details = issue.details as Record<string, unknown> | undefined;
	const expression = Array.isArray(issue.expression)
		? issue.expression.filter((e): e is string => typeof e === 'string')
		: undefined;
	return {
		severity: code(issue.severity) ?? 'error',
		code: code(issue.code) ?? 'unknown',
		diagnostics: clip(issue.diagnostics),
		details: clip(details?.text),
		expression: expression && expression.length > 0 ? expression : undefined,
	};
}

export function describeIssue(issue: OutcomeIssue): string {
	const text = issue.details ?? issue.diagnostics;
	if (!text) return `${issue.severity} ${issue.code}`;
	const extra = issue.details && issue.diagnostics && issue.diagnostics !== issue.details ? ` (${issue.diagnostics})` : '';
	return `${issue.severity} ${issue.code}: ${text}${extra}`;
}

/** Parse a response body (text or already-parsed JSON) that may hold an OperationOutcome or an OAuth error. */
export function parseErrorBody(body: unknown): ParsedError {
	const json = parseBody(body) as Record<string, unknown> | undefined;
	if (!json || typeof json !== 'object') return { issues: [], summary: plainReason(body) };

	const textLeftOut = json[LEFT_OUT_MARK] === true ? { textLeftOut: true } : {};
	if (json.resourceType === 'OperationOutcome') {
		const issues = (Array.isArray(json.issue) ? json.issue : [])
			.map(readIssue)
			.filter((i): i is OutcomeIssue => i !== undefined);
		return { issues, summary: shorten(issues.map(describeIssue).join('; '), MAX_SUMMARY), ...textLeftOut };
	}

	// an OAuth error code is a short token; free text in its place is the server's words, not a code
	const oauthError = code(json.error);
	if (!oauthError && typeof json.error === 'string' && clip(json.error)) return { issues: [], summary: clip(json.error) ?? '', ...textLeftOut };
	if (oauthError) {
		const oauthDescription = clip(json.error_description);
		return {
			issues: [],
			oauthError,
			oauthDescription,
			summary: oauthDescription ? `${oauthError}: ${oauthDescription}` : oauthError,
			...textLeftOut,
		};
	}
	return { issues: [], summary: '', ...textLeftOut };
}

/**
 * An error body with the server's own words taken out (the credential's Server Text in Errors set
 * to Leave Out): an OperationOutcome keeps each issue's severity and code, an OAuth error its
 * error code; anything else becomes empty.
 */
export function serverTextLeftOut(body: string): string {
	const json = parseBody(body) as Record<string, unknown> | undefined;
	if (!json || typeof json !== 'object') return JSON.stringify({ [LEFT_OUT_MARK]: true });
	if (json.resourceType === 'OperationOutcome') {
		const issue = (Array.isArray(json.issue) ? json.issue : []).map((raw: unknown) => {
			const i = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
			return { severity: code(i.severity) ?? 'error', code: code(i.code) ?? 'unknown' };
		});
		return JSON.stringify({ resourceType: 'OperationOutcome', issue, [LEFT_OUT_MARK]: true });
	}
	const oauthError = code(json.error);
	return JSON.stringify(oauthError ? { error: oauthError, [LEFT_OUT_MARK]: true } : { [LEFT_OUT_MARK]: true });
}

/**
 * A short one-line text/plain error body is the server's reason (SMART's reference server answers
 * 401 "Token expired"). Markup, JSON and anything long stay unread: they may hold patient data.
 */
function plainReason(body: unknown): string {
	if (typeof body !== 'string') return '';
	const text = body.trim();
	if (text === '' || text.length > 200 || /[\r\n]/.test(text) || /^[[{<]/.test(text)) return '';
	if (!/^[\p{L}\p{N}][\p{L}\p{N}\p{Zs}.,:;!?'"()/_-]*$/u.test(text)) return '';
	return redact(text);
}

/** True when any issue carries the `transient` code family (Bulk Data: retry later). */
export function isTransient(parsed: ParsedError): boolean {
	return parsed.issues.some((i) => ['transient', 'throttled', 'timeout', 'lock-error'].includes(i.code));
}
