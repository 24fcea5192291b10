// Embedded FHIR R4 sandbox server (development tooling, not published). node:http + node:crypto only.
// What the server promises and refuses is its contract (contracts/): `ecw` is eClinicalWorks'
// published CapabilityStatement and SMART configuration, enforced; `smart` is a standard SMART /
// Bulk Data 2.0 server with switchable quirks. See docs/sandbox.md.
import http from 'node:http';
import { Admin } from './admin.mjs';
import { AuthServer } from './auth.mjs';
import { BulkExports } from './bulk.mjs';
import { ecwContract } from './contracts/ecw.mjs';
import { smartContract } from './contracts/smart.mjs';
import { Dataset } from './data.mjs';
import { Faults } from './faults.mjs';
import { RateLimiter } from './rateLimit.mjs';
import { Searchset } from './searchset.mjs';
import { FhirError, OAuthError, operationOutcome, sendJson, readBody } from './util.mjs';

export { signAssertion } from './jwt.mjs';
export { QUIRKS } from './contracts/smart.mjs';

const TOKEN_PATH = '/oauth/oauth2/token';
const AUTHORIZE_PATH = '/oauth/oauth2/authorize';
const JWKS_PATH = '/oauth/oauth2/jwks';
const FHIR_PREFIX = '/fhir/r4';
const LOG_CAP = 10_000;

/**
 * @typedef {object} SandboxOptions
 * @property {number} [port=0]
 * @property {string} [host='127.0.0.1']
 * @property {'ecw'|'smart'} [profile='ecw']
 * @property {object|string[]} [quirks] smart profile only: see contracts/smart.mjs QUIRKS
 * @property {number} [patients=50]
 * @property {number} [seed=1]
 * @property {boolean} [rangeEdgeVisits=false] two fixed visits at the edges of a day (23:30 today, 00:00 tomorrow) for tests; off: in working hours
 * @property {string} [timeZone='America/New_York']
 * @property {string[]} [practices=['demo']]
 * @property {string[]} [rejectedPractices=[]] practices that have not enabled the app: their FHIR calls answer 401
 * @property {boolean} [readScopeAllowsSearch] ecw: whether a `.r` scope allows search (default true, the sandbox's
 *   reading of a point eCW's documents leave open; false = SMART v2's reading, `.r` is read without search)
 * @property {string} [tokenEndpoint] the token URL discovery names instead of the sandbox's own (`{port}` is
 *   filled in), e.g. on another host name; the token endpoint accepts it as the assertion's `aud`
 * @property {number} [tokenLifetimeSeconds] ecw 300, smart 3600
 * @property {number} [userTokenLifetimeSeconds] 3600 (or tokenLifetimeSeconds when that is given)
 * @property {number|null} [rateLimitPerMinute] ecw 250 per practice, smart null (off)
 * @property {boolean} [admin=false] HTTP admin endpoints under /admin
 * @property {() => number} [now=Date.now]
 * @property {number} [bulkDelayMs=1500]
 * @property {boolean} [fastBulk=false] ecw: Retry-After 1 s on bulk kick-off and status instead of eCW's 120 s (tests, demo)
 * @property {number} [pollRetryAfterSeconds] overrides the bulk Retry-After (ecw 120, or 1 with fastBulk; smart 1)
 * @property {'same'|'other'} [fileOrigin='same']
 * @property {'same'|'other'} [nextLinkOrigin='same']
 * @property {number} [maxResourcesPerFile=10000]
 * @property {boolean} [bulkErrors=false]
 * @property {number} [bulkRepeat=1]
 * @property {number} [bulkPaddingBytes=0]
 * @property {number} [manifestPageSize] paged manifest (link next) with this many outputs per page
 * @property {number} [bulkFileLatencyMs=0] wait before a bulk file's first byte (benchmarks: a real server's latency)
 * @property {number} [bulkFileBytesPerSecond=0] per-download throughput cap, 0 = none (benchmarks)
 * @property {number} [bulkServerBytesPerSecond=0] throughput cap shared by all file downloads, 0 = none (benchmarks)
 * @property {string[]} [redirectUris=[]]
 * @property {object[]} [faults=[]] faults injected at start
 * @property {(entry: object) => void} [onRequest] called as each request arrives, with its log entry
 *   (`t`, `method`, `path`, `query`, `remotePort`: the client's port, to tell which process sent it)
 */

