// Embedded eCW-compatible FHIR R4 sandbox server (development tooling, not published).
// node:http + node:crypto only. See README "The FHIR sandbox".
import http from 'node:http';
import crypto from 'node:crypto';
import { AuthServer } from './auth.mjs';
import { Dataset, TRANSPORT_EXTENSION_URL } from './data.mjs';
import { compileSearch, searchParams, SEARCH_PARAM_TYPES, dateMatches as dateMatchesCheap } from './search.mjs';
import { BulkExports } from './bulk.mjs';
import { FhirError, OAuthError, operationOutcome, sendJson, readBody, formatZoned, sleep } from './util.mjs';

export { signAssertion } from './jwt.mjs';

const TOKEN_PATH = '/oauth/oauth2/token';
const AUTHORIZE_PATH = '/oauth/oauth2/authorize';
const FHIR_PREFIX = '/fhir/r4';
const LOG_CAP = 10_000;
/** Filtered searches over more records than this omit Bundle.total (counting would scan them all). */
const TOTAL_SCAN_LIMIT = 50_000;

export const PROFILES = {
	ecw: {
		resources: ['Patient', 'Encounter', 'Practitioner', 'Location', 'Organization', 'Coverage', 'Group'],
		bulkTypes: ['Patient', 'Encounter', 'Coverage', 'Practitioner', 'Location', 'Organization'],
		tokenLifetimeSeconds: 300,
		userTokenLifetimeSeconds: 3600,
		rateLimitPerMinute: 250,
		defaultCount: 50,
		maxCount: 1000,
		includes: {},
	},
	smart: {
		resources: ['Patient', 'Encounter', 'Appointment', 'Practitioner', 'Location', 'Organization', 'Coverage', 'Group'],
		bulkTypes: ['Patient', 'Encounter', 'Appointment', 'Coverage', 'Practitioner', 'Location', 'Organization'],
		tokenLifetimeSeconds: 3600,
		userTokenLifetimeSeconds: 3600,
		rateLimitPerMinute: null,
		defaultCount: 50,
		maxCount: 1000,
		includes: {
			Appointment: { 'Appointment:patient': 'Patient', 'Appointment:practitioner': 'Practitioner', 'Appointment:location': 'Location', 'Appointment:actor': null },
			Encounter: { 'Encounter:patient': 'Patient', 'Encounter:subject': 'Patient', 'Encounter:practitioner': 'Practitioner', 'Encounter:location': 'Location' },
		},
	},
};

const FAULT_KINDS = new Set(['429', '500', '503', 'slow', 'reset', 'revoke-tokens', 'malformed-ndjson', 'expired-file-url', 'transient-status']);
const REQUEST_FAULTS = new Set(['429', '500', '503', 'slow', 'revoke-tokens']);

/**
 * @typedef {object} SandboxOptions
 * @property {number} [port=0]
 * @property {string} [host='127.0.0.1']
 * @property {'ecw'|'smart'} [profile='ecw']
 * @property {number} [patients=50]
 * @property {number} [seed=1]
 * @property {string} [timeZone='America/New_York']
 * @property {string[]} [practices=['demo']]
 * @property {string[]} [rejectedPractices=[]]
 * @property {number} [tokenLifetimeSeconds] ecw 300, smart 3600
 * @property {number} [userTokenLifetimeSeconds] 3600 (or tokenLifetimeSeconds when that is given)
 * @property {number|null} [rateLimitPerMinute] ecw 250 per practice, smart null (off)
 * @property {boolean} [admin=false] HTTP admin endpoints under /admin
 * @property {() => number} [now=Date.now]
 * @property {number} [bulkDelayMs=1500]
 * @property {number} [pollRetryAfterSeconds=1]
 * @property {'same'|'other'} [fileOrigin='same']
 * @property {'same'|'other'} [nextLinkOrigin='same']
 * @property {number} [maxResourcesPerFile=10000]
 * @property {boolean} [bulkErrors=false]
 * @property {number} [bulkRepeat=1]
 * @property {number} [bulkPaddingBytes=0]
 * @property {number} [manifestPageSize] paged manifest (link next) with this many outputs per page
 * @property {string[]} [redirectUris=[]]
 * @property {object[]} [faults=[]] faults injected at start
 */

/**
 * @typedef {object} SandboxClient
 * @property {string} clientId
 * @property {'private_key_jwt'|'client_secret_basic'|'none'} authMethod client_secret_basic clients also accept client_secret_post
 * @property {'RS384'|'ES384'|null} alg
 * @property {string|null} kid
 * @property {string|null} privateKeyPem PKCS#8 PEM
 * @property {object|null} publicJwk
 * @property {string|null} clientSecret
 * @property {string} scopes space-separated scopes granted
 * @property {string} description
 * @property {string} [jwksUrl]
 * @property {string[]} [redirectUris] public client only
 */

/**
 * @typedef {object} Fault
 * @property {'429'|'500'|'503'|'slow'|'reset'|'revoke-tokens'|'malformed-ndjson'|'expired-file-url'|'transient-status'} kind
 * @property {number} [count=1] how many requests it applies to
 * @property {RegExp|string} [path] tested against the URL path (no query)
 * @property {string} [practice] practice code
 * @property {number} [retryAfter] 429/503: Retry-After seconds
 * @property {boolean} [blockRestOfMinute] 429: block the practice until the next minute (default: ecw and no retryAfter)
 * @property {number} [delayMs] slow
 * @property {number} [afterBytes=1024] reset
 * @property {number} [line=1] malformed-ndjson (1-based)
 * @property {number} [status] expired-file-url (410 same origin, 403 other origin), transient-status (500)
 * @property {string} [message] diagnostics text
 */

/**
 * @typedef {object} Sandbox
 * @property {string} origin
 * @property {string} otherOrigin second loopback server (bulk files / next links with fileOrigin|nextLinkOrigin 'other')
 * @property {'ecw'|'smart'} profile
 * @property {string[]} practices
 * @property {string} baseUrl FHIR base of the first practice
 * @property {(code: string) => string} baseUrlFor
 * @property {string} tokenUrl
 * @property {string} authorizeUrl
 * @property {string} timeZone
 * @property {() => number} now server clock in ms
 * @property {SandboxClient[]} clients
 * @property {(idOrAlgOrMethod: string) => SandboxClient|undefined} client
 * @property {any} stats live counters; stats.reset()
 * @property {(fault: Fault) => string} inject returns the fault id
 * @property {() => void} clearFaults
 * @property {any} admin createPatient, updatePatient, createEncounter, updateEncounter, createAppointment, updateAppointment, cancelAppointment, get, encounterForAppointment, setClockOffset, revokeTokens
 * @property {() => Promise<void>} stop
 */

