// The fault plan: every fault the soak mixes in, the sandbox fault kind that serves it, the work it
// applies to and the requests it lands on. Which kinds the running sandbox has is read from
// `FAULT_KINDS` at start; an entry whose kind is missing (or not wired yet: `kind: null`) is printed
// as "not available in this sandbox", never skipped silently.
//
// Wiring a new sandbox fault in is one line: set the entry's `kind` (and its options in `spec`).
import { FAULT_KINDS } from '../../sandbox/faults.mjs';
import { TOKEN_PATH } from '../../sandbox/paths.mjs';

export { TOKEN_PATH };

/** What kind of request arrived, from the sandbox's request log entry. */
export function requestClass({ method, path, query = '' }) {
	if (path === TOKEN_PATH) return 'token';
	if (path.includes('/bulkfiles/') || path.startsWith('/files/')) return 'file';
	if (path.endsWith('/$export-poll-location') || path.includes('/bulkstatus/')) return 'status';
	if (path.endsWith('/$export')) return 'kickoff';
	if (path.endsWith('/metadata') || path.endsWith('/.well-known/smart-configuration')) return 'metadata';
	const fhir = /^\/fhir\/r4\/[^/]+\/(.+)$/.exec(path);
	if (!fhir) return 'other';
	const rest = fhir[1].split('/');
	if (rest.length === 1 || rest[1] === '_search') return /[?&](page|_getpages)=/.test(query) ? 'next-page' : 'page';
	return method === 'GET' && rest.length === 2 ? 'read' : 'other';
}

/** The requests each kind of work makes, and how many of each a run makes at most (where a fault may land). */
export const WORK_REQUESTS = {
	poll: { page: 1, 'next-page': 6, read: 2 },
	search: { page: 1, 'next-page': 10, read: 3 },
	export: { kickoff: 1, status: 3, file: 8 },
};

const ANY = ['page', 'next-page', 'read', 'kickoff', 'status', 'file'];
const JSON_BODIES = ['page', 'next-page', 'read', 'status'];
const ALL_WORK = ['poll', 'search', 'export'];
const burst = (r) => r.int(1, 4);
const fiveHundred = (r) => (r.chance(0.5) ? '500' : '503');
const FRAMINGS = ['close', 'chunked', 'length'];

/**
 * name: the soak's name for the fault (its column in the report); kind: the sandbox fault kind;
 * work: the work it is mixed into; on: the requests it lands on; weight: how often it is picked
 * relative to the others (default 1); profiles: only on these sandbox profiles;
 * spec(r, request): the rest of the fault (r: the lane's seeded PRNG); revoke: revoke every token
 * first (so the next request needs a new one); path: 'token' = inject on the token endpoint instead
 * of the request it lands on; by: the helper adding a kind that is not wired yet; knownLoss: a loss
 * today's code is known to have with this fault, held back unless asked for.
 */
export const FAULT_PLAN = [
	{ name: '429', kind: '429', work: ALL_WORK, on: ANY, spec: () => ({ retryAfter: 1, blockRestOfMinute: false }) },
	{ name: '429 to the minute', kind: '429', work: ALL_WORK, on: ['page', 'next-page', 'status'], profiles: ['ecw'], weight: 0.05, spec: () => ({}) },
	{ name: '5xx burst', kind: '500', work: ALL_WORK, on: ANY, spec: (r) => ({ kind: fiveHundred(r), count: burst(r) }) },
	{ name: 'token 5xx', kind: '500', work: ALL_WORK, on: ANY, revoke: true, path: 'token', spec: (r) => ({ kind: fiveHundred(r), count: r.int(1, 2) }) },
	{ name: 'token reset', kind: 'disconnect', work: ALL_WORK, on: ANY, revoke: true, path: 'token', spec: (r) => ({ count: r.int(1, 2) }) },
	{ name: 'token revoked', kind: 'revoke-tokens', work: ALL_WORK, on: ANY, spec: () => ({}) },
	{ name: 'reset before the answer', kind: 'disconnect', work: ALL_WORK, on: ANY, weight: 0.5, spec: () => ({}) },
	{ name: 'reset mid-body', kind: 'truncated-page', work: ALL_WORK, on: JSON_BODIES, spec: (r) => ({ mode: 'reset', fraction: 0.05 + r.next() * 0.9 }) },
	{ name: 'page cut short', kind: 'truncated-page', work: ALL_WORK, on: JSON_BODIES, spec: (r) => ({ mode: 'clean', fraction: 0.05 + r.next() * 0.9 }) },
	{ name: 'body drip', kind: 'drip', work: ['poll', 'search'], on: ['page', 'next-page'], weight: 0.15, spec: () => ({ intervalMs: 200 }) },
	{ name: 'slow answer', kind: 'slow', work: ALL_WORK, on: ANY, weight: 0.5, spec: (r) => ({ delayMs: r.int(100, 1500) }) },
	{ name: 'reset mid-file', kind: 'reset', work: ['export'], on: ['file'], spec: (r) => ({ afterBytes: r.int(1, 6000) }) },
	{ name: 'file cut at a line break', kind: 'truncate', work: ['export'], on: ['file'], spec: (r) => ({ afterLines: r.int(0, 6), framing: r.pick(FRAMINGS) }) },
	{ name: 'file cut mid-line', kind: 'truncate', work: ['export'], on: ['file'], spec: (r) => ({ afterLines: r.int(0, 6), midLine: true, framing: r.pick(FRAMINGS) }) },
	{ name: 'file extra line', kind: 'extra-line', work: ['export'], on: ['file'], spec: (r) => ({ line: r.int(1, 5) }) },
	{ name: 'file drip', kind: 'drip', work: ['export'], on: ['file'], weight: 0.3, spec: (r) => ({ bytes: r.int(512, 4096), intervalMs: r.int(5, 25) }) },
	{ name: 'malformed NDJSON', kind: 'malformed-ndjson', work: ['export'], on: ['file'], spec: (r) => ({ line: r.int(1, 5) }) },
	{ name: 'expired file URL', kind: 'expired-file-url', work: ['export'], on: ['file'], weight: 0.3, spec: () => ({}) },
	{ name: 'status 5xx', kind: 'transient-status', work: ['export'], on: ['status'], spec: () => ({}) },
];

