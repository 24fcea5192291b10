// OAuth 2 / SMART auth server of the sandbox: demo clients and keys, token endpoint
// (client_credentials with private_key_jwt or client secret, authorization_code + PKCE,
// refresh_token), authorize endpoint, access-token validation and scope checks.
import crypto from 'node:crypto';
import { decodeJwt, verifySignature } from './jwt.mjs';
import { OAuthError, randomToken } from './util.mjs';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const CLOCK_SKEW_S = 30;
const MAX_ASSERTION_LIFETIME_S = 300;

let keyCache = null;
/** Key pairs are generated once per process (RSA 2048 generation is slow-ish). */
function keys() {
	if (!keyCache) {
		const pair = (type, opts) => {
			const { privateKey, publicKey } = crypto.generateKeyPairSync(type, opts);
			return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }), publicKey, publicJwk: publicKey.export({ format: 'jwk' }) };
		};
		keyCache = {
			rsa: pair('rsa', { modulusLength: 2048 }),
			rsa2: pair('rsa', { modulusLength: 2048 }),
			ec: pair('ec', { namedCurve: 'P-384' }),
		};
	}
	return keyCache;
}

// ---------- scopes ----------
const RESOURCE_SCOPE_RE = /^(system|patient|user)\/(\*|[A-Z][A-Za-z]+)\.(read|write|\*|c?r?u?d?s?)(\?\S*)?$/;
const OTHER_SCOPES = new Set(['launch', 'launch/patient', 'launch/encounter', 'openid', 'fhirUser', 'profile', 'offline_access', 'online_access']);

/** Parse one scope; null if malformed. */
export function parseScope(s, { readImpliesSearch = false } = {}) {
	if (OTHER_SCOPES.has(s)) return { raw: s, other: true };
	const m = RESOURCE_SCOPE_RE.exec(s);
	if (!m || m[3] === '') return null;
	let perms = m[3] === 'read' ? 'rs' : m[3] === 'write' ? 'cud' : m[3] === '*' ? 'cruds' : m[3];
	if (readImpliesSearch && perms === 'r') perms = 'rs';
	return { raw: s, context: m[1], type: m[2], perms, query: m[4] };
}

/** Is requested scope r covered by one of the granted scopes? */
function covered(r, granted) {
	if (r.other) return granted.some((g) => g.raw === r.raw);
	return granted.some((g) => !g.other && g.context === r.context && (g.type === '*' || g.type === r.type) && [...r.perms].every((p) => g.perms.includes(p)));
}

/**
 * The auth server. One per sandbox; shared by all practices.
 */