/**
 * Start a sandbox FHIR server. Returns `{ origin, otherOrigin, profile, practices, baseUrl, baseUrlFor,
 * tokenUrl, tokenUrlFor, authorizeUrl, timeZone, now, clients, client, stats, inject, clearFaults,
 * faults, admin, contract, stop }`.
 * @param {SandboxOptions} [options]
 */
export async function startSandbox(options = {}) {
	const s = new Sandbox(options);
	await s.listen();
	return s.api;
}

function contractFor(profile, quirks) {
	if (profile === 'ecw') {
		if (quirks && Object.keys(quirks).length) throw new Error('quirks belong to the smart profile; the ecw profile is eCW\'s published contract');
		return ecwContract();
	}
	if (profile === 'smart') return smartContract(quirks);
	throw new Error(`unknown profile ${profile}`);
}

class Sandbox {
	constructor(options) {
		const profile = options.profile ?? 'ecw';
		const contract = contractFor(profile, options.quirks);
		if (options.readScopeAllowsSearch !== undefined) contract.scopes.readImpliesSearch = !!options.readScopeAllowsSearch;
		this.contract = contract;
		this.o = {
			port: options.port ?? 0,
			host: options.host ?? '127.0.0.1',
			profile,
			patients: options.patients ?? 50,
			seed: options.seed ?? 1,
			timeZone: options.timeZone ?? 'America/New_York',
			practices: options.practices?.length ? options.practices : ['demo'],
			rejectedPractices: options.rejectedPractices ?? [],
			tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? contract.tokenLifetimeSeconds,
			userTokenLifetimeSeconds: options.userTokenLifetimeSeconds ?? options.tokenLifetimeSeconds ?? contract.userTokenLifetimeSeconds,
			rateLimitPerMinute: options.rateLimitPerMinute === undefined ? contract.rateLimitPerMinute : options.rateLimitPerMinute,
			admin: !!options.admin,
			now: options.now ?? Date.now,
			bulkDelayMs: options.bulkDelayMs ?? 1500,
			pollRetryAfterSeconds: options.pollRetryAfterSeconds ?? (options.fastBulk ? 1 : contract.bulk.retryAfterSeconds ?? 1),
			fileOrigin: options.fileOrigin ?? 'same',
			nextLinkOrigin: options.nextLinkOrigin ?? 'same',
			maxResourcesPerFile: options.maxResourcesPerFile ?? 10_000,
			bulkErrors: !!options.bulkErrors,
			bulkRepeat: Math.max(1, options.bulkRepeat ?? 1),
			bulkPaddingBytes: options.bulkPaddingBytes ?? 0,
			manifestPageSize: options.manifestPageSize ?? null,
			bulkFileLatencyMs: options.bulkFileLatencyMs ?? 0,
			bulkFileBytesPerSecond: options.bulkFileBytesPerSecond ?? 0,
			bulkServerBytesPerSecond: options.bulkServerBytesPerSecond ?? 0,
			redirectUris: options.redirectUris ?? [],
			onRequest: options.onRequest ?? null,
			tokenEndpoint: options.tokenEndpoint ?? null,
			rangeEdgeVisits: !!options.rangeEdgeVisits,
		};
		for (const p of this.o.practices) if (!/^[A-Za-z0-9_-]+$/.test(p)) throw new Error(`invalid practice code ${p}`);
		this.clockOffset = 0;
		this.clock = () => this.o.now() + this.clockOffset;
		const startMs = this.clock();
		const uuidVersionIds = !!contract.quirks?.uuidVersionIds;
		this.practices = new Map(this.o.practices.map((code, index) => [code, new Dataset({ code, index, seed: this.o.seed, patients: this.o.patients, timeZone: this.o.timeZone, startMs, profile, uuidVersionIds, rangeEdgeVisits: this.o.rangeEdgeVisits })]));
		this.auth = new AuthServer({ contract, clock: this.clock, tokenLifetimeSeconds: this.o.tokenLifetimeSeconds, userTokenLifetimeSeconds: this.o.userTokenLifetimeSeconds, redirectUris: this.o.redirectUris, seed: this.o.seed });
		this.limiter = new RateLimiter({
			clock: this.clock,
			limitPerMinute: () => this.o.rateLimitPerMinute,
			blockRestOfMinute: profile === 'ecw',
			// eCW documents no Retry-After; standard servers say when the minute ends
			retryAfterHeader: (waitMs) => (profile === 'smart' ? { 'Retry-After': this.retryAfter(Math.max(1, Math.ceil(waitMs / 1000))) } : {}),
		});
		this.faults = new Faults(this);
		this.stats = this.newStats();
		this.searchset = new Searchset(this);
		this.bulk = new BulkExports(this);
		this.admin = new Admin(this);
		for (const f of options.faults ?? []) this.faults.inject(f);
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

	/** A Retry-After value for a wait of `seconds`: delta seconds, or (epochRetryAfter quirk) a point in time. */
	retryAfter(seconds) {
		const epoch = this.contract.quirks?.epochRetryAfter;
		if (epoch === 'ms') return String(this.clock() + seconds * 1000);
		if (epoch === 's') return String(Math.ceil(this.clock() / 1000 + seconds));
		return String(seconds);
	}

	newStats() {
		const perPractice = () => Object.fromEntries(this.o.practices.map((code) => [code, { tokenRequests: 0, requests: 0, byStatus: {} }]));
		const stats = {
			tokenRequests: 0,
			requests: 0,
			byStatus: {},
			byPractice: perPractice(),
			authHeaderSeenOnOtherOrigin: 0,
			log: [],
			reset: () => {
				stats.tokenRequests = 0;
				stats.requests = 0;
				stats.byStatus = {};
				stats.authHeaderSeenOnOtherOrigin = 0;
				stats.log.length = 0;
				stats.byPractice = perPractice();
			},
		};
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
		/** The token URL discovery names (one for every practice). */
		this.advertisedTokenUrl = this.o.tokenEndpoint ? this.o.tokenEndpoint.replace('{port}', String(port)) : this.contract.tokenUrlFor(this.origin);
		this.authorizeUrl = `${this.origin}${AUTHORIZE_PATH}`;
		const self = this;
		const first = this.o.practices[0];
		this.api = {
			origin: this.origin,
			otherOrigin: this.otherOrigin,
			profile: this.o.profile,
			contract: this.contract,
			practices: [...this.o.practices],
			baseUrl: this.baseUrlFor(first),
			baseUrlFor: (code) => this.baseUrlFor(code),
			/** The token URL a practice's discovery document names (the same for every practice). */
			tokenUrlFor: () => this.advertisedTokenUrl,
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
			inject: (fault) => this.faults.inject(fault),
			clearFaults: () => this.faults.clear(),
			get faults() {
				return self.faults.list.map((f) => ({ ...f }));
			},
			admin: this.admin.api(),
			stop: () => this.stop(),
		};
	}

	inject(fault) {
		return this.faults.inject(fault);
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

	// ---------- request handling ----------
	async handle(req, res, otherOrigin) {
		const url = new URL(req.url ?? '/', 'http://sandbox');
		const path = url.pathname;
		const entry = { t: new Date(this.clock()).toISOString(), method: req.method, path, status: 0, practice: null, authorized: false, origin: otherOrigin ? 'other' : 'main', remotePort: req.socket.remotePort };
		if (this.o.onRequest) this.o.onRequest({ ...entry, query: url.search });
		let counted = false;
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
				counted = true;
				this.stats.requests += 1;
				if (req.headers.authorization) this.stats.authHeaderSeenOnOtherOrigin += 1;
				return await this.handleOther(ctx);
			}
			if (path === '/admin' || path.startsWith('/admin/')) {
				if (!this.o.admin) throw new FhirError(404, 'not-found', 'Admin endpoints are off (start with admin: true / --admin)');
				return await this.admin.handle(ctx);
			}
			const jw = /^\/sandbox\/clients\/([^/]+)\/jwks\.json$/.exec(path);
			if (jw) {
				const j = this.auth.jwks(jw[1]);
				if (!j) throw new FhirError(404, 'not-found', 'Unknown client');
				return sendJson(res, 200, j, {}, 'application/json');
			}
			// the auth server's own signing keys: it issues opaque tokens and signs nothing
			if (path === JWKS_PATH) return sendJson(res, 200, { keys: [] }, {}, 'application/json');
			if (path === TOKEN_PATH || path === AUTHORIZE_PATH) {
				counted = true;
				return await this.handleAuth(ctx);
			}
			if (path === FHIR_PREFIX || path.startsWith(`${FHIR_PREFIX}/`)) {
				counted = true;
				this.stats.requests += 1;
				return await this.handleFhir(ctx);
			}
			throw new FhirError(404, 'not-found', `No route for ${path}`);
		} catch (e) {
			this.sendError(res, e, path === TOKEN_PATH);
		}
	}

