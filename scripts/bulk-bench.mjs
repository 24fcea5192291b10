// What the Bulk Export benchmarks (bench-bulk.mjs, bench-parallel.mjs) share: the sandbox's record
// size, child processes in roles, a client-credentials token, one export run to completion, the
// bare-process baselines (files to disk, records in memory) and the summary of a variant's runs.
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

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

/** axios (n8n's copy) streams into fs.promises.writeFile, `parallel` at a time: the bytes written. */
export async function bareLoop(urls, bearer, parallel) {
	const { createRequire } = await import('node:module');
	const requireFrom = createRequire(path.join(ROOT, 'node_modules/@n8n/backend-network/package.json'));
	const axios = requireFrom('axios');
	const fs = await import('node:fs');
	const dir = mkdtempSync(path.join(tmpdir(), 'bench-bare-'));
	let next = 0;
	let bytes = 0;
	try {
		await Promise.all(
			Array.from({ length: parallel }, async () => {
				while (next < urls.length) {
					const i = next++;
					const res = await axios.request({ url: urls[i], responseType: 'stream', headers: { authorization: `Bearer ${bearer}`, accept: 'application/fhir+ndjson' }, maxRedirects: 0 });
					const file = path.join(dir, `${i}.ndjson`);
					await fs.promises.writeFile(file, res.data);
					bytes += statSync(file).size;
				}
			}),
		);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	return bytes;
}

/** Records' baseline: the same files read line by line, each line parsed and kept as an item would be. */
export async function bareRecordsLoop(urls, bearer, parallel) {
	const { createRequire } = await import('node:module');
	const axios = createRequire(path.join(ROOT, 'node_modules/@n8n/backend-network/package.json'))('axios');
	const items = [];
	let next = 0;
	await Promise.all(
		Array.from({ length: parallel }, async () => {
			while (next < urls.length) {
				const i = next++;
				const res = await axios.request({ url: urls[i], responseType: 'stream', headers: { authorization: `Bearer ${bearer}`, accept: 'application/fhir+ndjson' }, maxRedirects: 0 });
				let rest = '';
				for await (const chunk of res.data) {
					const lines = (rest + chunk.toString('utf8')).split('\n');
					rest = lines.pop();
					for (const line of lines) if (line.trim() !== '') items.push({ json: JSON.parse(line) });
				}
				if (rest.trim() !== '') items.push({ json: JSON.parse(rest) });
			}
		}),
	);
	return items.length;
}

export function dirBytes(dir) {
	let n = 0;
	try {
		for (const e of readdirSync(dir, { withFileTypes: true })) {
			const p = path.join(dir, e.name);
			n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
		}
	} catch {
		// racing with writes
	}
	return n;
}

function spread(xs) {
	return `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;
}

/** Medians (and spread) of a list of runs. */
export function summarize(runs, idle) {
	return {
		seconds: median(runs.map((r) => r.seconds)),
		cpu: median(runs.map((r) => r.cpuSeconds)),
		gc: median(runs.map((r) => r.gcSeconds ?? NaN)),
		secondsSpread: spread(runs.map((r) => r.seconds)),
		cpuSpread: spread(runs.map((r) => r.cpuSeconds)),
		peakAbove: idle === undefined ? undefined : Math.max(...runs.map((r) => r.peak)) - idle,
		runs: runs.length,
	};
}
