// The search lane: Patient Search and Get Appointments with Return All, over pages the sandbox caps
// small (maxPageSize). The ground truth for a run is the server's own answer to the exact query the
// node sent first, read by the soak page by page without faults: every match once, nothing else.
import { searchAll } from '../../test/sandbox/helpers.mjs';
import { armedRun, guarded, laneSandbox, truthToken } from './common.mjs';
import { pickFaults } from './plan.mjs';
import { compareRecords, multiset } from './truth.mjs';

const PATIENT_CRITERIA = [{ bornOnOrAfter: '1900-01-01' }, { gender: 'female' }, { bornOnOrAfter: '1960-01-01' }, { bornOnOrBefore: '1975-12-31' }];

export async function searchLane(ctx, profile, lane) {
	for (let episode = ctx.firstEpisode; ctx.moreEpisodes(episode); episode++) {
		// each episode its own PRNG stream: `--episode N` replays one alone
		const r = ctx.rng(lane, episode);
		await guarded(ctx, `${lane} episode ${episode}`, () => episodeOf(ctx, r, { profile, lane, episode }));
	}
}

async function episodeOf(ctx, r, { profile, lane, episode }) {
	let firstPage = null;
	let searched = null;
	const quirks = profile === 'smart' ? ['unsortedDefault'].filter(() => r.chance(0.4)) : undefined;
	const options = { profile, quirks, patients: r.int(30, 90), maxPageSize: r.int(3, 9) };
	const { sb, armer, credentials } = await laneSandbox(ctx, lane, episode, options, (request) => {
		if (!firstPage && request.method === 'GET' && request.path.endsWith(`/${searched}`)) firstPage = request;
	});
	try {
		const truth = new Map();
		const described = `${profile}, ${options.patients} patients, ${options.maxPageSize} per page${quirks?.length ? `, ${quirks.join('+')}` : ''}`;
		for (let run = 1; run <= 40 && !ctx.stopped(); run++) {
			const patients = r.chance(0.5);
			const work = patients ? 'search:patients' : 'search:appointments';
			const output = r.chance(0.5) ? 'raw' : 'simplified';
			const parameters = patients
				? { authentication: 'backendService', resource: 'patient', operation: 'search', criteria: r.pick(PATIENT_CRITERIA), returnAll: true, output }
				: { authentication: 'backendService', resource: 'appointment', operation: 'getMany', dateRange: r.pick(['next7Days', 'today', 'tomorrow']), returnAll: true, output };
			searched = patients ? 'Patient' : profile === 'smart' ? 'Appointment' : 'Encounter';
			firstPage = null;
			const where = `${lane} episode ${episode} search ${run} (seed ${ctx.seed}; ${described}; ${JSON.stringify(parameters.criteria ?? parameters.dateRange)}, ${output})`;
			armer.arm(pickFaults(r, ctx.plan, 'search', profile), r);
			const { result, failure } = await armedRun(ctx, { lane, where, work, armer }, { parameters, credentials, timezone: sb.timeZone });
			if (failure) continue;
			if (!firstPage) {
				ctx.tally.note(`${where}: succeeded without searching ${searched}; not checked`);
				continue;
			}
			const query = `${firstPage.path}${firstPage.query}`;
			if (!truth.has(query)) {
				const { matches } = await searchAll(`${sb.origin}${query}`, await truthToken(sb));
				truth.set(query, multiset(matches.filter((m) => m.resourceType === searched).map((m) => m.id)));
			}
			const expected = truth.get(query);
			const delivered = (result.outputOf('Node') ?? []).map((j) => j.id);
			ctx.tally.check(work, { checked: expected.size, ...compareRecords(expected, delivered), where });
		}
	} finally {
		await sb.stop();
	}
}