/**
 * Start a sandbox FHIR server.
 * @param {SandboxOptions} [options]
 * @returns {Promise<Sandbox>}
 */
export async function startSandbox(options = {}) {
	const s = new Sandbox(options);
	await s.listen();
	return s.api;
}

class Sandbox {
	constructor(options) {
		const profile = options.profile ?? 'ecw';
		if (!PROFILES[profile]) throw new Error(`unknown profile ${profile}`);
		const P = PROFILES[profile];
		this.P = P;
		this.o = {
			port: options.port ?? 0,
			host: options.host ?? '127.0.0.1',
			profile,
			patients: options.patients ?? 50,
			seed: options.seed ?? 1,
			timeZone: options.timeZone ?? 'America/New_York',
			practices: options.practices?.length ? options.practices : ['demo'],
			rejectedPractices: options.rejectedPractices ?? [],
			tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? P.tokenLifetimeSeconds,
			userTokenLifetimeSeconds: options.userTokenLifetimeSeconds ?? options.tokenLifetimeSeconds ?? P.userTokenLifetimeSeconds,
			rateLimitPerMinute: options.rateLimitPerMinute === undefined ? P.rateLimitPerMinute : options.rateLimitPerMinute,
			admin: !!options.admin,
			now: options.now ?? Date.now,
			bulkDelayMs: options.bulkDelayMs ?? 1500,
			pollRetryAfterSeconds: options.pollRetryAfterSeconds ?? 1,
			fileOrigin: options.fileOrigin ?? 'same',
			nextLinkOrigin: options.nextLinkOrigin ?? 'same',
			maxResourcesPerFile: options.maxResourcesPerFile ?? 10_000,
			bulkErrors: !!options.bulkErrors,
			bulkRepeat: Math.max(1, options.bulkRepeat ?? 1),
			bulkPaddingBytes: options.bulkPaddingBytes ?? 0,
			manifestPageSize: options.manifestPageSize ?? null,
			redirectUris: options.redirectUris ?? [],
		};
		for (const p of this.o.practices) if (!/^[A-Za-z0-9_-]+$/.test(p)) throw new Error(`invalid practice code ${p}`);
		this.clockOffset = 0;
		this.clock = () => this.o.now() + this.clockOffset;
		const startMs = this.clock();
		this.practices = new Map(this.o.practices.map((code, index) => [code, new Dataset({ code, index, seed: this.o.seed, patients: this.o.patients, timeZone: this.o.timeZone, startMs, profile })]));
		this.auth = new AuthServer({ profile, resources: P.resources, clock: this.clock, tokenLifetimeSeconds: this.o.tokenLifetimeSeconds, userTokenLifetimeSeconds: this.o.userTokenLifetimeSeconds, redirectUris: this.o.redirectUris, seed: this.o.seed });
		this.faults = [];
		this.faultSeq = 0;
		this.buckets = new Map();
		this.cursorKey = crypto.randomBytes(32);
		this.stats = this.newStats();
		this.bulk = new BulkExports(this);
		for (const f of options.faults ?? []) this.inject(f);
		this.sockets = new Set();
		this.server = http.createServer((req, res) => this.handle(req, res, false));
		this.other = http.createServer((req, res) => this.handle(req, res, true));
		for (const srv of [this.server, this.other]) {
			srv.on('connection', (sock) => {
				this.sockets.add(sock);
				sock.on('close', () => this.sockets.delete(sock));
			});
			srv.keepAliveTimeout = 5000;
		}
	}

	newStats() {
		const stats = {
			tokenRequests: 0,
			requests: 0,
			byStatus: {},
			byPractice: {},
			authHeaderSeenOnOtherOrigin: 0,
			log: [],
			reset: () => {
				stats.tokenRequests = 0;
				stats.requests = 0;
				stats.byStatus = {};
				stats.authHeaderSeenOnOtherOrigin = 0;
				stats.log.length = 0;
				stats.byPractice = {};
				for (const code of this.o.practices) stats.byPractice[code] = { tokenRequests: 0, requests: 0, byStatus: {} };
			},
		};
		for (const code of this.o.practices) stats.byPractice[code] = { tokenRequests: 0, requests: 0, byStatus: {} };
		return stats;
	}

	async listen() {
		const listen = (srv, port) => new Promise((resolve, reject) => {
			srv.once('error', reject);
			srv.listen(port, this.o.host, () => {
				srv.off('error', reject);
				resolve(srv.address().port);
			});
		});
		const port = await listen(this.server, this.o.port);
		const otherPort = await listen(this.other, 0);
		const host = this.o.host.includes(':') ? `[${this.o.host}]` : this.o.host;
		this.origin = `http://${host}:${port}`;
		this.otherOrigin = `http://${host}:${otherPort}`;
		this.auth.origin = this.origin;
		this.tokenUrl = `${this.origin}${TOKEN_PATH}`;
		this.authorizeUrl = `${this.origin}${AUTHORIZE_PATH}`;
		const self = this;
		const first = this.o.practices[0];
		this.api = {
			origin: this.origin,
			otherOrigin: this.otherOrigin,
			profile: this.o.profile,
			practices: [...this.o.practices],
			baseUrl: this.baseUrlFor(first),
			baseUrlFor: (code) => this.baseUrlFor(code),
			tokenUrl: this.tokenUrl,
			authorizeUrl: this.authorizeUrl,
			jwksUrl: undefined,
			timeZone: this.o.timeZone,
			/** The server clock (options.now plus the admin clock offset), ms. */
			now: () => this.clock(),
			clients: this.auth.publicClients(this.tokenUrl, this.origin),
			client: (idOrMethod) => this.api.clients.find((c) => c.clientId === idOrMethod || c.alg === idOrMethod || c.authMethod === idOrMethod),
			get stats() {
				return self.stats;
			},
			inject: (fault) => this.inject(fault),
			clearFaults: () => {
				this.faults.length = 0;
			},
			get faults() {
				return self.faults.map((f) => ({ ...f }));
			},
			admin: this.adminApi(),
			stop: () => this.stop(),
		};
	}

