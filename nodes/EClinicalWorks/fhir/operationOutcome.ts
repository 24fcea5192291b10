/**
 * Reads FHIR OperationOutcome bodies (and OAuth error bodies) into plain, safe text.
 * Only the server's own diagnostic fields are kept: never echo a request or resource back.
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
}

const MAX_TEXT = 500;

function clip(value: unknown): string | undefined {
	if (typeof value !== 'string') return undefined;
	const text = value.replace(/\s+/g, ' ').trim();
	if (text === '') return undefined;
	return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
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
		severity: clip(issue.severity) ?? 'error',
		code: clip(issue.code) ?? 'unknown',
		diagnostics: clip(issue.diagnostics),
		details: clip(details?.text),
		expression: expression && expression.length > 0 ? expression : undefined,
	};
}

export function describeIssue(issue: OutcomeIssue): string {
	const text = issue.details ?? issue.diagnostics ?? issue.code;
	const extra = issue.details && issue.diagnostics && issue.diagnostics !== issue.details ? ` (${issue.diagnostics})` : '';
	return `${issue.severity} ${issue.code}: ${text}${extra}`;
}

/** Parse a response body (text or already-parsed JSON) that may hold an OperationOutcome or an OAuth error. */
export function parseErrorBody(body: unknown): ParsedError {
	const json = parseBody(body) as Record<string, unknown> | undefined;
	if (!json || typeof json !== 'object') return { issues: [], summary: plainReason(body) };

	if (json.resourceType === 'OperationOutcome') {
		const issues = (Array.isArray(json.issue) ? json.issue : [])
			.map(readIssue)
			.filter((i): i is OutcomeIssue => i !== undefined);
		return { issues, summary: issues.map(describeIssue).join('; ') };
	}

	const oauthError = clip(json.error);
	if (oauthError) {
		const oauthDescription = clip(json.error_description);
		return {
			issues: [],
			oauthError,
			oauthDescription,
			summary: oauthDescription ? `${oauthError}: ${oauthDescription}` : oauthError,
		};
	}
	return { issues: [], summary: '' };
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
	return text;
}

/** True when any issue carries the `transient` code family (Bulk Data: retry later). */
export function isTransient(parsed: ParsedError): boolean {
	return parsed.issues.some((i) => ['transient', 'throttled', 'timeout', 'lock-error'].includes(i.code));
}
