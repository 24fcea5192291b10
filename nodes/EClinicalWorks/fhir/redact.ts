/**
 * Takes secrets out of text before it reaches an error, a hint, a log line or an output: the one
 * redaction every central point uses (the transport on error answers, the OperationOutcome reader,
 * the n8n error builder, the log).
 *
 * Two ways, combined: the secrets this execution holds (client secret, access and refresh tokens),
 * replaced wherever they appear, and patterns for what any secret looks like (signed JWTs such as
 * client assertions, Authorization header values, PEM keys, `client_secret=`-style fields in forms,
 * JSON and text, and URL query strings, where pre-signed URLs keep their signature and searches
 * keep patient data).
 */

export const REMOVED = '[removed]';

/** Values shorter than this are not treated as secrets (they would match ordinary words). */
const MIN_SECRET_LENGTH = 8;

/** Field names whose value is a secret wherever they appear (JSON, forms, text such as "access_token: ..."). */
const SECRET_FIELDS = 'client_secret|client_assertion|access_token|refresh_token|id_token|code_verifier|password';
/** Names that are secrets as form or query parameters only (`sig=...`): in prose they are ordinary words. */
const SECRET_PARAMETERS = `${SECRET_FIELDS}|assertion|code|api_key|apikey|token|x-amz-signature|x-amz-credential|signature|sig`;

const PATTERNS: Array<[RegExp, string]> = [
	// PEM blocks (private keys above all), also when the END line was cut off
	[/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|$)/g, REMOVED],
	// compact JWS / JWT (client assertions, JWT access tokens, id tokens)
	[/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, REMOVED],
	// Authorization header values
	[/\b(Bearer|Basic|Digest|Negotiate)(\s+|%20|\+)(?!\[)[A-Za-z0-9._~+/=%-]{6,}/gi, `$1 ${REMOVED}`],
	// JSON fields: "client_secret": "..." (escaped quotes inside the value included)
	[new RegExp(`("(?:${SECRET_FIELDS})"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'gi'), `$1"${REMOVED}"`],
	// plain-text fields: access_token: ..., refresh_token '...'
	[new RegExp(`\\b(${SECRET_FIELDS})(\\s*[=:]\\s*)(["']?)(?!\\[)[^\\s"'&,;)}\\]]+\\3`, 'gi'), `$1$2$3${REMOVED}$3`],
	// form and query parameters: client_secret=..., sig=... (also URL-encoded: client_secret%3D...)
	[new RegExp(`(^|[?&\\s"';,(])(${SECRET_PARAMETERS})(=|%3D)(?!\\[)[^\\s"'&,;)}\\]]+`, 'gi'), `$1$2$3${REMOVED}`],
	// query strings of absolute URLs and of paths (pre-signed signatures, search values)
	[/(\bhttps?:\/\/[^\s?#"'<>]*)\?[^\s"'<>]*/gi, `$1?${REMOVED}`],
	[/((?:^|[\s"'(=])\/[A-Za-z0-9$._~!*+,;=:@%/-]*)\?[^\s"'<>]+/g, `$1?${REMOVED}`],
];

/** Every form a held secret may take in an echo: as is, form- and URL-encoded. */
function formsOf(secret: string): string[] {
	const forms = new Set([secret]);
	try {
		forms.add(encodeURIComponent(secret));
		forms.add(encodeURIComponent(secret).replace(/%20/g, '+'));
	} catch {
		// a lone surrogate: the plain form is enough
	}
	return [...forms];
}

/** Text with the given secrets and everything that looks like a secret replaced. */
export function redact(text: string, secrets: Iterable<string | undefined | null> = []): string {
	if (!text) return text;
	let out = text;
	const known = [...secrets]
		.filter((s): s is string => typeof s === 'string' && s.trim().length >= MIN_SECRET_LENGTH)
		.flatMap(formsOf)
		// longest first, so a secret that contains another is removed whole
		.sort((a, b) => b.length - a.length);
	for (const secret of known) {
		if (out.includes(secret)) out = out.split(secret).join(REMOVED);
	}
	for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
	return out;
}

/** Shortens text to `max` characters (whole text when shorter), marking the cut. */
export function shorten(text: string, max: number): string {
	return text.length > max ? `${text.slice(0, Math.max(0, max - 1))}…` : text;
}
