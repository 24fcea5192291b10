// The trigger's per-practice poll (nodes/EClinicalWorks/trigger/pollPractice.ts) against the real
// sandbox, with the package's FhirClient over fetch (no n8n here; see trigger.n8n.test.mjs for that).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startSandbox } from '../../sandbox/index.mjs';
import { token } from '../sandbox/helpers.mjs';
import { FhirClient, clearCapabilitiesCache } from '../../nodes/EClinicalWorks/fhir/client.ts';
import { pollPractice } from '../../nodes/EClinicalWorks/trigger/pollPractice.ts';
import { watchedSource } from '../../nodes/EClinicalWorks/trigger/source.ts';

const sandboxes = [];
after(async () => {
	for (const sb of sandboxes) await sb.stop();
});

async function sandbox(options) {
	const sb = await startSandbox({ port: 0, patients: 20, seed: 3, admin: true, ...options });
	sandboxes.push(sb);
	return sb;
}

/** A FhirClient on a fetch transport; `afterResponse` lets a test act on the sandbox between requests. */
async function clientFor(sb, { afterResponse } = {}) {
	const bearer = await token(sb, 'sandbox-rs384');
	const send = (auth) => async (req) => {
		const res = await fetch(req.url, {
			method: req.method,
			headers: { ...(req.headers ?? {}), ...(auth ? { authorization: `Bearer ${bearer}` } : {}) },
			body: req.body,
		});
		const headers = {};
		res.headers.forEach((v, k) => (headers[k] = v));
		const out = { status: res.status, headers, body: await res.text() };
		afterResponse?.(req, out);
		return out;
	};
	return new FhirClient({
		baseUrl: sb.baseUrl,
		transport: { authorized: send(true), anonymous: send(false), sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))) },
		retry: { maxRateLimitRetries: 1, jitterMs: 0, baseDelayMs: 1 },
	});
}

async function poller(sb, { event = 'appointmentChanged', pageSize = 50, options = {}, client } = {}) {
	const c = client ?? (await clientFor(sb));
	const source = watchedSource(await c.capabilities(), { event, zone: sb.timeZone, simple: false, ...options });
	let state;
	const poll = async (mode = 'trigger') => {
		const result = await pollPractice({ client: c, source, state, mode, pageSize, maxPages: 50 });
		if (mode === 'trigger') state = result.state;
		return result;
	};
	return { poll, source, get state() { return state; } };
}

const ids = (result) => result.changes.map((c) => c.id);
const code = 'demo';

before(() => clearCapabilitiesCache());

test('smart profile: Appointment source; created, updated, cancelled (previousStatus), each exactly once', async () => {
	const sb = await sandbox({ profile: 'smart' });
	const p = await poller(sb);
	assert.equal(p.source.type, 'Appointment');
	const first = await p.poll();
	assert.deepEqual(first.changes, [], 'first activation emits nothing');
	assert.ok(p.state.cursor, 'cursor from the server clock');

	const a = sb.admin.createAppointment(code, { status: 'booked' });
	const r1 = await p.poll();
	assert.deepEqual(ids(r1), [a.id]);
	assert.equal(r1.changes[0].event, 'created');
	assert.deepEqual(ids(await p.poll()), [], 'nothing new');

	sb.admin.updateAppointment(code, a.id, { status: 'arrived' });
	const r2 = await p.poll();
	assert.deepEqual(ids(r2), [a.id]);
	assert.equal(r2.changes[0].event, 'updated');
	assert.equal(r2.changes[0].previousStatus, 'booked');

	sb.admin.cancelAppointment(code, a.id);
	const r3 = await p.poll();
	assert.equal(r3.changes[0].event, 'cancelled');
	assert.equal(r3.changes[0].previousStatus, 'arrived');
});

test('ten polls with records created in between: every record exactly once', async () => {
	const sb = await sandbox({ profile: 'smart' });
	const p = await poller(sb, { pageSize: 3 });
	await p.poll();
	const created = [];
	const seen = [];
	for (let i = 0; i < 10; i++) {
		for (let k = 0; k < (i % 3) + 1; k++) created.push(sb.admin.createAppointment(code, {}).id);
		if (i === 4) sb.admin.updateAppointment(code, created[0], { comment: 'wheelchair' });
		seen.push(...ids(await p.poll()));
	}
	assert.equal(seen.filter((id) => id === created[0]).length, 2, 'created, then updated once');
	const rest = seen.filter((id) => id !== created[0]);
	assert.deepEqual([...rest].sort(), created.slice(1).sort());
	assert.equal(new Set(rest).size, rest.length, 'no duplicates');
});

test('records sharing the cursor timestamp across a page boundary: none missed, none repeated', async () => {
	let now = Date.now();
	const sb = await sandbox({ profile: 'ecw', now: () => now });
	const p = await poller(sb, { pageSize: 2 });
	assert.equal(p.source.type, 'Encounter', 'eCW profile: visits come from Encounter');
	await p.poll();
	now += 1000;
	const a = sb.admin.createEncounter(code, {});
	const r1 = await p.poll();
	assert.deepEqual(ids(r1), [a.id]);
	assert.equal(p.state.cursor, new Date(now).toISOString());
	// b and c get exactly the cursor timestamp: a `gt` query would miss them. With 2 per page,
	// a and b fill the first page and c starts the second.
	const b = sb.admin.createEncounter(code, {});
	const c = sb.admin.createEncounter(code, {});
	now += 5;
	const d = sb.admin.createEncounter(code, {});
	const r2 = await p.poll();
	assert.deepEqual(ids(r2).sort(), [b.id, c.id, d.id].sort());
	assert.deepEqual(ids(await p.poll()), []);
});

test('a poll cut by a 429 after the first page resumes next time without losing or repeating', async () => {
	const sb = await sandbox({ profile: 'smart' });
	let armed = false;
	const client = await clientFor(sb, {
		afterResponse: (req, res) => {
			if (armed && res.status === 200 && /\/Appointment\?/.test(req.url)) {
				armed = false;
				sb.inject({ kind: '429', count: 3, retryAfter: 0 });
			}
		},
	});
	const p = await poller(sb, { pageSize: 2, client });
	await p.poll();
	const created = Array.from({ length: 5 }, () => sb.admin.createAppointment(code, {}).id);
	armed = true;
	const cut = await p.poll();
	assert.equal(cut.interrupted?.kind, 'rateLimit');
	assert.equal(cut.changes.length, 2, 'the first page is emitted');
	sb.clearFaults();
	const rest = await p.poll();
	assert.equal(rest.interrupted, undefined);
	assert.deepEqual([...ids(cut), ...ids(rest)].sort(), [...created].sort());
});

test('manual mode returns the most recent record and leaves the state alone', async () => {
	const sb = await sandbox({ profile: 'ecw' });
	const p = await poller(sb, { event: 'patientChanged' });
	const newest = sb.admin.createPatient(code, { name: [{ family: 'Newest', given: ['Nora'] }] });
	const manual = await p.poll('manual');
	assert.deepEqual(ids(manual), [newest.id]);
	assert.equal(manual.state, undefined);
	assert.equal(p.state, undefined);
});
