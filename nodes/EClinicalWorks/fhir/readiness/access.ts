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

/** Types the probe may read: none of them holds patient data. */
const PROBE_TYPES = ['Organization', 'Location', 'Practitioner'];
/** With scopes for patient data only: a Patient that does not exist (the server answers 404 once it accepted the token). */
const ABSENT_PATIENT = 'readiness-check-no-such-patient';

export const checkAccess: Check = async (ctx, state): Promise<CheckResult> => {
	const scopes = requestedScopes(ctx, state);
	const type = PROBE_TYPES.find((t) => isSearchable(state.metadata, t) && coversRead(scopes, t));
	state.probe = type
		? { path: type, query: [['_count', '1']], expect: 200, label: `GET ${type}?_count=1` }
		: { path: `Patient/${ABSENT_PATIENT}`, query: [], expect: 404, label: `GET Patient/${ABSENT_PATIENT}` };
	const probe = state.probe;
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
			evidence:
				probe.expect === 200
					? `${probe.label} with the credential's token answered 200 in ${seconds(ctx.now() - started)}: a Bundle with ${entries} ${entries === 1 ? 'entry' : 'entries'} (its content is not kept).${lifetime}`
					: `${probe.label} with the credential's token answered 404 in ${seconds(ctx.now() - started)}: the server accepted the token and found no such patient (the scopes cover only patient data, so the check reads an id that does not exist: no patient is read).${lifetime}`,
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
			advice = `The token does not allow this read here. ${failure.hint ?? ''}`.trim();
		}
		return {
			check: CHECK,
			status: 'fail',
			evidence: `${probe.label} for ${practice} failed: ${failure.message}.`,
			whatToDo: advice,
		};
	}
};

