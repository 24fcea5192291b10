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
 * `wrap` (tests of the soak itself) may wrap the harness's runNode and runPoll. `trace` prints
 * every run (the trigger lanes: each change, poll, fault and emitted item). `episode` replays that
 * episode of each lane alone (each episode draws from its own PRNG stream).
 */
export async function runSoak({ seed, minutes = 2, lanes = laneNames(), includeKnown = false, write = (line) => console.log(line), progressMs = 10_000, wrap = (h) => h, trace = false, episode }) {
	for (const lane of lanes) if (!laneOf(lane)) throw new Error(`unknown lane ${lane}; one of ${Object.keys(LANES).join(', ')} (a copy: search-ecw/2)`);
	const n8n = await import('../../test/helpers/n8n.mjs');
	const harness = wrap({ runNode: n8n.runNode, runPoll: n8n.runPoll });
	const { available, unavailable } = availablePlan();
	const started = Date.now();
	const tally = new Tally(started);
	const deadline = started + minutes * 60_000;
	const ctx = {
		seed,
		tally,
		plan: available,
		harness,
		classes: [n8n.n8nWorkflow.NodeApiError, n8n.n8nWorkflow.NodeOperationError],
		// --episode N: each lane runs that one episode to its end, whatever the time
		stopped: () => episode === undefined && Date.now() >= deadline,
		firstEpisode: episode ?? 1,
		moreEpisodes: (e) => (episode === undefined ? Date.now() < deadline : e === episode),
		rng: (...parts) => rng(seed, ...parts),
		includeKnown,
		/** --trace: each run of each lane, as it happens (with --lanes, to replay one). */
		trace: trace ? (lane, text) => write(`  ${lane} ${text}`) : () => {},
	};
	const held = includeKnown ? [] : heldBack(available);
	write(`Fault soak: seed ${seed}, ${episode === undefined ? `${minutes} min` : `episode ${episode} only`}, lanes ${lanes.join(', ')}`);
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
	await n8n.shutdown();
	return { ok: tally.problems().length === 0, summary: { seed, minutes, lanes, unavailable, held, ...tally.summary() }, report };
}
