// What a bulk export holds: the records of each type for a job (level, Group, _since/_until,
// _typeFilter, patient), the manifest's files and their URLs, and each record's shape (_elements, padding).
import crypto from 'node:crypto';

const COMPARTMENT = new Set(['Patient', 'Encounter', 'Appointment', 'Coverage']);
const PADDING_URL = 'https://n8n-nodes-eclinicalworks.dev/fhir/StructureDefinition/sandbox-padding';

/** Raw positions of a type for this job, from raw position `from`, in file order. */
export function* positions(job, ds, type, from) {
	if (COMPARTMENT.has(type) && (job.patientSet || (job.groupIdx !== null && job.groupIdx !== 0))) {
		let members;
		if (job.patientSet) members = [...job.patientSet];
		else if (job.groupIdx === 1) members = Array.from({ length: ds.smallGroupSize }, (_, p) => p);
		else {
			members = [];
			for (let p = 0; p < ds.size('Patient'); p++) if (ds.inGroup(job.groupIdx, p)) members.push(p);
		}
		const set = new Set();
		for (const p of members) for (const i of ds.positionsForPatient(type, p)) set.add(i);
		for (const i of [...set].sort((a, b) => a - b)) if (i >= from) yield i;
		return;
	}
	const n = ds.size(type);
	for (let i = from; i < n; i++) yield i;
}

/** Is raw position i of type exported by this job? Generates the record only when needed. */
export function accept(job, ds, type, i) {
	if (job.since !== null || job.until !== null) {
		const t = ds.lastUpdatedMs(type, i);
		if (job.since !== null && t < job.since) return null;
		if (job.until !== null && t >= job.until) return null;
	}
	if (COMPARTMENT.has(type) && (job.patientSet || (job.groupIdx !== null && job.groupIdx !== 0))) {
		const p = ds.patientIndexOf(type, i);
		if (p < 0) return null;
		if (job.patientSet ? !job.patientSet.has(p) : !ds.inGroup(job.groupIdx, p)) return null;
	}
	const r = ds.at(type, i);
	if (!r) return null;
	const filters = job.typeFilters.get(type);
	if (filters && !filters.some((f) => f.match(r))) return null;
	return r;
}

/**
 * The manifest of a finished job. `manyFiles` (the manifest-files fault): the first type's records
 * one per file, in that many files. The smart quirk noFileCounts leaves `count` out of every entry.
 */
export function plan(bulk, job, ds, base, { manyFiles = 0 } = {}) {
	const o = bulk.sb.o;
	const R = o.bulkRepeat;
	const max = o.maxResourcesPerFile;
	const output = [];
	const filesBase = filesElsewhere(bulk) ? `${bulk.sb.otherOrigin}/files/${job.id}` : `${base}/bulkfiles/${job.id}`;
	for (const type of job.types) {
		const filtered = job.since !== null || job.until !== null || job.typeFilters.has(type) || (COMPARTMENT.has(type) && (job.patientSet || (job.groupIdx !== null && job.groupIdx !== 0)));
		let matches;
		const starts = []; // raw position of the first match of each file
		if (!filtered) {
			matches = ds.size(type);
			const emitted = matches * R;
			for (let k = 0; k * max < emitted; k++) starts.push(Math.floor((k * max) / R));
		} else {
			matches = 0;
			let nextTarget = 0;
			let k = 0;
			for (const i of positions(job, ds, type, 0)) {
				if (!accept(job, ds, type, i)) continue;
				while (matches === nextTarget) {
					starts.push(i);
					k += 1;
					nextTarget = Math.floor((k * max) / R);
					if (nextTarget > matches) break;
				}
				matches += 1;
			}
		}
		const emitted = matches * R;
		for (let k = 0; k * max < emitted; k++) {
			const name = `${type}-${k + 1}.ndjson`;
			const lines = Math.min(max, emitted - k * max);
			job.files.set(name, { type, startPos: starts[k], startCopy: (k * max) % R, lines });
			output.push({ type, url: fileUrl(bulk, job, filesBase, name), count: lines });
		}
	}
	if (manyFiles > 0) manifestFiles(bulk, job, ds, filesBase, output, manyFiles);
	const error = [];
	if (o.bulkErrors) {
		job.files.set('errors-1.ndjson', { type: 'OperationOutcome', errors: true, lines: 2 });
		error.push({ type: 'OperationOutcome', url: fileUrl(bulk, job, filesBase, 'errors-1.ndjson'), count: 2 });
	}
	if (bulk.quirks.noFileCounts) for (const entry of [...output, ...error]) delete entry.count;
	return {
		transactionTime: job.transactionTime,
		request: job.request,
		requiresAccessToken: !filesElsewhere(bulk),
		output,
		error,
		...(job.since !== null ? { deleted: [] } : {}),
	};
}

/** Replaces the output with `files` one-record files of the first type (cycling over its records). */
function manifestFiles(bulk, job, ds, filesBase, output, files) {
	const type = job.types[0];
	const found = [];
	for (const i of positions(job, ds, type, 0)) {
		if (accept(job, ds, type, i)) found.push(i);
		if (found.length >= files) break;
	}
	output.length = 0;
	job.files.clear();
	if (found.length === 0) return;
	for (let k = 0; k < files; k++) {
		const name = `${type}-${k + 1}.ndjson`;
		job.files.set(name, { type, startPos: found[k % found.length], startCopy: 0, lines: 1 });
		output.push({ type, url: fileUrl(bulk, job, filesBase, name), count: 1 });
	}
}

/** Files on the second origin, pre-signed (fileOrigin 'other', or the otherOriginStatus quirk). */
export function filesElsewhere(bulk) {
	return bulk.sb.o.fileOrigin === 'other' || bulk.statusOnOtherOrigin();
}

function fileUrl(bulk, job, filesBase, name) {
	if (!filesElsewhere(bulk)) return `${filesBase}/${name}`;
	const sig = crypto.createHmac('sha256', bulk.fileKey).update(`${job.id}/${name}`).digest('base64url').slice(0, 32);
	return `${filesBase}/${name}?X-Sandbox-Signature=${sig}&X-Sandbox-Expires=3600`;
}

export function shape(job, r, pad) {
	let out = r;
	if (job.elements.length) {
		const keep = new Set(['resourceType', 'id', 'meta']);
		for (const e of job.elements) {
			const dot = e.indexOf('.');
			if (dot < 0) keep.add(e);
			else if (e.slice(0, dot) === r.resourceType) keep.add(e.slice(dot + 1));
		}
		out = Object.fromEntries(Object.entries(r).filter(([k]) => keep.has(k)));
		out.meta = { ...(r.meta ?? {}), tag: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' }] };
	}
	if (pad) out = { ...out, extension: [...(out.extension ?? []), { url: PADDING_URL, valueString: pad }] };
	return out;
}
