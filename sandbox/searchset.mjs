// Search (type-level, paged with signed opaque cursors), _include, _sort and Patient/$everything.
// Which parameters, _include values and paging parameter a request may use is the contract's
// business (contracts/): the `ecw` contract refuses what eCW does not declare, `smart` ignores it.
import crypto from 'node:crypto';
import { undeclaredSearch } from './contracts/declared.mjs';
import { compileSearch, dateMatches } from './search.mjs';
import { FhirError, hash32, sendJson } from './util.mjs';

/** Filtered searches over more records than this omit Bundle.total (counting would scan them all). */
const TOTAL_SCAN_LIMIT = 50_000;
const CONTROL = new Set(['_count', '_include', '_getpages', '_sort', '_format', '_total', '_elements', '_revinclude', '_summary', 'page']);
const SORT_KEYS = {
	date: (r) => Date.parse(r.period?.start ?? r.start ?? '') || 0,
	_lastUpdated: (r) => Date.parse(r.meta?.lastUpdated ?? '') || 0,
	_id: (r) => r.id ?? '',
	birthdate: (r) => r.birthDate ?? '',
};

/** Resources referenced by a match for one _include value (`*` = every reference the sandbox knows). */
export function includeRefs(r, inc) {
	const actors = (type) => (r.participant ?? []).map((p) => p.actor?.reference).filter((x) => !type || x?.startsWith(`${type}/`));
	switch (inc) {
		case 'Appointment:patient': return actors('Patient');
		case 'Appointment:practitioner': return actors('Practitioner');
		case 'Appointment:location': return actors('Location');
		case 'Appointment:actor': return actors().filter(Boolean);
		case 'Encounter:patient':
		case 'Encounter:subject': return [r.subject?.reference].filter(Boolean);
		case 'Encounter:practitioner': return (r.participant ?? []).map((p) => p.individual?.reference).filter(Boolean);
		case 'Encounter:location': return (r.location ?? []).map((l) => l.location?.reference).filter(Boolean);
		case '*': return r.resourceType === 'Appointment' ? actors().filter(Boolean) : r.resourceType === 'Encounter' ? ['patient', 'practitioner', 'location'].flatMap((t) => includeRefs(r, `Encounter:${t}`)) : [];
		default: return [];
	}
}

export class Searchset {
	/** @param {any} sb the Sandbox (contract, clock, options, origins) */
	constructor(sb) {
		this.sb = sb;
		this.cursorKey = crypto.randomBytes(32);
	}

	signCursor(obj) {
		const body = Buffer.from(JSON.stringify(obj)).toString('base64url');
		const sig = crypto.createHmac('sha256', this.cursorKey).update(body).digest('base64url').slice(0, 22);
		return `${body}.${sig}`;
	}

	readCursor(s) {
		const [body, sig] = String(s).split('.');
		const want = crypto.createHmac('sha256', this.cursorKey).update(body ?? '').digest('base64url').slice(0, 22);
		if (!body || sig !== want) throw new FhirError(400, 'invalid', 'Invalid or expired paging cursor: follow the next link exactly as given');
		return JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
	}

	compile(type, pairs) {
		const sb = this.sb;
		return compileSearch(type, pairs, { tz: sb.o.timeZone, profile: sb.contract.name, now: sb.clock(), typedReferencesOnly: !!sb.contract.quirks?.typedReferencesOnly });
	}

	/** Candidate raw positions of a compiled search, in raw order, from `from`. */
	*positions(ds, type, compiled, from) {
		let list = null;
		if (compiled.ids) list = compiled.ids.map((id) => ds.indexOf(type, id)).filter((i) => i >= 0);
		else if (compiled.patientRefs && type !== 'Patient') {
			const set = new Set();
			for (const ref of compiled.patientRefs) {
				const p = ds.indexOf('Patient', ref.slice(8));
				if (p >= 0) for (const i of ds.positionsForPatient(type, p)) set.add(i);
			}
			list = [...set];
		}
		if (list) {
			list = [...new Set(list)].sort((a, b) => a - b);
			for (const i of list) if (i >= from) yield i;
			return;
		}
		const n = ds.size(type);
		for (let i = from; i < n; i++) yield i;
	}

