import { fittedDefaultScopes, parseScopes } from '../scopes';
import type { CapabilityStatement } from '../types';
import type { ReadinessContext, ReadinessState, WorkflowUse } from './types';

/** Which scopes are asked for, which read a type, and which types each use of the node reads. */

const RESOURCE_SCOPE = /^(system|user|patient)\/([A-Za-z*]+)\.([a-z*]+)$/;

/** Whether one of `scopes` lets the app read `type` (v1 `.read`, v2 `.r`/`.rs`/`.cruds`, wildcards). */
export function coversRead(scopes: string[], type: string): boolean {
	return scopes.some((scope) => {
		const m = RESOURCE_SCOPE.exec(scope);
		if (!m || (m[2] !== type && m[2] !== '*')) return false;
		return m[3] === 'read' || m[3] === '*' || m[3].includes('r');
	});
}

/** Resource types the server's CapabilityStatement declares (server mode). */
export function declaredTypes(metadata: CapabilityStatement | undefined): string[] | undefined {
	const server = metadata?.rest?.find((r) => r.mode === undefined || r.mode === 'server');
	const types = (server?.resource ?? []).map((r) => r.type).filter((t): t is string => typeof t === 'string');
	return types.length ? types : undefined;
}

export function isSearchable(metadata: CapabilityStatement | undefined, type: string): boolean {
	const server = metadata?.rest?.find((r) => r.mode === undefined || r.mode === 'server');
	if (!server?.resource) return true;
	const declared = server.resource.find((r) => r.type === type);
	return !!declared?.interaction?.some((i) => i.code === 'search-type');
}

export function scopesSupported(state: ReadinessState): string[] | undefined {
	const list = state.smartConfiguration?.scopes_supported;
	return Array.isArray(list) ? list.filter((s): s is string => typeof s === 'string') : undefined;
}

/** The scopes the credential asks for; "Other SMART server" defaults are fitted like the token request fits them. */
export function requestedScopes(ctx: ReadinessContext, state: ReadinessState): string[] {
	if (ctx.credential.fitScopes) {
		return parseScopes(fittedDefaultScopes({ resourceTypes: declaredTypes(state.metadata), scopesSupported: scopesSupported(state) }));
	}
	return parseScopes(ctx.credential.scopes);
}

/** The types each use of the node reads (its simplified output resolves references to some of them). */
export function typesFor(use: WorkflowUse, ecw: boolean): string[] {
	switch (use) {
		case 'patient':
			return ['Patient'];
		case 'fullRecord':
			return ['Patient', 'Encounter', 'Coverage', 'Practitioner', 'Location', 'Organization'];
		case 'appointments':
			return ecw ? ['Encounter', 'Patient', 'Practitioner', 'Location'] : ['Appointment', 'Patient', 'Practitioner', 'Location'];
		case 'trigger':
			return ecw ? ['Encounter', 'Patient'] : ['Appointment', 'Encounter', 'Patient'];
		case 'bulkExport':
			return ['Patient'];
		default:
			return [];
	}
}

/** Every type the ticked uses read, in a stable order, each once. */
export function neededTypes(ctx: ReadinessContext): string[] {
	const types = ctx.options.uses.flatMap((use) => typesFor(use, ctx.credential.isEcw));
	if (ctx.options.uses.includes('fhirResource')) types.push(...ctx.options.extraTypes);
	return [...new Set(types)];
}
