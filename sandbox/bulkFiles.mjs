// Bulk file downloads: NDJSON streamed from the generator with backpressure, on the FHIR origin
// (bearer token) or pre-signed on the second origin; file faults (reset, malformed-ndjson,
// expired-file-url); a real server's latency and throughput for the benchmarks (bulkFile* options).
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { FhirError, operationOutcome, sleep } from './util.mjs';
import { accept, positions, shape } from './bulkPlan.mjs';

const FILE_FAULTS = new Set(['reset', 'malformed-ndjson', 'expired-file-url']);

export async function serveOtherFile(bulk, ctx) {
	const { url, path, res } = ctx;
	const m = /^\/files\/([^/]+)\/([^/]+)$/.exec(path);
	const job = m ? bulk.jobs.get(m[1]) : undefined;
	if (!m || !job || job.cancelled) {
		res.writeHead(404, { 'Content-Type': 'application/xml' });
		return res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>');
	}
	ctx.entry.practice = job.practice;
	bulk.sb.stats.byPractice[job.practice].requests += 1;
	const want = crypto.createHmac('sha256', bulk.fileKey).update(`${m[1]}/${m[2]}`).digest('base64url').slice(0, 32);
	if (url.searchParams.get('X-Sandbox-Signature') !== want) {
		res.writeHead(403, { 'Content-Type': 'application/xml' });
		return res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error>');
	}
	await bulk.sb.faults.beforeRequest(path, job.practice);
	return serveFile(bulk, ctx, job, m[2]);
}

export async function serveFile(bulk, { res, path, otherOrigin }, job, name) {
	const spec = job.files.get(name);
	if (!spec) throw new FhirError(404, 'not-found', 'Unknown export file');
	const ds = bulk.sb.practices.get(job.practice);
	const fault = bulk.sb.faults.take(FILE_FAULTS, path, job.practice);
	if (fault?.kind === 'expired-file-url') {
		if (otherOrigin) {
			res.writeHead(fault.status ?? 403, { 'Content-Type': 'application/xml' });
			return res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
		}
		throw new FhirError(fault.status ?? 410, 'expired', 'The export file URL has expired');
	}
	const resetAfter = fault?.kind === 'reset' ? fault.afterBytes ?? 1024 : null;
	const badLine = fault?.kind === 'malformed-ndjson' ? fault.line ?? 1 : null;
	const { bulkFileLatencyMs: latency, bulkFileBytesPerSecond: perConnection, bulkServerBytesPerSecond: perServer } = bulk.sb.o;
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
			bulk.linkFreeAt = Math.max(bulk.linkFreeAt, now) + (bytes / perServer) * 1000;
			until = Math.max(until, bulk.linkFreeAt);
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
		const R = bulk.sb.o.bulkRepeat;
		const pad = bulk.sb.o.bulkPaddingBytes > 0 ? 'x'.repeat(bulk.sb.o.bulkPaddingBytes) : null;
		let remaining = spec.lines;
		let copy = spec.startCopy;
		for (const i of positions(job, ds, spec.type, spec.startPos)) {
			if (remaining <= 0 || closed) break;
			const r = accept(job, ds, spec.type, i);
			if (!r) continue;
			const shaped = shape(job, r, pad);
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
