// Small helpers shared by the sandbox modules: deterministic PRNG, time zone arithmetic,
// OperationOutcome builder and HTTP body helpers. node: built-ins only.
import crypto from 'node:crypto';

/** 32-bit hash of a list of numbers/strings (FNV-1a then murmur finaliser). */
export function hash32(...parts) {
	let h = 0x811c9dc5;
	for (const p of parts) {
		const s = String(p);
		for (let i = 0; i < s.length; i++) {
			h ^= s.charCodeAt(i);
			h = Math.imul(h, 0x01000193);
		}
		h ^= 0x2f;
		h = Math.imul(h, 0x01000193);
	}
	h ^= h >>> 16;
	h = Math.imul(h, 0x85ebca6b);
	h ^= h >>> 13;
	h = Math.imul(h, 0xc2b2ae35);
	h ^= h >>> 16;
	return h >>> 0;
}

/** mulberry32 PRNG seeded from hash32(...parts). Returns an object with helpers. */
export function rng(...parts) {
	let a = hash32(...parts);
	const next = () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
	return {
		next,
		int: (min, max) => min + Math.floor(next() * (max - min + 1)),
		pick: (arr) => arr[Math.floor(next() * arr.length)],
		chance: (p) => next() < p,
	};
}

// ---------- time zones ----------
const dtfCache = new Map();
function dtf(tz) {
	let f = dtfCache.get(tz);
	if (!f) {
		f = new Intl.DateTimeFormat('en-US', {
			timeZone: tz,
			hourCycle: 'h23',
			year: 'numeric',
			month: '2-digit',
			day: '2-digit',
			hour: '2-digit',
			minute: '2-digit',
			second: '2-digit',
		});
		dtfCache.set(tz, f);
	}
	return f;
}

/** Local wall-clock parts of an instant in a zone. */
export function zonedParts(ms, tz) {
	const o = {};
	for (const p of dtf(tz).formatToParts(new Date(ms))) if (p.type !== 'literal') o[p.type] = Number(p.value);
	return { y: o.year, m: o.month, d: o.day, h: o.hour, mi: o.minute, s: o.second };
}

const offsetCache = new Map();
/** Offset of the zone from UTC at an instant, in minutes (e.g. -300 for EST). Cached per 15 minutes
 * (zone transitions happen on quarter-hour boundaries). */
export function tzOffsetMinutes(ms, tz) {
	let cache = offsetCache.get(tz);
	if (!cache) offsetCache.set(tz, (cache = new Map()));
	const key = Math.floor(ms / 900_000);
	let off = cache.get(key);
	if (off === undefined) {
		const p = zonedParts(ms, tz);
		const asUtc = Date.UTC(p.y, p.m - 1, p.d, p.h, p.mi, p.s);
		off = Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
		if (cache.size > 200_000) cache.clear();
		cache.set(key, off);
	}
	return off;
}

/** Instant (ms) of a local wall-clock time in a zone. Month is 1-based; day may overflow. */
export function zonedToUtc(y, m, d, h = 0, mi = 0, s = 0, tz = 'UTC') {
	const guess = Date.UTC(y, m - 1, d, h, mi, s);
	const off1 = tzOffsetMinutes(guess, tz);
	let ms = guess - off1 * 60000;
	const off2 = tzOffsetMinutes(ms, tz);
	if (off2 !== off1) ms = guess - off2 * 60000;
	return ms;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** FHIR dateTime with the zone's explicit offset: 2026-01-06T09:00:00-05:00 */
export function formatZoned(ms, tz) {
	const off = tzOffsetMinutes(ms, tz);
	const l = new Date(ms + off * 60000);
	const p = { y: l.getUTCFullYear(), m: l.getUTCMonth() + 1, d: l.getUTCDate(), h: l.getUTCHours(), mi: l.getUTCMinutes(), s: l.getUTCSeconds() };
	const sign = off < 0 ? '-' : '+';
	const a = Math.abs(off);
	return `${p.y}-${pad(p.m)}-${pad(p.d)}T${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** Local calendar date (y, m, d) `days` after the local date of `ms`. */
export function addLocalDays(ms, days, tz) {
	const p = zonedParts(ms, tz);
	const t = new Date(Date.UTC(p.y, p.m - 1, p.d + days));
	return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

export function isoDate({ y, m, d }) {
	return `${y}-${pad(m)}-${pad(d)}`;
}

// ---------- FHIR / HTTP helpers ----------
export function operationOutcome(code, diagnostics, severity = 'error') {
	return {
		resourceType: 'OperationOutcome',
		issue: [{ severity, code, diagnostics, details: { text: diagnostics } }],
	};
}

export class FhirError extends Error {
	/**
	 * @param {number} status
	 * @param {string} code OperationOutcome issue code
	 * @param {string} diagnostics
	 * @param {Record<string,string>} [headers]
	 */
	constructor(status, code, diagnostics, headers = {}) {
		super(diagnostics);
		this.status = status;
		this.code = code;
		this.headers = headers;
	}
}

export class OAuthError extends Error {
	constructor(status, error, description) {
		super(description);
		this.status = status;
		this.error = error;
	}
}

export function sendJson(res, status, body, headers = {}, contentType = 'application/fhir+json') {
	const text = JSON.stringify(body);
	res.writeHead(status, {
		'Content-Type': `${contentType}; charset=utf-8`,
		'Content-Length': Buffer.byteLength(text),
		'Cache-Control': 'no-store',
		...headers,
	});
	res.end(text);
}

export function readBody(req, limit = 1024 * 1024) {
	return new Promise((resolve, reject) => {
		const chunks = [];
		let size = 0;
		req.on('data', (c) => {
			size += c.length;
			if (size > limit) {
				reject(new FhirError(413, 'too-costly', 'Request body too large'));
				req.destroy();
				return;
			}
			chunks.push(c);
		});
		req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		req.on('error', reject);
	});
}

/** A loopback address or host name (127.0.0.0/8, ::1, IPv4-mapped 127.x, localhost). */
export function isLoopback(address) {
	const a = String(address ?? '').toLowerCase().replace(/^\[|\]$/g, '');
	return a === 'localhost' || a === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(a);
}

export const b64url = (buf) => Buffer.from(buf).toString('base64url');
export const randomToken = (bytes = 32) => crypto.randomBytes(bytes).toString('base64url');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
