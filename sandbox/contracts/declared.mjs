// What a CapabilityStatement declares, per resource type, in the shape the sandbox checks requests
// against: interactions, search parameters, _include values and operations.

/**
 * @typedef {object} DeclaredType
 * @property {Set<string>} interactions e.g. read, search-type
 * @property {Set<string>} params declared search parameter names
 * @property {Set<string>} includes declared _include values other than `*`
 * @property {boolean} anyInclude `*` is declared
 * @property {Set<string>} revIncludes declared _revinclude values other than `*`
 * @property {boolean} anyRevInclude `*` is declared for _revinclude
 * @property {Set<string>} operations operation names (`everything`, `export`)
 */

/** @returns {Map<string, DeclaredType>} */
export function declaredTypes(statement) {
	const server = (statement.rest ?? []).find((r) => r.mode === undefined || r.mode === 'server') ?? {};
	// rest.searchParam: "search parameters for searching all resources" (FHIR R4), so every type has them
	const everyType = (server.searchParam ?? []).map((p) => p.name);
	const out = new Map();
	for (const r of server.resource ?? []) {
		const includes = new Set(r.searchInclude ?? []);
		const anyInclude = includes.delete('*');
		const revIncludes = new Set(r.searchRevInclude ?? []);
		const anyRevInclude = revIncludes.delete('*');
		out.set(r.type, {
			interactions: new Set((r.interaction ?? []).map((i) => i.code)),
			params: new Set([...(r.searchParam ?? []).map((p) => p.name), ...everyType]),
			includes,
			anyInclude,
			revIncludes,
			anyRevInclude,
			operations: new Set((r.operation ?? []).map((o) => o.name)),
		});
	}
	return out;
}

/** Why a search on `type` with these query pairs breaks the declared contract, or null when it does not. */
export function undeclaredSearch(declared, type, pairs, { resultParameters = [], pageParameter }) {
	const t = declared.get(type);
	if (!t) return null;
	const allowed = new Set([...t.params, ...resultParameters]);
	for (const [key, value] of pairs) {
		const name = key.split(':')[0];
		if (name === '_include' || name === '_revinclude') {
			const [any, declaredValues] = name === '_include' ? [t.anyInclude, t.includes] : [t.anyRevInclude, t.revIncludes];
			if (!(any && value === '*') && !declaredValues.has(value)) {
				const offered = [...(any ? ['*'] : []), ...declaredValues];
				return `${name}=${value} is not supported for ${type}${offered.length ? `; supported: ${offered.join(', ')}` : ` (it declares no ${name})`}`;
			}
			continue;
		}
		if (name === pageParameter && t.params.has(name)) continue;
		if (!allowed.has(name)) {
			const offered = [...t.params].filter((p) => p !== pageParameter).sort();
			return `Search parameter '${name}' is not supported for ${type}; supported: ${offered.length ? offered.join(', ') : '(none)'}`;
		}
	}
	return null;
}