	baseUrlFor(code) {
		if (!this.practices.has(code)) throw new Error(`unknown practice ${code}`);
		return `${this.origin}${FHIR_PREFIX}/${code}`;
	}

	async stop() {
		this.bulk.stop();
		const close = (srv) => new Promise((r) => srv.close(() => r()));
		const done = Promise.all([close(this.server), close(this.other)]);
		this.server.closeAllConnections?.();
		this.other.closeAllConnections?.();
		for (const s of this.sockets) s.destroy();
		await done;
	}

	// ---------- faults ----------
	inject(fault) {
		if (!fault || !FAULT_KINDS.has(String(fault.kind))) throw new Error(`unknown fault kind ${fault?.kind}; one of ${[...FAULT_KINDS].join(', ')}`);
		const f = { ...fault, kind: String(fault.kind), id: `f${++this.faultSeq}`, count: fault.count ?? 1 };
		if (typeof f.path === 'string') f.path = new RegExp(f.path);
		if (f.kind === 'revoke-tokens' && !f.path && !f.practice) {
			this.auth.revokeAll();
			return f.id;
		}
		this.faults.push(f);
		return f.id;
	}

	/** Take the first matching fault of one of `kinds` (decrementing its count). */
	takeFault(kinds, path, practice) {
		for (let i = 0; i < this.faults.length; i++) {
			const f = this.faults[i];
			if (!kinds.has(f.kind)) continue;
			if (f.path && !f.path.test(path)) continue;
			if (f.practice && f.practice !== practice) continue;
			f.count -= 1;
			if (f.count <= 0) this.faults.splice(i, 1);
			return f;
		}
		return null;
	}

	/** Apply request-phase faults (429/500/503/slow/revoke-tokens). Throws FhirError for error faults. */
	async requestFaults(path, practice) {
		for (;;) {
			const f = this.takeFault(REQUEST_FAULTS, path, practice);
			if (!f) return;
			if (f.kind === 'slow') {
				await sleep(f.delayMs ?? 1000);
				continue;
			}
			if (f.kind === 'revoke-tokens') {
				this.auth.revokeAll();
				continue;
			}
			if (f.kind === '500') throw new FhirError(500, 'exception', f.message ?? 'Injected fault: internal server error');
			if (f.kind === '503') throw new FhirError(503, 'transient', f.message ?? 'Injected fault: service unavailable', f.retryAfter != null ? { 'Retry-After': String(f.retryAfter) } : {});
			if (f.kind === '429') {
				const headers = {};
				if (f.retryAfter != null) headers['Retry-After'] = String(f.retryAfter);
				const block = f.blockRestOfMinute ?? (this.o.profile === 'ecw' && f.retryAfter == null);
				if (block && practice) this.bucket(practice).blockedUntil = (Math.floor(this.clock() / 60000) + 1) * 60000;
				// smart servers always say how long to wait: to the minute boundary when blocking, else 1 s
				if (this.o.profile === 'smart' && f.retryAfter == null) headers['Retry-After'] = block ? String(Math.max(1, Math.ceil(((Math.floor(this.clock() / 60000) + 1) * 60000 - this.clock()) / 1000))) : '1';
				throw new FhirError(429, 'throttled', f.message ?? 'Injected fault: too many requests', headers);
			}
		}
	}

	// ---------- rate limit ----------
	bucket(key) {
		let b = this.buckets.get(key);
		const minute = Math.floor(this.clock() / 60000);
		if (!b) {
			b = { minute, count: 0, blockedUntil: 0 };
			this.buckets.set(key, b);
		}
		if (b.minute !== minute) {
			b.minute = minute;
			b.count = 0;
		}
		return b;
	}

	rateLimit(key) {
		const b = this.bucket(key);
		const now = this.clock();
		const limit = this.o.rateLimitPerMinute;
		b.count += 1;
		const nextMinute = (Math.floor(now / 60000) + 1) * 60000;
		const headers = this.o.profile === 'smart' ? { 'Retry-After': String(Math.max(1, Math.ceil((nextMinute - now) / 1000))) } : {};
		if (b.blockedUntil > now) throw new FhirError(429, 'throttled', 'Too many requests: blocked for the rest of the current minute', headers);
		if (limit && b.count > limit) {
			b.blockedUntil = this.o.profile === 'ecw' ? nextMinute : 0;
			throw new FhirError(429, 'throttled', `Rate limit exceeded: ${limit} requests per minute${key === '#auth' ? ' (auth server)' : ' per practice'}`, headers);
		}
	}

	// ---------- request handling ----------
	async handle(req, res, otherOrigin) {
		const url = new URL(req.url ?? '/', 'http://sandbox');
		const path = url.pathname;
		const entry = { t: new Date(this.clock()).toISOString(), method: req.method, path, status: 0, practice: null, authorized: false, origin: otherOrigin ? 'other' : 'main' };
		let counted = null; // 'token' | 'fhir' | null
		res.on('close', () => {
			if (!counted) return;
			entry.status = res.statusCode;
			const st = this.stats;
			st.byStatus[res.statusCode] = (st.byStatus[res.statusCode] ?? 0) + 1;
			const bp = entry.practice ? st.byPractice[entry.practice] : null;
			if (bp) bp.byStatus[res.statusCode] = (bp.byStatus[res.statusCode] ?? 0) + 1;
			st.log.push(entry);
			if (st.log.length > LOG_CAP) st.log.splice(0, st.log.length - LOG_CAP);
		});
		const ctx = { req, res, url, path, entry, otherOrigin };
		try {
			if (otherOrigin) {
				counted = 'fhir';
				this.stats.requests += 1;
				if (req.headers.authorization) this.stats.authHeaderSeenOnOtherOrigin += 1;
				return await this.handleOther(ctx);
			}
			if (path === '/admin' || path.startsWith('/admin/')) {
				if (!this.o.admin) throw new FhirError(404, 'not-found', 'Admin endpoints are off (start with admin: true / --admin)');
				return await this.handleAdmin(ctx);
			}
			const jw = /^\/sandbox\/clients\/([^/]+)\/jwks\.json$/.exec(path);
			if (jw) {
				const j = this.auth.jwks(jw[1]);
				if (!j) throw new FhirError(404, 'not-found', 'Unknown client');
				return sendJson(res, 200, j, {}, 'application/json');
			}
			if (path === TOKEN_PATH || path === AUTHORIZE_PATH) {
				counted = 'token';
				return await this.handleAuth(ctx);
			}
			if (path === FHIR_PREFIX || path.startsWith(`${FHIR_PREFIX}/`)) {
				counted = 'fhir';
				this.stats.requests += 1;
				return await this.handleFhir(ctx);
			}
			throw new FhirError(404, 'not-found', `No route for ${path}`);
		} catch (e) {
			this.sendError(res, e, path === TOKEN_PATH);
		}
	}

