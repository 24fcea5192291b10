/**
 * OAuth scopes. A server grants only scopes it offers, so the defaults name each resource the node
 * reads, in a form the server lists. `system/Group.read` is asked for only in the token used for bulk
 * export: eCW requires it there and rejects it for the single-patient API, so a bulk token and a
 * normal token are two different cache entries (different scope sets).
 */

/** Resources the node reads on eCW (no Appointment: eCW's FHIR R4 API does not serve it). */
export const ECW_RESOURCES = ['Patient', 'Encounter', 'Practitioner', 'Location', 'Organization', 'Coverage'];

/** Resources the node reads on other SMART servers, which usually serve Appointment. */
export const GENERIC_RESOURCES = ['Patient', 'Appointment', 'Encounter', 'Practitioner', 'Location', 'Organization', 'Coverage'];

export const BULK_SCOPE = 'system/Group.read';

/**
 * eCW's published scopes_supported (486 scopes) lists Coverage only as `.r` and `.d`: every other
 * default is offered in the v1 `.read` form, which grants read and search.
 */
function ecwScope(context: 'system' | 'user', resource: string): string {
	return `${context}/${resource}.${resource === 'Coverage' ? 'r' : 'read'}`;
}

export const DEFAULT_ECW_SCOPES = ECW_RESOURCES.map((r) => ecwScope('system', r)).join(' ');
export const DEFAULT_GENERIC_SCOPES = GENERIC_RESOURCES.map((r) => `system/${r}.read`).join(' ');

export const DEFAULT_USER_SCOPES = ['openid', 'fhirUser', 'offline_access', ...ECW_RESOURCES.map((r) => ecwScope('user', r))].join(' ');

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

const RESOURCE_SCOPE = /^(system|user|patient)\/([A-Za-z*]+)\.([a-z*]+)(\?.*)?$/;
/** Permissions that include reading, in the order a default prefers them. */
const READ_FORMS = ['read', 'rs', 'r', 'cruds', '*'];

/** Forms of scope the server offers for reading `type` in `context`, e.g. ['system/Coverage.r']. */
export function offeredReadScopes(context: string, type: string, supported: string[]): string[] {
	return READ_FORMS.map((form) => `${context}/${type}.${form}`).filter((s) => supported.includes(s));
}

export interface UnsupportedScope {
	scope: string;
	/** The forms the server offers instead for the same context and resource type. */
	offered: string[];
}

/** Requested scopes the server's `scopes_supported` does not list, each with the forms it does list. */
export function unsupportedScopes(requested: string | string[], supported: string[]): UnsupportedScope[] {
	const offered = new Set(supported);
	return parseScopes(requested)
		.filter((scope) => !offered.has(scope))
		.map((scope) => {
			const m = RESOURCE_SCOPE.exec(scope);
			return { scope, offered: m ? offeredReadScopes(m[1], m[2], supported) : [] };
		});
}

/** "`system/Coverage.read` is not offered; this server offers `system/Coverage.r`" for each scope. */
export function describeUnsupported(list: UnsupportedScope[]): string {
	return list
		.map(({ scope, offered }) =>
			offered.length > 0
				? `${scope} is not offered; this server offers ${offered.join(' or ')}`
				: `${scope} is not offered by this server`,
		)
		.join('; ');
}

/** Whether the server's list enumerates per-resource scopes for a context (so a missing type is refused). */
function enumerates(context: string, supported: string[]): boolean {
	return supported.some((s) => s.startsWith(`${context}/`) && !s.startsWith(`${context}/*`));
}

/**
 * The default scopes for another SMART server, fitted to what it declares: the resources the node
 * reads that its CapabilityStatement lists (when it was readable), each in a form its scopes_supported
 * offers (when it publishes one). A server that enumerates per-resource scopes and lists none for a type
 * would refuse that type, so it is left out.
 */
export function fittedDefaultScopes(server: { resourceTypes?: string[]; scopesSupported?: string[] }): string {
	const supported = server.scopesSupported ?? [];
	const strict = enumerates('system', supported);
	const scopes: string[] = [];
	for (const type of GENERIC_RESOURCES) {
		if (server.resourceTypes && server.resourceTypes.length > 0 && !server.resourceTypes.includes(type)) continue;
		const offered = offeredReadScopes('system', type, supported);
		if (offered.length > 0) scopes.push(offered[0]);
		else if (!strict) scopes.push(`system/${type}.read`);
	}
	return formatScopes(scopes);
}

/** The scope a server would want for reading a resource type, in the syntax the user configured. */
export function readScopeFor(resourceType: string, configured?: string, supported?: string[]): string {
	const list = parseScopes(configured);
	const prefix = list.some((s) => s.startsWith('user/')) ? 'user' : list.some((s) => s.startsWith('patient/')) ? 'patient' : 'system';
	const offered = supported ? offeredReadScopes(prefix, resourceType, supported) : [];
	if (offered.length > 0) return offered[0];
	const resourceScopes = list.filter((s) => RESOURCE_SCOPE.test(s));
	const v2 = resourceScopes.length > 0 && resourceScopes.every((s) => /\.[cruds]+$/.test(s));
	return v2 ? `${prefix}/${resourceType}.rs` : `${prefix}/${resourceType}.read`;
}

/** Whether a scope lets its holder read `type`: v1 `.read` or `.*`, v2 any permission set with `r`; `*` covers every type. */
export function coversRead(scope: string, type: string): boolean {
	const m = RESOURCE_SCOPE.exec(scope);
	if (!m || (m[2] !== type && m[2] !== '*')) return false;
	const permission = m[3];
	return permission === 'read' || permission === '*' || (/^[cruds]+$/.test(permission) && permission.includes('r'));
}

/** The types none of the scopes lets its holder read, in the order given. */
export function typesNotCovered(scopes: string | string[] | undefined, types: string[]): string[] {
	const list = parseScopes(scopes);
	return types.filter((type) => !list.some((scope) => coversRead(scope, type)));
}

/** The system-wide read scope a server offers (`system/*.read`, `.rs` or `.r`), if it lists one. */
export function offeredSystemWildcard(supported: string[] | undefined): string | undefined {
	return offeredReadScopes('system', '*', supported ?? [])[0];
}