	/** Matching records from raw position `from`, as [position, resource]. */
	*matching(ds, type, compiled, from = 0) {
		for (const i of this.positions(ds, type, compiled, from)) {
			if (!this.lastUpdatedOk(ds, type, i, compiled)) continue;
			const r = ds.at(type, i);
			if (r && compiled.match(r)) yield [i, r];
		}
	}

	/** Cheap pre-check of _lastUpdated against the stored timestamp (no generation). */
	lastUpdatedOk(ds, type, i, compiled) {
		if (!compiled.lastUpdated.length) return true;
		const t = ds.lastUpdatedMs(type, i);
		return compiled.lastUpdated.every(({ prefix, range }) => dateMatches(prefix, range, { lo: t, hi: t + 1 }, this.sb.clock()));
	}

	/** A new search's state from its query pairs (checked against the contract). */
	start(ds, type, pairs) {
		const sb = this.sb;
		const contract = sb.contract;
		if (contract.strictSearch) {
			const why = undeclaredSearch(contract.declared, type, pairs, contract);
			if (why) throw new FhirError(400, 'not-supported', why);
		}
		const criteria = pairs.filter(([k]) => !CONTROL.has(k.split(':')[0]));
		checkFormat(pairs);
		const { count, countStr } = this.pageSize(pairs);
		const declared = contract.declared.get(type);
		const includes = [];
		for (const [k, v] of pairs) {
			if (k !== '_include' || includes.includes(v)) continue;
			if ((v === '*' && declared?.anyInclude) || declared?.includes.has(v)) includes.push(v);
		}
		let sort = null;
		const sortStr = pairs.find(([k]) => k === '_sort')?.[1];
		if (sortStr !== undefined && declared?.params.has('_sort') && !contract.quirks?.ignoresSort) {
			const key = sortStr.replace(/^-/, '');
			if (!SORT_KEYS[key]) throw new FhirError(400, 'not-supported', `Unsupported _sort: ${sortStr}; supported: ${Object.keys(SORT_KEYS).join(', ')} (prefix - for descending)`);
			sort = sortStr;
		}
		const compiled = this.compile(type, criteria);
		if (type === 'Patient' && contract.patientSearchNeedsCriteria && compiled.used.length === 0) throw new FhirError(400, 'invalid', 'Patient search requires at least one search parameter');
		return { p: ds.code, t: type, q: compiled.used, inc: includes, c: count, pos: 0, off: 0, n: 0, cs: countStr !== undefined, sort };
	}

	/** `_count` asked for (capped at the contract's maximum and the `maxPageSize` option), else the contract's default. */
	pageSize(pairs) {
		const contract = this.sb.contract;
		const cap = Math.min(contract.maxCount, this.sb.o.maxPageSize ?? Infinity);
		const countStr = pairs.find(([k]) => k === '_count')?.[1];
		if (countStr === undefined) return { count: Math.min(contract.defaultCount, cap), countStr };
		if (!/^\d+$/.test(countStr)) throw new FhirError(400, 'invalid', `Invalid _count: ${countStr}`);
		return { count: Math.min(Number(countStr), cap), countStr };
	}

	/** A paging cursor from `pairs` (the contract's page parameter), checked: signed by this server, for this search, and (opaque links) alone. */
	cursorOf(pairs, ds, type) {
		const pageName = this.sb.contract.pageParameter;
		const cursorStr = pairs.find(([k]) => k === pageName)?.[1];
		if (cursorStr === undefined) return { cursorStr };
		const extra = pairs.filter(([k]) => k !== pageName).map(([k]) => k);
		if (this.sb.contract.opaqueNextLinks && extra.length > 0) {
			throw new FhirError(400, 'invalid', `A paging link was changed (parameters added: ${[...new Set(extra)].join(', ')}): follow the next link exactly as given`);
		}
		const state = this.readCursor(cursorStr);
		if (state.p !== ds.code || state.t !== type) throw new FhirError(400, 'invalid', 'Paging cursor does not belong to this search');
		return { cursorStr, state };
	}