	sendError(res, e, oauth) {
		if (res.headersSent) {
			res.destroy();
			return;
		}
		if (e instanceof OAuthError) {
			const headers = e.status === 401 ? { 'WWW-Authenticate': 'Basic realm="sandbox"' } : {};
			return sendJson(res, e.status, { error: e.error, error_description: e.message }, headers, 'application/json');
		}
		if (e instanceof FhirError) {
			if (oauth && e.status >= 400) return sendJson(res, e.status, { error: e.status === 429 ? 'rate_limited' : 'server_error', error_description: e.message }, e.headers, 'application/json');
			return sendJson(res, e.status, operationOutcome(e.code, e.message), e.headers);
		}
		return sendJson(res, 500, operationOutcome('exception', `Internal error: ${e?.message ?? e}`));
	}

	async handleAuth({ req, res, url, path, entry }) {
		this.stats.tokenRequests += 1;
		const rejected = (aud) => {
			const code = this.practiceForAud(aud) ?? (aud && this.practices.has(aud) ? aud : null);
			if (code) {
				entry.practice = code;
				this.stats.byPractice[code].tokenRequests += 1;
			}
			return !!code && this.o.rejectedPractices.includes(code);
		};
		await this.requestFaults(path, null);
		this.rateLimit('#auth');
		if (path === AUTHORIZE_PATH) {
			if (req.method !== 'GET') throw new FhirError(405, 'not-supported', 'Use GET');
			const out = this.auth.authorize(url.searchParams, {
				practiceForAud: (aud) => this.practiceForAud(aud),
				rejected,
				firstPatientId: (code) => this.practices.get(code).idFor('Patient', 0),
			});
			if (out.status === 302) {
				res.writeHead(302, { Location: out.location, 'Cache-Control': 'no-store' });
				return res.end();
			}
			return sendJson(res, out.status, out.body, {}, 'application/json');
		}
		if (req.method !== 'POST') throw new OAuthError(405, 'invalid_request', 'Use POST');
		const body = await readBody(req);
		const out = this.auth.token(req.headers, body, { tokenUrl: this.tokenUrl, rejected });
		return sendJson(res, 200, out, { Pragma: 'no-cache' }, 'application/json');
	}

	practiceForAud(aud) {
		if (!aud) return null;
		const a = String(aud).replace(/\/+$/, '');
		const prefix = `${this.origin}${FHIR_PREFIX}/`;
		if (!a.startsWith(prefix)) return null;
		const code = a.slice(prefix.length);
		return this.practices.has(code) ? code : null;
	}

	/** Check the bearer token; returns the token record. */
	authorize(req, practice, entry) {
		const r = this.auth.check(req.headers.authorization);
		if (r.error) {
			const desc = { missing: 'Missing bearer token', invalid: 'Invalid access token', revoked: 'Access token revoked', expired: 'Access token expired' }[r.error];
			const www = r.error === 'missing' ? 'Bearer realm="sandbox"' : `Bearer realm="sandbox", error="invalid_token", error_description="${desc}"`;
			throw new FhirError(401, 'login', desc, { 'WWW-Authenticate': www });
		}
		if (this.o.rejectedPractices.includes(practice)) {
			throw new FhirError(401, 'security', `invalid_client: the application is not enabled for practice ${practice}`, { 'WWW-Authenticate': 'Bearer realm="sandbox", error="invalid_client"' });
		}
		entry.authorized = true;
		return r.token;
	}

	requireScope(token, type, perm) {
		const missing = this.auth.missingScope(token, type, perm);
		if (missing) throw new FhirError(403, 'forbidden', `Missing scope ${missing}`);
	}

	async handleFhir(ctx) {
		const { req, res, url, path, entry } = ctx;
		const segs = path.slice(FHIR_PREFIX.length).split('/').filter(Boolean).map(decodeURIComponent);
		const code = segs[0];
		if (!code || !this.practices.has(code)) throw new FhirError(400, 'invalid', 'Invalid or missing practice code in the FHIR base URL (expected /fhir/r4/{practiceCode})');
		entry.practice = code;
		this.stats.byPractice[code].requests += 1;
		await this.requestFaults(path, code);
		this.rateLimit(code);
		const ds = this.practices.get(code);
		const base = this.baseUrlFor(code);
		const rest = segs.slice(1);
		if (rest.length === 1 && rest[0] === 'metadata') return sendJson(res, 200, this.capabilityStatement(base));
		if (rest.length === 2 && rest[0] === '.well-known' && rest[1] === 'smart-configuration') return sendJson(res, 200, this.smartConfiguration(), {}, 'application/json');
		const token = this.authorize(req, code, entry);
		const bulk = await this.bulk.route(ctx, ds, base, rest, token);
		if (bulk !== false) return;
		if (rest.length === 0) throw new FhirError(404, 'not-found', 'No resource type given');
		const type = rest[0];
		if (!this.P.resources.includes(type)) throw new FhirError(404, 'not-supported', `Resource type ${type} is not supported by this server`);
		if (rest.length === 1 || (rest.length === 2 && rest[1] === '_search')) {
			if (req.method !== 'GET' && !(req.method === 'POST' && rest[1] === '_search')) throw new FhirError(405, 'not-supported', `${req.method} is not supported`);
			this.requireScope(token, type, 's');
			let pairs = [...url.searchParams];
			if (req.method === 'POST') {
				const body = await readBody(req);
				pairs = pairs.concat([...new URLSearchParams(body)]);
			}
			return this.search(res, ds, base, type, pairs, token);
		}
		if (req.method !== 'GET') throw new FhirError(405, 'not-supported', `${req.method} is not supported (read-only server)`);
		if (rest.length === 2) {
			this.requireScope(token, type, 'r');
			const r = ds.get(type, rest[1]);
			if (!r) throw new FhirError(404, 'not-found', `Resource ${type}/${rest[1]} is not known`);
			return sendJson(res, 200, r, { ETag: `W/"${r.meta.versionId}"`, 'Last-Modified': new Date(r.meta.lastUpdated).toUTCString() });
		}
		if (rest.length === 3 && type === 'Patient' && rest[2] === '$everything') {
			this.requireScope(token, 'Patient', 'r');
			return this.everything(res, ds, base, rest[1], token);
		}
		throw new FhirError(404, 'not-found', `No route for ${path}`);
	}

