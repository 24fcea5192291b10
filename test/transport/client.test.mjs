// FhirClient against the sandbox: paging, errors, retries, 429 handling, pacing, token lifetime,
// the origin rule. Real HTTP on loopback; a fake clock where waiting would be slow.
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

import { startSandbox } from '../../sandbox/index.mjs';
import { tokenCache } from '../../nodes/EClinicalWorks/fhir/auth/tokenCache.ts';
import { clearDiscoveryCache } from '../../nodes/EClinicalWorks/fhir/auth/discovery.ts';
import { FhirClient, joinUrl, clearCapabilitiesCache, normalizeBaseUrl } from '../../nodes/EClinicalWorks/fhir/client.ts';
import { FhirError, InputError } from '../../nodes/EClinicalWorks/fhir/errors.ts';
import { resetPacers, Pacer } from '../../nodes/EClinicalWorks/fhir/pacer.ts';
import { parseRetryAfter, rateLimitDelay, retryPolicy, msToNextMinute } from '../../nodes/EClinicalWorks/fhir/retry.ts';
import { credentialFor, clientFor, pickClient, fakeClock, fetchHttp } from './_support.mjs';

function reset(sb) {
	tokenCache.clear();
	clearDiscoveryCache();
	clearCapabilitiesCache();
	resetPacers();
	sb.clearFaults();
	sb.stats.reset();
}

test('URL joining keeps the practice code segment; base URL validation', () => {
	assert.equal(joinUrl('https://x.example/fhir/r4/ABC', 'Patient'), 'https://x.example/fhir/r4/ABC/Patient');
	assert.equal(joinUrl('https://x.example/fhir/r4/ABC/', '/Patient/1', [['a', 'b c'], ['a', 'd']]), 'https://x.example/fhir/r4/ABC/Patient/1?a=b+c&a=d');
	assert.throws(() => joinUrl('https://x.example/fhir', 'https://evil.example/Patient'), InputError);
	assert.equal(new URL(joinUrl('https://x.example/fhir', '//evil.example/Patient')).origin, 'https://x.example', 'never leaves the base origin');
	assert.equal(normalizeBaseUrl(' https://x.example/fhir/r4/ABC/ '), 'https://x.example/fhir/r4/ABC');
	assert.throws(() => normalizeBaseUrl('ftp://x'), InputError);
	assert.throws(() => normalizeBaseUrl('https://x.example/fhir/r4/{practiceCode}'), /placeholder/);
});

test('Retry-After parsing (seconds, HTTP date), cap, next minute on eCW', () => {
	const now = Date.UTC(2026, 0, 5, 15, 0, 10, 500);
	assert.equal(parseRetryAfter('5', now), 5000);
	assert.equal(parseRetryAfter(new Date(now + 30_000).toUTCString(), now), 29_500);
	assert.equal(parseRetryAfter('soon', now), undefined);
	const p = retryPolicy({ jitterMs: 0, maxRetryAfterMs: 60_000 });
	assert.equal(rateLimitDelay('3600', 1, p, now, () => 0), 60_000, 'capped');
	assert.equal(msToNextMinute(now), 49_500);
	assert.equal(rateLimitDelay(undefined, 1, { ...p, waitForNextMinuteOn429: true }, now, () => 0), 49_500);
});

test('pacer: a burst over the limit is spread over the sliding window (fake clock)', async () => {
	const clock = fakeClock();
	const pacer = new Pacer(10);
	const start = clock.now();
	const at = [];
	await Promise.all(Array.from({ length: 25 }, async () => {
		await pacer.acquire(clock);
		at.push(clock.now() - start);
	}));
	assert.equal(at.length, 25);
	for (let i = 10; i < at.length; i++) assert.ok(at[i] - at[i - 10] >= 60_000, 'never more than 10 in 60 s');
	assert.ok(at[24] >= 120_000 && at[24] <= 123_000, `last at ${at[24]}`);
});