export class AuthServer {
	/**
	 * @param {{ contract: any, clock: () => number, tokenLifetimeSeconds: number,
	 *   userTokenLifetimeSeconds: number, redirectUris: string[], seed: number }} o
	 */
	constructor(o) {
		this.o = o;
		this.contract = o.contract;
		this.tokens = new Map();
		this.jtis = new Map();
		this.codes = new Map();
		this.refreshTokens = new Map();
		this.revokedBefore = 0; // tokens issued with gen < this are revoked
		this.gen = 0;
		const k = keys();
		const { backend: backendScopes, user: userScopes, es384Client, secretClient } = o.contract.clientScopes;
		const secret = crypto.createHash('sha256').update(`sandbox-secret-${o.seed}`).digest('base64url').slice(0, 32);
		const rsaClient = (clientId, pair, scopes, description) => ({ clientId, description, authMethod: 'private_key_jwt', alg: 'RS384', kid: `${clientId}-key-1`, privateKeyPem: pair.privateKeyPem, publicJwk: { ...pair.publicJwk, kid: `${clientId}-key-1`, alg: 'RS384', use: 'sig' }, publicKey: pair.publicKey, clientSecret: null, scopes });
		/** @type {any[]} */
		this.clients = [
			rsaClient('sandbox-rs384', k.rsa, backendScopes, 'backend services, private_key_jwt RS384, all read scopes incl. Group'),
			// eCW documents RS384 only: its profile has no ES384 client
			...(es384Client ? [{ clientId: 'sandbox-es384', description: 'backend services, private_key_jwt ES384, all read scopes incl. Group', authMethod: 'private_key_jwt', alg: 'ES384', kid: 'sandbox-es384-key-1', privateKeyPem: k.ec.privateKeyPem, publicJwk: { ...k.ec.publicJwk, kid: 'sandbox-es384-key-1', alg: 'ES384', use: 'sig' }, publicKey: k.ec.publicKey, clientSecret: null, scopes: backendScopes }] : []),
			// eCW's backend services are key-only: its profile has no client-secret backend client
			...(secretClient ? [{ clientId: 'sandbox-secret', description: 'backend services, client_secret_basic (client_secret_post also accepted), all read scopes incl. Group', authMethod: 'client_secret_basic', alg: null, kid: null, privateKeyPem: null, publicJwk: null, clientSecret: secret, scopes: backendScopes }] : []),
			rsaClient('sandbox-patient-only', k.rsa2, 'system/Patient.read', 'backend services, private_key_jwt RS384, LIMITED: only system/Patient.read (for 403 tests)'),
			{ clientId: 'sandbox-user-pkce', description: 'public client, authorization code + PKCE S256 (auto-approved demo user)', authMethod: 'none', alg: null, kid: null, privateKeyPem: null, publicJwk: null, clientSecret: null, scopes: userScopes, redirectUris: o.redirectUris },
		];
		this.byId = new Map(this.clients.map((c) => [c.clientId, c]));
		const parseOpts = { readImpliesSearch: o.contract.scopes.readImpliesSearch };
		for (const c of this.clients) {
			c.granted = c.scopes.split(' ').map((s) => parseScope(s, parseOpts));
			// wildcard requests (system/*.read, system/*.rs) are accepted for the full backend clients of a standard server
			if (c.scopes === backendScopes && o.contract.name === 'smart') c.granted.push(parseScope('system/*.read'));
			// scopes an export needs besides reading (smart exportExtraScopes): registered for every backend client
			if (c.authMethod !== 'none') c.granted.push(...(o.contract.bulk.requiredScopes ?? []).map((s) => parseScope(s)));
		}
		/** Resource-like names that only appear in scopes (AsyncJob, BulkDataExport), accepted when the contract needs them. */
		this.scopeOnlyTypes = new Set((o.contract.bulk.requiredScopes ?? []).map((s) => parseScope(s).type));
	}

	/** Public view of the clients (what startSandbox returns). */
	publicClients(tokenUrl, origin) {
		return this.clients.map((c) => ({
			clientId: c.clientId,
			authMethod: c.authMethod,
			alg: c.alg,
			kid: c.kid,
			privateKeyPem: c.privateKeyPem,
			publicJwk: c.publicJwk,
			clientSecret: c.clientSecret,
			scopes: c.scopes,
			description: c.description,
			...(c.publicJwk ? { jwksUrl: `${origin}/sandbox/clients/${c.clientId}/jwks.json` } : {}),
			...(c.authMethod === 'none' ? { redirectUris: ['http://127.0.0.1:*/*', 'http://localhost:*/*', ...(c.redirectUris ?? [])] } : {}),
			tokenUrl,
		}));
	}

	jwks(clientId) {
		const c = this.byId.get(clientId);
		return c?.publicJwk ? { keys: [c.publicJwk] } : null;
	}

	now() {
		return this.o.clock();
	}

	/** Revoke every access token issued so far. */
	revokeAll() {
		this.revokedBefore = ++this.gen;
	}

