import { FhirError } from '../errors';
import type { RequestRecord } from './recorder';
import { armFault, exactPath, hasSandboxAdmin, isArmed } from './sandboxFaults';
import { PACKAGE_VERSION, TEST_EVIDENCE } from './testEvidence';
import type { Check, CheckResult, ReadinessContext, ReadinessState } from './types';
import { describeFailure, notRunWithoutAccess, probeRequest, seconds, sendProbe } from './util';

/**
 * Error handling for 401, 403, 429 and 500. On the package's sandbox each is provoked live through
 * its fault switches and the node's reaction is recorded. On any other server nothing is provoked:
 * the report quotes the package's own tests for this version instead, and says so.
 */

const CHECK = 'Error handling (401, 403, 429, 500)';
const CODES = ['401', '403', '429', '500'] as const;
type Code = (typeof CODES)[number];
/** The Retry-After the 429 drill asks for (eCW sends none: then the node waits to the next minute). */
const DRILL_RETRY_AFTER_S = 2;

interface Drill {
	code: Code;
	ok: boolean;
	text: string;
}

function sequence(records: RequestRecord[]): string {
	return records.map((r) => `${r.kind === 'token' ? 'token ' : ''}${r.method} ${r.status ?? 'no answer'}`).join(', ');
}

function verdict(code: Code, records: RequestRecord[], error: unknown, ctx: ReadinessContext, expect: number): Drill {
	const fhir = records.filter((r) => r.kind === 'fhir');
	const statuses = fhir.map((r) => r.status);
	const last = statuses[statuses.length - 1];
	const seq = `(${sequence(records)})`;
	const failed = error ? describeFailure(error) : undefined;
	switch (code) {
		case '401': {
			if (failed) return { code, ok: false, text: `401: the read failed: ${failed.message} ${seq}.` };
			if (statuses[0] !== 401) {
				// User Login: n8n refreshes the login on a 401 before the node sees it
				return { code, ok: !ctx.tokens, text: `401: the token was revoked; ${ctx.tokens ? 'the server did not answer 401' : 'n8n renewed the login and repeated the request, the read succeeded'} ${seq}.` };
			}
			const renewed = records.some((r) => r.kind === 'token');
			return { code, ok: renewed && last === expect, text: `401: the sandbox revoked the token as the read arrived; the server answered 401, the node ${renewed ? 'requested a new token and repeated the read' : 'did not request a new token'}: ${last} ${seq}.` };
		}
		case '403': {
			const is403 = error instanceof FhirError && error.status === 403;
			// the scope is named: missing, or already held (then the advice names the broader need)
			const named = is403 && /(missing scope|already holds) \S+/.test(error.message);
			return {
				code,
				ok: is403 && named && fhir.length === 1,
				text: is403
					? `403: the node stopped at once (${fhir.length} request, no retry) with "${error.message}" and the advice "${error.hint ?? ''}".`
					: `403: expected the read to stop with a clear error; ${failed ? `it failed with: ${failed.message}` : 'it succeeded'} ${seq}.`,
			};
		}
		case '429': {
			const wait = fhir.length >= 2 ? fhir[1].startedAt - fhir[0].startedAt : 0;
			const ok = !failed && statuses[0] === 429 && last === expect && wait >= DRILL_RETRY_AFTER_S * 1000;
			return { code, ok, text: `429: the sandbox answered 429 with Retry-After: ${DRILL_RETRY_AFTER_S}; the node waited ${seconds(wait)} and repeated the read: ${failed ? failed.message : last} ${seq}.` };
		}
		default: {
			const wait = fhir.length >= 2 ? fhir[1].startedAt - fhir[0].startedAt : 0;
			const ok = !failed && statuses[0] === 500 && last === expect;
			return { code, ok, text: `500: the sandbox answered 500; the node waited ${seconds(wait)} and repeated the read: ${failed ? failed.message : last} ${seq}.` };
		}
	}
}

async function drill(ctx: ReadinessContext, state: ReadinessState, code: Code): Promise<Drill> {
	const path = exactPath(ctx.client.url(probeRequest(state).path));
	const from = ctx.log.length;
	const id = await armFault(ctx, { kind: code, path, retryAfter: code === '429' ? DRILL_RETRY_AFTER_S : undefined });
	let error: unknown;
	try {
		await sendProbe(ctx, state);
	} catch (e) {
		error = e;
	}
	// a fault still armed was never provoked: nothing may be claimed from it
	if (await isArmed(ctx, id)) return { code, ok: false, text: `${code}: the sandbox's fault was not provoked (the read never reached it).` };
	return verdict(code, ctx.log.since(from).filter((r) => r.kind !== 'sandbox'), error, ctx, probeRequest(state).expect);
}

function fromTests(): string {
	const parts = CODES.map((code) => {
		const tests = TEST_EVIDENCE[code];
		const named = tests.slice(0, 2).map((t) => `“${t.test}” (${t.file})`).join('; ');
		return `${code}: ${tests.length} ${tests.length === 1 ? 'test' : 'tests'}${named ? `, e.g. ${named}` : ''}`;
	});
	return `${parts.join('. ')}.`;
}

export const checkErrorHandling: Check = async (ctx, state): Promise<CheckResult> => {
	const untested = CODES.filter((code) => TEST_EVIDENCE[code].length === 0);
	if (!(await hasSandboxAdmin(ctx))) {
		return {
			check: CHECK,
			status: untested.length ? 'warn' : 'pass',
			evidence: `Not provoked on this server (only the package's sandbox has switches to provoke errors safely). Shown by the package's own tests, version ${PACKAGE_VERSION}, which run before every release: ${fromTests()} The handling: 401 gets one fresh token and one retry; 403 stops with the scope to add; 429 waits as the server asks (eCW: to the next minute); 500 and other temporary errors are retried with a growing backoff, then reported.`,
			whatToDo: untested.length ? `No test covers ${untested.join(', ')} in this build: report it.` : 'Nothing to do. To watch each error provoked live, run this report against the package\'s sandbox (docs/production-readiness.md).',
		};
	}
	if (!state.access?.ok) return notRunWithoutAccess(CHECK, state);
	const drills: Drill[] = [];
	for (const code of CODES) {
		try {
			drills.push(await drill(ctx, state, code));
		} catch (error) {
			drills.push({ code, ok: false, text: `${code}: the drill could not run: ${describeFailure(error).message}.` });
		}
	}
	const failed = drills.filter((d) => !d.ok);
	return {
		check: CHECK,
		status: failed.length ? 'fail' : 'pass',
		evidence: `Provoked live on the package's sandbox, one fault at a time: ${drills.map((d) => d.text).join(' ')} eClinicalWorks sends no Retry-After with its 429; the package then waits to the next minute (${TEST_EVIDENCE['429'].length} tests of version ${PACKAGE_VERSION} cover it).`,
		whatToDo: failed.length ? `The node did not handle ${failed.map((d) => d.code).join(', ')} as expected: report it with this page.` : 'Nothing to do.',
	};
};
