// FHIR search: parameter definitions per resource type, value parsing (dates with prefixes and
// zones, strings, tokens, references) and compilation into filters over the lazy dataset.
import { FhirError, zonedToUtc } from './util.mjs';

const DAY = 86400_000;

// ---------- dates ----------
const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * Parse a FHIR date/dateTime/instant into the half-open range [lo, hi) of ms it denotes.
 * A value without a zone is read in `tz`.
 * @returns {{lo:number, hi:number}|null}
 */
export function parseDateRange(str, tz) {
	const m = DATE_RE.exec(String(str).replace(/ /g, '+'));
	if (!m) return null;
	const [, ys, ms, ds, hs, mis, ss, frac, zone] = m;
	const y = Number(ys);
	const mo = ms ? Number(ms) : 1;
	const d = ds ? Number(ds) : 1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31) return null;
	if (hs === undefined) {
		const lo = zonedToUtc(y, mo, d, 0, 0, 0, tz);
		const hi = ds ? zonedToUtc(y, mo, d + 1, 0, 0, 0, tz) : ms ? zonedToUtc(y, mo + 1, 1, 0, 0, 0, tz) : zonedToUtc(y + 1, 1, 1, 0, 0, 0, tz);
		return { lo, hi };
	}
	const h = Number(hs);
	const mi = Number(mis);
	const s = ss ? Number(ss) : 0;
	if (h > 24 || mi > 59 || s > 60) return null;
	const fracMs = frac ? Number(`0.${frac}`) * 1000 : 0;
	let lo;
	if (zone) {
		let off = 0;
		if (zone !== 'Z') off = (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
		lo = Date.UTC(y, mo - 1, d, h, mi, s) - off * 60000 + fracMs;
	} else {
		lo = zonedToUtc(y, mo, d, h, mi, s, tz) + fracMs;
	}
	const width = frac ? 1 : ss ? 1000 : 60000;
	return { lo: Math.floor(lo), hi: Math.floor(lo) + width };
}

/** Does resource range r match the search param range p under prefix? */
export function dateMatches(prefix, p, r, nowMs) {
	const eq = r.lo >= p.lo && r.hi <= p.hi;
	switch (prefix) {
		case 'eq': return eq;
		case 'ne': return !eq;
		case 'gt': return r.hi > p.hi;
		case 'lt': return r.lo < p.lo;
		case 'ge': return eq || r.hi > p.hi;
		case 'le': return eq || r.lo < p.lo;
		case 'sa': return r.lo >= p.hi;
		case 'eb': return r.hi <= p.lo;
		case 'ap': {
			const d = Math.max(DAY, Math.abs(nowMs - p.lo) * 0.1);
			return r.hi > p.lo - d && r.lo < p.hi + d;
		}
		default: return false;
	}
}