	/**
	 * `tokenEntry`: the log entry of the token request; the request is charged to a practice's budget
	 * when the token is first used there (the token URL names no practice).
	 */
	issue(clientId, scope, lifetime, extra = {}) {
		const token = randomToken(32);
		this.tokens.set(token, { clientId, scope, granted: scope.split(' ').map((x) => parseScope(x, { readImpliesSearch: this.contract.scopes.readImpliesSearch })).filter(Boolean), exp: this.now() + lifetime * 1000, gen: this.gen, issuedAt: this.now(), chargedTo: null, ...extra });
		if (this.tokens.size > 50_000) {
			const t = this.now();
			for (const [k, v] of this.tokens) if (v.exp < t) this.tokens.delete(k);
		}
		return token;
	}

	/** Validate a bearer token; returns the token record or a reason string. */
	check(authorization) {
		const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
		if (!m) return { error: 'missing' };
		const t = this.tokens.get(m[1]);
		if (!t) return { error: 'invalid' };
		if (t.gen < this.revokedBefore) return { error: 'revoked' };
		if (t.exp <= this.now()) return { error: 'expired' };
		return { token: t };
	}

	/** Does the token carry a scope covering `scope` (e.g. `system/AsyncJob.*`: every permission on AsyncJob)? */
	grants(token, scope) {
		const want = parseScope(scope);
		return !!want && covered(want, token.granted);
	}

	/** Does the token allow perm ('r' read or 's' search) on type? Returns missing scope name or null. */
	missingScope(token, type, perm) {
		const ok = token.granted.some((g) => !g.other && (g.type === '*' || g.type === type) && g.perms.includes(perm));
		if (ok) return null;
		const ctx = token.granted.find((g) => !g.other)?.context ?? 'system';
		// name a scope the server offers (eCW lists Coverage only as .r)
		const supported = this.contract.scopes.supported;
		return [`${ctx}/${type}.read`, `${ctx}/${type}.rs`, `${ctx}/${type}.r`].find((s) => !supported || supported.has(s)) ?? `${ctx}/${type}.read`;
	}

	// ---------- token endpoint ----------
	/**
	 * One token URL for every practice, as eCW's: a token request names no practice, so nothing is
	 * refused here for a practice that has not enabled the app (its FHIR calls are).
	 * @param {Record<string,string|undefined>} headers
	 * @param {string} bodyText
	 * @param {{ tokenUrls: string[], entry?: object }} ctx tokenUrls: what `aud` may be (the URL posted to, or the one discovery names)
	 */
	token(headers, bodyText, ctx) {
		const ct = String(headers['content-type'] ?? '');
		if (!ct.startsWith('application/x-www-form-urlencoded')) throw new OAuthError(400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
		const form = new URLSearchParams(bodyText);
		const grant = form.get('grant_type');
		if (!['client_credentials', 'authorization_code', 'refresh_token'].includes(grant ?? '')) throw new OAuthError(400, 'unsupported_grant_type', `grant_type ${grant ?? '(missing)'} is not supported`);
		const client = this.authenticateClient(headers, form, ctx.tokenUrls);
		if (grant === 'client_credentials') {
			if (client.authMethod === 'none') throw new OAuthError(400, 'unauthorized_client', 'A public client cannot use client_credentials');
			const scope = this.validateScopes(client, form.get('scope'), true);
			const lifetime = this.o.tokenLifetimeSeconds;
			return { access_token: this.issue(client.clientId, scope, lifetime, { tokenEntry: ctx.entry ?? null }), token_type: 'Bearer', expires_in: lifetime, scope };
		}
		if (grant === 'authorization_code') {
			const code = form.get('code') ?? '';
			const rec = this.codes.get(code);
			this.codes.delete(code);
			if (!rec || rec.exp < this.now()) throw new OAuthError(400, 'invalid_grant', 'Unknown, used or expired authorization code');
			if (rec.clientId !== client.clientId) throw new OAuthError(400, 'invalid_grant', 'Code was issued to another client');
			if ((form.get('redirect_uri') ?? '') !== rec.redirectUri) throw new OAuthError(400, 'invalid_grant', 'redirect_uri does not match the authorization request');
			const verifier = form.get('code_verifier') ?? '';
			if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) throw new OAuthError(400, 'invalid_grant', 'code_verifier missing or malformed');
			const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
			if (challenge !== rec.challenge) throw new OAuthError(400, 'invalid_grant', 'code_verifier does not match code_challenge');
			return this.userTokenResponse(client.clientId, rec.scope, rec.patient, ctx.entry);
		}
		// refresh_token
		const rt = form.get('refresh_token') ?? '';
		const rec = this.refreshTokens.get(rt);
		if (!rec || rec.clientId !== client.clientId) throw new OAuthError(400, 'invalid_grant', 'Unknown refresh token');
		if (rec.used) throw new OAuthError(400, 'invalid_grant', 'Refresh token already used (refresh tokens are single-use)');
		if (rec.exp < this.now()) throw new OAuthError(400, 'invalid_grant', 'Refresh token expired');
		rec.used = true;
		let scope = rec.scope;
		if (form.get('scope')) {
			const asked = form.get('scope').split(/\s+/).filter(Boolean);
			const have = rec.scope.split(' ');
			const extra = asked.filter((s) => !have.includes(s));
			if (extra.length) throw new OAuthError(400, 'invalid_scope', `Scope ${extra[0]} was not granted originally`);
			scope = asked.join(' ');
		}
		return this.userTokenResponse(client.clientId, scope, rec.patient, ctx.entry);
	}

