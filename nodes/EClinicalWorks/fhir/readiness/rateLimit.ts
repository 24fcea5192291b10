import { ECW_RATE_LIMIT_PER_MINUTE } from '../auth/backend';
import type { RequestRecord } from './recorder';
import type { Check, CheckResult, ReadinessContext, ReadinessState } from './types';
import { describeFailure, notRunWithoutAccess, plural, seconds, sendProbe } from './util';

/**
 * Rate-limit handling: the pacing configured for the server (eCW: 250 requests a minute per practice,
 * token calls included), and, only when the user opts in because it spends the practice's budget, a
 * measured burst that must stay under the pace with no 429.
 */

const CHECK = 'Rate limit handling';
const WINDOW_MS = 60_000;
const MAX_BURST = 600;
/** Requests in flight at once during the measured burst (the pacer decides when each leaves). */
const WORKERS = 8;

/** The most requests that left in any 60 seconds. */
export function mostInAnyMinute(records: RequestRecord[]): number {
	const times = records.map((r) => r.startedAt).sort((a, b) => a - b);
	let most = 0;
	let start = 0;
	for (let end = 0; end < times.length; end++) {
		while (times[end] - times[start] >= WINDOW_MS) start++;
		most = Math.max(most, end - start + 1);
	}
	return most;
}

function configuration(ctx: ReadinessContext): { status: 'pass' | 'warn' | 'fail'; evidence: string; whatToDo: string } {
	const { rateLimitPerMinute: limit, processes, pacePerMinute: pace, isEcw } = ctx.credential;
	const share = processes > 1 ? ` shared by ${processes} processes: this one keeps to ${pace} a minute` : '';
	const retry = isEcw
		? 'A 429 is waited out to the next minute (eCW sends no Retry-After and blocks the rest of the minute).'
		: 'A 429 is waited out as its Retry-After asks (else with a growing backoff).';
	if (isEcw) {
		if (!(limit > 0)) {
			return { status: 'fail', evidence: `Pacing is off (Rate Limit 0); eClinicalWorks allows ${ECW_RATE_LIMIT_PER_MINUTE} requests a minute per practice, token requests included, and blocks the rest of the minute after that. ${retry}`, whatToDo: `Set the credential's Rate Limit to ${ECW_RATE_LIMIT_PER_MINUTE}.` };
		}
		if (limit > ECW_RATE_LIMIT_PER_MINUTE) {
			return { status: 'fail', evidence: `Paced at ${limit} requests a minute per practice${share}, above eClinicalWorks' ${ECW_RATE_LIMIT_PER_MINUTE}. ${retry}`, whatToDo: `Set the credential's Rate Limit to ${ECW_RATE_LIMIT_PER_MINUTE} or less.` };
		}
		return { status: 'pass', evidence: `Paced at ${limit} requests a minute per practice${share}, token and discovery requests included (eClinicalWorks allows ${ECW_RATE_LIMIT_PER_MINUTE}). ${retry}`, whatToDo: 'Nothing to do. In queue mode set Processes Sharing This Limit to the number of workers.' };
	}
	if (!(limit > 0)) {
		return { status: 'pass', evidence: `No client-side pacing (Rate Limit 0): this server's credential names no limit. ${retry}`, whatToDo: 'Nothing to do, unless the server operator publishes a limit: then set it as the credential\'s Rate Limit.' };
	}
	return { status: 'pass', evidence: `Paced at ${limit} requests a minute${share}, token requests included. ${retry}`, whatToDo: 'Nothing to do.' };
}

async function measuredBurst(ctx: ReadinessContext, state: ReadinessState): Promise<{ ok: boolean; evidence: string; whatToDo?: string }> {
	const pace = ctx.credential.pacePerMinute;
	const asked = Math.floor(ctx.options.rateLimitBurst);
	const total = Math.max(1, Math.min(MAX_BURST, asked > 0 ? asked : (pace > 0 ? pace : 50) + 10));
	ctx.onProgress?.(`rate limit burst: ${total} requests${pace > 0 && total > pace ? `; past ${pace} the pacing holds them back for up to a minute` : ''}`);
	const from = ctx.log.length;
	const started = ctx.now();
	let next = 0;
	let done = 0;
	const failures: unknown[] = [];
	const worker = async () => {
		while (next < total) {
			next++;
			try {
				await sendProbe(ctx, state);
			} catch (error) {
				failures.push(error);
			}
			done++;
			if (done % 50 === 0) ctx.onProgress?.(`rate limit burst: ${done} of ${total} requests done`);
		}
	};
	await Promise.all(Array.from({ length: Math.min(WORKERS, total) }, worker));
	const elapsed = ctx.now() - started;
	const records = ctx.log.since(from).filter((r) => r.kind !== 'sandbox');
	const throttled = records.filter((r) => r.status === 429).length;
	// the server counts every request of the minute, so the window includes the report's earlier ones
	const most = mostInAnyMinute(ctx.log.records.filter((r) => r.kind !== 'sandbox'));
	const under = pace > 0 ? most <= pace : true;
	const ok = throttled === 0 && under && failures.length === 0;
	const evidence = `Measured burst (opted in): ${plural(total, 'read')} and ${plural(records.length - records.filter((r) => r.kind === 'fhir').length, 'other request')} in ${seconds(elapsed)}; at most ${most} of the report's requests left in any 60 s${pace > 0 ? ` (the pace is ${pace})` : ''}; ${throttled} answered 429; ${failures.length} failed.`;
	if (ok) return { ok, evidence };
	const whatToDo = throttled > 0
		? 'The server answered 429: lower the credential\'s Rate Limit, and in queue mode set Processes Sharing This Limit to the number of workers.'
		: failures.length > 0
			? `A read failed: ${describeFailure(failures[0]).message}.`
			: 'More requests left in a minute than the pace allows: report it with this page.';
	return { ok, evidence, whatToDo };
}

export const checkRateLimit: Check = async (ctx, state): Promise<CheckResult> => {
	const config = configuration(ctx);
	if (!ctx.options.measureRateLimit) {
		return { check: CHECK, ...config, evidence: `${config.evidence} The measured burst was not run (opt in under Options: it spends part of the practice's budget).` };
	}
	if (!state.access?.ok) return notRunWithoutAccess(CHECK, state);
	const burst = await measuredBurst(ctx, state);
	const status = !burst.ok ? 'fail' : config.status;
	// a setting that is wrong comes first: it is usually why the burst met 429s
	const whatToDo = config.status === 'fail' || !burst.whatToDo ? config.whatToDo : burst.whatToDo;
	return { check: CHECK, status, evidence: `${config.evidence} ${burst.evidence}`, whatToDo };
};