	async handleOther(ctx) {
		const { res, url, path } = ctx;
		const m = /^\/fhir\/r4\/([^/]+)\/([A-Za-z]+)$/.exec(path);
		if (m && url.searchParams.has('_getpages')) {
			const ds = this.practices.get(m[1]);
			if (!ds) throw new FhirError(400, 'invalid', 'Invalid practice code');
			ctx.entry.practice = m[1];
			this.stats.byPractice[m[1]].requests += 1;
			await this.requestFaults(path, m[1]);
			return this.search(res, ds, this.baseUrlFor(m[1]), m[2], [...url.searchParams], null);
		}
		if (path.startsWith('/files/')) return this.bulk.serveOtherFile(ctx);
		throw new FhirError(404, 'not-found', `No route for ${path}`);
	}

	// ---------- search ----------
	signCursor(obj) {
		const body = Buffer.from(JSON.stringify(obj)).toString('base64url');
		const sig = crypto.createHmac('sha256', this.cursorKey).update(body).digest('base64url').slice(0, 22);
		return `${body}.${sig}`;
	}

	readCursor(s) {
		const [body, sig] = String(s).split('.');
		const want = crypto.createHmac('sha256', this.cursorKey).update(body ?? '').digest('base64url').slice(0, 22);
		if (!body || sig !== want) throw new FhirError(400, 'invalid', 'Invalid or expired paging cursor');
		return JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
	}

	/** Iterate candidate raw positions of a compiled search, from `from`. */
	*positions(ds, type, compiled, from) {
		let list = null;
		if (compiled.ids) list = compiled.ids.map((id) => ds.indexOf(type, id)).filter((i) => i >= 0);
		else if (compiled.patientRefs && type !== 'Patient') {
			const set = new Set();
			for (const ref of compiled.patientRefs) {
				const p = ds.indexOf('Patient', ref.slice(8));
				if (p >= 0) for (const i of ds.positionsForPatient(type, p)) set.add(i);
			}
			list = [...set];
		}
		if (list) {
			list = [...new Set(list)].sort((a, b) => a - b);
			for (const i of list) if (i >= from) yield i;
			return;
		}
		const n = ds.size(type);
		for (let i = from; i < n; i++) yield i;
	}

	/** Cheap pre-check of _lastUpdated against the stored timestamp (no generation). */
	lastUpdatedOk(ds, type, i, compiled) {
		if (!compiled.lastUpdated.length) return true;
		const t = ds.lastUpdatedMs(type, i);
		const r = { lo: t, hi: t + 1 };
		return compiled.lastUpdated.every(({ prefix, range }) => dateMatchesCheap(prefix, range, r, this.clock()));
	}

	search(res, ds, base, type, pairs, token) {
		const cursorStr = pairs.find(([k]) => k === '_getpages')?.[1];
		let state;
		if (cursorStr) {
			state = this.readCursor(cursorStr);
			if (state.p !== ds.code || state.t !== type) throw new FhirError(400, 'invalid', 'Paging cursor does not belong to this search');
		} else {
			if (!token) throw new FhirError(401, 'login', 'Missing bearer token', { 'WWW-Authenticate': 'Bearer realm="sandbox"' });
			const control = new Set(['_count', '_include', '_getpages', '_sort', '_format', '_total', '_elements', '_revinclude', '_summary', 'page']);
			const criteria = pairs.filter(([k]) => !control.has(k) && !k.startsWith('_include'));
			let count = this.P.defaultCount;
			const countStr = pairs.find(([k]) => k === '_count')?.[1];
			if (countStr !== undefined) {
				if (!/^\d+$/.test(countStr)) throw new FhirError(400, 'invalid', `Invalid _count: ${countStr}`);
				count = Math.min(Number(countStr), this.P.maxCount);
			}
			const includes = [];
			const allowed = this.P.includes[type] ?? {};
			for (const [k, v] of pairs) if (k === '_include' && v in allowed && !includes.includes(v)) includes.push(v);
			const compiled = compileSearch(type, criteria, { tz: this.o.timeZone, profile: this.o.profile, now: this.clock() });
			if (type === 'Patient' && this.o.profile === 'ecw' && compiled.used.length === 0) throw new FhirError(400, 'invalid', 'Patient search requires at least one search parameter');
			state = { p: ds.code, t: type, q: compiled.used, inc: includes, c: count, pos: 0, n: 0, cs: countStr !== undefined };
		}
		const compiled = compileSearch(type, state.q, { tz: this.o.timeZone, profile: this.o.profile, now: this.clock() });
		if (state.total === undefined) {
			if (compiled.used.length === 0) state.total = ds.size(type);
			else if (!compiled.ids && !compiled.patientRefs && ds.size(type) > TOTAL_SCAN_LIMIT) state.total = null; // too big to count up front: omit total (optional in FHIR)
			else {
				let total = 0;
				for (const i of this.positions(ds, type, compiled, 0)) {
					if (!this.lastUpdatedOk(ds, type, i, compiled)) continue;
					const r = ds.at(type, i);
					if (r && compiled.match(r)) total += 1;
				}
				state.total = total;
			}
		}
		const matches = [];
		let nextPos = null;
		if (state.c > 0) {
			for (const i of this.positions(ds, type, compiled, state.pos)) {
				if (!this.lastUpdatedOk(ds, type, i, compiled)) continue;
				const r = ds.at(type, i);
				if (!r || !compiled.match(r)) continue;
				if (matches.length === state.c) {
					nextPos = i;
					break;
				}
				matches.push(r);
			}
		}
		const qs = new URLSearchParams(state.q);
		if (state.cs) qs.append('_count', String(state.c));
		for (const inc of state.inc) qs.append('_include', inc);
		const firstSelf = `${base}/${type}${qs.toString() ? `?${qs}` : ''}`;
		const links = [{ relation: 'self', url: state.n === 0 ? firstSelf : `${base}/${type}?_getpages=${cursorStr}` }];
		if (nextPos !== null) {
			const next = this.signCursor({ ...state, pos: nextPos, n: state.n + 1 });
			const origin = this.o.nextLinkOrigin === 'other' ? this.otherOrigin : this.origin;
			links.push({ relation: 'next', url: `${origin}${FHIR_PREFIX}/${ds.code}/${type}?_getpages=${next}` });
		}
		const entry = matches.map((r) => ({ fullUrl: `${base}/${type}/${r.id}`, resource: r, search: { mode: 'match' } }));
		if (state.inc.length) {
			const seen = new Set();
			const allowed = this.P.includes[type];
			for (const r of matches) {
				for (const inc of state.inc) {
					const target = allowed[inc];
					for (const ref of includeRefs(r, inc)) {
						const [rt, id] = ref.split('/');
						if (target && rt !== target) continue;
						if (!this.P.resources.includes(rt) || seen.has(ref)) continue;
						seen.add(ref);
						const inc2 = ds.get(rt, id);
						if (inc2) entry.push({ fullUrl: `${base}/${ref}`, resource: inc2, search: { mode: 'include' } });
					}
				}
			}
		}
		const bundle = { resourceType: 'Bundle', id: crypto.randomUUID(), meta: { lastUpdated: new Date(this.clock()).toISOString() }, type: 'searchset', ...(state.total !== null ? { total: state.total } : {}), link: links, entry };
		return sendJson(res, 200, bundle);
	}

