// Bulk Data export: routes, jobs and status polling (manifest, paged manifests). eCW profile: Bulk Data
// STU1-like, Group-level only; smart profile: Bulk Data 2.0, all three levels. What each part does:
// bulkKickoff.mjs (the $export request and the job it starts), bulkPlan.mjs (what an export holds,
// its manifest), bulkFiles.mjs (NDJSON files, streamed with backpressure: memory does not grow with
// export size; file faults; benchmark latency and throughput).
// smart quirks (contracts/smart.mjs): kickoffTokenExpired, otherOriginStatus, exportExtraScopes.
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { FhirError, operationOutcome, sendJson } from './util.mjs';
import { kickoff } from './bulkKickoff.mjs';
import { plan } from './bulkPlan.mjs';
import { serveFile, serveOtherFile } from './bulkFiles.mjs';

const MANIFEST_FAULTS = new Set(['manifest-files']);

export class BulkExports {
	/** @param {any} sb the Sandbox */
	constructor(sb) {
		this.sb = sb;
		this.jobs = new Map();
		this.fileKey = crypto.randomBytes(32);
		/** kickoffTokenExpired: kick-offs answered "Token expired" so far, per client. */
		this.expiredKickoffs = new Map();
		/** bulkServerBytesPerSecond: when the shared server link is free again (ms, performance.now()). */
		this.linkFreeAt = 0;
	}

	stop() {
		this.jobs.clear();
	}

	get ecw() {
		return this.sb.contract.name === 'ecw';
	}

	get quirks() {
		return this.sb.contract.quirks ?? {};
	}

	/** otherOriginStatus: the status URL of a job (and its files) are on the second origin. */
	statusOnOtherOrigin() {
		return !!this.quirks.otherOriginStatus;
	}

	/** Handle bulk routes under a practice base; returns false when the path is not a bulk route. */
	async route(ctx, ds, base, rest, token) {
		const { req, res, url } = ctx;
		const last = rest[rest.length - 1];
		if (last === '$export') {
			let level = null;
			let groupId = null;
			if (rest.length === 1) level = 'system';
			else if (rest.length === 2 && rest[0] === 'Patient') level = 'patient';
			else if (rest.length === 3 && rest[0] === 'Group') {
				level = 'group';
				groupId = rest[1];
			}
			if (!level) throw new FhirError(404, 'not-found', 'Unknown $export endpoint');
			if (this.ecw && level !== 'group') throw new FhirError(404, 'not-supported', `$export is only supported at Group level on this server (GET ${base}/Group/{id}/$export)`);
			if (this.ecw && req.method !== 'GET') throw new FhirError(405, 'not-supported', 'Bulk kick-off supports GET only');
			if (req.method !== 'GET' && req.method !== 'POST') throw new FhirError(405, 'not-supported', 'Use GET or POST');
			return kickoff(this, ctx, ds, base, level, groupId, token);
		}
		if (this.ecw && rest.length === 1 && rest[0] === '$export-poll-location') return this.status(ctx, ds, base, url.searchParams.get('job_id'), token);
		if (!this.ecw && rest.length === 2 && rest[0] === 'bulkstatus') return this.status(ctx, ds, base, rest[1], token);
		if (rest.length === 3 && rest[0] === 'bulkfiles') {
			if (req.method !== 'GET') throw new FhirError(405, 'not-supported', 'Use GET');
			const job = this.jobs.get(rest[1]);
			if (!job || job.practice !== ds.code || job.cancelled) throw new FhirError(404, 'not-found', 'Unknown export file');
			if (job.clientId !== token.clientId) throw new FhirError(403, 'forbidden', 'This export belongs to another client');
			return serveFile(this, ctx, job, rest[2]);
		}
		return false;
	}

	done(job) {
		return performance.now() - job.startedAt >= this.sb.o.bulkDelayMs;
	}

	// ---------- status ----------
	async status({ req, res, url, path }, ds, base, id, token) {
		const job = id ? this.jobs.get(id) : undefined;
		if (!job || job.practice !== ds.code || job.cancelled) throw new FhirError(404, 'not-found', `Unknown export job ${id ?? '(missing job_id)'}`);
		if (job.clientId !== token.clientId) throw new FhirError(404, 'not-found', `Unknown export job ${id}`);
		if (req.method === 'DELETE') {
			job.cancelled = true;
			this.jobs.delete(id);
			return sendJson(res, 202, operationOutcome('informational', 'Export job deleted', 'information'));
		}
		if (req.method !== 'GET') throw new FhirError(405, 'not-supported', 'Use GET or DELETE');
		const fault = this.sb.faults.take(new Set(['transient-status']), path, ds.code);
		if (fault) throw new FhirError(fault.status ?? 500, 'transient', fault.message ?? 'Injected fault: transient error while checking export status; retry');
		const elapsed = performance.now() - job.startedAt;
		const delay = this.sb.o.bulkDelayMs;
		if (elapsed < delay) {
			const pct = Math.min(99, Math.floor((elapsed / delay) * 100));
			res.writeHead(202, { 'X-Progress': `${pct}% Completed`, 'Retry-After': this.sb.retryAfter(this.sb.o.pollRetryAfterSeconds), 'Content-Length': 0 });
			return res.end();
		}
		if (!job.manifest) {
			const many = this.sb.faults.take(MANIFEST_FAULTS, path, ds.code);
			job.manifest = plan(this, job, ds, base, { manyFiles: many ? many.files ?? 2000 : 0 });
		}
		const m = job.manifest;
		const pageSize = this.sb.o.manifestPageSize;
		if (pageSize) {
			const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) | 0);
			const output = m.output.slice((page - 1) * pageSize, page * pageSize);
			const body = { ...m, output, error: page === 1 ? m.error : [] };
			if (page * pageSize < m.output.length) {
				const u = new URL(job.statusUrl);
				u.searchParams.set('page', String(page + 1));
				body.link = [{ relation: 'next', url: u.toString() }];
			}
			return sendJson(res, 200, body, {}, 'application/json');
		}
		return sendJson(res, 200, m, {}, 'application/json');
	}

	/** otherOriginStatus: `/bulkstatus/{practice}/{id}` on the second origin, bearer token required as on the FHIR origin. */
	async serveOtherStatus(ctx) {
		const m = /^\/bulkstatus\/([^/]+)\/([^/]+)$/.exec(ctx.path);
		const ds = m ? this.sb.practices.get(m[1]) : undefined;
		if (!m || !ds || !this.statusOnOtherOrigin()) throw new FhirError(404, 'not-found', `No route for ${ctx.path}`);
		ctx.entry.practice = ds.code;
		this.sb.stats.byPractice[ds.code].requests += 1;
		await this.sb.faults.beforeRequest(ctx.path, ds.code);
		const token = this.sb.authorize(ctx.req, ds.code, ctx.entry);
		return this.status(ctx, ds, this.sb.baseUrlFor(ds.code), m[2], token);
	}

	/** Pre-signed files on the second origin: `/files/{job}/{name}?X-Sandbox-Signature=...`. */
	async serveOtherFile(ctx) {
		return await serveOtherFile(this, ctx);
	}
}
