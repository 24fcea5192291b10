// Fault injection for tests and benchmarks: `sb.inject({ kind, count, path, practice, ... })`.
// Request faults apply before a request is handled; file and status faults are taken by the bulk module;
// hostile answers (huge page, gzip bomb, drip, truncated page, echo) by hostile.mjs.
import { HOSTILE_KINDS } from './hostile.mjs';
import { FhirError, sleep } from './util.mjs';

export const FAULT_KINDS = new Set([
	'403',
	'429',
	'500',
	'503',
	'slow',
	'reset',
	'disconnect',
	'revoke-tokens',
	'malformed-ndjson',
	'expired-file-url',
	'transient-status',
	// bulk files (bulkFiles.mjs): the body ends early (truncate), holds a line twice, a line with no end, or drips
	'truncate',
	'extra-line',
	'long-line',
	'drip',
	// the next finished export's manifest lists `files` files
	'manifest-files',
	// hostile JSON answers (hostile.mjs): huge page, gzip bomb, drip, truncated page, echo
	...HOSTILE_KINDS,
]);
const REQUEST_FAULTS = new Set(['403', '429', '500', '503', 'slow', 'disconnect', 'revoke-tokens']);

export class Faults {
	/** @param {any} sb the Sandbox (auth, limiter, retryAfter, contract) */
	constructor(sb) {
		this.sb = sb;
		this.list = [];
		this.seq = 0;
	}

	inject(fault) {
		if (!fault || !FAULT_KINDS.has(String(fault.kind))) throw new Error(`unknown fault kind ${fault?.kind}; one of ${[...FAULT_KINDS].join(', ')}`);
		const f = { ...fault, kind: String(fault.kind), id: `f${++this.seq}`, count: fault.count ?? 1 };
		if (typeof f.path === 'string') f.path = new RegExp(f.path);
		if (f.kind === 'revoke-tokens' && !f.path && !f.practice) {
			this.sb.auth.revokeAll();
			return f.id;
		}
		this.list.push(f);
		return f.id;
	}

	clear() {
		this.list.length = 0;
	}

	/** Take the first matching fault of one of `kinds` (decrementing its count). */
	take(kinds, path, practice) {
		for (let i = 0; i < this.list.length; i++) {
			const f = this.list[i];
			if (!kinds.has(f.kind)) continue;
			if (f.path && !f.path.test(path)) continue;
			if (f.practice && f.practice !== practice) continue;
			f.count -= 1;
			if (f.count <= 0) this.list.splice(i, 1);
			return f;
		}
		return null;
	}

	/** Apply request-phase faults (403/429/500/503/slow/disconnect/revoke-tokens). Throws FhirError for error faults. */
	async beforeRequest(path, practice) {
		const sb = this.sb;
		for (;;) {
			const f = this.take(REQUEST_FAULTS, path, practice);
			if (!f) return;
			if (f.kind === 'slow') {
				await sleep(f.delayMs ?? 1000);
				continue;
			}
			if (f.kind === 'revoke-tokens') {
				sb.auth.revokeAll();
				continue;
			}
			// the connection is reset before any answer (the request was received: a token request's jti is used)
			if (f.kind === 'disconnect') throw Object.assign(new Error('Injected fault: connection reset'), { disconnect: true });
			// a token whose scopes do not cover the request (the seed guide: "a 403 means the scope you requested does not cover that resource")
			if (f.kind === '403') throw new FhirError(403, 'forbidden', f.message ?? 'Injected fault: the access token does not cover this request (insufficient scope)');
			if (f.kind === '500') throw new FhirError(500, 'exception', f.message ?? 'Injected fault: internal server error');
			if (f.kind === '503') throw new FhirError(503, 'transient', f.message ?? 'Injected fault: service unavailable', f.retryAfter != null ? { 'Retry-After': sb.retryAfter(f.retryAfter) } : {});
			if (f.kind === '429') {
				const ecw = sb.contract.name === 'ecw';
				const block = f.blockRestOfMinute ?? (ecw && f.retryAfter == null);
				if (block && practice) sb.limiter.blockRestOfMinute(practice);
				const headers = {};
				if (f.retryAfter != null) headers['Retry-After'] = sb.retryAfter(f.retryAfter);
				// standard servers always say how long to wait: to the minute boundary when blocking, else 1 s
				else if (!ecw) headers['Retry-After'] = sb.retryAfter(block ? Math.max(1, Math.ceil((sb.limiter.nextMinute() - sb.clock()) / 1000)) : 1);
				throw new FhirError(429, 'throttled', f.message ?? 'Injected fault: too many requests', headers);
			}
		}
	}
}
