// Shared helpers for the sandbox tests (not a test file itself).
import { signAssertion } from '../../sandbox/jwt.mjs';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export function client(sb, id) {
	const c = sb.clients.find((x) => x.clientId === id);
	if (!c) throw new Error(`no client ${id}`);
	return c;
}

export function assertionFor(sb, id, over = {}) {
	const c = client(sb, id);
	return signAssertion({ clientId: c.clientId, tokenUrl: sb.tokenUrl, privateKeyPem: c.privateKeyPem, alg: c.alg, kid: c.kid, now: sb.now(), ...over });
}

export async function postForm(url, form, headers = {}) {
	const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form), redirect: 'manual' });
	const text = await res.text();
	let json;
	try {
		json = JSON.parse(text);
	} catch {
		json = undefined;
	}
	return { status: res.status, json, headers: res.headers };
}

export async function tokenRequest(sb, id, { scope, over, form = {} } = {}) {
	const c = client(sb, id);
	return postForm(sb.tokenUrl, { grant_type: 'client_credentials', scope: scope ?? c.scopes, client_assertion_type: ASSERTION_TYPE, client_assertion: assertionFor(sb, id, over), ...form });
}

export async function token(sb, id = 'sandbox-rs384', scope) {
	const r = await tokenRequest(sb, id, { scope });
	if (r.status !== 200) throw new Error(`token failed ${r.status} ${JSON.stringify(r.json)}`);
	return r.json.access_token;
}

export async function get(url, tok, headers = {}) {
	const res = await fetch(url, { headers: { accept: 'application/fhir+json', ...(tok ? { authorization: `Bearer ${tok}` } : {}), ...headers } });
	const text = await res.text();
	let json;
	try {
		json = JSON.parse(text);
	} catch {
		json = undefined;
	}
	return { status: res.status, json, text, headers: res.headers };
}

/** Follow next links; returns all match resources and the bundles. */
export async function searchAll(url, tok) {
	const bundles = [];
	const matches = [];
	let next = url;
	while (next) {
		const r = await get(next, tok);
		if (r.status !== 200) throw new Error(`search ${next} -> ${r.status} ${r.text}`);
		bundles.push(r.json);
		for (const e of r.json.entry ?? []) if (e.search?.mode === 'match') matches.push(e.resource);
		next = r.json.link?.find((l) => l.relation === 'next')?.url;
	}
	return { bundles, matches };
}

export async function kickoff(url, tok, { method = 'GET', body, headers = {} } = {}) {
	const res = await fetch(url, {
		method,
		headers: { accept: 'application/fhir+json', prefer: 'respond-async', authorization: `Bearer ${tok}`, ...(body ? { 'content-type': 'application/fhir+json' } : {}), ...headers },
		body: body ? JSON.stringify(body) : undefined,
	});
	const text = await res.text();
	return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

export async function pollToManifest(statusUrl, tok, maxMs = 10_000) {
	const t0 = Date.now();
	const progress = [];
	for (;;) {
		const r = await get(statusUrl, tok);
		if (r.status === 200) return { manifest: r.json, progress };
		if (r.status !== 202) throw new Error(`poll -> ${r.status} ${r.text}`);
		progress.push({ xProgress: r.headers.get('x-progress'), retryAfter: r.headers.get('retry-after') });
		if (Date.now() - t0 > maxMs) throw new Error('export did not finish');
		await new Promise((res) => setTimeout(res, 100));
	}
}

export const ndjsonLines = (text) => text.split('\n').filter(Boolean);
