// The soak's printed output: a progress line while it runs, tables at the end.
import { messageGroup } from './failures.mjs';
import { TARGETS, WORKS } from './tally.mjs';

const n = (x) => x.toLocaleString('en-US');

export function clock(ms) {
	const s = Math.floor(ms / 1000);
	return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Plain-text table: `columns` [{ title, align }], rows of cells. */
export function table(columns, rows) {
	const cells = rows.map((r) => r.map((c) => String(c)));
	const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((r) => r[i].length)));
	const line = (r) => r.map((c, i) => (columns[i].align === 'left' ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
	return [line(columns.map((c) => c.title)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function progressLine(tally, elapsedMs) {
	const part = (family) => {
		let runs = 0;
		let failed = 0;
		for (const [work, w] of tally.works) {
			if (!work.startsWith(family)) continue;
			runs += w.runs;
			failed += w.failedClear + w.failedUnclear;
		}
		return `${n(runs)}${failed ? ` (${n(failed)} failed)` : ''}`;
	};
	const t = tally.totals();
	let faults = 0;
	for (const w of tally.works.values()) for (const c of w.faults.values()) faults += c;
	return `[${clock(elapsedMs)}] polls ${part('trigger')} · exports ${part('export')} · searches ${part('search')} · faults ${n(faults)} · lost ${t.lost} · duplicated ${t.duplicated} · unexpected ${t.unexpected} · unclear failures ${t.failedUnclear}`;
}

export function finalReport(tally, { seed, elapsedMs, unavailable, held = [] }) {
	const out = [];
	const s = tally.summary();
	out.push('', `Fault soak, seed ${seed}, ${clock(elapsedMs)} min`, '');
	const works = Object.keys(WORKS);
	out.push(
		table(
			[{ title: 'Work', align: 'left' }, { title: 'runs' }, { title: 'ok' }, { title: 'failed (clear)' }, { title: 'failed (NOT clear)' }, { title: 'checked' }, { title: 'lost' }, { title: 'duplicated' }, { title: 'unexpected' }],
			works.map((k) => {
				const w = s.works[k];
				return [WORKS[k], n(w.runs), n(w.ok), n(w.failedClear), n(w.failedUnclear), n(w.checked), w.lost, w.duplicated, w.unexpected];
			}),
		),
	);
	out.push('', '"checked": trigger rows count the changes made to visits, the others the records the server holds for each successful run.');
	for (const k of works) {
		const counters = Object.entries(s.works[k].counters);
		if (counters.length) out.push(`${WORKS[k]}: ${counters.map(([what, c]) => `${n(c)} ${what}`).join(', ')}`);
	}

	const faultNames = [...new Set(works.flatMap((k) => Object.keys(s.works[k].faults)))].sort();
	out.push('', 'Faults served, by kind of work:', '');
	out.push(
		table(
			[{ title: 'Fault', align: 'left' }, ...works.map((k) => ({ title: k })), { title: 'total' }],
			faultNames.map((f) => {
				const counts = works.map((k) => s.works[k].faults[f] ?? 0);
				return [f, ...counts, counts.reduce((a, b) => a + b, 0)];
			}),
		),
	);
	if (unavailable.length) {
		out.push('', 'Not available in this sandbox (not run):');
		for (const u of unavailable) out.push(`  - ${u.name}: ${u.why}`);
	}
	if (held.length) {
		out.push('', 'Held back, known losses of today\'s code (npm run soak -- --all runs them):');
		for (const h of held) out.push(`  - ${h}`);
	}

	out.push('', s.failures.length ? `Failures by message (${s.failures.length} groups):` : 'Failures by message: none');
	for (const g of s.failures.sort((a, b) => b.count - a.count)) {
		out.push(`  ${String(g.count).padStart(5)}x ${g.clear ? 'clear    ' : 'NOT CLEAR'} [${g.works.join(', ')}] ${oneLine(messageGroup(g.message || '(empty message)'))}`);
		if (!g.clear) out.push(`          why: ${g.why}${g.description ? `; description: ${oneLine(g.description)}` : ''}${g.where ? `; first at ${g.where}` : ''}`);
	}
	if (s.examples.length) {
		out.push('', 'Lost, duplicated or unexpected (first ones):');
		for (const e of s.examples) out.push(`  ${e.what} [${e.work}] ${typeof e.item === 'string' ? e.item : JSON.stringify(e.item)} at ${e.where}`);
		out.push(`Replay one episode of one lane: npm run soak -- --seed ${seed} --lanes LANE --episode N --trace`);
	}
	for (const note of s.notes) out.push('', note);
	for (const c of s.crashes) out.push('', `The soak itself crashed at ${c.where}:`, c.error);

	const targets = Object.entries(TARGETS).map(([k, want]) => `${k} ${n(tally.family(k))} of ${n(want)}${tally.reached[k] !== undefined ? ` (reached at ${clock(tally.reached[k])})` : ''}`);
	out.push('', `Targets: ${targets.join(', ')}`);
	const problems = tally.problems();
	out.push(problems.length ? `Result: FAIL: ${problems.join(', ')} (seed ${seed})` : 'Result: PASS: 0 lost, 0 duplicated, every failure a clear error', '');
	return out.join('\n');
}

function oneLine(text) {
	const flat = String(text).replace(/\s+/g, ' ').trim();
	return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}
