import { ECW_ENABLE_APP_HINT } from '../ecw';
import { coversRead, isSearchable, requestedScopes } from './scopeMath';
import type { Check, CheckResult } from './types';
import { describeFailure, practiceOf, seconds, sendProbe } from './util';

/**
 * An authenticated read for this practice: the token is issued, and the server lets this app read in
 * this practice (eCW refuses a practice that has not enabled the app at its first FHIR request). One
 * page of one entry, of a type without patient data where the scopes allow; its content is dropped.
 */

const CHECK = 'Authenticated read for this practice';

/** Types read by the probe, preferring those that carry no patient data. */
const PROBE_TYPES = ['Organization', 'Location', 'Practitioner', 'Patient', 'Encounter'];

export const checkAccess: Check = async (ctx, state): Promise<CheckResult> => {
	const scopes = requestedScopes(ctx, state);
	const type = PROBE_TYPES.find((t) => isSearchable(state.metadata, t) && coversRead(scopes, t)) ?? 'Patient';
	state.probe = { type, query: [['_count', '1']] };
	const code = practiceOf(ctx.credential).code;
	const practice = code ? `practice ${code}` : 'this server';
	const started = ctx.now();
	try {
		const entries = await sendProbe(ctx, state);
		state.access = { ok: true };
		const token = ctx.tokens?.current();
		const lifetime = token ? ` The token was issued for ${practice}, valid ${seconds(token.expiresAt - token.obtainedAt)}.` : '';
		return {
			check: CHECK,
			status: 'pass',
			evidence: `GET ${type}?_count=1 with the credential's token answered 200 in ${seconds(ctx.now() - started)}: a Bundle with ${entries} ${entries === 1 ? 'entry' : 'entries'} (its content is not kept).${lifetime}`,
			whatToDo: 'Nothing to do.',
		};
	} catch (error) {
		const failure = describeFailure(error);
		state.access = { ok: false, reason: failure.message };
		const refused = failure.status === 401 || /invalid_client/.test(failure.message);
		let advice = failure.hint ?? 'Check the credential, then run this report again.';
		if (refused && ctx.credential.isEcw) {
			advice = `Check that ${ECW_ENABLE_APP_HINT}: the practice gives you its code when it enables the app. Then check the credential (client ID, key, Key ID). ${failure.hint ?? ''}`.trim();
		} else if (failure.status === 403) {
			advice = `The token does not allow reading ${type} here. ${failure.hint ?? ''}`.trim();
		}
		return {
			check: CHECK,
			status: 'fail',
			evidence: `GET ${type}?_count=1 for ${practice} failed: ${failure.message}.`,
			whatToDo: advice,
		};
	}
};

