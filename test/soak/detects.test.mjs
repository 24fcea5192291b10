// The soak catches what it is there to catch: a run that succeeds with a record missing is a loss,
// a record or a change delivered twice is a duplicate, and either fails the soak. The node's output
// is tampered with between n8n and the soak's checks (runSoak's `wrap`), on real lanes.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { runSoak } from '../../scripts/soak/run.mjs';

/** Per kind of work, alternately drops the last item of a run that output something and doubles its first. */
function tamper(h) {
	const seen = new Map();
	const turn = (key) => {
		seen.set(key, (seen.get(key) ?? 0) + 1);
		return seen.get(key) % 2 === 1 ? 'drop' : 'double';
	};
	return {
		runNode: async (options) => {
			const result = await h.runNode(options);
			const items = result.data?.data?.resultData?.runData?.Node?.at(-1)?.data?.main?.[0];
			if (items?.length) {
				if (turn(`${options.parameters.resource}:${options.parameters.operation}`) === 'drop') items.pop();
				else items.push(items[0]);
			}
			return result;
		},
		runPoll: async (options) => {
			const result = await h.runPoll(options);
			if (result.json.length) result.json = turn('poll') === 'drop' ? result.json.slice(1) : [...result.json, result.json[0]];
			return result;
		},
	};
}

test('a success with a record missing is lost, a record or change delivered twice is duplicated: the soak fails', async () => {
	const { ok, summary, report } = await runSoak({ seed: 3, minutes: 0.3, lanes: ['search-ecw', 'trigger-smart', 'export-ecw'], wrap: tamper, write: () => {} });
	assert.equal(ok, false, report);
	const w = summary.works;
	for (const k of ['search:patients', 'search:appointments']) assert.ok(w[k].lost > 0 && w[k].duplicated > 0, `${k}\n${report}`);
	assert.ok(w['trigger:lastUpdated'].lost > 0, `a dropped trigger item is lost\n${report}`);
	assert.ok(w['trigger:lastUpdated'].duplicated > 0, `an item emitted twice is duplicated\n${report}`);
	const exports = ['export:files', 'export:records'].map((k) => w[k]);
	assert.ok(exports.some((e) => e.lost > 0) && exports.some((e) => e.duplicated > 0), `a dropped file or record item is lost, a doubled one duplicated\n${report}`);
	assert.match(report, /Result: FAIL: \d+ lost, \d+ duplicated/);
});
