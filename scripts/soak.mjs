// npm run soak -- --seed N [--minutes M] [--lanes trigger-ecw,search-smart/2] [--parallel N] [--all] [--episode N --trace] [--json summary.json]
// The seeded fault soak (docs/development.md#fault-soak): the trigger, Bulk Export and Return All
// searches through the real node against the sandbox, with faults mixed in; exits 1 when anything is
// lost or duplicated, or a failure is not a clear error.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const usage = 'Usage: npm run soak -- --seed N [--minutes M] [--lanes a,b] [--parallel N] [--all] [--episode N --trace] [--json file]';
let args;
try {
	args = parseArgs({
		options: { seed: { type: 'string' }, minutes: { type: 'string', default: '2' }, lanes: { type: 'string' }, parallel: { type: 'string', default: '2' }, json: { type: 'string' }, all: { type: 'boolean' }, trace: { type: 'boolean' }, episode: { type: 'string' }, help: { type: 'boolean' } },
	}).values;
} catch (error) {
	console.error(`${error.message}\n${usage}`);
	process.exit(2);
}
if (args.help) {
	console.log(usage);
	process.exit(0);
}
const seed = args.seed === undefined ? Math.floor(Math.random() * 100_000) : Number(args.seed);
const minutes = Number(args.minutes);
if (!Number.isInteger(seed) || seed < 0) {
	console.error(`--seed: "${args.seed}" is not a whole number of 0 or more.\n${usage}`);
	process.exit(2);
}
if (!Number.isFinite(minutes) || minutes <= 0) {
	console.error(`--minutes: "${args.minutes}" is not a number of minutes above 0.\n${usage}`);
	process.exit(2);
}
if (args.seed === undefined) console.log(`No --seed given: using ${seed} (run again with --seed ${seed} to replay it).`);

const episode = args.episode === undefined ? undefined : Number(args.episode);
if (episode !== undefined && (!Number.isInteger(episode) || episode < 1)) {
	console.error(`--episode: "${args.episode}" is not a whole number of 1 or more.\n${usage}`);
	process.exit(2);
}
const parallel = Number(args.parallel);
if (!Number.isInteger(parallel) || parallel < 1 || parallel > 8) {
	console.error(`--parallel: "${args.parallel}" is not a whole number from 1 to 8.\n${usage}`);
	process.exit(2);
}
const { LANES, laneNames, runSoak } = await import('./soak/run.mjs');
const lanes = args.lanes ? args.lanes.split(',').map((s) => s.trim()).filter(Boolean) : laneNames(parallel);
const unknown = lanes.filter((l) => !LANES[l.split('/')[0]]);
if (unknown.length) {
	console.error(`--lanes: unknown ${unknown.join(', ')}; one of ${Object.keys(LANES).join(', ')} (a copy: search-ecw/2).`);
	process.exit(2);
}
const { ok, summary } = await runSoak({ seed, minutes, lanes, includeKnown: !!args.all, trace: !!args.trace, episode });
if (args.json) writeFileSync(args.json, `${JSON.stringify(summary, null, 2)}\n`);
process.exit(ok ? 0 : 1);