	/** Positions in the order the server returns them when that is not raw order (_sort, or the unsorted quirk). */
	ordered(ds, type, compiled, state) {
		const all = [...this.matching(ds, type, compiled)];
		if (state.sort) {
			const desc = state.sort.startsWith('-');
			const key = SORT_KEYS[state.sort.replace(/^-/, '')];
			all.sort(([ia, a], [ib, b]) => {
				const ka = key(a);
				const kb = key(b);
				const c = ka < kb ? -1 : ka > kb ? 1 : ia - ib;
				return desc ? -c : c;
			});
		} else {
			const salt = JSON.stringify(state.q);
			all.sort(([ia], [ib]) => hash32(salt, ia) - hash32(salt, ib) || ia - ib);
		}
		return all;
	}

	search(res, ds, base, type, pairs, token) {
		const sb = this.sb;
		let { cursorStr, state } = this.cursorOf(pairs, ds, type);
		if (!state) {
			if (!token) throw new FhirError(401, 'login', 'Missing bearer token', { 'WWW-Authenticate': 'Bearer realm="sandbox"' });
			state = this.start(ds, type, pairs);
		}
		const compiled = this.compile(type, state.q);
		const reordered = state.sort || sb.contract.quirks?.unsortedDefault;
		let matches = [];
		let next = null;
		if (reordered) {
			const all = this.ordered(ds, type, compiled, state);
			state.total ??= all.length;
			matches = all.slice(state.off, state.off + state.c).map(([, r]) => r);
			if (state.c > 0 && state.off + state.c < all.length) next = { ...state, off: state.off + state.c, n: state.n + 1 };
		} else {
			if (state.total === undefined) state.total = this.count(ds, type, compiled);
			if (state.c > 0) {
				for (const [i, r] of this.matching(ds, type, compiled, state.pos)) {
					if (matches.length === state.c) {
						next = { ...state, pos: i, n: state.n + 1 };
						break;
					}
					matches.push(r);
				}
			}
		}
		const entry = matches.map((r) => ({ fullUrl: `${base}/${type}/${r.id}`, resource: r, search: { mode: 'match' } }));
		entry.push(...this.included(ds, base, matches, state.inc));
		const bundle = {
			resourceType: 'Bundle',
			id: crypto.randomUUID(),
			meta: { lastUpdated: new Date(sb.clock()).toISOString() },
			type: 'searchset',
			...(state.total !== null ? { total: state.total } : {}),
			link: this.links(ds, base, type, state, cursorStr, next),
			entry,
		};
		return sendJson(res, 200, bundle);
	}

	count(ds, type, compiled) {
		if (compiled.used.length === 0) return ds.size(type);
		if (!compiled.ids && !compiled.patientRefs && ds.size(type) > TOTAL_SCAN_LIMIT) return null; // too big to count up front: omit total (optional in FHIR)
		let total = 0;
		for (const _ of this.matching(ds, type, compiled)) total += 1;
		return total;
	}

	/** self link: the parameters the server used (unknown ones left out); next link: an opaque cursor. */
	links(ds, base, type, state, cursorStr, next) {
		const sb = this.sb;
		const pageName = sb.contract.pageParameter;
		const qs = new URLSearchParams(state.q);
		if (state.cs) qs.append('_count', String(state.c));
		for (const inc of state.inc) qs.append('_include', inc);
		if (state.sort) qs.append('_sort', state.sort);
		const query = qs.toString();
		// opaque (ecw): the cursor alone; otherwise the query is repeated beside `page`
		const paged = (cursor) => (pageName !== 'page' ? `_getpages=${cursor}` : sb.contract.opaqueNextLinks || !query ? `page=${cursor}` : `${query}&page=${cursor}`);
		const links = [{ relation: 'self', url: `${base}/${type}${state.n === 0 ? (query ? `?${query}` : '') : `?${paged(cursorStr)}`}` }];
		if (next) {
			const origin = sb.o.nextLinkOrigin === 'other' ? sb.otherOrigin : sb.origin;
			links.push({ relation: 'next', url: `${origin}/fhir/r4/${ds.code}/${type}?${paged(this.signCursor(next))}` });
		}
		return links;
	}