	everything(res, ds, base, id, token) {
		const pIdx = ds.indexOf('Patient', id);
		const patient = pIdx >= 0 ? ds.at('Patient', pIdx) : undefined;
		if (!patient) throw new FhirError(404, 'not-found', `Resource Patient/${id} is not known`);
		const entry = [{ fullUrl: `${base}/Patient/${id}`, resource: patient, search: { mode: 'match' } }];
		for (const type of ['Encounter', 'Appointment', 'Coverage']) {
			if (!this.P.resources.includes(type) || this.auth.missingScope(token, type, 'r')) continue;
			for (const i of ds.positionsForPatient(type, pIdx)) {
				if (ds.patientIndexOf(type, i) !== pIdx) continue;
				const r = ds.at(type, i);
				if (r) entry.push({ fullUrl: `${base}/${type}/${r.id}`, resource: r, search: { mode: 'match' } });
			}
		}
		return sendJson(res, 200, { resourceType: 'Bundle', id: crypto.randomUUID(), type: 'searchset', total: entry.length, link: [{ relation: 'self', url: `${base}/Patient/${id}/$everything` }], entry });
	}

	// ---------- discovery ----------
	smartConfiguration() {
		const scopes = [...new Set(this.auth.clients.flatMap((c) => c.scopes.split(' ')))];
		return {
			issuer: `${this.origin}/oauth/oauth2`,
			token_endpoint: this.tokenUrl,
			authorization_endpoint: this.authorizeUrl,
			grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
			token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
			token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
			response_types_supported: ['code'],
			code_challenge_methods_supported: ['S256'],
			scopes_supported: [...scopes, 'system/*.read', 'system/*.rs'],
			capabilities: ['launch-standalone', 'client-public', 'client-confidential-symmetric', 'client-confidential-asymmetric', 'context-standalone-patient', 'permission-offline', 'permission-patient', 'permission-user', 'permission-v1', 'permission-v2'],
		};
	}

