// Is a failed run's error a clear one? A failure is acceptable only as an n8n node error
// (NodeApiError / NodeOperationError) with a real message and a description that says what to do:
// never a stack trace, "undefined", an empty message or a bare network code.

const RAW_JS = /^(TypeError|ReferenceError|SyntaxError|RangeError|AggregateError|Error)\b|Cannot read propert|is not a function|is not defined|is not iterable|Unexpected (end of JSON|token|non-whitespace)|JSON at position/;
const BARE_NETWORK = /^(aborted|terminated|fetch failed|socket hang up|read ECONNRESET|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|other side closed)\.?$/i;
const NOTHING = /\bundefined\b|\[object Object\]|\bNaN\b/;
const STACK = /\n\s*at\s+\S.*:\d+:\d+\)?/;

const NODE_ERRORS = new Set(['NodeApiError', 'NodeOperationError']);

/**
 * `{ clear, why, message, description }` for a failure: an error object, or the serialized one n8n
 * keeps in the execution's run data (what the error view shows). `classes` are the n8n-workflow
 * error classes the package throws (the CJS build n8n-core uses).
 */
export function classifyFailure(error, classes) {
	const message = typeof error?.message === 'string' ? error.message.trim() : '';
	const description = typeof error?.description === 'string' ? error.description.trim() : '';
	const out = (why) => ({ clear: !why, why, message, description });
	if (!error) return out('no error object');
	const nodeError = classes.some((c) => error instanceof c) || (error.constructor === Object && NODE_ERRORS.has(error.name));
	if (!nodeError) return out(`not an n8n node error (${error.name ?? error.constructor?.name ?? typeof error})`);
	if (message.length < 10) return out(message ? 'message too short to act on' : 'empty message');
	if (NOTHING.test(message) || NOTHING.test(description)) return out('says "undefined", "NaN" or "[object Object]"');
	if (STACK.test(message) || STACK.test(description)) return out('contains a stack trace');
	if (RAW_JS.test(message)) return out('a raw JavaScript error');
	if (BARE_NETWORK.test(message)) return out('a bare network error code');
	if (!description) return out('no description saying what to do');
	return out(null);
}

/** A message with its run-specific parts (ports, ids, numbers, URLs) generalised, to group failures. */
export function messageGroup(message) {
	return String(message)
		.replace(/https?:\/\/[^\s)"']+/g, '{url}')
		.replace(/\b(127\.0\.0\.1|localhost|\[::1\]):\d+/g, '{host}')
		.replace(/\b[0-9a-f]{16,}\b/gi, '{id}')
		.replace(/\b\d+(\.\d+)?\b/g, (m) => (/^[45]\d\d$/.test(m) ? m : 'N'))
		.slice(0, 220);
}