	userTokenResponse(clientId, scope, patient, tokenEntry = null) {
		const lifetime = this.o.userTokenLifetimeSeconds;
		const body = { access_token: this.issue(clientId, scope, lifetime, { patient, tokenEntry }), token_type: 'Bearer', expires_in: lifetime, scope };
		if (patient && scope.split(' ').includes('launch/patient')) body.patient = patient;
		if (scope.split(' ').includes('offline_access')) {
			const rt = randomToken(32);
			this.refreshTokens.set(rt, { clientId, scope, patient, used: false, exp: this.now() + 90 * 86400_000 });
			body.refresh_token = rt;
		}
		return body;
	}

	/**
	 * Every requested scope must be well formed, offered by the server (eCW: listed in its
	 * scopes_supported, else invalid_grant) and registered for the client.
	 */
	validateScopes(client, scopeStr, backend) {
		const rules = this.contract.scopes;
		if (!scopeStr || !scopeStr.trim()) throw new OAuthError(400, rules.refusalError, 'scope is required');
		const list = scopeStr.trim().split(/\s+/);
		for (const s of list) {
			const p = parseScope(s, { readImpliesSearch: rules.readImpliesSearch });
			if (!p) throw new OAuthError(400, 'invalid_grant', `Malformed scope: ${s}`);
			if (rules.refuseUnsupported && !rules.supported.has(s)) throw new OAuthError(400, 'invalid_grant', `The requested scope is not supported: ${s}`);
			if (backend && (p.other || p.context !== 'system')) throw new OAuthError(400, rules.refusalError, `Scope ${s} is not available to backend services (use system/ scopes)`);
			if (!p.other && p.type !== '*' && !this.contract.dataTypes.includes(p.type) && !this.contract.declared.has(p.type) && !this.scopeOnlyTypes.has(p.type)) throw new OAuthError(400, rules.refusalError, `Scope ${s} names a resource type this server does not have`);
			if (!covered(p, client.granted)) throw new OAuthError(400, rules.refusalError, `Scope ${s} is not granted to client ${client.clientId}`);
		}
		return list.join(' ');
	}

