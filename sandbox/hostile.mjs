// Hostile answers, as a broken or malicious server would send them: a huge page, a gzip bomb, a body
// that drips, a page cut short, and an echo of everything the client sent (its secrets included).
// Injected like any fault (`sb.inject({ kind, path, practice, count })`); see docs/sandbox.md.
import zlib from 'node:zlib';
import { operationOutcome, sendJson } from './util.mjs';

export const HOSTILE_KINDS = new Set(['huge-page', 'gzip-bomb', 'drip', 'truncated-page', 'echo']);

const MB = 1024 * 1024;

/** Writes `chunk` and waits for the socket to drain when it is full; false once the client is gone. */
async function write(res, chunk) {
	if (res.destroyed || res.writableEnded) return false;
	if (res.write(chunk)) return true;
	return await new Promise((resolve) => {
		const done = (ok) => {
			res.off('drain', onDrain);
			res.off('close', onClose);
			resolve(ok);
		};
		const onDrain = () => done(true);
		const onClose = () => done(false);
		res.on('drain', onDrain);
		res.on('close', onClose);
	});
}

/** A valid searchset Bundle of about `bytes`, streamed with backpressure (never held in memory). */
async function hugePage(res, base, bytes) {
	res.writeHead(200, { 'Content-Type': 'application/fhir+json; charset=utf-8', 'Cache-Control': 'no-store' });
	const filler = 'x'.repeat(64 * 1024);
	let sent = 0;
	let i = 0;
	if (!(await write(res, '{"resourceType":"Bundle","type":"searchset","entry":['))) return;
	while (sent < bytes) {
		const entry = `${i ? ',' : ''}{"fullUrl":"${base}/Patient/huge-${i}","resource":{"resourceType":"Patient","id":"huge-${i}","text":{"status":"generated","div":"${filler}"}},"search":{"mode":"match"}}`;
		if (!(await write(res, entry))) return;
		sent += entry.length;
		i++;
	}
	res.end(']}');
}

const bombs = new Map();

/** gzip of a valid, empty searchset Bundle padded with `bytes` of JSON whitespace (cached per size). */
async function bomb(bytes) {
	if (bombs.has(bytes)) return bombs.get(bytes);
	const made = new Promise((resolve, reject) => {
		const gzip = zlib.createGzip({ level: 9 });
		const out = [];
		gzip.on('data', (c) => out.push(c));
		gzip.on('end', () => resolve(Buffer.concat(out)));
		gzip.on('error', reject);
		const spaces = Buffer.alloc(MB, 0x20);
		gzip.write('{"resourceType":"Bundle","type":"searchset","entry":[]');
		let left = bytes;
		const pump = () => {
			while (left > 0) {
				const n = Math.min(left, spaces.length);
				left -= n;
				if (!gzip.write(n === spaces.length ? spaces : spaces.subarray(0, n))) return void gzip.once('drain', pump);
			}
			gzip.end('}');
		};
		pump();
	});
	bombs.set(bytes, made);
	return await made;
}

async function gzipBomb(res, bytes) {
	const body = await bomb(bytes);
	res.writeHead(200, { 'Content-Type': 'application/fhir+json; charset=utf-8', 'Content-Encoding': 'gzip', 'Content-Length': body.length, 'Cache-Control': 'no-store' });
	res.end(body);
}

/** Headers at once, then one byte every `intervalMs` for ever: never idle long enough for a timeout. */
async function drip(res, intervalMs) {
	res.writeHead(200, { 'Content-Type': 'application/fhir+json; charset=utf-8', 'Cache-Control': 'no-store' });
	const head = '{"resourceType":"Bundle","type":"searchset","entry":[]';
	let wake = () => {};
	let closed = false;
	res.once('close', () => {
		closed = true;
		wake();
	});
	for (let i = 0; !closed; i++) {
		if (!(await write(res, i < head.length ? head[i] : ' '))) return;
		await new Promise((resolve) => {
			const timer = setTimeout(resolve, intervalMs);
			wake = () => {
				clearTimeout(timer);
				resolve();
			};
		});
	}
}

