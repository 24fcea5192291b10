// Shared by the trigger's sandbox tests (not a test file): the package's FhirClient on a fetch
// transport, and a poller that does what poll.ts does for one practice (pick the strategy from the
// CapabilityStatement at activation, keep it in the state, build the watched source) without n8n.
import { DateTime } from 'luxon';

import { startSandbox } from '../../sandbox/index.mjs';
import { token } from '../sandbox/helpers.mjs';
import { FhirClient } from '../../nodes/EClinicalWorks/fhir/client.ts';
import { pollPractice } from '../../nodes/EClinicalWorks/trigger/strategies/index.ts';
import { watchedSource, watchedType } from '../../nodes/EClinicalWorks/trigger/source.ts';
import { pickStrategy } from '../../nodes/EClinicalWorks/trigger/strategies/strategy.ts';

export const DAY = 86_400_000;
const started = [];

export async function sandbox(options) {
	const sb = await startSandbox({ port: 0, patients: 20, seed: 3, admin: true, ...options });
	started.push(sb);
	return sb;
}

export async function stopSandboxes() {
	for (const sb of started.splice(0)) await sb.stop();
}

/** A FhirClient on a fetch transport; `afterResponse` lets a test act on the sandbox between requests. */
export async function clientFor(sb, { afterResponse, practice } = {}) {
	let bearer = await token(sb, 'sandbox-rs384');
	const requests = [];
	const send = (auth) => async (req) => {
		requests.push(`${req.method} ${req.url}`);
		const go = () =>
			fetch(req.url, {
				method: req.method,
				headers: { ...(req.headers ?? {}), ...(auth ? { authorization: `Bearer ${bearer}` } : {}) },
				body: req.body,
			});
		let res = await go();
		if (res.status === 401 && auth) {
			// the sandbox clock moved past the token's lifetime: a fresh one, as the credential would
			bearer = await token(sb, 'sandbox-rs384');
			res = await go();
		}
		const headers = {};
		res.headers.forEach((v, k) => (headers[k] = v));
		const out = { status: res.status, headers, body: await res.text() };
		afterResponse?.(req, out);
		return out;
	};
	const client = new FhirClient({
		baseUrl: practice ? sb.baseUrlFor(practice) : sb.baseUrl,
		transport: { authorized: send(true), anonymous: send(false), sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))) },
		retry: { maxRateLimitRetries: 1, jitterMs: 0, baseDelayMs: 1 },
	});
	client.requests = requests;
	return client;
}

/**
 * Polls one practice like the trigger does. `now()` is the trigger's clock (ms) for today's window;
 * the state goes through JSON after every poll, as n8n stores it.
 */
export async function poller(sb, { event = 'appointmentChanged', pageSize = 50, options = {}, client, now = () => Date.now(), limits } = {}) {
	const c = client ?? (await clientFor(sb));
	const caps = await c.capabilities();
	const type = watchedType(caps, event);
	let state;
	const sourceFor = (strategy) =>
		watchedSource(caps, { event, strategy, zone: sb.timeZone, simple: false, now: DateTime.fromMillis(now()), ...options });
	const poll = async (mode = 'trigger') => {
		const strategy = state?.strategy ?? pickStrategy(caps, type);
		const result = await pollPractice({
			client: c,
			source: sourceFor(strategy),
			state,
			mode,
			pageSize,
			maxPages: 50,
			now: new Date(now()).toISOString(),
			limits,
		});
		if (mode === 'trigger') state = JSON.parse(JSON.stringify({ strategy: 'lastUpdated', ...result.state }));
		return result;
	};
	return {
		poll,
		client: c,
		type,
		get source() {
			return sourceFor(state?.strategy ?? pickStrategy(caps, type));
		},
		get state() {
			return state;
		},
		set state(value) {
			state = value;
		},
	};
}

export const ids = (result) => result.changes.map((c) => c.id);
export const events = (result) => result.changes.map((c) => `${c.id}|${c.event}|${c.previousStatus ?? ''}`);
