// The seeded fault soak, short (scripts/soak/, `npm run soak`): the trigger (both strategies), Bulk
// Export (Files and Records) and Return All searches through the real node in n8n-core against the
// sandbox with faults mixed in. Fails when anything is lost or duplicated, or a failure is not a
// clear error, so CI fails on a loss. SOAK_SEED and SOAK_MINUTES override the defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { laneNames, runSoak } from '../../scripts/soak/run.mjs';

const seed = Number(process.env.SOAK_SEED ?? 19);
const minutes = Number(process.env.SOAK_MINUTES ?? 1.5);

test(`fault soak, seed ${seed}, ${minutes} min: nothing lost, nothing duplicated, every failure a clear error`, async () => {
	const lines = [];
	// one copy of each lane, two of the trigger's (8 lanes): light enough to run beside the other test files
	const { ok, summary, report } = await runSoak({ seed, minutes, lanes: laneNames(1), write: (line) => lines.push(line) });
	assert.ok(ok, `the soak found problems: ${summary.problems.join(', ')}\n${report}`);
	// and it did the work it claims: every kind of work ran, was checked, and met faults
	for (const [work, w] of Object.entries(summary.works)) {
		assert.ok(w.runs > 0 && w.checked > 0, `${work}: ${w.runs} runs, ${w.checked} checked\n${report}`);
	}
	const served = new Map();
	for (const w of Object.values(summary.works)) for (const [name, n] of Object.entries(w.faults)) served.set(name, (served.get(name) ?? 0) + n);
	const total = [...served.values()].reduce((a, b) => a + b, 0);
	assert.ok(total >= 40 && served.size >= 8, `faults served: ${total} of ${served.size} kinds\n${report}`);
	assert.ok(lines.some((l) => /^\[\d+:\d\d\] polls/.test(l)), 'progress lines while it runs');
	assert.ok(summary.unavailable.every((u) => report.includes(u.name)), 'kinds the sandbox lacks are named in the report');
});
