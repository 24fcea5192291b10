import { refreshMargin } from '../auth/tokenCache';
import type { Check, CheckResult } from './types';
import { describeFailure, notRunWithoutAccess, plural, seconds, sendProbe, settled } from './util';
import type { Settled } from './util';

/**
 * Token handling under load: concurrent reads across a token renewal forced inside the package (not
 * by waiting for the token to expire). Half the reads start with the current token, then the renewal
 * is forced, then the other half start: one token request must serve them all, no read is answered
 * 401, and none leaves with a token past its expiry.
 */

const CHECK = 'Token renewal under load';

export const checkTokenRenewal: Check = async (ctx, state): Promise<CheckResult> => {
	if (!state.access?.ok) return notRunWithoutAccess(CHECK, state);
	const tokens = ctx.tokens;
	if (!tokens) {
		const refresh = ctx.userLogin?.hasRefreshToken === true;
		return {
			check: CHECK,
			status: refresh ? 'not-checkable' : 'warn',
			evidence: `User Login: n8n keeps this token and renews it with the refresh token when the server answers 401 (the package cannot force that renewal). A refresh token is ${refresh ? '' : 'not '}stored.`,
			whatToDo: refresh
				? 'Nothing the node can check. Scheduled workflows should use a Backend Service credential, whose renewal this check proves.'
				: 'Keep offline_access in the credential\'s Scope and reconnect, so n8n can renew the login without you.',
		};
	}
	const total = Math.max(2, Math.min(50, Math.floor(ctx.options.renewalBurst)));
	const firstHalf = Math.floor(total / 2);
	const mintsBefore = tokens.mints();
	const from = ctx.log.length;
	const started = ctx.now();
	const reads: Array<Promise<Settled<number>>> = [];
	const sentBefore = ctx.log.sent;
	for (let i = 0; i < firstHalf; i++) reads.push(settled(sendProbe(ctx, state)));
	// the first half leaves with the current token; the renewal is forced while they are on their way
	for (let waited = 0; ctx.log.sent - sentBefore < firstHalf && waited < 5_000; waited += 5) await ctx.sleep(5);
	tokens.forceRenewal();
	const renewedAt = ctx.now();
	for (let i = firstHalf; i < total; i++) reads.push(settled(sendProbe(ctx, state)));
	const results = await Promise.all(reads);
	const elapsed = ctx.now() - started;

	const records = ctx.log.since(from);
	const fhir = records.filter((r) => r.kind === 'fhir');
	const tokenRequests = records.filter((r) => r.kind === 'token');
	const mints = tokens.mints() - mintsBefore;
	const unauthorized = fhir.filter((r) => r.status === 401).length;
	const expired = fhir.filter((r) => r.token !== undefined && r.startedAt >= r.token.expiresAt).length;
	const failed = results.filter((r) => !r.ok);
	const used = new Map<number, number>();
	for (const r of fhir) if (r.token) used.set(r.token.obtainedAt, (used.get(r.token.obtainedAt) ?? 0) + 1);
	const usage = [...used.entries()]
		.sort((a, b) => a[0] - b[0])
		.map(([obtainedAt, count], i) => `token ${i + 1} (issued ${obtainedAt < renewedAt ? 'before' : 'at'} the renewal) sent with ${plural(count, 'read')}`)
		.join(', ');
	const slowest = fhir.reduce((max, r) => Math.max(max, r.ms), 0);
	const tokenMs = tokenRequests.map((r) => `${r.ms} ms`).join(', ');
	const current = tokens.current();
	const lifetime = current ? current.expiresAt - current.obtainedAt : 0;

	const evidence = [
		`${total} concurrent reads, the token renewal forced after the first ${firstHalf}: ${plural(mints, 'token request')}${tokenMs ? ` (${tokenMs})` : ''}, ${unauthorized} answered 401, ${expired} sent with an expired token, ${failed.length} failed.`,
		usage ? `${usage[0].toUpperCase()}${usage.slice(1)}.` : '',
		`All done in ${seconds(elapsed)}; the slowest read took ${slowest} ms.`,
		lifetime ? `Tokens last ${seconds(lifetime)} here; the package renews each ${seconds(refreshMargin(lifetime))} before it expires, shared by every workflow in this n8n process.` : '',
	].filter(Boolean);
	const ok = mints === 1 && unauthorized === 0 && expired === 0 && failed.length === 0;
	let whatToDo = 'Nothing to do.';
	if (!ok) {
		const first = failed[0];
		whatToDo = first && !first.ok ? `A read failed: ${describeFailure(first.error).message}. Run the report again; if it persists, report it with this page.` : 'More than one token request or a 401 during one renewal: run the report again; if it persists, report it with this page.';
	}
	return { check: CHECK, status: ok ? 'pass' : 'fail', evidence: evidence.join(' '), whatToDo };
};