	capabilityStatement(base) {
		const bulkOps = this.o.profile === 'ecw' ? { Group: true } : { Group: true, Patient: true, system: true };
		const exportDef = 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export';
		const resource = this.P.resources.map((type) => {
			const defs = searchParams(type, this.o.timeZone, this.o.profile);
			const r = {
				type,
				interaction: [{ code: 'read' }, { code: 'search-type' }],
				searchParam: Object.entries(defs).map(([name, d]) => ({ name, type: SEARCH_PARAM_TYPES[d.type] })),
			};
			const inc = Object.keys(this.P.includes[type] ?? {});
			if (inc.length) r.searchInclude = inc;
			const ops = [];
			if (type === 'Patient') ops.push({ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' });
			if (bulkOps[type]) ops.push({ name: 'export', definition: type === 'Group' ? exportDef : 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export' });
			if (ops.length) r.operation = ops;
			return r;
		});
		return {
			resourceType: 'CapabilityStatement',
			status: 'active',
			date: new Date(this.clock()).toISOString().slice(0, 10),
			publisher: 'n8n-nodes-eclinicalworks sandbox',
			kind: 'instance',
			software: { name: `FHIR sandbox (${this.o.profile} profile)`, version: '0.1.0' },
			implementation: { description: this.o.profile === 'ecw' ? 'eClinicalWorks-like FHIR R4 sandbox' : 'SMART on FHIR / Bulk Data 2.0 sandbox', url: base },
			fhirVersion: '4.0.1',
			format: ['json'],
			...(this.o.profile === 'smart' ? { instantiates: ['http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data'] } : {}),
			rest: [{
				mode: 'server',
				security: {
					extension: [{ url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris', extension: [{ url: 'token', valueUri: this.tokenUrl }, { url: 'authorize', valueUri: this.authorizeUrl }] }],
					service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
				},
				resource,
				...(bulkOps.system ? { operation: [{ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' }] } : {}),
			}],
		};
	}

	// ---------- admin ----------
	ds(code) {
		const d = this.practices.get(code);
		if (!d) throw new FhirError(404, 'not-found', `Unknown practice ${code}`);
		return d;
	}

	stamp(r, explicit, prevVersion) {
		r.meta = { ...(r.meta ?? {}), versionId: String((Number(prevVersion) || 0) + 1), lastUpdated: toIso(explicit ?? this.clock()) };
		return r;
	}

	adminApi() {
		const self = this;
		const ref = (type, v) => (v === undefined || v === null ? undefined : String(v).includes('/') ? String(v) : `${type}/${v}`);
		const when = (v) => (v === undefined ? undefined : typeof v === 'string' ? v : formatZoned(v instanceof Date ? v.getTime() : Number(v), this.o.timeZone));
		const explicitLu = (o, opts) => opts?.lastUpdated ?? o?.lastUpdated ?? o?.meta?.lastUpdated;
		const strip = (o) => {
			const { lastUpdated, meta, id, resourceType, ...rest } = o ?? {};
			return rest;
		};
		const update = (code, type, id, changes, opts) => {
			const ds = this.ds(code);
			const cur = ds.get(type, id);
			if (!cur) throw new FhirError(404, 'not-found', `Resource ${type}/${id} is not known`);
			const r = { ...structuredClone(cur), ...strip(changes) };
			this.stamp(r, explicitLu(changes, opts), cur.meta?.versionId);
			ds.put(type, r);
			return r;
		};
		const encounterFor = (ds, apptId) => {
			const linked = ds.apptToEnc?.get(apptId);
			if (linked) return linked;
			const i = ds.indexOf('Appointment', apptId);
			return i >= 0 && i < ds.counts.Appointment ? ds.idFor('Encounter', i) : null;
		};
		const encStatus = { fulfilled: 'finished', noshow: 'cancelled', cancelled: 'cancelled', booked: 'planned', pending: 'planned', proposed: 'planned', arrived: 'arrived', 'checked-in': 'arrived', 'entered-in-error': 'entered-in-error', waitlist: 'planned' };
		const api = {
			/** Get a resource as the server holds it (with admin changes). */
			get: (code, type, id) => this.ds(code).get(type, id),
			createPatient: (code, partial = {}, opts) => {
				const ds = this.ds(code);
				const id = ds.newId('Patient');
				const r = { resourceType: 'Patient', id, active: true, name: [{ use: 'official', family: 'Doe', given: ['Jane'], text: 'Jane Doe' }], gender: 'female', birthDate: '1980-01-01', ...strip(partial) };
				if (!r.identifier) r.identifier = [{ use: 'usual', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }], text: 'MRN' }, system: 'urn:oid:2.16.840.1.113883.3.564.1', value: `9${String(ds.size('Patient')).padStart(6, '0')}` }];
				this.stamp(r, explicitLu(partial, opts), 0);
				ds.put('Patient', r);
				return r;
			},
			updatePatient: (code, id, changes, opts) => update(code, 'Patient', id, changes, opts),
			createEncounter: (code, partial = {}, opts) => {
				const ds = this.ds(code);
				const id = ds.newId('Encounter');
				const start = when(partial.start) ?? formatZoned(this.clock(), this.o.timeZone);
				const end = when(partial.end) ?? formatZoned(Date.parse(start) + 30 * 60000, this.o.timeZone);
				const r = {
					resourceType: 'Encounter',
					id,
					...(partial.transport ? { extension: [{ url: TRANSPORT_EXTENSION_URL, valueString: partial.transport }] } : {}),
					status: partial.status ?? 'planned',
					class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
					type: [{ text: partial.visitType ?? 'Office Visit' }],
					subject: { reference: ref('Patient', partial.patient ?? ds.idFor('Patient', 0)) },
					participant: [{ individual: { reference: ref('Practitioner', partial.practitioner ?? 'pr-1') } }],
					period: { start, end },
					reasonCode: [{ text: partial.reason ?? 'Office visit' }, ...(partial.transport ? [{ text: partial.transport }] : [])],
					location: [{ location: { reference: ref('Location', partial.location ?? 'loc-1') } }],
					serviceProvider: { reference: 'Organization/org-1' },
					...strip(Object.fromEntries(Object.entries(partial).filter(([k]) => !['patient', 'practitioner', 'location', 'start', 'end', 'reason', 'transport', 'visitType'].includes(k)))),
				};
				this.stamp(r, explicitLu(partial, opts), 0);
				ds.put('Encounter', r);
				return r;
			},
			updateEncounter: (code, id, changes, opts) => update(code, 'Encounter', id, changes, opts),
			createAppointment: (code, partial = {}, opts) => {
				const ds = this.ds(code);
				const id = ds.newId('Appointment');
				const start = when(partial.start) ?? formatZoned(this.clock() + 86400_000, this.o.timeZone);
				const end = when(partial.end) ?? formatZoned(Date.parse(start) + 30 * 60000, this.o.timeZone);
				const patient = ref('Patient', partial.patient ?? ds.idFor('Patient', 0));
				const practitioner = ref('Practitioner', partial.practitioner ?? 'pr-1');
				const location = ref('Location', partial.location ?? 'loc-1');
				const status = partial.status ?? 'booked';
				const transport = partial.transport ?? partial.comment;
				const r = {
					resourceType: 'Appointment',
					id,
					status,
					appointmentType: { text: partial.appointmentType ?? 'Routine appointment' },
					reasonCode: [{ text: partial.reason ?? 'Office visit' }],
					start,
					end,
					...(transport ? { comment: transport } : {}),
					participant: [patient, practitioner, location].map((reference) => ({ actor: { reference }, required: 'required', status: 'accepted' })),
					...strip(Object.fromEntries(Object.entries(partial).filter(([k]) => !['patient', 'practitioner', 'location', 'start', 'end', 'reason', 'transport', 'appointmentType'].includes(k)))),
				};
				this.stamp(r, explicitLu(partial, opts), 0);
				ds.put('Appointment', r);
				const enc = api.createEncounter(code, { patient, practitioner, location, start, end, status: encStatus[status] ?? 'planned', reason: partial.reason, transport: partial.transport ?? partial.comment, ...(this.o.profile === 'smart' ? { appointment: [{ reference: `Appointment/${id}` }] } : {}) }, opts);
				if (!ds.apptToEnc) ds.apptToEnc = new Map();
				ds.apptToEnc.set(id, enc.id);
				return r;
			},
			updateAppointment: (code, id, changes = {}, opts) => {
				const ds = this.ds(code);
				if (String(id).startsWith('en-')) return update(code, 'Encounter', id, changes, opts);
				const changed = { ...changes };
				for (const k of ['start', 'end']) if (changed[k] !== undefined) changed[k] = when(changed[k]);
				const r = update(code, 'Appointment', id, changed, opts);
				const encId = encounterFor(ds, id);
				if (encId && (changed.start || changed.end || changed.status)) {
					const enc = ds.get('Encounter', encId);
					const encChanges = {};
					if (changed.start || changed.end) encChanges.period = { start: r.start, end: r.end };
					if (changed.status) encChanges.status = encStatus[changed.status] ?? enc.status;
					update(code, 'Encounter', encId, { ...encChanges, lastUpdated: explicitLu(changes, opts) });
				}
				return r;
			},
			cancelAppointment: (code, id, opts) => {
				const ds = this.ds(code);
				if (String(id).startsWith('en-')) return update(code, 'Encounter', id, { status: 'cancelled' }, opts);
				const r = update(code, 'Appointment', id, { status: 'cancelled', cancelationReason: { text: 'Cancelled by the practice' } }, opts);
				const encId = encounterFor(ds, id);
				if (encId) update(code, 'Encounter', encId, { status: 'cancelled' }, opts);
				return r;
			},
			/** Encounter id linked to an appointment (eCW profile serves the visit as an Encounter). */
			encounterForAppointment: (code, id) => encounterFor(this.ds(code), id),
			setClockOffset: (ms) => {
				this.clockOffset = Number(ms) || 0;
			},
			getClockOffset: () => this.clockOffset,
			revokeTokens: () => this.auth.revokeAll(),
			inject: (f) => this.inject(f),
			clearFaults: () => {
				this.faults.length = 0;
			},
			get stats() {
				return self.stats;
			},
		};
		return api;
	}

	async handleAdmin({ req, res, path }) {
		const segs = path.split('/').filter(Boolean).slice(1).map(decodeURIComponent);
		const body = ['POST', 'PUT', 'PATCH'].includes(req.method ?? '') ? await readBody(req) : '';
		let json = {};
		if (body) {
			try {
				json = JSON.parse(body);
			} catch {
				throw new FhirError(400, 'invalid', 'Body must be JSON');
			}
		}
		const a = this.api.admin;
		const ok = (r, status = 200) => sendJson(res, status, r, {}, 'application/json');
		const [p0, p1, p2, p3] = segs;
		const m = req.method;
		if (segs.length === 0) return ok({ endpoints: ['GET/POST/DELETE /admin/faults', 'GET /admin/stats', 'POST /admin/stats/reset', 'POST /admin/clock {offsetMs}', 'POST /admin/revoke-tokens', 'POST /admin/{practice}/{Patient|Encounter|Appointment}', 'PATCH /admin/{practice}/{type}/{id}', 'POST /admin/{practice}/Appointment/{id}/$cancel', 'GET /admin/{practice}/{type}/{id}'] });
		if (p0 === 'faults' && segs.length === 1) {
			if (m === 'GET') return ok(this.faults.map((f) => ({ ...f, path: f.path?.source })));
			if (m === 'DELETE') {
				this.faults.length = 0;
				return ok({ cleared: true });
			}
			if (m === 'POST') {
				try {
					return ok({ id: this.inject(json) }, 201);
				} catch (e) {
					throw new FhirError(400, 'invalid', e.message);
				}
			}
		}
		if (p0 === 'stats' && segs.length === 1 && m === 'GET') return ok(this.stats);
		if (p0 === 'stats' && p1 === 'reset' && m === 'POST') {
			this.stats.reset();
			return ok({ reset: true });
		}
		if (p0 === 'clock' && m === 'POST') {
			a.setClockOffset(json.offsetMs);
			return ok({ offsetMs: this.clockOffset });
		}
		if (p0 === 'revoke-tokens' && m === 'POST') {
			a.revokeTokens();
			return ok({ revoked: true });
		}
		if (this.practices.has(p0)) {
			const type = p1;
			if (segs.length === 2 && m === 'POST') {
				const fn = { Patient: a.createPatient, Encounter: a.createEncounter, Appointment: a.createAppointment }[type];
				if (fn) return ok(fn(p0, json), 201);
			}
			if (segs.length === 3 && (m === 'PATCH' || m === 'PUT')) {
				const fn = { Patient: a.updatePatient, Encounter: a.updateEncounter, Appointment: a.updateAppointment }[type];
				if (fn) return ok(fn(p0, p2, json));
			}
			if (segs.length === 3 && m === 'GET') {
				const r = a.get(p0, type, p2);
				if (!r) throw new FhirError(404, 'not-found', 'Unknown resource');
				return ok(r);
			}
			if (segs.length === 4 && p3 === '$cancel' && m === 'POST' && type === 'Appointment') return ok(a.cancelAppointment(p0, p2, json));
		}
		throw new FhirError(404, 'not-found', `No admin route ${m} ${path}`);
	}
}

function toIso(v) {
	if (typeof v === 'number') return new Date(v).toISOString();
	if (v instanceof Date) return v.toISOString();
	const t = Date.parse(v);
	if (Number.isNaN(t)) throw new FhirError(400, 'invalid', `Invalid lastUpdated ${v}`);
	return new Date(t).toISOString();
}

function includeRefs(r, inc) {
	switch (inc) {
		case 'Appointment:patient': return (r.participant ?? []).map((p) => p.actor?.reference).filter((x) => x?.startsWith('Patient/'));
		case 'Appointment:practitioner': return (r.participant ?? []).map((p) => p.actor?.reference).filter((x) => x?.startsWith('Practitioner/'));
		case 'Appointment:location': return (r.participant ?? []).map((p) => p.actor?.reference).filter((x) => x?.startsWith('Location/'));
		case 'Appointment:actor': return (r.participant ?? []).map((p) => p.actor?.reference).filter(Boolean);
		case 'Encounter:patient':
		case 'Encounter:subject': return [r.subject?.reference].filter(Boolean);
		case 'Encounter:practitioner': return (r.participant ?? []).map((p) => p.individual?.reference).filter(Boolean);
		case 'Encounter:location': return (r.location ?? []).map((l) => l.location?.reference).filter(Boolean);
		default: return [];
	}
}
