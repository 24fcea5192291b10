// Measure: how many requests Get Appointments makes for Limit 1 and Limit 10 over the next 7 days,
// on the sandbox's profiles: ecw (eCW's contract: no _sort, 250 requests a minute, paced as the
// credential does by default), smart (a server that declares _sort per type), and smart shaped like
// the open-source FHIR server of issue 20 (_sort declared once for every type in rest.searchParam,
// results in no particular order without it). The node runs in-process in real n8n-core; the sandbox
// counts what reaches it (every request: discovery, token, metadata, search pages, follow-up reads;
// each run on a fresh server with empty caches). Prints one line per run and a table for
// docs/operations.md.
//
//   npm run measure:limit [-- --patients 1300]
import { performance } from 'node:perf_hooks';
import { startSandbox } from '../sandbox/index.mjs';
import { shutdown } from '../test/helpers/n8n.mjs';
import { run } from '../test/node/_setup.mjs';
import { tokenCache } from '../nodes/EClinicalWorks/fhir/auth/tokenCache.ts';
import { clearCapabilitiesCache } from '../nodes/EClinicalWorks/fhir/client.ts';

const args = process.argv.slice(2);
const at = args.indexOf('--patients');
const PATIENTS = at >= 0 ? Number(args[at + 1]) : 1300;

const SERVERS = [
	{ label: 'ecw (eCW contract, no _sort, 250/min)', options: { profile: 'ecw' }, credential: { rateLimitPerMinute: 250 } },
	{ label: 'smart (_sort per type)', options: { profile: 'smart' } },
	{ label: 'smart, open-source server shape (_sort in rest.searchParam, unsorted default)', options: { profile: 'smart', quirks: ['serverLevelSort', 'unsortedDefault'] } },
];

const rows = [];
for (const server of SERVERS) {
	for (const limit of [1, 10]) {
		// a fresh server and caches per run: the CapabilityStatement read and the token count too
		clearCapabilitiesCache();
		tokenCache.clear();
		const sandbox = await startSandbox({ ...server.options, patients: PATIENTS, seed: 7 });
		try {
			const started = performance.now();
			const { json, error, hints } = await run(
				sandbox,
				{ resource: 'appointment', operation: 'getMany', dateRange: 'next7Days', returnAll: false, limit },
				{ credentialExtra: server.credential },
			);
			if (error) throw error;
			const seconds = (performance.now() - started) / 1000;
			const log = [...sandbox.stats.log];
			const fhir = log.filter((e) => e.path.includes('/fhir/') && !e.path.endsWith('/.well-known/smart-configuration'));
			const searches = fhir.filter((e) => /\/(Encounter|Appointment)$/.test(e.path)).length;
			const all = await run(sandbox, { resource: 'appointment', operation: 'getMany', dateRange: 'next7Days', returnAll: true, output: 'raw' }, { credentialExtra: server.credential });
			if (all.error) throw all.error;
			const row = {
				server: server.label,
				limit,
				inRange: all.json.length,
				items: json.length,
				requests: log.length,
				searches,
				other: log.length - searches,
				rateLimited: log.filter((e) => e.status === 429).length,
				seconds,
				hint: hints.find((h) => /Limit \d+ reached/.test(h.message))?.message ?? '',
			};
			rows.push(row);
			console.log(
				`${row.server}: Limit ${limit} over 7 days (${row.inRange} visits in range): ${row.requests} requests (${row.searches} search pages; ${row.other} others: discovery, token, metadata, follow-up reads), ${row.rateLimited} answered 429, ${seconds.toFixed(1)} s`,
			);
		} finally {
			await sandbox.stop();
		}
	}
}
await shutdown();

console.log('\n| Server | Visits in 7 days | Limit 1: requests (search pages) | Limit 10: requests (search pages) |');
console.log('| --- | --- | --- | --- |');
for (const server of SERVERS) {
	const [one, ten] = [1, 10].map((limit) => rows.find((r) => r.server === server.label && r.limit === limit));
	console.log(`| ${server.label} | ${one.inRange} | ${one.requests} (${one.searches}) | ${ten.requests} (${ten.searches}) |`);
}
console.log(`\nOne hint, for the record: ${rows.find((r) => r.hint)?.hint ?? '(none)'}`);