/**
 * The real answer, cut short: `clean` ends it early at the HTTP level (no Content-Length, chunked
 * and properly ended: only the JSON shows the cut), `reset` drops the connection at the cut.
 */
function truncate(res, { fraction = 0.5, mode = 'clean' }) {
	const writeHead = res.writeHead.bind(res);
	res.writeHead = (status, headers = {}) => {
		const without = Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'content-length'));
		return writeHead(status, without);
	};
	const end = res.end.bind(res);
	res.end = (body, ...rest) => {
		const text = Buffer.isBuffer(body) ? body : Buffer.from(body ?? '');
		const cut = text.subarray(0, Math.max(1, Math.floor(text.length * fraction)));
		if (mode === 'reset') {
			res.write(cut, () => res.destroy());
			return res;
		}
		res.write(cut);
		return end(...rest.filter((r) => typeof r === 'function'));
	};
}

/** Everything the request carried, as an echoing server would quote it (secrets and all). */
function echoText(req, url, body, sb) {
	const headers = Object.entries(req.headers)
		.filter(([name]) => !['host', 'connection', 'content-length', 'accept-encoding', 'user-agent'].includes(name))
		.map(([name, value]) => `${name}: ${value}`)
		.join('; ');
	const parts = [`Request received: ${req.method} ${url.pathname}${url.search}`, headers];
	const bearer = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '')?.[1];
	if (bearer) parts.push(`token as sent: ${bearer}`, JSON.stringify({ access_token: bearer, refresh_token: `refresh-${bearer}` }));
	const basic = /^Basic\s+(\S+)/i.exec(req.headers.authorization ?? '')?.[1];
	if (basic) parts.push(`client secret as sent: ${decodeURIComponent(Buffer.from(basic, 'base64').toString('utf8').split(':').slice(1).join(':').replace(/\+/g, ' '))}`);
	if (body) {
		parts.push(`body: ${body}`);
		const form = new URLSearchParams(body);
		if (form.get('client_secret')) parts.push(`client secret as sent: ${form.get('client_secret')}`);
		if (form.get('client_assertion')) parts.push(`assertion as sent: ${form.get('client_assertion')}`);
	}
	// a server's diagnostics can name a patient: the sandbox's first patient, as a real one would
	const first = sb.practices.values().next().value;
	const patient = first?.get('Patient', first.idFor('Patient', 0));
	if (patient) {
		const mrn = patient.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'MR'))?.value;
		parts.push(`no match for patient ${patient.name?.[0]?.text ?? ''} (MRN ${mrn ?? '?'})`);
	}
	parts.push('-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----');
	return parts.join(' | ');
}

/**
 * Applies a hostile fault to a FHIR request, if one matches: true when it answered (the route must
 * not), false otherwise (a truncation wraps the real answer, which the route then writes).
 */
export async function hostileFhirAnswer(sb, { req, res, url, path }, practice, base) {
	// a bulk file's faults (its own drip among them) are the file server's: bulkFiles.mjs
	if (path.includes('/bulkfiles/')) return false;
	const f = sb.faults.take(HOSTILE_KINDS, path, practice);
	if (!f) return false;
	if (f.kind === 'huge-page') await hugePage(res, base, f.bytes ?? 200 * MB);
	else if (f.kind === 'gzip-bomb') await gzipBomb(res, f.bytes ?? 300 * MB);
	else if (f.kind === 'drip') await drip(res, f.intervalMs ?? 5000);
	else if (f.kind === 'echo') sendJson(res, f.status ?? 400, operationOutcome('invalid', echoText(req, url, '', sb)));
	else if (f.kind === 'truncated-page') {
		truncate(res, f);
		return false;
	}
	return true;
}

/** The `echo` fault on the token endpoint: an OAuth error that quotes the whole request. */
export function hostileTokenAnswer(sb, { req, res, url, path }, practice, body) {
	const f = sb.faults.take(new Set(['echo']), path, practice);
	if (!f) return false;
	sendJson(res, f.status ?? 400, { error: 'invalid_request', error_description: echoText(req, url, body, sb) }, {}, 'application/json');
	return true;
}
