import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox } from '../../sandbox/index.mjs';
import { get, kickoff, ndjsonLines, pollToManifest, token } from './helpers.mjs';

async function withSandbox(opts, fn) {
	const s = await startSandbox({ bulkDelayMs: 300, ...opts });
	try {
		return await fn(s);
	} finally {
		await s.stop();
	}
}

test('eCW bulk lifecycle: Group-only kick-off, checks, 409 on identical export, progress, manifest, files, cancel', () =>
	withSandbox({ profile: 'ecw', patients: 40 }, async (s) => {
		const t = await token(s);
		const url = `${s.baseUrl}/Group/grp-1/$export`;
		// other levels are not served by eCW
		assert.equal((await kickoff(`${s.baseUrl}/$export`, t)).status, 404);
		assert.equal((await kickoff(`${s.baseUrl}/Patient/$export`, t)).status, 404);
		// Group.read missing -> 401 "unauthorized group"
		const noGroup = await token(s, 'sandbox-rs384', 'system/Patient.read system/Encounter.read');
		const ng = await kickoff(url, noGroup);
		assert.equal(ng.status, 401);
		assert.match(ng.json.issue[0].diagnostics, /Unauthorized group/i);
		// headers and parameters
		assert.equal((await kickoff(url, t, { headers: { prefer: '' } })).status, 400);
		assert.equal((await kickoff(url, t, { headers: { accept: 'application/json' } })).status, 400);
		const bad = await kickoff(`${url}?_typeFilter=Patient%3Fgender%3Dmale`, t);
		assert.equal(bad.status, 400);
		assert.match(bad.json.issue[0].diagnostics, /_typeFilter/);
		assert.equal((await kickoff(`${url}?_outputFormat=text/csv`, t)).status, 400);
		// eCW: "401 = invalid/expired token or unauthorized group", also for a Group it does not know
		assert.equal((await kickoff(`${s.baseUrl}/Group/nope/$export`, t)).status, 401);
		// kick-off
		const k = await kickoff(`${url}?_type=Patient,Encounter&_outputFormat=application/fhir%2Bndjson`, t);
		assert.equal(k.status, 202);
		assert.equal(k.headers.get('retry-after'), '120', 'eCW asks for 120 s between polls');
		const statusUrl = k.headers.get('content-location');
		assert.match(statusUrl, /\/\$export-poll-location\?job_id=/);
		const dup = await kickoff(`${url}?_type=Patient,Encounter&_outputFormat=application/fhir%2Bndjson`, t);
		assert.equal(dup.status, 409);
		assert.match(dup.json.issue[0].diagnostics, /already in progress/);
		const { manifest, progress } = await pollToManifest(statusUrl, t);
		assert.ok(progress.length >= 1);
		assert.match(progress[0].xProgress, /^\d+% Completed$/);
		assert.equal(progress[0].retryAfter, '120');
		assert.equal(manifest.requiresAccessToken, true);
		assert.equal(manifest.request, `${url}?_type=Patient,Encounter&_outputFormat=application/fhir%2Bndjson`);
		assert.ok(Date.parse(manifest.transactionTime));
		assert.deepEqual(manifest.output.map((o) => [o.type, o.count]), [['Patient', 40], ['Encounter', 80]]);
		for (const o of manifest.output) {
			assert.equal((await get(o.url)).status, 401, 'file needs the token');
			const r = await get(o.url, t, { accept: 'application/fhir+ndjson' });
			assert.equal(r.status, 200);
			assert.match(r.headers.get('content-type'), /application\/fhir\+ndjson/);
			const lines = ndjsonLines(r.text).map((l) => JSON.parse(l));
			assert.equal(lines.length, o.count);
			assert.ok(lines.every((x) => x.resourceType === o.type));
		}
		// cancel -> 202, then 404 for status and files
		const del = await fetch(statusUrl, { method: 'DELETE', headers: { authorization: `Bearer ${t}` } });
		assert.equal(del.status, 202);
		assert.equal((await get(statusUrl, t)).status, 404);
		assert.equal((await get(manifest.output[0].url, t)).status, 404);
		// small group: only its members and their compartment
		const k2 = await kickoff(`${s.baseUrl}/Group/grp-2/$export`, t);
		const m2 = (await pollToManifest(k2.headers.get('content-location'), t)).manifest;
		const counts = Object.fromEntries(m2.output.map((o) => [o.type, o.count]));
		assert.equal(counts.Patient, 10);
		assert.equal(counts.Encounter, 20);
		assert.equal(counts.Coverage, 10);
		assert.ok(counts.Practitioner >= 4);
	}));