	included(ds, base, matches, includes) {
		if (!includes.length) return [];
		const out = [];
		const seen = new Set();
		for (const r of matches) {
			for (const inc of includes) {
				for (const ref of includeRefs(r, inc)) {
					const [rt, id] = ref.split('/');
					if (!this.sb.contract.dataTypes.includes(rt) || seen.has(ref)) continue;
					seen.add(ref);
					const target = ds.get(rt, id);
					if (target) out.push({ fullUrl: `${base}/${ref}`, resource: target, search: { mode: 'include' } });
				}
			}
		}
		return out;
	}

	/**
	 * Patient/{id}/$everything: the patient and its Encounters, Appointments and Coverage the token may
	 * read, paged like a search (`_count`, else the contract's default; next links with a cursor).
	 * The query is read from the request (`res.req`) so the router needs to pass nothing else.
	 */
	everything(res, ds, base, id, token) {
		const sb = this.sb;
		const pIdx = ds.indexOf('Patient', id);
		const patient = pIdx >= 0 ? ds.at('Patient', pIdx) : undefined;
		if (!patient) throw new FhirError(404, 'not-found', `Resource Patient/${id} is not known`);
		const pairs = [...new URL(res.req?.url ?? '/', 'http://sandbox').searchParams];
		const type = `Patient/${id}/$everything`;
		let { cursorStr, state } = this.cursorOf(pairs, ds, type);
		if (!state) {
			// _type, _since, start and end are accepted and not applied (the sandbox's data is small)
			checkFormat(pairs);
			const { count, countStr } = this.pageSize(pairs);
			state = { p: ds.code, t: type, c: count, off: 0, n: 0, cs: countStr !== undefined };
		}
		const entry = [{ fullUrl: `${base}/Patient/${id}`, resource: patient, search: { mode: 'match' } }];
		for (const t of ['Encounter', 'Appointment', 'Coverage']) {
			if (!sb.contract.dataTypes.includes(t) || sb.auth.missingScope(token, t, 'r')) continue;
			for (const i of ds.positionsForPatient(t, pIdx)) {
				if (ds.patientIndexOf(t, i) !== pIdx) continue;
				const r = ds.at(t, i);
				if (r) entry.push({ fullUrl: `${base}/${t}/${r.id}`, resource: r, search: { mode: 'match' } });
			}
		}
		const page = state.c > 0 ? entry.slice(state.off, state.off + state.c) : [];
		const pageName = sb.contract.pageParameter;
		const self = state.n === 0 ? `${base}/${type}${state.cs ? `?_count=${state.c}` : ''}` : `${base}/${type}?${pageName}=${cursorStr}`;
		const link = [{ relation: 'self', url: self }];
		if (state.c > 0 && state.off + state.c < entry.length) {
			link.push({ relation: 'next', url: `${base}/${type}?${pageName}=${this.signCursor({ ...state, off: state.off + state.c, n: state.n + 1 })}` });
		}
		return sendJson(res, 200, { resourceType: 'Bundle', id: crypto.randomUUID(), type: 'searchset', total: entry.length, link, entry: page });
	}
}

/** `_format`: JSON is served (`json`, `application/json`, `application/fhir+json`); XML is not (406). */
const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir']);
const XML_FORMATS = new Set(['xml', 'text/xml', 'application/xml', 'application/fhir+xml', 'application/xml+fhir']);

function checkFormat(pairs) {
	for (const [key, raw] of pairs) {
		if (key !== '_format') continue;
		// a `+` sent unencoded in a query string arrives as a space
		const value = raw.trim().replace(/ /g, '+').split(';')[0].toLowerCase();
		if (JSON_FORMATS.has(value)) continue;
		if (XML_FORMATS.has(value)) throw new FhirError(406, 'not-supported', `_format=${raw}: the sandbox answers JSON only (use _format=json)`);
		throw new FhirError(400, 'invalid', `Unknown _format: ${raw}`);
	}
}
