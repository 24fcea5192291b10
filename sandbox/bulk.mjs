// Bulk Data export ($export kick-off, status polling, manifest, NDJSON file streaming).
// eCW profile: Bulk Data STU1-like, Group-level only; smart profile: Bulk Data 2.0, all three levels.
// Files are streamed from the generator with backpressure: memory does not grow with export size.
// smart quirks (contracts/smart.mjs): kickoffTokenExpired, otherOriginStatus, exportExtraScopes.
// Benchmarks can give file downloads a realistic latency and throughput (bulkFile* options).
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { FhirError, operationOutcome, sendJson, readBody, sleep } from './util.mjs';
import { compileSearch, parseDateRange } from './search.mjs';

const COMPARTMENT = new Set(['Patient', 'Encounter', 'Appointment', 'Coverage']);
const OUTPUT_FORMATS = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);
const PADDING_URL = 'https://n8n-nodes-eclinicalworks.dev/fhir/StructureDefinition/sandbox-padding';
const FILE_FAULTS = new Set(['reset', 'malformed-ndjson', 'expired-file-url']);

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
			return this.kickoff(ctx, ds, base, level, groupId, token);
		}
		if (this.ecw && rest.length === 1 && rest[0] === '$export-poll-location') return this.status(ctx, ds, base, url.searchParams.get('job_id'), token);
		if (!this.ecw && rest.length === 2 && rest[0] === 'bulkstatus') return this.status(ctx, ds, base, rest[1], token);
		if (rest.length === 3 && rest[0] === 'bulkfiles') {
			if (req.method !== 'GET') throw new FhirError(405, 'not-supported', 'Use GET');
			const job = this.jobs.get(rest[1]);
			if (!job || job.practice !== ds.code || job.cancelled) throw new FhirError(404, 'not-found', 'Unknown export file');
			if (job.clientId !== token.clientId) throw new FhirError(403, 'forbidden', 'This export belongs to another client');
			return this.serveFile(ctx, job, rest[2]);
		}
		return false;
	}

	// ---------- kick-off ----------
	async kickoff({ req, res, url }, ds, base, level, groupId, token) {
		const sb = this.sb;
		this.expireTokenOnce(token);
		this.requireExportScopes(token);
		let group = null;
		if (level === 'group') {
			const missing = sb.auth.missingScope(token, 'Group', 'r');
			if (missing) {
				if (this.ecw) throw new FhirError(401, 'security', 'Unauthorized group: the token does not carry system/Group.read', { 'WWW-Authenticate': 'Bearer realm="sandbox", error="insufficient_scope"' });
				throw new FhirError(403, 'forbidden', `Missing scope ${missing}`);
			}
			group = ds.get('Group', groupId);
			if (!group) throw new FhirError(404, 'not-found', `Resource Group/${groupId} is not known`);
		}
		const prefer = String(req.headers.prefer ?? '');
		if (!/respond-async/i.test(prefer)) throw new FhirError(400, 'invalid', 'Prefer: respond-async header is required for $export');
		const accept = String(req.headers.accept ?? '');
		if (!accept.includes('application/fhir+json')) throw new FhirError(400, 'invalid', 'Accept: application/fhir+json header is required for $export');
		/** @type {Array<[string, any]>} */
		let params = [...url.searchParams];
		if (req.method === 'POST') {
			const text = await readBody(req);
			let body;
			try {
				body = text ? JSON.parse(text) : { resourceType: 'Parameters', parameter: [] };
			} catch {
				throw new FhirError(400, 'invalid', 'POST body must be a FHIR Parameters resource');
			}
			if (body.resourceType !== 'Parameters') throw new FhirError(400, 'invalid', 'POST body must be a FHIR Parameters resource');
			for (const p of body.parameter ?? []) {
				const v = p.valueString ?? p.valueInstant ?? p.valueDateTime ?? p.valueCode ?? p.valueBoolean ?? p.valueReference?.reference ?? p.valueUri;
				params.push([p.name, v === undefined ? '' : String(v)]);
			}
		}
		const allowed = this.ecw ? ['_type', '_since', '_outputFormat'] : ['_type', '_since', '_outputFormat', '_typeFilter', '_elements', 'includeAssociatedData', 'patient', '_until'];
		for (const [k] of params) {
			if (!allowed.includes(k)) throw new FhirError(400, 'not-supported', `Unsupported $export parameter: ${k}`);
			if (k === 'patient' && req.method !== 'POST') throw new FhirError(400, 'not-supported', 'Parameter patient is only supported with POST');
		}
		const get = (k) => params.filter(([n]) => n === k).map(([, v]) => v);
		const fmt = get('_outputFormat')[0];
		if (fmt !== undefined && !OUTPUT_FORMATS.has(fmt)) throw new FhirError(400, 'not-supported', `Unsupported _outputFormat: ${fmt}`);
		const served = sb.contract.bulkTypes;
		let types;
		const typeParam = get('_type').flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
		if (typeParam.length) {
			for (const t of typeParam) if (!served.includes(t)) throw new FhirError(400, 'not-supported', `Resource type ${t} is not available for export`);
			types = [...new Set(typeParam)];
			for (const t of types) {
				const missing = sb.auth.missingScope(token, t, 'r');
				if (missing) throw new FhirError(403, 'forbidden', `Missing scope ${missing}`);
			}
		} else {
			types = served.filter((t) => !sb.auth.missingScope(token, t, 'r'));
		}
		let since = null;
		const sinceStr = get('_since')[0];
		if (sinceStr !== undefined) {
			const r = parseDateRange(sinceStr, sb.o.timeZone);
			if (!r) throw new FhirError(400, 'invalid', `Invalid _since: ${sinceStr}`);
			since = r.lo;
		}
		let until = null;
		const untilStr = get('_until')[0];
		if (untilStr !== undefined) {
			const r = parseDateRange(untilStr, sb.o.timeZone);
			if (!r) throw new FhirError(400, 'invalid', `Invalid _until: ${untilStr}`);
			until = r.lo;
		}
		/** @type {Map<string, any[]>} */
		const typeFilters = new Map();
		for (const tf of get('_typeFilter').flatMap((v) => v.split(','))) {
			const q = tf.indexOf('?');
			const t = q < 0 ? tf : tf.slice(0, q);
			if (!served.includes(t)) throw new FhirError(400, 'invalid', `_typeFilter names an unknown type: ${t}`);
			const compiled = compileSearch(t, [...new URLSearchParams(q < 0 ? '' : tf.slice(q + 1))], { tz: sb.o.timeZone, profile: sb.contract.name, now: sb.clock() });
			if (!typeFilters.has(t)) typeFilters.set(t, []);
			typeFilters.get(t).push(compiled);
		}
		const elements = get('_elements').flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
		let patientSet = null;
		const patients = get('patient');
		if (patients.length) {
			patientSet = new Set();
			for (const p of patients.flatMap((v) => v.split(','))) {
				const i = ds.indexOf('Patient', p.replace(/^.*Patient\//, ''));
				if (i < 0) throw new FhirError(400, 'invalid', `Unknown patient ${p}`);
				patientSet.add(i);
			}
		}
		const key = JSON.stringify([ds.code, token.clientId, level, groupId, [...params].sort()]);
		if (this.ecw) {
			for (const j of this.jobs.values()) {
				if (j.key === key && !j.cancelled && !this.done(j)) throw new FhirError(409, 'conflict', `An identical export request is already in progress (job_id=${j.id}); poll it or cancel it first`);
			}
		}
		const id = crypto.randomUUID().replace(/-/g, '');
		const job = {
			id,
			key,
			practice: ds.code,
			clientId: token.clientId,
			level,
			groupIdx: group ? ds.indexOf('Group', groupId) : null,
			request: `${sb.origin}${url.pathname}${url.search}`,
			startedAt: performance.now(),
			transactionTime: new Date(sb.clock()).toISOString(),
			types,
			since,
			until,
			typeFilters,
			elements,
			patientSet,
			cancelled: false,
			manifest: null,
			files: new Map(),
		};
		this.jobs.set(id, job);
		const statusUrl = this.ecw
			? `${base}/$export-poll-location?job_id=${id}`
			: this.statusOnOtherOrigin()
				? `${sb.otherOrigin}/bulkstatus/${ds.code}/${id}`
				: `${base}/bulkstatus/${id}`;
		job.statusUrl = statusUrl;
		return sendJson(res, 202, operationOutcome('informational', 'Export request accepted; poll the Content-Location URL', 'information'), { 'Content-Location': statusUrl, ...(this.ecw ? { 'Retry-After': sb.retryAfter(sb.o.pollRetryAfterSeconds) } : {}) });
	}

	/**
	 * kickoffTokenExpired: the first kick-off of each client (or the first N, when the quirk's value
	 * is a number) is answered 401 text/plain "Token expired", as SMART's reference server does for
	 * a token past its lifetime; that token stays expired, a freshly minted one is accepted.
	 */
	expireTokenOnce(token) {
		const quirk = this.quirks.kickoffTokenExpired;
		if (!quirk) return;
		const times = Number.isFinite(Number(quirk)) && quirk !== true ? Number(quirk) : 1;
		const seen = this.expiredKickoffs.get(token.clientId) ?? 0;
		if (seen >= times) return;
		this.expiredKickoffs.set(token.clientId, seen + 1);
		token.exp = this.sb.clock();
		const e = new FhirError(401, 'login', 'Token expired', { 'WWW-Authenticate': 'Bearer realm="sandbox", error="invalid_token"' });
		e.plainText = 'Token expired';
		throw e;
	}

	/** exportExtraScopes: an export needs the contract's bulk.requiredScopes besides the read scopes (403 naming them). */
	requireExportScopes(token) {
		const required = this.sb.contract.bulk.requiredScopes ?? [];
		const missing = required.filter((scope) => !this.sb.auth.grants(token, scope));
		if (missing.length === 0) return;
		throw new FhirError(403, 'forbidden', `Insufficient scope: a bulk export needs ${required.join(', ')} besides read access; this token lacks ${missing.join(', ')}`);
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
		if (!job.manifest) job.manifest = this.plan(job, ds, base);
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

	// ---------- planning ----------
	/** Raw positions of a type for this job, from raw position `from`, in file order. */
	*positions(job, ds, type, from) {
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
	accept(job, ds, type, i) {
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

	plan(job, ds, base) {
		const o = this.sb.o;
		const R = o.bulkRepeat;
		const max = o.maxResourcesPerFile;
		const output = [];
		const filesBase = this.filesElsewhere() ? `${this.sb.otherOrigin}/files/${job.id}` : `${base}/bulkfiles/${job.id}`;
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
				for (const i of this.positions(job, ds, type, 0)) {
					if (!this.accept(job, ds, type, i)) continue;
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
				output.push({ type, url: this.fileUrl(job, filesBase, name), count: lines });
			}
		}
		const error = [];
		if (o.bulkErrors) {
			job.files.set('errors-1.ndjson', { type: 'OperationOutcome', errors: true, lines: 2 });
			error.push({ type: 'OperationOutcome', url: this.fileUrl(job, filesBase, 'errors-1.ndjson'), count: 2 });
		}
		return {
			transactionTime: job.transactionTime,
			request: job.request,
			requiresAccessToken: !this.filesElsewhere(),
			output,
			error,
			...(job.since !== null ? { deleted: [] } : {}),
		};
	}

	/** Files on the second origin, pre-signed (fileOrigin 'other', or the otherOriginStatus quirk). */
	filesElsewhere() {
		return this.sb.o.fileOrigin === 'other' || this.statusOnOtherOrigin();
	}

	fileUrl(job, filesBase, name) {
		if (!this.filesElsewhere()) return `${filesBase}/${name}`;
		const sig = crypto.createHmac('sha256', this.fileKey).update(`${job.id}/${name}`).digest('base64url').slice(0, 32);
		return `${filesBase}/${name}?X-Sandbox-Signature=${sig}&X-Sandbox-Expires=3600`;
	}

	// ---------- files ----------
	async serveOtherFile(ctx) {
		const { url, path, res } = ctx;
		const m = /^\/files\/([^/]+)\/([^/]+)$/.exec(path);
		const job = m ? this.jobs.get(m[1]) : undefined;
		if (!m || !job || job.cancelled) {
			res.writeHead(404, { 'Content-Type': 'application/xml' });
			return res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>');
		}
		ctx.entry.practice = job.practice;
		this.sb.stats.byPractice[job.practice].requests += 1;
		const want = crypto.createHmac('sha256', this.fileKey).update(`${m[1]}/${m[2]}`).digest('base64url').slice(0, 32);
		if (url.searchParams.get('X-Sandbox-Signature') !== want) {
			res.writeHead(403, { 'Content-Type': 'application/xml' });
			return res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error>');
		}
		await this.sb.faults.beforeRequest(path, job.practice);
		return this.serveFile(ctx, job, m[2]);
	}

	async serveFile({ res, path, otherOrigin }, job, name) {
		const spec = job.files.get(name);
		if (!spec) throw new FhirError(404, 'not-found', 'Unknown export file');
		const ds = this.sb.practices.get(job.practice);
		const fault = this.sb.faults.take(FILE_FAULTS, path, job.practice);
		if (fault?.kind === 'expired-file-url') {
			if (otherOrigin) {
				res.writeHead(fault.status ?? 403, { 'Content-Type': 'application/xml' });
				return res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
			}
			throw new FhirError(fault.status ?? 410, 'expired', 'The export file URL has expired');
		}
		const resetAfter = fault?.kind === 'reset' ? fault.afterBytes ?? 1024 : null;
		const badLine = fault?.kind === 'malformed-ndjson' ? fault.line ?? 1 : null;
		const { bulkFileLatencyMs: latency, bulkFileBytesPerSecond: perConnection, bulkServerBytesPerSecond: perServer } = this.sb.o;
		if (latency > 0) await sleep(latency);
		let connectionFreeAt = performance.now();
		/** Waits as long as sending `bytes` takes at the per-connection and the shared server rate. */
		const throttle = async (bytes) => {
			const now = performance.now();
			let until = now;
			if (perConnection > 0) {
				connectionFreeAt = Math.max(connectionFreeAt, now) + (bytes / perConnection) * 1000;
				until = Math.max(until, connectionFreeAt);
			}
			if (perServer > 0) {
				this.linkFreeAt = Math.max(this.linkFreeAt, now) + (bytes / perServer) * 1000;
				until = Math.max(until, this.linkFreeAt);
			}
			if (until - now >= 1) await sleep(until - now);
		};
		res.writeHead(200, { 'Content-Type': 'application/fhir+ndjson', 'Cache-Control': 'no-store' });
		let closed = false;
		res.on('close', () => {
			closed = true;
		});
		let written = 0;
		let buf = '';
		let batches = 0;
		const flush = async () => {
			if (!buf || closed) return;
			let chunk = Buffer.from(buf);
			buf = '';
			if (resetAfter !== null && written + chunk.length >= resetAfter) {
				chunk = chunk.subarray(0, Math.max(0, resetAfter - written));
				if (chunk.length) await new Promise((r) => res.write(chunk, () => r()));
				written += chunk.length;
				closed = true;
				res.socket?.destroy();
				res.destroy();
				return;
			}
			written += chunk.length;
			await throttle(chunk.length);
			if (closed) return;
			if (!res.write(chunk) && !closed) {
				await new Promise((resolve) => {
					const done = () => {
						res.off('drain', done);
						res.off('close', done);
						resolve();
					};
					res.on('drain', done);
					res.on('close', done);
				});
			}
			if (++batches % 16 === 0) await new Promise((r) => setImmediate(r));
		};
		let lineNo = 0;
		const emit = async (obj) => {
			lineNo += 1;
			let s = JSON.stringify(obj);
			if (lineNo === badLine) s = s.slice(0, Math.floor(s.length / 2));
			buf += `${s}\n`;
			if (buf.length >= 64 * 1024) await flush();
		};
		if (spec.errors) {
			await emit(operationOutcome('processing', `Coverage for Patient/${ds.idFor('Patient', 0)} could not be exported: payer record locked`));
			await emit(operationOutcome('not-found', `Encounter for Patient/${ds.idFor('Patient', 1)} references a deleted location`));
		} else {
			const R = this.sb.o.bulkRepeat;
			const pad = this.sb.o.bulkPaddingBytes > 0 ? 'x'.repeat(this.sb.o.bulkPaddingBytes) : null;
			let remaining = spec.lines;
			let copy = spec.startCopy;
			for (const i of this.positions(job, ds, spec.type, spec.startPos)) {
				if (remaining <= 0 || closed) break;
				const r = this.accept(job, ds, spec.type, i);
				if (!r) continue;
				const shaped = this.shape(job, r, pad);
				for (; copy < R && remaining > 0 && !closed; copy++) {
					await emit(copy === 0 ? shaped : { ...shaped, id: `${shaped.id}-r${copy}` });
					remaining -= 1;
				}
				copy = 0;
			}
		}
		await flush();
		if (!closed) res.end();
	}

	shape(job, r, pad) {
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
}
