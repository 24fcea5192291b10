/**
 * OAuth scopes. eCW only grants scopes it offers, so the defaults name each resource the node
 * reads instead of a wildcard. `system/Group.read` is asked for only in the token used for bulk
 * export: eCW requires it there and rejects it for the single-patient API, so a bulk token and a
 * normal token are two different cache entries (different scope sets).
 */

export type ScopeSyntax = 'v1' | 'v2';

/** Resources the node reads on eCW (no Appointment: eCW's FHIR R4 API does not serve it). */
export const ECW_RESOURCES = ['Patient', 'Encounter', 'Practitioner', 'Location', 'Organization', 'Coverage'];

/** Resources for other SMART servers, which usually serve Appointment. */
export const GENERIC_RESOURCES = [...ECW_RESOURCES, 'Appointment'];

export const BULK_SCOPE = 'system/Group.read';

export function systemScopes(resources: string[], syntax: ScopeSyntax = 'v1'): string {
	return resources.map((r) => (syntax === 'v1' ? `system/${r}.read` : `system/${r}.rs`)).join(' ');
}

export const DEFAULT_ECW_SCOPES = systemScopes(ECW_RESOURCES, 'v1');
export const DEFAULT_GENERIC_SCOPES = systemScopes(GENERIC_RESOURCES, 'v1');

export const DEFAULT_USER_SCOPES = [
	'openid',
	'fhirUser',
	'offline_access',
	...ECW_RESOURCES.map((r) => `user/${r}.read`),
].join(' ');

/** Split on spaces/commas/new lines, drop duplicates, keep order. */
export function parseScopes(scopes: string | string[] | undefined): string[] {
	const list = Array.isArray(scopes) ? scopes : String(scopes ?? '').split(/[\s,]+/);
	const seen = new Set<string>();
	const out: string[] = [];
	for (const raw of list) {
		const scope = raw.trim();
		if (scope === '' || seen.has(scope)) continue;
		seen.add(scope);
		out.push(scope);
	}
	return out;
}

export function formatScopes(scopes: string[]): string {
	return scopes.join(' ');
}

function isGroupScope(scope: string): boolean {
	return /^system\/Group\.(read|r|rs|\*|cruds)$/.test(scope);
}

/** Scopes for a bulk export token: the configured ones plus `system/Group.read`. */
export function withBulkScope(scopes: string | string[]): string {
	const list = parseScopes(scopes);
	if (!list.some(isGroupScope) && !list.includes('system/*.read') && !list.includes('system/*.r')) list.push(BULK_SCOPE);
	return formatScopes(list);
}

/** Scopes for normal (single-patient API) calls: never `system/Group.*`. */
export function withoutBulkScope(scopes: string | string[]): string {
	return formatScopes(parseScopes(scopes).filter((s) => !isGroupScope(s)));
}

/** The scope a server would want for reading a resource type, in the syntax the user configured. */
export function readScopeFor(resourceType: string, configured?: string): string {
	const v2 = parseScopes(configured).some((s) => /^(system|user|patient)\/[A-Za-z*]+\.[cruds]+$/.test(s));
	const prefix = parseScopes(configured).some((s) => s.startsWith('user/'))
		? 'user'
		: parseScopes(configured).some((s) => s.startsWith('patient/'))
			? 'patient'
			: 'system';
	return v2 ? `${prefix}/${resourceType}.rs` : `${prefix}/${resourceType}.read`;
}
