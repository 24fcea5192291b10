// FHIR routes: discovery, metadata, search, read, $everything and bulk on the FHIR origin; paging
// links and bulk files on the second origin. Bearer tokens, scopes and declared interactions are checked here.
import { chargeTokenRequest } from './authRoutes.mjs';
import { hostileFhirAnswer } from './hostile.mjs';
import { FHIR_PREFIX } from './paths.mjs';
import { FhirError, readBody, sendJson } from './util.mjs';

/** Check the bearer token; returns the token record. */
export function authorize(sb, req, practice, entry) {
	const r = sb.auth.check(req.headers.authorization);
	if (r.error) {
		const desc = { missing: 'Missing bearer token', invalid: 'Invalid access token', revoked: 'Access token revoked', expired: 'Access token expired' }[r.error];
		const www = r.error === 'missing' ? 'Bearer realm="sandbox"' : `Bearer realm="sandbox", error="invalid_token", error_description="${desc}"`;
		throw new FhirError(401, 'login', desc, { 'WWW-Authenticate': www });
	}
	chargeTokenRequest(sb, r.token, practice);
	if (sb.o.rejectedPractices.includes(practice)) {
		throw new FhirError(401, 'security', `invalid_client: the application is not enabled for practice ${practice}`, { 'WWW-Authenticate': 'Bearer realm="sandbox", error="invalid_client"' });
	}
	entry.authorized = true;
	return r.token;
}

function requireScope(sb, token, type, perm) {
	const missing = sb.auth.missingScope(token, type, perm);
	if (missing) throw new FhirError(403, 'forbidden', `Missing scope ${missing}`);
}

/** The contract's word on an interaction: 404 for a type it does not declare, 405 for an undeclared interaction. */
function requireInteraction(sb, type, interaction) {
	const declared = sb.contract.declared.get(type);
	if (!declared) throw new FhirError(404, 'not-supported', `Resource type ${type} is not supported by this server`);
	if (!declared.interactions.has(interaction)) {
		const offered = [...declared.interactions].join(', ') || 'none';
		throw new FhirError(405, 'not-supported', `${interaction} is not supported for ${type} (this server declares: ${offered})`);
	}
}

export async function handleFhir(sb, ctx) {
	const { req, res, url, path, entry } = ctx;
	const segs = path.slice(FHIR_PREFIX.length).split('/').filter(Boolean).map(decodeURIComponent);
	const code = segs[0];
	if (!code || !sb.practices.has(code)) throw new FhirError(400, 'invalid', 'Invalid or missing practice code in the FHIR base URL (expected /fhir/r4/{practiceCode})');
	entry.practice = code;
	sb.stats.byPractice[code].requests += 1;
	await sb.faults.beforeRequest(path, code);
	sb.limiter.hit(code, 'per practice');
	const ds = sb.practices.get(code);
	const base = sb.baseUrlFor(code);
	if (await hostileFhirAnswer(sb, ctx, code, base)) return;
	const rest = segs.slice(1);
	const docs = { origin: sb.origin, base, practice: code, tokenUrl: sb.advertisedTokenUrl, authorizeUrl: sb.authorizeUrl, now: sb.clock(), timeZone: sb.o.timeZone };
	if (rest.length === 1 && rest[0] === 'metadata') return sendJson(res, 200, sb.contract.capabilityStatement(docs));
	if (rest.length === 2 && rest[0] === '.well-known' && rest[1] === 'smart-configuration') {
		return sendJson(res, 200, sb.contract.smartConfiguration({ ...docs, clientScopes: sb.auth.clients.flatMap((c) => c.scopes.split(' ')) }), {}, 'application/json');
	}
	const token = authorize(sb, req, code, entry);
	const bulk = await sb.bulk.route(ctx, ds, base, rest, token);
	if (bulk !== false) return;
	if (rest.length === 0) throw new FhirError(404, 'not-found', 'No resource type given');
	const type = rest[0];
	if (rest.length === 1 || (rest.length === 2 && rest[1] === '_search')) {
		if (req.method !== 'GET' && !(req.method === 'POST' && rest[1] === '_search')) throw new FhirError(405, 'not-supported', `${req.method} is not supported`);
		requireInteraction(sb, type, 'search-type');
		requireScope(sb, token, type, 's');
		let pairs = [...url.searchParams];
		if (req.method === 'POST') pairs = pairs.concat([...new URLSearchParams(await readBody(req))]);
		return sb.searchset.search(res, ds, base, type, pairs, token);
	}
	if (req.method !== 'GET') throw new FhirError(405, 'not-supported', `${req.method} is not supported (read-only server)`);
	if (rest.length === 2) {
		requireInteraction(sb, type, 'read');
		requireScope(sb, token, type, 'r');
		const r = ds.get(type, rest[1]);
		if (!r) throw new FhirError(404, 'not-found', `Resource ${type}/${rest[1]} is not known`);
		return sendJson(res, 200, r, { ETag: `W/"${r.meta.versionId}"`, 'Last-Modified': new Date(r.meta.lastUpdated).toUTCString() });
	}
	// served whether or not the CapabilityStatement lists it (the undeclaredEverything quirk leaves it out)
	if (rest.length === 3 && type === 'Patient' && rest[2] === '$everything') {
		requireScope(sb, token, 'Patient', 'r');
		if (sb.contract.quirks?.everythingNeedsAllScopes && sb.contract.bulkTypes.some((t) => sb.auth.missingScope(token, t, 'r'))) {
			throw new FhirError(403, 'forbidden', 'Insufficient scope: Patient/$everything needs read access to every kind of resource in the record');
		}
		return sb.searchset.everything(res, ds, base, rest[1], token);
	}
	throw new FhirError(404, 'not-found', `No route for ${path}`);
}

export async function handleOther(sb, ctx) {
	const { res, url, path } = ctx;
	const m = /^\/fhir\/r4\/([^/]+)\/([A-Za-z]+)$/.exec(path);
	if (m && url.searchParams.has(sb.contract.pageParameter)) {
		const ds = sb.practices.get(m[1]);
		if (!ds) throw new FhirError(400, 'invalid', 'Invalid practice code');
		ctx.entry.practice = m[1];
		sb.stats.byPractice[m[1]].requests += 1;
		await sb.faults.beforeRequest(path, m[1]);
		return sb.searchset.search(res, ds, sb.baseUrlFor(m[1]), m[2], [...url.searchParams], null);
	}
	if (path.startsWith('/files/')) return sb.bulk.serveOtherFile(ctx);
	if (path.startsWith('/bulkstatus/')) return await sb.bulk.serveOtherStatus(ctx);
	throw new FhirError(404, 'not-found', `No route for ${path}`);
}
