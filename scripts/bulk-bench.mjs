// What the Bulk Export benchmarks (bench-bulk.mjs, bench-parallel.mjs) share: the sandbox's record
// size, child processes in roles, a client-credentials token and one export run to completion.
import { fork } from 'node:child_process';

import { ROOT } from './lib.mjs';

/** A sandbox Patient with PAD bytes of padding is RECORD_BYTES of NDJSON (measured by bench-bulk). */
export const RECORD_BYTES = 4950;
export const PAD = 4000;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function median(xs) {
	const s = [...xs].sort((a, b) => a - b);
	return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Runs `script` again in a child process (with tsx, for the package's TypeScript) under `args`. */
export function forkRole(script, args, extraExecArgv = []) {
	return fork(script, args, { execArgv: ['--import', 'tsx', ...extraExecArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: ROOT });
}

/** The child's first message; rejects if it exits before sending one. */
export function firstMessage(proc, what) {
	return new Promise((resolve, reject) => {
		proc.once('message', resolve);
		proc.once('exit', (code) => reject(new Error(`${what} exited ${code}`)));
	});
}

/** A token for a client_secret_basic client of the sandbox. */
export async function secretToken(tokenUrl, client) {
	const res = await fetch(tokenUrl, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` },
		body: new URLSearchParams({ grant_type: 'client_credentials', scope: client.scopes }),
	});
	return (await res.json()).access_token;
}

/** A system-level Patient export, kicked off and polled until its manifest is ready. */
export async function exportOnce(baseUrl, bearer) {
	const k = await fetch(`${baseUrl}/$export?_type=Patient`, { headers: { authorization: `Bearer ${bearer}`, prefer: 'respond-async', accept: 'application/fhir+json' } });
	if (k.status !== 202) throw new Error(`kick-off ${k.status}`);
	const statusUrl = k.headers.get('content-location');
	for (;;) {
		const r = await fetch(statusUrl, { headers: { authorization: `Bearer ${bearer}` } });
		if (r.status === 200) return { statusUrl, manifest: await r.json() };
		await r.arrayBuffer();
		await sleep(50);
	}
}
