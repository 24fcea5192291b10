import { parseScopes } from './scopes';

/**
 * What a 403 means for the scopes: only advice the server can grant. A scope is named only in a form
 * the server's `scopes_supported` lists (when it publishes one); a `.r` scope is said to read without
 * search (SMART v2), so asking for it again would go in circles; and when the token already holds
 * the scope a 403 seems to want, the advice says so and names the broader need.
 */

export interface ForbiddenRequest {
	/** The resource type the URL addresses (`Coverage`), if any. */
	type?: string;
	/** `Type` or `Type/_search` (no id): a search. */
	search: boolean;
	/** `Patient/{id}/$everything`: Get Full Record. */
	everything: boolean;
	/** The scope the server's text names, if any. */
	named?: string;
	/** The scopes the token holds (granted, else asked for). */
	held?: string;
	/** The server's `scopes_supported`, when known. */
	supported?: string[];
}

export interface Advice {
	message: string;
	hint: string;
}

const RESOURCE_SCOPE = /^(system|user|patient)\/([A-Za-z*]+)\.([a-z*]+)$/;
/** Forms that allow searching, in the order a suggestion prefers them. */
const SEARCH_FORMS = ['read', 'rs', 's', 'cruds', '*'];

interface Parsed {
	raw: string;
	context: string;
	type: string;
	perms: string;
}

function parse(scope: string): Parsed | undefined {
	const m = RESOURCE_SCOPE.exec(scope);
	if (!m) return undefined;
	const perms = m[3] === 'read' ? 'rs' : m[3] === '*' ? 'cruds' : m[3] === 'write' ? 'cud' : m[3];
	return { raw: scope, context: m[1], type: m[2], perms };
}

function covers(scope: Parsed, type: string, perm: 'r' | 's'): boolean {
	return (scope.type === type || scope.type === '*') && scope.perms.includes(perm);
}

function contextOf(held: Parsed[]): string {
	return held[0]?.context ?? 'system';
}

/** The forms the server offers for reading (and, for a search, searching) `type`; [] when it publishes no list. */
function offered(context: string, type: string, perm: 'r' | 's', supported: string[] | undefined): string[] {
	if (!supported) return [];
	const forms = perm === 's' ? SEARCH_FORMS : ['read', 'rs', 'r', 'cruds', '*'];
	return forms.map((f) => `${context}/${type}.${f}`).filter((s) => supported.includes(s));
}

const ADD = 'to the credential\'s Scopes and to the app\'s registration (or ask the practice to grant it), then try again';

export function forbiddenAdvice(request: ForbiddenRequest): Advice {
	const held = parseScopes(request.held).map(parse).filter((s): s is Parsed => s !== undefined);
	const context = contextOf(held);
	const type = request.type ?? 'Patient';
	const perm: 'r' | 's' = request.search ? 's' : 'r';
	const named = request.named ? parse(request.named) : undefined;
	const holdsNamed = named ? held.some((h) => covers(h, named.type, named.perms.includes('s') ? 's' : 'r')) : false;

	if (request.everything) {
		const patient = held.find((h) => covers(h, 'Patient', 'r'));
		if (patient || holdsNamed) {
			return {
				message: `Access denied (403): the token already holds ${named && holdsNamed ? named.raw : patient?.raw}, and the server wants more for Get Full Record`,
				hint: `Get Full Record ($everything) returns every kind of record the patient has, and servers ask for a read scope for each kind in it (Encounter, Coverage, Condition, Observation, ...), not only ${context}/Patient. Add read scopes for the kinds of record the practice keeps ${ADD}. Patient > Get and FHIR Resource > Search need only the scope of their own type.`,
			};
		}
	}

	const target = named ?? { raw: '', context, type, perms: perm };
	const targetType = target.type === '*' ? type : target.type;
	const holding = held.filter((h) => covers(h, targetType, 'r'));
	if (perm === 's' && holding.length > 0 && !holding.some((h) => covers(h, targetType, 's'))) {
		// holds a read-only form (.r): SMART v2 reads it as read without search
		const searchForms = offered(context, targetType, 's', request.supported);
		const holds = holding.map((h) => h.raw).join(' ');
		return {
			message: `Access denied (403): the token holds ${holds}, which may not allow searching ${targetType}`,
			hint: searchForms.length > 0
				? `Under SMART v2 scopes .r grants read without search. Add ${searchForms[0]} (offered by this server) ${ADD}.`
				: `Under SMART v2 scopes .r grants read without search${request.supported ? `, and this server offers no scope that allows searching ${targetType} (it lists ${holds})` : ''}. Read ${targetType} by id (FHIR Resource > Get), or reach it through a search the token allows (e.g. with _include); ask the server operator if a search is needed.`,
		};
	}
	if (holdsNamed || (!named && holding.some((h) => covers(h, targetType, perm)))) {
		const holds = named && holdsNamed ? named.raw : holding.map((h) => h.raw).join(' ');
		return {
			message: `Access denied (403): the token already holds ${holds}, yet the server refused`,
			hint: `The server wants more than this scope for this request, or the practice has not granted it to the app. Check which scopes the practice granted, and the scopes of the other kinds of record the request returns (with _include or _revinclude each one needs its own).`,
		};
	}
	const forms = offered(context, targetType, perm, request.supported);
	const fallback = perm === 's' ? offered(context, targetType, 'r', request.supported) : [];
	if (request.supported && forms.length === 0 && fallback.length === 0 && !named) {
		return {
			message: `Access denied (403): no scope for ${targetType}`,
			hint: `This server lists no ${context} scope for ${targetType} in its SMART configuration, so the app cannot be granted access to it.`,
		};
	}
	const scope = named && (!request.supported || request.supported.includes(named.raw)) ? named.raw : forms[0] ?? fallback[0] ?? (named?.raw || `${context}/${targetType}.read`);
	const readOnly = perm === 's' && forms.length === 0 && fallback.length > 0;
	return {
		message: `Access denied (403): missing scope ${scope}`,
		hint: readOnly
			? `Add ${scope} ${ADD}. This server offers ${targetType} only as ${fallback.join(' or ')}: under SMART v2 that grants read without search, so a search may still be refused.`
			: `Add ${scope} ${ADD}.`,
	};
}
