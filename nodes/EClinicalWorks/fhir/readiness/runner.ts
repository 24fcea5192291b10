import { checkAccess } from './access';
import { checkBulkExport } from './bulkExport';
import { checkDiscovery } from './discovery';
import { checkErrorHandling } from './errorHandling';
import { manualItems } from './manual';
import { checkRateLimit } from './rateLimit';
import type { RequestRecord } from './recorder';
import { checkRedirect } from './redirect';
import { checkScopes } from './scopeCheck';
import { checkTokenRenewal } from './tokenRenewal';
import type { Check, CheckResult, CheckStatus, ReadinessContext, ReadinessState } from './types';
import { describeFailure } from './util';

/**
 * Runs the checks in order (each learns from the earlier ones through the shared state), then lists
 * what the node cannot check. One failing check never stops the others.
 */

/**
 * Requests without the opt-ins, at most: SMART configuration and CapabilityStatement, read again
 * signed in when the server wants a token for it (3), discovery for the first token and the
 * CapabilityStatement that fits default scopes (2), the token (1), the authenticated read (1), the
 * reads across the renewal and the renewal's token (their number + 1), and a 401 and a fresh token
 * (2). With the default 10 reads: 20, well under one minute of eCW's 250.
 */
export function requestBound(renewalReads: number): number {
	return 10 + renewalReads;
}

export const DEFAULT_REQUEST_BOUND = requestBound(10);

const CHECKS: Array<{ name: string; run: Check }> = [
	{ name: 'Discovery and SMART configuration', run: checkDiscovery },
	{ name: 'Authenticated read for this practice', run: checkAccess },
	{ name: 'Scopes', run: checkScopes },
	{ name: 'Token renewal under load', run: checkTokenRenewal },
	{ name: 'Rate limit handling', run: checkRateLimit },
	{ name: 'Error handling (401, 403, 429, 500)', run: checkErrorHandling },
	{ name: 'Bulk export', run: checkBulkExport },
	{ name: 'Redirect URI', run: checkRedirect },
];

export interface ReadinessRun {
	results: CheckResult[];
	requests: RequestRecord[];
	startedAt: number;
	finishedAt: number;
}

export async function runReadiness(ctx: ReadinessContext): Promise<ReadinessRun> {
	const startedAt = ctx.now();
	const state: ReadinessState = {};
	const results: CheckResult[] = [];
	for (const { name, run } of CHECKS) {
		ctx.onProgress?.(`checking: ${name}`);
		try {
			results.push(await run(ctx, state));
		} catch (error) {
			results.push({
				check: name,
				status: 'fail',
				evidence: `The check could not finish: ${describeFailure(error).message}.`,
				whatToDo: describeFailure(error).hint ?? 'Run the report again; if it persists, report it with this page.',
			});
		}
	}
	results.push(...manualItems());
	return { results, requests: [...ctx.log.records], startedAt, finishedAt: ctx.now() };
}

const ORDER: CheckStatus[] = ['fail', 'warn', 'not-checkable', 'pass'];

export interface ReadinessSummary {
	counts: Record<CheckStatus, number>;
	/** fail if any check failed, else warn if any warned, else pass (items to confirm by hand aside). */
	overall: 'pass' | 'warn' | 'fail';
	/** Requests by kind: discovery, token, fhir, sandbox. */
	requestsByKind: Record<string, number>;
}

export function summarize(run: ReadinessRun): ReadinessSummary {
	const counts = Object.fromEntries(ORDER.map((s) => [s, 0])) as Record<CheckStatus, number>;
	for (const r of run.results) counts[r.status]++;
	const requestsByKind: Record<string, number> = {};
	for (const r of run.requests) requestsByKind[r.kind] = (requestsByKind[r.kind] ?? 0) + 1;
	return { counts, overall: counts.fail ? 'fail' : counts.warn ? 'warn' : 'pass', requestsByKind };
}
