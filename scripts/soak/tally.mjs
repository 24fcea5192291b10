// What the soak counts, per kind of work: runs, faults served by kind, what was lost, duplicated or
// delivered without being there, and failures grouped by message.
import { messageGroup } from './failures.mjs';

export const WORKS = {
	'trigger:lastUpdated': 'Trigger polls, _lastUpdated (smart)',
	'trigger:window': 'Trigger polls, date window (ecw)',
	'export:files': 'Bulk Export, Files',
	'export:records': 'Bulk Export, Records',
	'search:patients': 'Patient Search, Return All',
	'search:appointments': 'Get Appointments, Return All',
};

/** The targets, by family of work. */
export const TARGETS = { polls: 1000, exports: 100, searches: 1000 };
export const FAMILY = { trigger: 'polls', export: 'exports', search: 'searches' };

const EXAMPLES = 8;

export class Tally {
	constructor(started = Date.now()) {
		this.started = started;
		/** family -> ms after the start when its target was reached */
		this.reached = {};
		this.works = new Map(Object.keys(WORKS).map((w) => [w, { runs: 0, ok: 0, failedClear: 0, failedUnclear: 0, checked: 0, lost: 0, duplicated: 0, unexpected: 0, faults: new Map(), counters: new Map() }]));
		this.failures = new Map();
		this.examples = [];
		this.notes = [];
		this.crashes = [];
	}

	/** The soak itself failed (not the node): always a problem, with where and the stack. */
	crash(where, error) {
		this.crashes.push({ where, error: error?.stack ?? String(error) });
	}

	/** One run of a kind of work: its failure (classified) or none, and the faults served in it. */
	run(work, { failure, faults, where }) {
		const w = this.works.get(work);
		w.runs += 1;
		const family = FAMILY[work.split(':')[0]];
		if (this.reached[family] === undefined && this.family(family) >= TARGETS[family]) this.reached[family] = Date.now() - this.started;
		for (const [name, n] of faults ?? []) w.faults.set(name, (w.faults.get(name) ?? 0) + n);
		if (!failure) {
			w.ok += 1;
			return;
		}
		if (failure.clear) w.failedClear += 1;
		else w.failedUnclear += 1;
		const key = `${failure.clear ? 'clear' : 'NOT CLEAR'}|${messageGroup(failure.message || '(empty message)')}`;
		const g = this.failures.get(key) ?? { count: 0, clear: failure.clear, why: failure.why, message: failure.message, description: failure.description, works: new Set(), where };
		g.count += 1;
		g.works.add(work);
		this.failures.set(key, g);
	}

	/** What a check found: `checked` units (changes or records), and what was lost, duplicated, unexpected. */
	check(work, { checked, lost = [], duplicated = [], unexpected = [], where }) {
		const w = this.works.get(work);
		w.checked += checked;
		w.lost += lost.length;
		w.duplicated += duplicated.length;
		w.unexpected += unexpected.length;
		for (const [what, list] of [['lost', lost], ['duplicated', duplicated], ['unexpected', unexpected]]) {
			for (const item of list) if (this.examples.length < EXAMPLES * 3) this.examples.push({ work, what, item, where });
		}
	}

	/** Something worth telling about a kind of work (restarts, changes made mid-poll, episodes checked). */
	count(work, what, n = 1) {
		const c = this.works.get(work).counters;
		c.set(what, (c.get(what) ?? 0) + n);
	}

	note(text) {
		this.notes.push(text);
	}

	family(name) {
		let n = 0;
		for (const [work, w] of this.works) if (FAMILY[work.split(':')[0]] === name) n += w.runs;
		return n;
	}

	totals() {
		const t = { runs: 0, lost: 0, duplicated: 0, unexpected: 0, failedUnclear: 0, failedClear: 0 };
		for (const w of this.works.values()) for (const k of Object.keys(t)) t[k] += w[k];
		return t;
	}

	/** Why the soak fails (empty when it passes). */
	problems() {
		const t = this.totals();
		const out = [];
		if (t.lost) out.push(`${t.lost} lost`);
		if (t.duplicated) out.push(`${t.duplicated} duplicated`);
		if (t.unexpected) out.push(`${t.unexpected} delivered that the server does not hold`);
		if (t.failedUnclear) out.push(`${t.failedUnclear} failures without a clear error`);
		if (this.crashes.length) out.push(`${this.crashes.length} crashes of the soak itself`);
		return out;
	}

	summary() {
		return {
			works: Object.fromEntries([...this.works].map(([k, w]) => [k, { ...w, faults: Object.fromEntries(w.faults), counters: Object.fromEntries(w.counters) }])),
			totals: this.totals(),
			targets: Object.fromEntries(Object.entries(TARGETS).map(([k, want]) => [k, { want, done: this.family(k), reachedAfterMs: this.reached[k] }])),
			failures: [...this.failures.values()].map((g) => ({ ...g, works: [...g.works] })),
			examples: this.examples,
			notes: this.notes,
			crashes: this.crashes,
			problems: this.problems(),
		};
	}
}