// ---------- value extractors ----------
const norm = (s) => String(s ?? '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
const digits = (s) => String(s ?? '').replace(/\D/g, '').replace(/^1(?=\d{10}$)/, '');
const refTail = (ref) => {
	const m = /([A-Za-z]+)\/([^/]+?)(?:\/_history\/.*)?$/.exec(String(ref ?? ''));
	return m ? `${m[1]}/${m[2]}` : String(ref ?? '');
};

const str = (fn) => ({ type: 'string', get: fn });
const tok = (fn) => ({ type: 'token', get: fn });
const date = (fn) => ({ type: 'date', get: fn });
const ref = (target, fn) => ({ type: 'reference', target, get: fn });

const humanNames = (names) => (names ?? []).flatMap((n) => [n.family, ...(n.given ?? []), n.text, ...(n.prefix ?? []), ...(n.suffix ?? [])]).filter(Boolean);
const codeTok = (v) => (v === undefined ? [] : [{ system: undefined, code: v }]);
const identifiers = (r) => (r.identifier ?? []).map((i) => ({ system: i.system, code: i.value }));
const dayRange = (tz) => (v) => (v ? parseDateRange(v, tz) : null);
const periodRange = (tz, start, end) => {
	if (!start) return null;
	const a = parseDateRange(start, tz);
	const b = end ? parseDateRange(end, tz) : null;
	if (!a) return null;
	return { lo: a.lo, hi: b ? Math.max(b.lo, a.hi) : a.hi };
};

/** Search parameter definitions per type (ctx gives the time zone). Keys are the served names. */
export function searchParams(type, tz, profile) {
	const common = {
		_id: tok((r) => codeTok(r.id)),
		_lastUpdated: date((r) => [parseDateRange(r.meta?.lastUpdated, tz)]),
	};
	switch (type) {
		case 'Patient': return {
			...common,
			identifier: tok(identifiers),
			name: str((r) => humanNames(r.name)),
			family: str((r) => (r.name ?? []).map((n) => n.family).filter(Boolean)),
			given: str((r) => (r.name ?? []).flatMap((n) => n.given ?? [])),
			birthdate: date((r) => [dayRange(tz)(r.birthDate)]),
			gender: tok((r) => codeTok(r.gender)),
			phone: { type: 'phone', get: (r) => (r.telecom ?? []).filter((t) => t.system === 'phone').map((t) => t.value) },
		};
		case 'Encounter': return {
			...common,
			patient: ref('Patient', (r) => [r.subject?.reference]),
			subject: ref('Patient', (r) => [r.subject?.reference]),
			date: date((r) => [periodRange(tz, r.period?.start, r.period?.end)]),
			location: ref('Location', (r) => (r.location ?? []).map((l) => l.location?.reference)),
			practitioner: ref('Practitioner', (r) => (r.participant ?? []).map((p) => p.individual?.reference)),
			status: tok((r) => codeTok(r.status)),
			...(profile === 'smart' ? { appointment: ref('Appointment', (r) => (r.appointment ?? []).map((a) => a.reference)) } : {}),
		};
		case 'Appointment': return {
			...common,
			patient: ref('Patient', (r) => actors(r, 'Patient')),
			actor: ref(undefined, (r) => (r.participant ?? []).map((p) => p.actor?.reference)),
			date: date((r) => [periodRange(tz, r.start, r.end)]),
			status: tok((r) => codeTok(r.status)),
			practitioner: ref('Practitioner', (r) => actors(r, 'Practitioner')),
			location: ref('Location', (r) => actors(r, 'Location')),
		};
		case 'Practitioner': return {
			...common,
			identifier: tok(identifiers),
			name: str((r) => humanNames(r.name)),
			family: str((r) => (r.name ?? []).map((n) => n.family).filter(Boolean)),
			given: str((r) => (r.name ?? []).flatMap((n) => n.given ?? [])),
		};
		case 'Location': return { ...common, name: str((r) => [r.name]), address: str((r) => addressParts([r.address])), 'address-city': str((r) => [r.address?.city]) };
		case 'Organization': return {
			...common,
			name: str((r) => [r.name]),
			identifier: tok(identifiers),
			address: str((r) => addressParts(r.address)),
			'address-postalcode': str((r) => (r.address ?? []).map((a) => a?.postalCode)),
			type: tok((r) => (r.type ?? []).flatMap((t) => (t.coding ?? []).map((c) => ({ system: c.system, code: c.code })))),
		};
		case 'Coverage': return {
			...common,
			patient: ref('Patient', (r) => [r.beneficiary?.reference]),
			beneficiary: ref('Patient', (r) => [r.beneficiary?.reference]),
			status: tok((r) => codeTok(r.status)),
		};
		case 'Group': return { ...common, identifier: tok(identifiers), name: str((r) => [r.name]) };
		default: return common;
	}
}

const addressParts = (addresses) => (addresses ?? []).filter(Boolean).flatMap((a) => [a.text, ...(a.line ?? []), a.city, a.state, a.postalCode, a.country]).filter(Boolean);

const actors = (r, type) => (r.participant ?? []).map((p) => p.actor?.reference).filter((x) => x?.startsWith(`${type}/`));

export const SEARCH_PARAM_TYPES = { string: 'string', token: 'token', date: 'date', reference: 'reference', phone: 'token' };

const PREFIX_RE = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)(?=\d)/;