/** The plan split by what this sandbox serves: `{ available, unavailable: [{ name, why }] }`. */
export function availablePlan(kinds = FAULT_KINDS, plan = FAULT_PLAN) {
	const available = [];
	const unavailable = [];
	for (const entry of plan) {
		if (entry.kind && kinds.has(entry.kind)) available.push(entry);
		else unavailable.push({ name: entry.name, why: entry.kind ? `the sandbox has no "${entry.kind}" fault` : `not wired in yet, helper "${entry.by}" is adding it` });
	}
	return { available, unavailable };
}

/** The held-back known losses of a plan, as lines to print. */
export function heldBack(plan) {
	return plan.filter((e) => e.knownLoss).map((e) => `${e.name} in ${e.knownLoss.work}: ${e.knownLoss.why}`);
}

/**
 * Picks this run's faults: none in about a quarter of runs, else one to three, each with the
 * request it lands on (the nth request of a class this work makes). `variant` is the work in full
 * (`export:files`): a fault with a known loss there is left out unless `includeKnown`.
 */
export function pickFaults(r, plan, work, profile, { variant, includeKnown = false } = {}) {
	const usable = plan.filter((e) => e.work.includes(work) && (!e.profiles || e.profiles.includes(profile)) && (includeKnown || !e.knownLoss || e.knownLoss.work !== variant));
	const requests = WORK_REQUESTS[work];
	const roll = r.next();
	const n = roll < 0.25 ? 0 : roll < 0.65 ? 1 : roll < 0.9 ? 2 : 3;
	const picked = [];
	for (let i = 0; i < n && usable.length; i++) {
		const entry = weighted(r, usable);
		const classes = entry.on.filter((c) => requests[c]);
		if (!classes.length) continue;
		const on = r.pick(classes);
		picked.push({ entry, on, nth: r.int(1, requests[on]) });
	}
	return picked;
}

function weighted(r, entries) {
	const total = entries.reduce((sum, e) => sum + (e.weight ?? 1), 0);
	let x = r.next() * total;
	for (const e of entries) {
		x -= e.weight ?? 1;
		if (x < 0) return e;
	}
	return entries[entries.length - 1];
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Arms a run's faults on a sandbox: as each request arrives (the sandbox's `onRequest`), the fault
 * whose turn it is is injected for that very request (its exact path), so it lands mid-paging, on
 * the third file, on the second status poll. `served()` after the run: how many times each fault
 * was served, by name.
 */
export class Armer {
	constructor(sb) {
		this.sb = sb;
		this.pending = [];
		this.armed = [];
	}

	/** The sandbox's onRequest hook. */
	onRequest(request) {
		if (!this.pending.length) return;
		const cls = requestClass(request);
		for (const p of this.pending) {
			if (p.on !== cls || p.done) continue;
			p.seen += 1;
			if (p.seen === p.nth) this.fire(p, request);
		}
		this.pending = this.pending.filter((p) => !p.done);
	}

	arm(faults, r) {
		this.pending = faults.map((f) => ({ ...f, seen: 0, done: false, spec: f.entry.spec(r) }));
		this.armed = [];
	}

	fire(p, request) {
		p.done = true;
		const { entry, spec } = p;
		if (entry.revoke) this.sb.admin.revokeTokens();
		const fault = { kind: entry.kind, ...spec };
		if (fault.kind === 'revoke-tokens') {
			this.sb.admin.revokeTokens();
			this.armed.push({ name: entry.name, id: null, count: 1 });
			return;
		}
		fault.path = new RegExp(`^${escape(entry.path === 'token' ? TOKEN_PATH : request.path)}$`);
		const id = this.sb.inject(fault);
		this.armed.push({ name: entry.name, id, count: fault.count ?? 1 });
	}

	/** Faults served in this run, by name (a burst of 3 served twice counts 1: it landed), then clears what is left. */
	served() {
		const left = new Map(this.sb.faults.map((f) => [f.id, f.count]));
		const out = new Map();
		for (const a of this.armed) {
			const remaining = a.id ? left.get(a.id) ?? 0 : 0;
			if (remaining < a.count) out.set(a.name, (out.get(a.name) ?? 0) + 1);
		}
		this.pending = [];
		this.armed = [];
		this.sb.clearFaults();
		return out;
	}
}
