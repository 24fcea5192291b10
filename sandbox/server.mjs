// The sandbox server: options, both origins (the FHIR one and a second one for links and files
// elsewhere), the in-process API, request dispatch and error answers. Routes live in authRoutes.mjs
// and fhirRoutes.mjs.
import http from 'node:http';
import { Admin } from './admin.mjs';
import { AuthServer } from './auth.mjs';
import { handleAuth } from './authRoutes.mjs';
import { BulkExports } from './bulk.mjs';
import { ecwContract } from './contracts/ecw.mjs';
import { smartContract } from './contracts/smart.mjs';
import { Dataset } from './data.mjs';
import { Faults } from './faults.mjs';
import { authorize, handleFhir, handleOther } from './fhirRoutes.mjs';
import { AUTHORIZE_PATH, FHIR_PREFIX, JWKS_PATH, TOKEN_PATH } from './paths.mjs';
import { RateLimiter } from './rateLimit.mjs';
import { Searchset } from './searchset.mjs';
import { FhirError, OAuthError, isLoopback, operationOutcome, sendJson } from './util.mjs';

const LOG_CAP = 10_000;

function contractFor(profile, quirks) {
	if (profile === 'ecw') {
		if (quirks && Object.keys(quirks).length) throw new Error('quirks belong to the smart profile; the ecw profile is eCW\'s published contract');
		return ecwContract();
	}
	if (profile === 'smart') return smartContract(quirks);
	throw new Error(`unknown profile ${profile}`);
}

export class Sandbox {
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
			adminRemote: !!options.adminRemote,
			now: options.now ?? Date.now,
			bulkDelayMs: options.bulkDelayMs ?? 1500,
			pollRetryAfterSeconds: options.pollRetryAfterSeconds ?? (options.fastBulk ? 1 : contract.bulk.retryAfterSeconds ?? 1),
			fileOrigin: options.fileOrigin ?? 'same',
			nextLinkOrigin: options.nextLinkOrigin ?? 'same',
			maxResourcesPerFile: options.maxResourcesPerFile ?? 10_000,
			maxPageSize: options.maxPageSize ?? null,
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
			/** The token URL a practice's discovery document names (ecw: counted in that practice's budget). */
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
				return await handleOther(this, ctx);
			}
			if (path === '/admin' || path.startsWith('/admin/')) {
				if (!this.o.admin) throw new FhirError(404, 'not-found', 'Admin endpoints are off (start with admin: true / --admin)');
				// unauthenticated: anyone who reaches it can change data, faults and the clock
				if (!this.o.adminRemote && !isLoopback(req.socket.remoteAddress)) {
					throw new FhirError(403, 'forbidden', 'Admin endpoints answer loopback callers only (start with adminRemote: true / --admin-remote to allow others)');
				}
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
				return await handleAuth(this, ctx);
			}
			if (path === FHIR_PREFIX || path.startsWith(`${FHIR_PREFIX}/`)) {
				counted = true;
				this.stats.requests += 1;
				return await handleFhir(this, ctx);
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

	/** Check the bearer token (also for the bulk module); returns the token record. */
	authorize(req, practice, entry) {
		return authorize(this, req, practice, entry);
	}
}
