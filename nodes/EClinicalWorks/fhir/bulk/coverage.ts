import { DEFAULT_ECW_SCOPES, offeredSystemWildcard, parseScopes, readScopeFor, typesNotCovered, withoutBulkScope } from '../scopes';
import type { CapabilityStatement } from '../types';
import type { BulkClient } from './types';

/**
 * Which resource types an export will not hold because the token's scopes do not cover them. Servers
 * do not say: SMART's reference server leaves such types out of the export without a word (also when
 * `_type` names them), others refuse the kick-off. So the node compares, before kick-off, the types
 * asked for (or, with no `_type`, every type the server's CapabilityStatement declares) with the
 * scopes its token asks for, and says what is left out and how to get it.
 */

/** Conformance and infrastructure types a CapabilityStatement lists but an export of data does not hold. */
const NOT_DATA = new Set([
	'CapabilityStatement',
	'CodeSystem',
	'CompartmentDefinition',
	'ConceptMap',
	'GraphDefinition',
	'ImplementationGuide',
	'MessageDefinition',
	'NamingSystem',
	'OperationDefinition',
	'SearchParameter',
	'StructureDefinition',
	'StructureMap',
	'TerminologyCapabilities',
	'ValueSet',
]);

export interface ScopesInUse {
	/** The scopes the token asks for (bulk scope included). */
	scopes: string;
	/** The server's scopes_supported, when it publishes one. */
	supported?: string[];
	/** The credential's Scopes are the node's defaults (fitted to the server, or eCW's). */
	defaults: boolean;
}

export interface Coverage {
	/** `_type` was given (else: every declared type). */
	explicit: boolean;
	/** Types asked for (or declared) that the scopes do not cover. */
	leftOut: string[];
	/** How many types were asked for (or declared). */
	considered: number;
	scopes: ScopesInUse;
}

export function declaredTypes(statement: CapabilityStatement): string[] {
	const server = statement.rest?.find((r) => r.mode === undefined || r.mode === 'server');
	const types = (server?.resource ?? []).map((r) => r.type).filter((t): t is string => typeof t === 'string' && !NOT_DATA.has(t));
	return [...new Set(types)];
}

/** The scopes a bulk token asks for: from the client when it can tell (fitted defaults), else as configured. */
async function scopesInUse(client: BulkClient): Promise<ScopesInUse | undefined> {
	if (client.scopesInUse) {
		const known = await client.scopesInUse().then(
			(value) => value,
			() => undefined,
		);
		if (known) return known;
	}
	const configured = client.configuredScopes;
	if (!configured) return undefined;
	const defaults = withoutBulkScope(configured) === DEFAULT_ECW_SCOPES;
	return { scopes: configured, defaults };
}

/**
 * What the scopes leave out of an export of `types` (empty: every declared type). Undefined when
 * nothing is left out, or when it cannot be told (no scopes known, or no CapabilityStatement for an
 * export of every type): this is advice, and never stops an export.
 */
export async function exportCoverage(client: BulkClient, types: string[]): Promise<Coverage | undefined> {
	const scopes = await scopesInUse(client);
	if (!scopes || parseScopes(scopes.scopes).length === 0) return undefined;
	let considered = types;
	if (considered.length === 0) {
		const statement = client.capabilities ? await client.capabilities().then((s) => s, () => undefined) : undefined;
		if (!statement) return undefined;
		considered = declaredTypes(statement);
	}
	const leftOut = typesNotCovered(scopes.scopes, considered);
	if (leftOut.length === 0) return undefined;
	return { explicit: types.length > 0, leftOut, considered: considered.length, scopes };
}

function named(types: string[], max = 10): string {
	if (types.length <= max) return types.join(', ');
	return `${types.slice(0, max).join(', ')} and ${types.length - max} more`;
}

/** The hint: what is left out, why the node does not ask for more by itself, and what to add. */
export function coverageHint(coverage: Coverage, ecw: boolean): string {
	const { leftOut, scopes } = coverage;
	const them = leftOut.length === 1 ? 'it' : 'them';
	const wildcard = offeredSystemWildcard(scopes.supported);
	const examples = leftOut.slice(0, 3).map((type) => readScopeFor(type, scopes.scopes, scopes.supported));
	const add = wildcard
		? `${wildcard} (every type; this server offers it) or a read scope per type, e.g. ${examples.join(', ')},`
		: `a read scope per type, e.g. ${examples.join(', ')},`;
	if (coverage.explicit) {
		return (
			`The credential's scopes do not cover ${named(leftOut)}: the server will refuse the export or leave ${them} out without a word. ` +
			`Add ${add} to the credential's Scopes and the app's registration, or take ${them} out of Resource Types.`
		);
	}
	const why = !scopes.defaults
		? ''
		: ecw
			? ' These are the default eClinicalWorks scopes (the types this node reads): eCW grants only scopes registered for the app, so the node asks for no more on its own.'
			: ' The credential uses the default scopes, which ask only for the types this node reads: servers refuse or leave out scopes an app is not registered for, so the node asks for no more on its own.';
	return (
		`The export will hold only the types the scopes cover: they leave out ${leftOut.length} of the ${coverage.considered} types this server declares (${named(leftOut)}).${why} ` +
		`To export ${them}, add ${add} to the credential's Scopes and the app's registration, or choose Resource Types.`
	);
}