	authenticateClient(headers, form, tokenUrls) {
		const auth = String(headers.authorization ?? '');
		if (/^Basic\s/i.test(auth)) {
			let id, secret;
			try {
				const dec = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
				const i = dec.indexOf(':');
				id = decodeURIComponent(dec.slice(0, i).replace(/\+/g, ' '));
				secret = decodeURIComponent(dec.slice(i + 1).replace(/\+/g, ' '));
			} catch {
				throw new OAuthError(401, 'invalid_client', 'Malformed Basic authorization header');
			}
			return this.checkSecret(id, secret);
		}
		const assertionType = form.get('client_assertion_type');
		const assertion = form.get('client_assertion');
		if (assertionType || assertion) {
			if (assertionType !== ASSERTION_TYPE) throw new OAuthError(401, 'invalid_client', `client_assertion_type must be ${ASSERTION_TYPE}`);
			return this.checkAssertion(assertion ?? '', form.get('client_id'), tokenUrls);
		}
		if (form.get('client_secret') !== null) return this.checkSecret(form.get('client_id') ?? '', form.get('client_secret'));
		const id = form.get('client_id');
		const c = id ? this.byId.get(id) : undefined;
		if (c && c.authMethod === 'none') return c;
		if (c) throw new OAuthError(401, 'invalid_client', `Client ${id} must authenticate (${c.authMethod})`);
		throw new OAuthError(401, 'invalid_client', id ? 'Unknown client_id' : 'Client authentication is required');
	}

