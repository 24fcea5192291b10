// The seeded fault soak: lanes of work run side by side for `minutes`, each against its own
// sandboxes, through the real node in in-process n8n-core, with faults from the plan mixed in by a
// PRNG seeded from `seed` and the lane's name (so `--lanes` replays one lane's choices alone).
import { rng } from '../../sandbox/util.mjs';
import { exportLane } from './export.mjs';
import { availablePlan, heldBack } from './plan.mjs';
import { finalReport, progressLine } from './report.mjs';
import { searchLane } from './search.mjs';
import { Tally } from './tally.mjs';
import { triggerLane } from './trigger.mjs';

export const LANES = {
	'trigger-smart': (ctx, name) => triggerLane(ctx, 'smart', name),
	'trigger-ecw': (ctx, name) => triggerLane(ctx, 'ecw', name),
	'export-ecw': (ctx, name) => exportLane(ctx, 'ecw', name),
	'export-smart': (ctx, name) => exportLane(ctx, 'smart', name),
	'search-ecw': (ctx, name) => searchLane(ctx, 'ecw', name),
	'search-smart': (ctx, name) => searchLane(ctx, 'smart', name),
};

/**
 * Lane names for `parallel` (`search-ecw`, `search-ecw/2`, ...): polls are the slowest to reach
 * their target (1,000 polls, 1,000 searches, 100 exports), so the trigger gets the most copies.
 */
export function laneNames(parallel = 2) {
	const copies = { trigger: Math.ceil(parallel * 1.5), search: parallel, export: Math.ceil(parallel / 2) };
	return Object.keys(LANES).flatMap((lane) => Array.from({ length: copies[lane.split('-')[0]] }, (_, i) => (i === 0 ? lane : `${lane}/${i + 1}`)));
}

const laneOf = (name) => LANES[name.split('/')[0]];

/**
 * Runs the soak; resolves `{ ok, summary, report }` once every lane has finished its current unit
 * of work after the deadline. `write` gets every printed line (progress every `progressMs`).
 * `includeKnown` also runs the faults held back as known losses (plan.mjs `knownLoss`).
 */
export async function runSoak({ seed, minutes = 2, lanes = laneNames(), includeKnown = false, write = (line) => console.log(line), progressMs = 10_000 }) {
	for (const lane of lanes) if (!laneOf(lane)) throw new Error(`unknown lane ${lane}; one of ${Object.keys(LANES).join(', ')} (a copy: search-ecw/2)`);
	const harness = await import('../../test/helpers/n8n.mjs');
	const { available, unavailable } = availablePlan();
	const tally = new Tally();
	const started = Date.now();
	const deadline = started + minutes * 60_000;
	const ctx = {
		seed,
		tally,
		plan: available,
		harness,
		classes: [harness.n8nWorkflow.NodeApiError, harness.n8nWorkflow.NodeOperationError],
		stopped: () => Date.now() >= deadline,
		rng: (lane) => rng(seed, lane),
		includeKnown,
	};
	const held = includeKnown ? [] : heldBack(available);
	write(`Fault soak: seed ${seed}, ${minutes} min, lanes ${lanes.join(', ')}`);
	write(`Faults mixed in: ${available.map((e) => e.name).join(', ')}`);
	for (const u of unavailable) write(`Not available in this sandbox: ${u.name} (${u.why})`);
	for (const h of held) write(`Held back, a known loss (--all runs it): ${h}`);
	const timer = setInterval(() => write(progressLine(tally, Date.now() - started)), progressMs);
	try {
		await Promise.all(lanes.map((lane) => laneOf(lane)(ctx, lane)));
	} finally {
		clearInterval(timer);
	}
	write(progressLine(tally, Date.now() - started));
	const report = finalReport(tally, { seed, elapsedMs: Date.now() - started, unavailable, held });
	write(report);
	await harness.shutdown();
	return { ok: tally.problems().length === 0, summary: { seed, minutes, lanes, unavailable, held, ...tally.summary() }, report };
}
