// Bulk kick-off ($export): levels, parameters, the Group, scopes and the job it starts (sandbox/bulk.mjs
// routes here). smart quirks: kickoffTokenExpired, exportExtraScopes.
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { FhirError, operationOutcome, sendJson, readBody } from './util.mjs';
import { compileSearch, parseDateRange } from './search.mjs';

const OUTPUT_FORMATS = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);

export async function kickoff(bulk, { req, res, url }, ds, base, level, groupId, token) {
	const sb = bulk.sb;
	expireTokenOnce(bulk, token);
	requireExportScopes(bulk, token);
	let group = null;
	if (level === 'group') {
		const missing = sb.auth.missingScope(token, 'Group', 'r');
		if (missing) {
			if (bulk.ecw) throw new FhirError(401, 'security', 'Unauthorized group: the token does not carry system/Group.read', { 'WWW-Authenticate': 'Bearer realm="sandbox", error="insufficient_scope"' });
			throw new FhirError(403, 'forbidden', `Missing scope ${missing}`);
		}
		group = ds.get('Group', groupId);
		if (!group) {
			// eCW's error-code guide, bulk export statuses: "401: Access token invalid or expired, OR the group id is invalid/unauthorized"
			if (bulk.ecw) throw new FhirError(401, 'security', 'Access token invalid or expired, or the group id is invalid or unauthorized', { 'WWW-Authenticate': 'Bearer realm="sandbox", error="invalid_token"' });
			throw new FhirError(404, 'not-found', `Resource Group/${groupId} is not known`);
		}
	}
	const prefer = String(req.headers.prefer ?? '');
	if (!/respond-async/i.test(prefer)) throw new FhirError(400, 'invalid', 'Prefer: respond-async header is required for $export');
	const accept = String(req.headers.accept ?? '');
	if (!accept.includes('application/fhir+json')) throw new FhirError(400, 'invalid', 'Accept: application/fhir+json header is required for $export');
	/** @type {Array<[string, any]>} */
	let params = [...url.searchParams];
	if (req.method === 'POST') {
		const text = await readBody(req);
		let body;
		try {
			body = text ? JSON.parse(text) : { resourceType: 'Parameters', parameter: [] };
		} catch {
			throw new FhirError(400, 'invalid', 'POST body must be a FHIR Parameters resource');
		}
		if (body.resourceType !== 'Parameters') throw new FhirError(400, 'invalid', 'POST body must be a FHIR Parameters resource');
		for (const p of body.parameter ?? []) {
			const v = p.valueString ?? p.valueInstant ?? p.valueDateTime ?? p.valueCode ?? p.valueBoolean ?? p.valueReference?.reference ?? p.valueUri;
			params.push([p.name, v === undefined ? '' : String(v)]);
		}
	}
	const allowed = bulk.ecw ? ['_type', '_since', '_outputFormat'] : ['_type', '_since', '_outputFormat', '_typeFilter', '_elements', 'includeAssociatedData', 'patient', '_until'];
	for (const [k] of params) {
		if (!allowed.includes(k)) throw new FhirError(400, 'not-supported', `Unsupported $export parameter: ${k}`);
		if (k === 'patient' && req.method !== 'POST') throw new FhirError(400, 'not-supported', 'Parameter patient is only supported with POST');
	}
	const get = (k) => params.filter(([n]) => n === k).map(([, v]) => v);
	const fmt = get('_outputFormat')[0];
	if (fmt !== undefined && !OUTPUT_FORMATS.has(fmt)) throw new FhirError(400, 'not-supported', `Unsupported _outputFormat: ${fmt}`);
	const served = sb.contract.bulkTypes;
	let types;
	const typeParam = get('_type').flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
	const covered = (t) => !sb.auth.missingScope(token, t, 'r');
	if (typeParam.length) {
		for (const t of typeParam) if (!served.includes(t)) throw new FhirError(400, 'not-supported', `Resource type ${t} is not available for export`);
		types = [...new Set(typeParam)];
		if (bulk.quirks.scopeFilteredExport) types = types.filter(covered);
		for (const t of types) {
			const missing = sb.auth.missingScope(token, t, 'r');
			if (missing) throw new FhirError(403, 'forbidden', `Missing scope ${missing}`);
		}
	} else {
		// every profile leaves out, without a word, the types the token may not read when no _type is given
		types = served.filter(covered);
	}
	// scopeFilteredExport (SMART's reference server): types outside the scopes are dropped silently; none left is an error
	if (bulk.quirks.scopeFilteredExport && types.length === 0) throw new FhirError(400, 'processing', 'Could not authorize access to any resources');
	let since = null;
	const sinceStr = get('_since')[0];
	if (sinceStr !== undefined) {
		const r = parseDateRange(sinceStr, sb.o.timeZone);
		if (!r) throw new FhirError(400, 'invalid', `Invalid _since: ${sinceStr}`);
		since = r.lo;
	}
	let until = null;
	const untilStr = get('_until')[0];
	if (untilStr !== undefined) {
		const r = parseDateRange(untilStr, sb.o.timeZone);
		if (!r) throw new FhirError(400, 'invalid', `Invalid _until: ${untilStr}`);
		until = r.lo;
	}
	/** @type {Map<string, any[]>} */
	const typeFilters = new Map();
	for (const tf of get('_typeFilter').flatMap((v) => v.split(','))) {
		const q = tf.indexOf('?');
		const t = q < 0 ? tf : tf.slice(0, q);
		if (!served.includes(t)) throw new FhirError(400, 'invalid', `_typeFilter names an unknown type: ${t}`);
		const compiled = compileSearch(t, [...new URLSearchParams(q < 0 ? '' : tf.slice(q + 1))], { tz: sb.o.timeZone, profile: sb.contract.name, now: sb.clock() });
		if (!typeFilters.has(t)) typeFilters.set(t, []);
		typeFilters.get(t).push(compiled);
	}
	const elements = get('_elements').flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
	let patientSet = null;
	const patients = get('patient');
	if (patients.length) {
		patientSet = new Set();
		for (const p of patients.flatMap((v) => v.split(','))) {
			const i = ds.indexOf('Patient', p.replace(/^.*Patient\//, ''));
			if (i < 0) throw new FhirError(400, 'invalid', `Unknown patient ${p}`);
			patientSet.add(i);
		}
	}
	const key = JSON.stringify([ds.code, token.clientId, level, groupId, [...params].sort()]);
	if (bulk.ecw) {
		for (const j of bulk.jobs.values()) {
			if (j.key === key && !j.cancelled && !bulk.done(j)) throw new FhirError(409, 'conflict', `An identical export request is already in progress (job_id=${j.id}); poll it or cancel it first`);
		}
	}
	const id = crypto.randomUUID().replace(/-/g, '');
	const job = {
		id,
		key,
		practice: ds.code,
		clientId: token.clientId,
		level,
		groupIdx: group ? ds.indexOf('Group', groupId) : null,
		request: `${sb.origin}${url.pathname}${url.search}`,
		startedAt: performance.now(),
		transactionTime: new Date(sb.clock()).toISOString(),
		types,
		since,
		until,
		typeFilters,
		elements,
		patientSet,
		cancelled: false,
		manifest: null,
		files: new Map(),
	};
	bulk.jobs.set(id, job);
	const statusUrl = bulk.ecw
		? `${base}/$export-poll-location?job_id=${id}`
		: bulk.statusOnOtherOrigin()
			? `${sb.otherOrigin}/bulkstatus/${ds.code}/${id}`
			: `${base}/bulkstatus/${id}`;
	job.statusUrl = statusUrl;
	return sendJson(res, 202, operationOutcome('informational', 'Export request accepted; poll the Content-Location URL', 'information'), { 'Content-Location': statusUrl, ...(bulk.ecw ? { 'Retry-After': sb.retryAfter(sb.o.pollRetryAfterSeconds) } : {}) });
}

/**
 * kickoffTokenExpired: the first kick-off of each client (or the first N, when the quirk's value
 * is a number) is answered 401 text/plain "Token expired", as SMART's reference server does for
 * a token past its lifetime; that token stays expired, a freshly minted one is accepted.
 */
function expireTokenOnce(bulk, token) {
	const quirk = bulk.quirks.kickoffTokenExpired;
	if (!quirk) return;
	const times = Number.isFinite(Number(quirk)) && quirk !== true ? Number(quirk) : 1;
	const seen = bulk.expiredKickoffs.get(token.clientId) ?? 0;
	if (seen >= times) return;
	bulk.expiredKickoffs.set(token.clientId, seen + 1);
	token.exp = bulk.sb.clock();
	const e = new FhirError(401, 'login', 'Token expired', { 'WWW-Authenticate': 'Bearer realm="sandbox", error="invalid_token"' });
	e.plainText = 'Token expired';
	throw e;
}

/** exportExtraScopes: an export needs the contract's bulk.requiredScopes besides the read scopes (403 naming them). */
function requireExportScopes(bulk, token) {
	const required = bulk.sb.contract.bulk.requiredScopes ?? [];
	const missing = required.filter((scope) => !bulk.sb.auth.grants(token, scope));
	if (missing.length === 0) return;
	throw new FhirError(403, 'forbidden', `Insufficient scope: a bulk export needs ${required.join(', ')} besides read access; this token lacks ${missing.join(', ')}`);
}
