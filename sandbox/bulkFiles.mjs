// Bulk file downloads: NDJSON streamed from the generator with backpressure, on the FHIR origin
// (bearer token) or pre-signed on the second origin; file faults (reset, malformed-ndjson,
// expired-file-url, truncate, extra-line, long-line, drip); a real server's latency and throughput
// for the benchmarks (bulkFile* options).
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { FhirError, operationOutcome, sleep } from './util.mjs';
import { accept, positions, shape } from './bulkPlan.mjs';

const FILE_FAULTS = new Set(['reset', 'malformed-ndjson', 'expired-file-url', 'truncate', 'extra-line', 'long-line', 'drip']);

/** A pre-signed file on the second origin: a storage-style XML error for an unknown key or a bad signature. */
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

/** The file's lines (JSON text, no line break), generated on demand. */
function* fileLines(bulk, job, ds, spec) {
	if (spec.errors) {
		yield JSON.stringify(operationOutcome('processing', `Coverage for Patient/${ds.idFor('Patient', 0)} could not be exported: payer record locked`));
		yield JSON.stringify(operationOutcome('not-found', `Encounter for Patient/${ds.idFor('Patient', 1)} references a deleted location`));
		return;
	}
	const R = bulk.sb.o.bulkRepeat;
	const pad = bulk.sb.o.bulkPaddingBytes > 0 ? 'x'.repeat(bulk.sb.o.bulkPaddingBytes) : null;
	let remaining = spec.lines;
	let copy = spec.startCopy;
	for (const i of positions(job, ds, spec.type, spec.startPos)) {
		if (remaining <= 0) break;
		const r = accept(job, ds, spec.type, i);
		if (!r) continue;
		const shaped = shape(job, r, pad);
		for (; copy < R && remaining > 0; copy++) {
			yield JSON.stringify(copy === 0 ? shaped : { ...shaped, id: `${shaped.id}-r${copy}` });
			remaining -= 1;
		}
		copy = 0;
	}
}

/**
 * What a file fault does to the body: which line is cut, doubled or replaced by an over-long one,
 * where the body ends early, how it is framed (close-delimited, chunked, or a Content-Length the
 * body falls short of) and how fast it drips. See docs/sandbox.md (Faults).
 */
function bodyPlan(fault, spec) {
	const plan = { resetAfter: null, badLine: null, extraLine: null, stopAfter: null, midLine: false, longLine: null, framing: 'chunked', drip: null };
	switch (fault?.kind) {
		case 'reset':
			plan.resetAfter = fault.afterBytes ?? 1024;
			break;
		case 'malformed-ndjson':
			plan.badLine = fault.line ?? 1;
			break;
		case 'extra-line':
			plan.extraLine = fault.line ?? 1;
			break;
		case 'truncate':
			plan.stopAfter = fault.afterLines ?? Math.floor(spec.lines / 2);
			plan.midLine = fault.midLine === true;
			plan.framing = fault.framing ?? 'close';
			break;
		case 'long-line':
			plan.longLine = { line: fault.line ?? 1, bytes: fault.bytes ?? 512 * 1024 * 1024 };
			break;
		case 'drip':
			plan.drip = { bytes: Math.max(1, fault.bytes ?? 1), intervalMs: fault.intervalMs ?? 5000 };
			break;
	}
	return plan;
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
	const plan = bodyPlan(fault, spec);
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
	const headers = { 'Content-Type': 'application/fhir+ndjson', 'Cache-Control': 'no-store' };
	if (plan.framing === 'close') {
		// no Content-Length and no chunked encoding: the body ends when the connection closes
		res.useChunkedEncodingByDefault = false;
		res.shouldKeepAlive = false;
	} else if (plan.framing === 'length') {
		// the whole file's length, which the body then falls short of
		let length = 0;
		for (const line of fileLines(bulk, job, ds, spec)) length += Buffer.byteLength(line) + 1;
		headers['Content-Length'] = length;
	}
	res.writeHead(200, headers);
	let closed = false;
	res.on('close', () => {
		closed = true;
	});
	const writeChunk = async (chunk) => {
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
	};
	let written = 0;
	let buf = '';
	let batches = 0;
	const flush = async () => {
		if (!buf || closed) return;
		let chunk = Buffer.from(buf);
		buf = '';
		if (plan.resetAfter !== null && written + chunk.length >= plan.resetAfter) {
			chunk = chunk.subarray(0, Math.max(0, plan.resetAfter - written));
			if (chunk.length) await new Promise((r) => res.write(chunk, () => r()));
			written += chunk.length;
			closed = true;
			res.socket?.destroy();
			res.destroy();
			return;
		}
		written += chunk.length;
		if (plan.drip) {
			for (let at = 0; at < chunk.length && !closed; at += plan.drip.bytes) {
				await writeChunk(chunk.subarray(at, at + plan.drip.bytes));
				await sleep(plan.drip.intervalMs);
			}
			return;
		}
		await throttle(chunk.length);
		await writeChunk(chunk);
		if (++batches % 16 === 0) await new Promise((r) => setImmediate(r));
	};
	/** An over-long line with no line break, streamed in pieces (never held whole), and the end of the body. */
	const sendLongLine = async ({ bytes }) => {
		const start = '{"resourceType":"Binary","id":"long","data":"';
		buf += start;
		const piece = 'A'.repeat(64 * 1024);
		for (let sent = start.length; sent < bytes && !closed; ) {
			const n = Math.min(piece.length, bytes - sent);
			buf += n === piece.length ? piece : piece.slice(0, n);
			sent += n;
			await flush();
		}
	};
	let lineNo = 0;
	for (const text of fileLines(bulk, job, ds, spec)) {
		if (closed) break;
		lineNo += 1;
		if (plan.longLine?.line === lineNo) {
			await sendLongLine(plan.longLine);
			break;
		}
		if (plan.stopAfter !== null && lineNo > plan.stopAfter) {
			// the body ends early: at a line break, or in the middle of the next line
			if (plan.midLine) buf += text.slice(0, Math.floor(text.length / 2));
			break;
		}
		const line = lineNo === plan.badLine ? text.slice(0, Math.floor(text.length / 2)) : text;
		buf += `${line}\n`;
		if (lineNo === plan.extraLine) buf += `${line}\n`;
		if (buf.length >= 64 * 1024) await flush();
	}
	await flush();
	if (closed) return;
	if (plan.framing === 'length' && plan.stopAfter !== null) {
		// fewer bytes than the Content-Length said (sent first), then the connection drops
		await new Promise((r) => res.write('', () => r()));
		res.socket?.destroy();
		res.destroy();
		return;
	}
	res.end();
}