	checkSecret(id, secret) {
		const c = this.byId.get(id);
		if (!c || !c.clientSecret) throw new OAuthError(401, 'invalid_client', 'Unknown client or client has no secret');
		const a = Buffer.from(String(secret));
		const b = Buffer.from(c.clientSecret);
		if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) {
			if (this.contract.quirks?.secretErrorInvalidRequest) throw new OAuthError(400, 'invalid_request', 'Bad client credentials');
			throw new OAuthError(401, 'invalid_client', 'Invalid client secret');
		}
		return c;
	}

	/**
	 * A token request the server received but did not answer (a fault, the rate limit): the assertion
	 * was seen, so its jti counts as used and sending the same assertion again is a replay.
	 */
	rememberAssertion(bodyText) {
		const assertion = new URLSearchParams(bodyText ?? '').get('client_assertion');
		if (!assertion) return;
		try {
			const { payload } = decodeJwt(assertion);
			if (typeof payload.iss !== 'string' || typeof payload.jti !== 'string') return;
			const key = `${payload.iss} ${payload.jti}`;
			if (!this.jtis.has(key)) this.jtis.set(key, typeof payload.exp === 'number' ? payload.exp : this.now() / 1000 + MAX_ASSERTION_LIFETIME_S);
		} catch {
			// not an assertion: nothing to remember
		}
	}

	checkAssertion(assertion, formClientId, tokenUrls) {
		// eCW: an expired or malformed assertion is 400 invalid_grant; elsewhere (and for the rest) 401 invalid_client
		const expiredOrMalformed = this.contract.assertionExpiredOrMalformed ?? { status: 401, error: 'invalid_client' };
		const malformed = (msg) => {
			throw new OAuthError(expiredOrMalformed.status, expiredOrMalformed.error, msg);
		};
		let d;
		try {
			d = decodeJwt(assertion);
		} catch {
			malformed('Malformed client_assertion');
		}
		const { header, payload } = d;
		const fail = (msg) => {
			if (this.contract.quirks?.assertionErrorInvalidRequest) throw new OAuthError(400, 'invalid_request', msg);
			throw new OAuthError(401, 'invalid_client', msg);
		};
		if (header.typ !== undefined && header.typ !== 'JWT') fail('typ must be JWT');
		if (typeof payload.iss !== 'string' || payload.iss !== payload.sub) fail('iss and sub must both be the client_id');
		if (formClientId && formClientId !== payload.iss) fail('client_id does not match the assertion issuer');
		const c = this.byId.get(payload.iss);
		if (!c) fail('Unknown client_id');
		if (c.authMethod !== 'private_key_jwt') fail(`Client ${c.clientId} is not registered for private_key_jwt`);
		if (!header.kid) fail('kid header is required');
		if (header.kid !== c.kid) fail('unknown kid');
		if (!this.contract.signingAlgorithms.includes(header.alg)) fail(`alg ${header.alg} is not supported; this server accepts ${this.contract.signingAlgorithms.join(', ')}`);
		if (header.alg !== c.alg) fail(`alg ${header.alg} does not match the registered key (${c.alg})`);
		if (header.jku !== undefined && header.jku !== `${this.origin}/sandbox/clients/${c.clientId}/jwks.json`) fail('jku does not match the registered JWKS URL');
		if (!verifySignature(d, c.alg, c.publicKey)) fail('Invalid client_assertion signature');
		const auds = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
		if (!auds.some((a) => tokenUrls.includes(a))) fail('aud must be the token URL');
		const nowS = this.now() / 1000;
		if (typeof payload.exp !== 'number') malformed('exp is required');
		if (payload.exp <= nowS - CLOCK_SKEW_S) malformed('client_assertion expired');
		if (payload.exp > nowS + MAX_ASSERTION_LIFETIME_S + CLOCK_SKEW_S) malformed('exp must be at most 5 minutes in the future');
		if (typeof payload.nbf === 'number' && payload.nbf > nowS + CLOCK_SKEW_S) malformed('client_assertion not yet valid (nbf)');
		if (typeof payload.jti !== 'string' || !payload.jti) malformed('jti is required');
		const key = `${c.clientId} ${payload.jti}`;
		for (const [k, exp] of this.jtis) if (exp < nowS - CLOCK_SKEW_S) this.jtis.delete(k); else break;
		if (this.jtis.has(key)) fail('jti replayed');
		this.jtis.set(key, payload.exp);
		return c;
	}

	// ---------- authorize endpoint ----------
	/**
	 * @param {URLSearchParams} q
	 * @param {{ practiceForAud: (aud: string) => string|null, rejected: (aud: string) => boolean, firstPatientId: (practice: string) => string }} ctx
	 * @returns {{ status: number, location?: string, body?: any }}
	 */
	authorize(q, ctx) {
		const clientId = q.get('client_id');
		const c = clientId ? this.byId.get(clientId) : undefined;
		if (!c) return { status: 400, body: { error: 'invalid_request', error_description: 'Unknown client_id' } };
		const redirectUri = q.get('redirect_uri') ?? '';
		if (!this.redirectAllowed(redirectUri)) return { status: 400, body: { error: 'invalid_request', error_description: 'redirect_uri is not registered for this client' } };
		const state = q.get('state');
		const back = (params) => {
			const u = new URL(redirectUri);
			for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) u.searchParams.set(k, v);
			if (state !== null) u.searchParams.set('state', state);
			return { status: 302, location: u.toString() };
		};
		if (q.get('response_type') !== 'code') return back({ error: 'unsupported_response_type', error_description: 'response_type must be code' });
		if (!state) return back({ error: 'invalid_request', error_description: 'state is required' });
		const aud = q.get('aud') ?? '';
		const practice = ctx.practiceForAud(aud);
		if (!practice) return back({ error: 'invalid_request', error_description: 'aud must be a FHIR base URL served here' });
		if (ctx.rejected(aud)) return back({ error: 'unauthorized_client', error_description: 'The application is not enabled for this practice' });
		if (!q.get('code_challenge')) return back({ error: 'invalid_request', error_description: 'code_challenge is required (PKCE)' });
		if (q.get('code_challenge_method') !== 'S256') return back({ error: 'invalid_request', error_description: 'code_challenge_method must be S256' });
		let scope;
		try {
			scope = this.validateScopes(c, q.get('scope'), false);
		} catch (e) {
			return back({ error: e.error, error_description: e.message });
		}
		const code = randomToken(24);
		this.codes.set(code, { clientId: c.clientId, redirectUri, challenge: q.get('code_challenge'), scope, practice, patient: ctx.firstPatientId(practice), exp: this.now() + 60_000 });
		return back({ code });
	}

	redirectAllowed(uri) {
		let u;
		try {
			u = new URL(uri);
		} catch {
			return false;
		}
		if (u.protocol === 'http:' && (u.hostname === '127.0.0.1' || u.hostname === 'localhost')) return true;
		return (this.o.redirectUris ?? []).includes(uri);
	}
}