	sendError(res, e, oauth) {
		if (e?.disconnect) {
			res.socket?.resetAndDestroy?.() ?? res.destroy();
			return;
		}
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
			if (e.plainText !== undefined) {
				res.writeHead(e.status, { 'Content-Type': 'text/plain; charset=utf-8', ...e.headers });
				return res.end(e.plainText);
			}
			return sendJson(res, e.status, operationOutcome(e.code, e.message), e.headers);
		}
		return sendJson(res, 500, operationOutcome('exception', `Internal error: ${e?.message ?? e}`));
	}

	/**
	 * Token and authorize endpoints, one for every practice. eCW counts them in the practice's 250
	 * requests per minute: `/authorize` names the practice (`aud`); a token request names none, so it
	 * is charged to the practice that first uses the token (chargeTokenRequest) and, meanwhile, to the
	 * auth server's own bucket.
	 */
	async handleAuth({ req, res, url, path, entry }) {
		this.stats.tokenRequests += 1;
		const practice = path === AUTHORIZE_PATH ? this.practiceForAud(url.searchParams.get('aud')) : null;
		if (practice) {
			entry.practice = practice;
			this.stats.byPractice[practice].tokenRequests += 1;
		}
		const body = path === TOKEN_PATH && req.method === 'POST' ? await readBody(req) : '';
		try {
			await this.faults.beforeRequest(path, practice);
			if (this.contract.tokenCountsInPractice && practice) this.limiter.hit(practice, 'per practice, token requests included');
			else this.limiter.hit('#auth', '(auth server)');
		} catch (e) {
			// the server saw the request: its assertion's jti is used
			this.auth.rememberAssertion(body);
			throw e;
		}
		if (path === AUTHORIZE_PATH) {
			if (req.method !== 'GET') throw new FhirError(405, 'not-supported', 'Use GET');
			const out = this.auth.authorize(url.searchParams, {
				practiceForAud: (aud) => this.practiceForAud(aud),
				rejected: (aud) => this.o.rejectedPractices.includes(this.practiceForAud(aud)),
				firstPatientId: (code) => this.practices.get(code).idFor('Patient', 0),
			});
			if (out.status === 302) {
				res.writeHead(302, { Location: out.location, 'Cache-Control': 'no-store' });
				return res.end();
			}
			return sendJson(res, out.status, out.body, {}, 'application/json');
		}
		if (req.method !== 'POST') throw new OAuthError(405, 'invalid_request', 'Use POST');
		const out = this.auth.token(req.headers, body, { tokenUrls: [this.tokenUrl, this.advertisedTokenUrl], entry });
		return sendJson(res, 200, out, { Pragma: 'no-cache' }, 'application/json');
	}

	/**
	 * A token's request, charged to the practice that first uses the token: in its requests per minute
	 * (ecw) when that is still the minute the token was asked for, and in the stats and log.
	 */
	chargeTokenRequest(token, practice) {
		if (token.chargedTo || !token.tokenEntry) return;
		token.chargedTo = practice;
		token.tokenEntry.practice = practice;
		this.stats.byPractice[practice].tokenRequests += 1;
		const sameMinute = Math.floor(token.issuedAt / 60000) === Math.floor(this.clock() / 60000);
		if (this.contract.tokenCountsInPractice && sameMinute) this.limiter.hit(practice, 'per practice, token requests included');
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
		this.chargeTokenRequest(r.token, practice);
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

	/** The contract's word on an interaction: 404 for a type it does not declare, 405 for an undeclared interaction. */
	requireInteraction(type, interaction) {
		const declared = this.contract.declared.get(type);
		if (!declared) throw new FhirError(404, 'not-supported', `Resource type ${type} is not supported by this server`);
		if (!declared.interactions.has(interaction)) {
			const offered = [...declared.interactions].join(', ') || 'none';
			throw new FhirError(405, 'not-supported', `${interaction} is not supported for ${type} (this server declares: ${offered})`);
		}
	}

	async handleFhir(ctx) {
		const { req, res, url, path, entry } = ctx;
		const segs = path.slice(FHIR_PREFIX.length).split('/').filter(Boolean).map(decodeURIComponent);
		const code = segs[0];
		if (!code || !this.practices.has(code)) throw new FhirError(400, 'invalid', 'Invalid or missing practice code in the FHIR base URL (expected /fhir/r4/{practiceCode})');
		entry.practice = code;
		this.stats.byPractice[code].requests += 1;
		await this.faults.beforeRequest(path, code);
		this.limiter.hit(code, 'per practice');
		const ds = this.practices.get(code);
		const base = this.baseUrlFor(code);
		const rest = segs.slice(1);
		const docs = { origin: this.origin, base, practice: code, tokenUrl: this.advertisedTokenUrl, authorizeUrl: this.authorizeUrl, now: this.clock(), timeZone: this.o.timeZone };
		if (rest.length === 1 && rest[0] === 'metadata') return sendJson(res, 200, this.contract.capabilityStatement(docs));
		if (rest.length === 2 && rest[0] === '.well-known' && rest[1] === 'smart-configuration') {
			return sendJson(res, 200, this.contract.smartConfiguration({ ...docs, clientScopes: this.auth.clients.flatMap((c) => c.scopes.split(' ')) }), {}, 'application/json');
		}
		const token = this.authorize(req, code, entry);
		const bulk = await this.bulk.route(ctx, ds, base, rest, token);
		if (bulk !== false) return;
		if (rest.length === 0) throw new FhirError(404, 'not-found', 'No resource type given');
		const type = rest[0];
		if (rest.length === 1 || (rest.length === 2 && rest[1] === '_search')) {
			if (req.method !== 'GET' && !(req.method === 'POST' && rest[1] === '_search')) throw new FhirError(405, 'not-supported', `${req.method} is not supported`);
			this.requireInteraction(type, 'search-type');
			this.requireScope(token, type, 's');
			let pairs = [...url.searchParams];
			if (req.method === 'POST') pairs = pairs.concat([...new URLSearchParams(await readBody(req))]);
			return this.searchset.search(res, ds, base, type, pairs, token);
		}
		if (req.method !== 'GET') throw new FhirError(405, 'not-supported', `${req.method} is not supported (read-only server)`);
		if (rest.length === 2) {
			this.requireInteraction(type, 'read');
			this.requireScope(token, type, 'r');
			const r = ds.get(type, rest[1]);
			if (!r) throw new FhirError(404, 'not-found', `Resource ${type}/${rest[1]} is not known`);
			return sendJson(res, 200, r, { ETag: `W/"${r.meta.versionId}"`, 'Last-Modified': new Date(r.meta.lastUpdated).toUTCString() });
		}
		// served whether or not the CapabilityStatement lists it (the undeclaredEverything quirk leaves it out)
		if (rest.length === 3 && type === 'Patient' && rest[2] === '$everything') {
			this.requireScope(token, 'Patient', 'r');
			if (this.contract.quirks?.everythingNeedsAllScopes && this.contract.bulkTypes.some((t) => this.auth.missingScope(token, t, 'r'))) {
				throw new FhirError(403, 'forbidden', 'Insufficient scope: Patient/$everything needs read access to every kind of resource in the record');
			}
			return this.searchset.everything(res, ds, base, rest[1], token);
		}
		throw new FhirError(404, 'not-found', `No route for ${path}`);
	}

	async handleOther(ctx) {
		const { res, url, path } = ctx;
		const m = /^\/fhir\/r4\/([^/]+)\/([A-Za-z]+)$/.exec(path);
		if (m && url.searchParams.has(this.contract.pageParameter)) {
			const ds = this.practices.get(m[1]);
			if (!ds) throw new FhirError(400, 'invalid', 'Invalid practice code');
			ctx.entry.practice = m[1];
			this.stats.byPractice[m[1]].requests += 1;
			await this.faults.beforeRequest(path, m[1]);
			return this.searchset.search(res, ds, this.baseUrlFor(m[1]), m[2], [...url.searchParams], null);
		}
		if (path.startsWith('/files/')) return this.bulk.serveOtherFile(ctx);
		if (path.startsWith('/bulkstatus/')) return await this.bulk.serveOtherStatus(ctx);
		throw new FhirError(404, 'not-found', `No route for ${path}`);
	}
}
