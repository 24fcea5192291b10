import { BULK_SCOPE, describeUnsupported, parseScopes, readScopeFor, unsupportedScopes } from '../scopes';
import { coversRead, declaredTypes, neededTypes, requestedScopes, scopesSupported } from './scopeMath';
import type { Check, CheckResult } from './types';

/**
 * Scopes: each one asked for is in the server's scopes_supported; what the token response granted
 * against what was asked; and what the ticked uses of the node need that the token lacks.
 */

const CHECK = 'Scopes';

function list(scopes: string[]): string {
	return scopes.length ? scopes.join(' ') : '(none)';
}

export const checkScopes: Check = async (ctx, state): Promise<CheckResult> => {
	const cred = ctx.credential;
	const requested = requestedScopes(ctx, state);
	const supported = scopesSupported(state);
	const grantedText = ctx.tokens ? ctx.tokens.current()?.scope : ctx.userLogin?.grantedScope;
	const granted = grantedText !== undefined ? parseScopes(grantedText) : undefined;
	const evidence: string[] = [`Asked for (${requested.length}${cred.fitScopes ? ', the defaults fitted to this server' : ''}): ${list(requested)}.`];
	const failures: string[] = [];
	const warnings: string[] = [];
	const advice: string[] = [];

	if (supported?.length) {
		const missing = unsupportedScopes(requested, supported);
		if (missing.length === 0) evidence.push(`Each is in the server's scopes_supported (${supported.length} listed).`);
		else {
			(cred.isEcw ? failures : warnings).push(`not in scopes_supported: ${describeUnsupported(missing)}`);
			advice.push(`Ask only for scopes the server lists, in the form it lists them (${cred.isEcw ? 'eClinicalWorks refuses any other with invalid_grant' : 'the server may refuse others'}), and register the same scopes for the app.`);
		}
	} else evidence.push('The server publishes no scopes_supported, so the scopes asked for cannot be compared with it.');

	const usable = granted ?? (state.access?.ok ? requested : undefined);
	if (!state.access?.ok) evidence.push('Granted: unknown (no token was issued; see the authenticated read).');
	else if (grantedText === undefined) evidence.push('The token response names no scope: by OAuth 2.0 the server granted what was asked.');
	else {
		const notGranted = requested.filter((s) => !granted?.includes(s));
		const extra = (granted ?? []).filter((s) => !requested.includes(s));
		evidence.push(`Granted (${granted?.length ?? 0}): ${list(granted ?? [])}.`);
		if (notGranted.length) {
			warnings.push(`asked for but not granted: ${notGranted.join(' ')}`);
			advice.push('Register the missing scopes for the app on the server (eCW developer portal), or stop asking for them.');
		}
		if (extra.length) evidence.push(`Granted beyond what was asked: ${extra.join(' ')}.`);
	}

	const served = declaredTypes(state.metadata);
	const needed = neededTypes(ctx).filter((type) => !served || served.includes(type));
	const notServed = served ? neededTypes(ctx).filter((type) => !served.includes(type)) : [];
	if (notServed.length) evidence.push(`Not served by this server (left out): ${notServed.join(', ')}.`);
	const base = usable ?? requested;
	const lacking = needed.filter((type) => !coversRead(base, type));
	if (needed.length) evidence.push(`Your workflows read ${needed.join(', ')}${lacking.length ? `; not covered: ${lacking.join(', ')}` : ': all covered'}.`);
	if (lacking.length) {
		const add = lacking.map((type) => readScopeFor(type, base.join(' '), supported));
		failures.push(`missing for your workflows: ${add.join(' ')}`);
		advice.push(`Add ${add.join(' ')} to the credential's Scopes and register ${add.length > 1 ? 'them' : 'it'} for the app.`);
	}
	if (ctx.options.uses.includes('bulkExport') && cred.kind === 'backendService' && cred.isEcw) {
		const offered = !supported || supported.includes(BULK_SCOPE);
		evidence.push(`Bulk export: the node adds ${BULK_SCOPE} to its bulk export token only (eCW requires it there and refuses it elsewhere)${offered ? '' : ', but the server does not list it'}.`);
		if (!offered) {
			failures.push(`${BULK_SCOPE} is not offered`);
			advice.push(`Ask eCW to offer ${BULK_SCOPE} for the app, or untick Bulk Export.`);
		}
	}

	const status = failures.length ? 'fail' : warnings.length ? 'warn' : 'pass';
	const problems = [...failures, ...warnings];
	return {
		check: CHECK,
		status,
		evidence: [...evidence, ...(problems.length ? [`Problems: ${problems.join('; ')}.`] : [])].join(' '),
		whatToDo: advice.length ? advice.join(' ') : 'Nothing to do.',
	};
};
