// The bulk lane: Bulk Export > Export (kick-off, status polls, downloads in one run) in Files and
// Records modes against fastBulk sandboxes. The ground truth is the same export read straight from
// the sandbox without faults at the start of each episode: every record a run reports as delivered
// must be there once, and every record the server holds must be delivered.
import { get, kickoff, ndjsonLines, pollToManifest } from '../../test/sandbox/helpers.mjs';
import { armedRun, guarded, laneSandbox, truthToken } from './common.mjs';
import { pickFaults } from './plan.mjs';
import { compareRecords, multiset } from './truth.mjs';

const TYPES = { ecw: ['Patient', 'Encounter', 'Coverage'], smart: ['Patient', 'Encounter', 'Appointment'] };

export async function exportLane(ctx, profile, lane) {
	for (let episode = ctx.firstEpisode; ctx.moreEpisodes(episode); episode++) {
		// each episode its own PRNG stream: `--episode N` replays one alone
		const r = ctx.rng(lane, episode);
		await guarded(ctx, `${lane} episode ${episode}`, () => episodeOf(ctx, r, { profile, lane, episode }));
	}
}

async function episodeOf(ctx, r, { profile, lane, episode }) {
	const ecw = profile === 'ecw';
	const options = {
		profile,
		patients: r.int(10, 30),
		fastBulk: true,
		bulkDelayMs: r.int(100, 2500),
		maxResourcesPerFile: r.int(8, 40),
		fileOrigin: !ecw && r.chance(0.4) ? 'other' : 'same',
	};
	const { sb, armer, credentials } = await laneSandbox(ctx, lane, episode, options);
	try {
		const types = TYPES[profile];
		const expected = await referenceExport(sb, types);
		const described = `${profile}, ${options.patients} patients, ${options.maxResourcesPerFile} per file, files ${options.fileOrigin === 'other' ? 'pre-signed elsewhere' : 'on the FHIR server'}`;
		for (let run = 1; run <= 10 && !ctx.stopped(); run++) {
			const mode = r.chance(0.5) ? 'files' : 'records';
			const work = `export:${mode}`;
			const where = `${lane} episode ${episode} export ${run} (seed ${ctx.seed}; ${described}; ${mode})`;
			const parameters = {
				authentication: 'backendService',
				resource: 'bulkExport',
				operation: 'export',
				serverRules: ecw ? 'ecw' : 'generic',
				level: ecw ? 'group' : 'system',
				groupId: { __rl: true, mode: 'id', value: 'grp-1' },
				resourceTypes: types,
				sinceMode: 'none',
				pollFloorSeconds: 0,
				maxWaitMinutes: 2,
				outputMode: mode,
				// a part size asks for parts (Always): Automatic keeps files whole in filesystem mode, and parts must meet the faults too
				...(mode === 'files' ? partsOf(r.pick([0, 0.004, 0.02, 2])) : { recordLimit: 0 }),
				parallelDownloads: r.int(1, 5),
			};
			armer.arm(pickFaults(r, ctx.plan, 'export', profile, { variant: work, includeKnown: ctx.includeKnown }), r);
			const { result, failure } = await armedRun(ctx, { lane, where, work, armer }, { parameters, credentials });
			if (failure) continue;
			const delivered = await deliveredRecords(result, mode);
			ctx.tally.check(work, { checked: expected.size, ...compareRecords(expected, delivered.keys), where });
			if (delivered.corrupt.length) ctx.tally.note(`${where}: stored lines that are not JSON: ${delivered.corrupt.slice(0, 3).join('; ')}`);
		}
	} finally {
		await sb.stop();
	}
}

/** The records of the export as the sandbox serves them without faults: "Type/id" -> count. */
async function referenceExport(sb, types) {
	const t = await truthToken(sb);
	const url = sb.profile === 'ecw' ? `${sb.baseUrl}/Group/grp-1/$export?_type=${types.join(',')}` : `${sb.baseUrl}/$export?_type=${types.join(',')}`;
	const started = await kickoff(url, t);
	if (started.status !== 202) throw new Error(`reference export: kick-off answered ${started.status}`);
	const { manifest } = await pollToManifest(started.headers.get('content-location'), t, 30_000);
	const keys = [];
	for (const file of manifest.output) {
		const res = await get(file.url, manifest.requiresAccessToken ? t : undefined);
		if (res.status !== 200) throw new Error(`reference export: a file answered ${res.status}`);
		for (const line of ndjsonLines(res.text)) {
			const record = JSON.parse(line);
			keys.push(`${record.resourceType}/${record.id}`);
		}
	}
	return multiset(keys);
}

/** What a successful run delivered: keys of the records (output files or record items), and lines that are not JSON. */
async function deliveredRecords(result, mode) {
	const items = result.itemsOf('Node') ?? [];
	const keys = [];
	const corrupt = [];
	for (const item of items) {
		if (mode === 'records') {
			if (!item.json.errorFile) keys.push(`${item.json.resourceType}/${item.json.id}`);
			continue;
		}
		if (item.json.kind !== 'output') continue;
		const text = (await result.binary(item)).toString('utf8');
		for (const line of ndjsonLines(text)) {
			try {
				const record = JSON.parse(line);
				keys.push(`${record.resourceType}/${record.id}`);
			} catch {
				corrupt.push(`${item.json.fileName}: ${line.length} characters`);
			}
		}
	}
	return { keys, corrupt };
}

/** Files mode: a part size of 0 keeps one item per file; any other splits every file (Split Large Files: Always). */
function partsOf(mb) {
	return mb > 0 ? { splitFiles: 'always', filePartMb: mb } : { splitFiles: 'never', filePartMb: 0 };
}