/**
 * Compile search parameters into a predicate.
 * @param {string} type
 * @param {Array<[string,string]>} pairs query pairs (control params excluded by the caller)
 * @param {{ tz: string, profile: string, now: number, typedReferencesOnly?: boolean }} ctx
 * @returns {{ match: (r:any)=>boolean, used: Array<[string,string]>, ids: string[]|null, patientRefs: string[]|null, lastUpdated: Array<{prefix:string,range:{lo:number,hi:number}}> }}
 */
export function compileSearch(type, pairs, ctx) {
	const defs = searchParams(type, ctx.tz, ctx.profile);
	const tests = [];
	const used = [];
	let ids = null;
	let patientRefs = null;
	const lastUpdated = [];
	for (const [rawKey, rawValue] of pairs) {
		const [name, modifier] = rawKey.split(':');
		const def = defs[name];
		if (!def) continue; // unknown parameters are ignored (lenient) and left out of the self link
		if (rawValue === '') continue;
		const values = rawValue.split(',');
		if (def.type === 'string') {
			if (modifier && !['exact', 'contains'].includes(modifier)) throw new FhirError(400, 'invalid', `Unsupported modifier :${modifier} on ${name}`);
			const wanted = values.map(norm);
			tests.push((r) => {
				const got = def.get(r).map(norm);
				return wanted.some((w) => got.some((g) => (modifier === 'exact' ? g === w : modifier === 'contains' ? g.includes(w) : g.startsWith(w))));
			});
		} else if (def.type === 'token') {
			if (modifier) throw new FhirError(400, 'invalid', `Unsupported modifier :${modifier} on ${name}`);
			const wanted = values.map((v) => {
				const bar = v.indexOf('|');
				return bar < 0 ? { system: null, code: v } : { system: v.slice(0, bar), code: v.slice(bar + 1) };
			});
			if (name === '_id') ids = ids ? ids.filter((x) => values.includes(x)) : values;
			tests.push((r) => {
				const got = def.get(r);
				return wanted.some((w) => got.some((g) => {
					if (w.system === null) return g.code === w.code;
					if (w.system === '') return !g.system && g.code === w.code;
					if (w.code === '') return g.system === w.system;
					return g.system === w.system && g.code === w.code;
				}));
			});
		} else if (def.type === 'phone') {
			const wanted = values.map(digits).filter(Boolean);
			if (!wanted.length) throw new FhirError(400, 'invalid', `Invalid phone value: ${rawValue}`);
			tests.push((r) => def.get(r).some((g) => wanted.includes(digits(g))));
		} else if (def.type === 'reference') {
			if (modifier && modifier !== def.target) throw new FhirError(400, 'invalid', `Unsupported modifier :${modifier} on ${name}`);
			const wanted = values.map((v) => {
				const t = refTail(v);
				if (t.includes('/')) return t;
				// some servers index references typed only: a bare id then matches nothing
				if (ctx.typedReferencesOnly) return `(untyped)/${v}`;
				if (!def.target) throw new FhirError(400, 'invalid', `Parameter ${name} needs a typed reference (Type/id)`);
				return `${def.target}/${v}`;
			});
			if (def.target === 'Patient' && (name === 'patient' || name === 'subject' || name === 'beneficiary')) patientRefs = patientRefs ? patientRefs.filter((x) => wanted.includes(x)) : wanted;
			tests.push((r) => def.get(r).some((g) => g && wanted.includes(refTail(g))));
		} else if (def.type === 'date') {
			if (modifier) throw new FhirError(400, 'invalid', `Unsupported modifier :${modifier} on ${name}`);
			const parsed = values.map((v) => {
				const m = PREFIX_RE.exec(v);
				const prefix = m ? m[1] : 'eq';
				const range = parseDateRange(m ? v.slice(2) : v, ctx.tz);
				if (!range) throw new FhirError(400, 'invalid', `Invalid date value for ${name}: ${v}`);
				return { prefix, range };
			});
			if (name === '_lastUpdated' && parsed.length === 1) lastUpdated.push(parsed[0]);
			tests.push((r) => {
				const got = def.get(r).filter(Boolean);
				return parsed.some((p) => got.some((g) => dateMatches(p.prefix, p.range, g, ctx.now)));
			});
		}
		used.push([rawKey, rawValue]);
	}
	return { match: (r) => tests.every((t) => t(r)), used, ids, patientRefs, lastUpdated, criteria: tests.length };
}