test('eCW: cancel an in-progress export, then the identical request is accepted again', () =>
	withSandbox({ profile: 'ecw', patients: 10, bulkDelayMs: 5000 }, async (s) => {
		const t = await token(s);
		const url = `${s.baseUrl}/Group/grp-1/$export`;
		const k = await kickoff(url, t);
		const statusUrl = k.headers.get('content-location');
		assert.equal((await get(statusUrl, t)).status, 202);
		assert.equal((await fetch(statusUrl, { method: 'DELETE', headers: { authorization: `Bearer ${t}` } })).status, 202);
		assert.equal((await get(statusUrl, t)).status, 404);
		assert.equal((await kickoff(url, t)).status, 202);
	}));

test('smart bulk: system, Patient and Group levels, POST Parameters, _typeFilter, _elements, _since, split files', () =>
	withSandbox({ profile: 'smart', patients: 45, maxResourcesPerFile: 20, admin: true }, async (s) => {
		const t = await token(s);
		const k = await kickoff(`${s.baseUrl}/$export?_type=Patient,Appointment`, t);
		assert.equal(k.status, 202);
		assert.match(k.headers.get('content-location'), /\/bulkstatus\//);
		const { manifest } = await pollToManifest(k.headers.get('content-location'), t);
		const pats = manifest.output.filter((o) => o.type === 'Patient');
		assert.deepEqual(pats.map((o) => o.count), [20, 20, 5]);
		const appts = manifest.output.filter((o) => o.type === 'Appointment');
		assert.equal(appts.reduce((a, o) => a + o.count, 0), 90);
		const seen = new Set();
		for (const o of pats) for (const l of ndjsonLines((await get(o.url, t)).text)) seen.add(JSON.parse(l).id);
		assert.equal(seen.size, 45);
		// Patient level with POST Parameters, _typeFilter and _elements
		const body = {
			resourceType: 'Parameters',
			parameter: [
				{ name: '_type', valueString: 'Patient,Encounter' },
				{ name: '_typeFilter', valueString: 'Patient?gender=female' },
				{ name: '_elements', valueString: 'Patient.gender,Encounter.status' },
				{ name: 'includeAssociatedData', valueCode: 'LatestProvenanceResources' },
			],
		};
		const k2 = await kickoff(`${s.baseUrl}/Patient/$export`, t, { method: 'POST', body });
		assert.equal(k2.status, 202, JSON.stringify(k2.json));
		const m2 = (await pollToManifest(k2.headers.get('content-location'), t)).manifest;
		const pLines = [];
		for (const o of m2.output.filter((x) => x.type === 'Patient')) pLines.push(...ndjsonLines((await get(o.url, t)).text).map((l) => JSON.parse(l)));
		assert.ok(pLines.length > 0 && pLines.every((p) => p.gender === 'female' && !p.name && p.meta.tag[0].code === 'SUBSETTED'));
		const eLines = ndjsonLines((await get(m2.output.find((x) => x.type === 'Encounter').url, t)).text).map((l) => JSON.parse(l));
		assert.ok(eLines.every((e) => e.status && !e.period));
		// _since picks up admin changes only
		const since = new Date(s.now()).toISOString();
		await new Promise((r) => setTimeout(r, 5));
		s.admin.updatePatient('demo', 'pt-7', { gender: 'unknown' });
		s.admin.createPatient('demo', { name: [{ family: 'New', given: ['Person'] }] });
		const k3 = await kickoff(`${s.baseUrl}/Group/grp-1/$export?_since=${encodeURIComponent(since)}&_type=Patient`, t);
		const m3 = (await pollToManifest(k3.headers.get('content-location'), t)).manifest;
		assert.deepEqual(m3.output.map((o) => o.count), [2]);
		const got = ndjsonLines((await get(m3.output[0].url, t)).text).map((l) => JSON.parse(l).id).sort();
		assert.deepEqual(got, ['pt-46', 'pt-7']);
		// unknown parameter and Group scope
		assert.equal((await kickoff(`${s.baseUrl}/$export?_foo=1`, t)).status, 400);
		const limited = await token(s, 'sandbox-patient-only', 'system/Patient.read');
		const f = await kickoff(`${s.baseUrl}/Group/grp-1/$export`, limited);
		assert.equal(f.status, 403);
		assert.match(f.json.issue[0].diagnostics, /system\/Group\.read/);
	}));

test('files on another origin need no token (requiresAccessToken false); error file; bulkRepeat', () =>
	withSandbox({ profile: 'smart', patients: 12, fileOrigin: 'other', bulkErrors: true, bulkRepeat: 3, maxResourcesPerFile: 10 }, async (s) => {
		const t = await token(s);
		const k = await kickoff(`${s.baseUrl}/Group/grp-1/$export?_type=Patient`, t);
		const { manifest } = await pollToManifest(k.headers.get('content-location'), t);
		assert.equal(manifest.requiresAccessToken, false);
		assert.deepEqual(manifest.output.map((o) => o.count), [10, 10, 10, 6]);
		const ids = [];
		for (const o of manifest.output) {
			assert.ok(o.url.startsWith(s.otherOrigin));
			const r = await get(o.url);
			assert.equal(r.status, 200);
			ids.push(...ndjsonLines(r.text).map((l) => JSON.parse(l).id));
		}
		assert.equal(ids.length, 36);
		assert.equal(new Set(ids).size, 36);
		assert.equal(s.stats.authHeaderSeenOnOtherOrigin, 0);
		await get(manifest.output[0].url, t);
		assert.equal(s.stats.authHeaderSeenOnOtherOrigin, 1);
		assert.equal(manifest.error.length, 1);
		const errs = ndjsonLines((await get(manifest.error[0].url)).text).map((l) => JSON.parse(l));
		assert.ok(errs.length === 2 && errs.every((e) => e.resourceType === 'OperationOutcome'));
		// a tampered signature is refused like pre-signed storage
		assert.equal((await get(manifest.output[0].url.replace(/Signature=./, 'Signature=Z'))).status, 403);
	}));

test('paged manifest (manifestPageSize) links to the next page', () =>
	withSandbox({ profile: 'smart', patients: 30, maxResourcesPerFile: 10, manifestPageSize: 2 }, async (s) => {
		const t = await token(s);
		const k = await kickoff(`${s.baseUrl}/$export?_type=Patient`, t);
		const { manifest } = await pollToManifest(k.headers.get('content-location'), t);
		assert.equal(manifest.output.length, 2);
		const next = manifest.link.find((l) => l.relation === 'next').url;
		const p2 = await get(next, t);
		assert.equal(p2.json.output.length, 1);
		assert.equal(p2.json.link, undefined);
	}));

test('bulkPaddingBytes makes resources bigger; _until bounds lastUpdated (smart)', () =>
	withSandbox({ profile: 'smart', patients: 8, bulkPaddingBytes: 2000, admin: true }, async (s) => {
		const t = await token(s);
		const k = await kickoff(`${s.baseUrl}/$export?_type=Coverage`, t);
		const { manifest } = await pollToManifest(k.headers.get('content-location'), t);
		const lines = ndjsonLines((await get(manifest.output[0].url, t)).text);
		assert.equal(lines.length, 8);
		assert.ok(lines.every((l) => l.length > 2000));
		const until = new Date(s.now()).toISOString();
		await new Promise((r) => setTimeout(r, 5));
		s.admin.updatePatient('demo', 'pt-1', { active: false });
		const k2 = await kickoff(`${s.baseUrl}/Patient/$export?_type=Patient&_until=${encodeURIComponent(until)}`, t);
		const m2 = (await pollToManifest(k2.headers.get('content-location'), t)).manifest;
		assert.equal(m2.output[0].count, 7);
	}));