describe('eCW profile', () => {
	let sb;
	before(async () => {
		sb = await startSandbox({ port: 0, profile: 'ecw', patients: 12, rateLimitPerMinute: null });
	});
	after(async () => sb?.stop());
	beforeEach(() => reset(sb));

	test('search follows next links exactly, splits entries, honours limit and pageSize', async () => {
		const { client } = clientFor(credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384')));
		const all = await client.search('Encounter', [], { pageSize: 5 });
		assert.ok(all.total > 10);
		assert.equal(all.matches.length, all.total);
		assert.equal(all.pages, Math.ceil(all.total / 5));
		assert.ok(all.matches.every((r) => r.resourceType === 'Encounter'));
		assert.equal(new Set(all.matches.map((r) => r.id)).size, all.total);
		const some = await client.search('Encounter', [], { limit: 7, pageSize: 5 });
		assert.equal(some.matches.length, 7);
		assert.equal(some.pages, 2);
		const pages = [];
		for await (const b of client.searchPages('Encounter', [], { pageSize: 10 })) pages.push(b.entry?.length ?? 0);
		assert.equal(pages.reduce((a, b) => a + b, 0), all.total);
		assert.ok(sb.stats.log.some((l) => l.path === '/fhir/r4/demo/Encounter'), 'practice code kept in the path');
	});

	test('page cap and paging loop guard stop with a clear error', async () => {
		const { client } = clientFor(credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384')), { maxPages: 2 });
		await assert.rejects(client.search('Encounter', [], { pageSize: 2 }), (e) => e.kind === 'protocol' && /more than 2 pages/.test(e.message));
		// a server that answers every next link with the same page (real responses, next link rewritten)
		const { client: looping, transport } = clientFor(credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384')));
		const authorized = transport.authorized;
		let first;
		transport.authorized = async (req) => {
			const res = await authorized(req);
			const bundle = JSON.parse(res.body);
			first ??= bundle.link.find((l) => l.relation === 'next').url;
			for (const l of bundle.link ?? []) if (l.relation === 'next') l.url = first;
			return { ...res, body: JSON.stringify(bundle) };
		};
		await assert.rejects(looping.search('Encounter', [], { pageSize: 2 }), (e) => e.kind === 'protocol' && /same next-page link twice/.test(e.message));
	});

	test('read validates ids; 404 and 403 carry hints; 403 names the missing scope', async () => {
		const { client } = clientFor(credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384')));
		const enc = (await client.search('Encounter', [], { limit: 1 })).matches[0];
		assert.equal((await client.read('Encounter', enc.id)).id, enc.id);
		await assert.rejects(client.read('Encounter', '../metadata'), (e) => e instanceof InputError && e.field === 'ID');
		await assert.rejects(client.read('Encounter', 'a b'), InputError);
		await assert.rejects(client.read('encounter', '1'), (e) => e instanceof InputError && e.field === 'Resource Type');
		await assert.rejects(client.read('Encounter', 'does-not-exist'), (e) => {
			assert.equal(e.status, 404);
			assert.match(e.message, /Not found \(404\): no such Encounter/);
			assert.equal(e.request, `GET ${sb.origin}/fhir/r4/demo/Encounter/does-not-exist`, 'the full URL, without query');
			return true;
		});
		const limited = clientFor(credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384'), { clientId: 'sandbox-patient-only', keyId: 'sandbox-patient-only-key-1', privateKey: sb.clients.find((c) => c.clientId === 'sandbox-patient-only').privateKeyPem, scopes: 'system/Patient.read' })).client;
		await assert.rejects(limited.search('Encounter', [['patient', 'x']]), (e) => {
			assert.equal(e.status, 403);
			assert.match(e.message, /missing scope system\/Encounter\.read/);
			assert.match(e.hint, /Add system\/Encounter\.read/);
			assert.ok(!String(e.request).includes('?'), 'no query string in the error');
			return true;
		});
	});

	test('concurrent requests share one token request', async () => {
		const { client } = clientFor(credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384')));
		await Promise.all(Array.from({ length: 20 }, () => client.getJson('metadata')));
		await Promise.all(Array.from({ length: 20 }, () => client.search('Encounter', [], { limit: 2 })));
		assert.equal(sb.stats.tokenRequests, 1);
	});

	test('a 401 (revoked token) re-mints once and succeeds', async () => {
		const { client } = clientFor(credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384')));
		await client.search('Encounter', [], { limit: 1 });
		sb.inject({ kind: 'revoke-tokens' });
		const r = await client.search('Encounter', [], { limit: 1 });
		assert.equal(r.matches.length, 1);
		assert.equal(sb.stats.tokenRequests, 2);
		assert.equal(sb.stats.byStatus['401'], 1);
	});

	test('500 then success (GET retried with backoff); 503 with Retry-After', async () => {
		const { client } = clientFor(credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384')));
		sb.inject({ kind: '500', count: 2, path: 'Encounter' });
		assert.equal((await client.search('Encounter', [], { limit: 1 })).matches.length, 1);
		assert.equal(sb.stats.byStatus['500'], 2);
		sb.inject({ kind: '503', count: 1, retryAfter: 0, path: 'Encounter' });
		assert.equal((await client.search('Encounter', [], { limit: 1 })).matches.length, 1);
		sb.inject({ kind: '500', count: 10, path: 'Encounter' });
		await assert.rejects(client.search('Encounter', [], { limit: 1 }), (e) => e.status === 500 && /4 times/.test(e.message));
	});

	test('every token lifetime is used without a 401 (tokens of 2 s, 5 s run)', async () => {
		const short = await startSandbox({ port: 0, profile: 'ecw', patients: 5, tokenLifetimeSeconds: 2, rateLimitPerMinute: null });
		try {
			const { client } = clientFor(credentialFor(short, pickClient(short, 'private_key_jwt', 'RS384')));
			const start = Date.now();
			let requests = 0;
			while (Date.now() - start < 5_000) {
				await client.getJson('Encounter', [['_count', '1']]);
				requests++;
			}
			assert.equal(short.stats.byStatus['401'] ?? 0, 0, 'no request was answered 401');
			assert.ok(short.stats.tokenRequests >= 3 && short.stats.tokenRequests <= 4, `tokens: ${short.stats.tokenRequests} for ${requests} requests`);
		} finally {
			await short.stop();
		}
	});

	test('capabilities are cached; Appointment is not served on eCW', async () => {
		const { client } = clientFor(credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384')));
		assert.equal(await client.supportsResource('Appointment'), false);
		assert.equal(await client.supportsResource('Encounter'), true);
		assert.equal(await client.supportsInteraction('Encounter', 'search-type'), true);
		assert.ok((await client.searchParams('Encounter')).includes('patient'));
		assert.equal(sb.stats.log.filter((l) => l.path.endsWith('/metadata')).length, 1);
	});

	test('a practice that has not enabled the app: 401, re-minted once, then a clear error', async () => {
		const multi = await startSandbox({ port: 0, profile: 'ecw', patients: 3, practices: ['p1', 'p2'], rejectedPractices: ['p2'], rateLimitPerMinute: null });
		try {
			const data = credentialFor(multi, pickClient(multi, 'private_key_jwt', 'RS384'), { baseUrl: `${multi.origin}/fhir/r4/{practiceCode}`, practiceCode: 'p1' });
			assert.equal((await clientFor(data).client.search('Encounter', [], { limit: 1 })).matches.length, 1);
			// eCW's one token URL cannot refuse a practice: the token is issued, the practice refuses it (re-minted once)
			await assert.rejects(clientFor(data, { context: { practiceCode: 'p2' } }).client.search('Encounter', [], { limit: 1 }), (e) => {
				assert.equal(e.status, 401);
				assert.match(e.message, /rejected the access token \(401\), also a freshly issued one \(practice p2\)$/);
				assert.match(e.hint, /the practice has not enabled the app.*admin settings for FHIR apps/);
				return true;
			});
			assert.equal(multi.stats.byPractice.p1.tokenRequests, 1);
			assert.equal(multi.stats.byPractice.p2.tokenRequests, 2, 'its two tokens were charged to it when it refused them');
			// a token obtained elsewhere is refused on the FHIR calls too: re-minted once, then a clear error
			const p1 = clientFor(data).client;
			const viaP1Token = new FhirClient({ baseUrl: multi.baseUrlFor('p2'), transport: p1.transport, retry: { jitterMs: 10, baseDelayMs: 20 } });
			await assert.rejects(viaP1Token.search('Encounter', [], { limit: 1 }), (e) => {
				assert.equal(e.status, 401);
				assert.match(e.message, /also a freshly issued one/);
				assert.match(e.request, /\/fhir\/r4\/p2\/Encounter/);
				return true;
			});
		} finally {
			await multi.stop();
		}
	});
});

describe('rate limits on a fake clock', () => {
	let sb;
	let clock;
	before(async () => {
		clock = fakeClock();
		sb = await startSandbox({ port: 0, profile: 'ecw', patients: 5, rateLimitPerMinute: 30, now: () => clock.now(), tokenLifetimeSeconds: 300 });
	});
	after(async () => sb?.stop());
	beforeEach(() => reset(sb));

	test('429 without Retry-After on eCW waits to the next minute boundary, then succeeds', async () => {
		const { client } = clientFor(credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384'), { environment: 'ecwProduction' }), { clock });
		await client.getJson('metadata');
		clock.slept.length = 0;
		const before = clock.now();
		sb.inject({ kind: '429', count: 1, path: 'Encounter' });
		const r = await client.search('Encounter', [], { limit: 1 });
		assert.equal(r.matches.length, 1);
		const waited = clock.now() - before;
		assert.ok(waited >= msToNextMinute(before) && waited < msToNextMinute(before) + 1_000, `waited ${waited}`);
		assert.equal(sb.stats.byStatus['429'], 1);
	});

	test('429 with Retry-After waits that long', async () => {
		const { client } = clientFor(credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384')), { clock });
		await client.getJson('metadata');
		const before = clock.now();
		sb.inject({ kind: '429', count: 1, retryAfter: 7, path: 'Encounter' });
		await client.search('Encounter', [], { limit: 1 });
		const waited = clock.now() - before;
		assert.ok(waited >= 7_000 && waited < 8_000, `waited ${waited}`);
	});

	test('a Retry-After given as an epoch time point is read as a point in time, and a long wait is reported', async () => {
		const epoch = await startSandbox({ port: 0, profile: 'smart', patients: 3, now: () => clock.now(), quirks: { epochRetryAfter: 'ms' } });
		try {
			const waits = [];
			const { client } = clientFor(credentialFor(epoch, pickClient(epoch, 'private_key_jwt', 'RS384')), { clock, onLongWait: (ms, reason) => waits.push([ms, reason]) });
			await client.getJson('metadata');
			const before = clock.now();
			epoch.inject({ kind: '429', count: 1, retryAfter: 90, path: 'Encounter' });
			await client.search('Encounter', [], { limit: 1 });
			const waited = clock.now() - before;
			assert.ok(waited >= 90_000 && waited < 91_000, `waited ${waited} (not an epoch number of seconds capped at 120 s)`);
			assert.equal(waits.length, 1);
			assert.ok(waits[0][0] >= 90_000 && waits[0][0] < 91_000);
			assert.match(waits[0][1], /rate limit \(429 on GET \/fhir\/r4\/demo\/Encounter\)/);
			assert.ok(!waits[0][1].includes('?'), 'no query string in the reason');
		} finally {
			await epoch.stop();
		}
	});

	test('still 429 after the allowed waits: FhirError rateLimit', async () => {
		const { client } = clientFor(credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384')), { clock, retry: { maxRateLimitRetries: 2 } });
		await client.getJson('metadata');
		sb.inject({ kind: '429', count: 5, retryAfter: 1, path: 'Encounter' });
		await assert.rejects(client.search('Encounter', [], { limit: 1 }), (e) => e instanceof FhirError && e.kind === 'rateLimit' && e.status === 429);
	});

	test('pacing: a burst of 100 requests against 30/min is spread, zero 429s', async () => {
		const data = credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384'), { environment: 'custom', customRateLimitPerMinute: 30 });
		const { client } = clientFor(data, { clock });
		// earlier tests' requests still count in the server's current minute: start on a fresh one
		await clock.sleep(msToNextMinute(clock.now()));
		const start = clock.now();
		await Promise.all(Array.from({ length: 100 }, () => client.getJson('Encounter', [['_count', '1']])));
		assert.equal(sb.stats.byStatus['429'] ?? 0, 0);
		assert.equal(sb.stats.log.filter((l) => l.path.endsWith('/Encounter') && l.status === 200).length, 100);
		const minutes = (clock.now() - start) / 60_000;
		assert.ok(minutes >= 3 && minutes < 4, `took ${minutes} fake minutes`);
	});
});

describe('other origins', () => {
	let sb;
	before(async () => {
		sb = await startSandbox({ port: 0, profile: 'smart', patients: 8, nextLinkOrigin: 'other' });
	});
	after(async () => sb?.stop());
	beforeEach(() => reset(sb));

	test('a next link on another origin never receives the token', async () => {
		const { client } = clientFor(credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384')));
		let outcome;
		try {
			outcome = await client.search('Encounter', [], { pageSize: 3 });
		} catch (e) {
			outcome = e;
		}
		assert.equal(sb.stats.authHeaderSeenOnOtherOrigin, 0);
		assert.ok(sb.stats.log.some((l) => l.origin === 'other'), 'the next link was followed (anonymously)');
		if (outcome instanceof Error) {
			assert.equal(outcome.kind, 'origin');
			assert.match(outcome.message, /another host .* the access token is only sent to the FHIR server's own host/);
		} else {
			assert.ok(outcome.matches.length > 3);
		}
	});

	test('withToken: false never sends the token, even to the FHIR origin', async () => {
		const seen = [];
		const { client, transport } = clientFor(credentialFor(sb, pickClient(sb, 'private_key_jwt', 'RS384')));
		const { authorized, anonymous } = transport;
		transport.authorized = async (req) => (seen.push('authorized'), authorized(req));
		transport.anonymous = async (req) => (seen.push('anonymous'), anonymous(req));
		await client.send({ method: 'GET', path: 'metadata', withToken: false });
		await client.send({ method: 'GET', path: 'metadata' });
		assert.deepEqual(seen, ['anonymous', 'authorized']);
	});

	test('redirects to another origin are followed without the token', async () => {
		const http = fetchHttp();
		const seen = [];
		const transport = {
			authorized: async (req) => {
				seen.push(['authorized', new URL(req.url).origin]);
				return { status: 302, headers: { location: `${sb.otherOrigin}/anything` }, body: '' };
			},
			anonymous: async (req) => {
				seen.push(['anonymous', new URL(req.url).origin]);
				return await http(req);
			},
			sleep: async () => {},
		};
		const client = new FhirClient({ baseUrl: sb.baseUrl, transport, retry: { maxAttempts: 1 } });
		await client.send({ method: 'GET', path: 'metadata', acceptStatus: [401, 403, 404] }).catch(() => undefined);
		assert.deepEqual(seen[0], ['authorized', sb.origin]);
		assert.deepEqual(seen[1], ['anonymous', sb.otherOrigin]);
		assert.equal(sb.stats.authHeaderSeenOnOtherOrigin, 0);
	});
});

test('long waits reach n8n\'s log and the output hints (never silent)', async () => {
	const { longWaitReporter } = await import('../../nodes/EClinicalWorks/transport/report.ts');
	const logged = [];
	const hints = [];
	const ctx = { getNode: () => ({ name: 'Get visits' }), logger: { info: (m) => logged.push(m) }, addExecutionHints: (...h) => hints.push(...h) };
	longWaitReporter(ctx)(6 * 60_000, "the server's rate limit (429 on GET /fhir/r4/demo/Encounter)");
	assert.deepEqual(logged, ['eClinicalWorks (node "Get visits"): waiting 6 min for the server\'s rate limit (429 on GET /fhir/r4/demo/Encounter)']);
	assert.equal(hints.length, 1);
	assert.match(hints[0].message, /^Waited 6 min for the server's rate limit/);
	// a trigger's poll context has a logger but no hints
	longWaitReporter({ getNode: () => ({ name: 'Trigger' }), logger: { info: (m) => logged.push(m) } })(90_000, 'x');
	assert.equal(logged.length, 2);
});
