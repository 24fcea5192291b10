// Token and authorize endpoints, and which practice a token request belongs to.
import { hostileTokenAnswer } from './hostile.mjs';
import { AUTHORIZE_PATH, FHIR_PREFIX } from './paths.mjs';
import { FhirError, OAuthError, readBody, sendJson } from './util.mjs';

/**
 * Token and authorize endpoints. eCW counts them in the practice's 250 requests per minute: the
 * practice is named by the token URL its discovery document gives (`?practice=`) or by `aud`.
 */
export async function handleAuth(sb, { req, res, url, path, entry }) {
	sb.stats.tokenRequests += 1;
	const named = url.searchParams.get('practice');
	const rejected = (aud) => {
		const code = practiceForAud(sb, aud) ?? (aud && sb.practices.has(aud) ? aud : null);
		if (code && !entry.practice) {
			entry.practice = code;
			sb.stats.byPractice[code].tokenRequests += 1;
		}
		return !!code && sb.o.rejectedPractices.includes(code);
	};
	if (named !== null && !sb.practices.has(named)) throw new OAuthError(400, 'invalid_request', `Unknown practice ${named}`);
	const practice = named ?? (path === AUTHORIZE_PATH ? practiceForAud(sb, url.searchParams.get('aud')) : null);
	if (practice) {
		entry.practice = practice;
		sb.stats.byPractice[practice].tokenRequests += 1;
	}
	await sb.faults.beforeRequest(path, practice);
	if (sb.contract.tokenCountsInPractice && practice) sb.limiter.hit(practice, 'per practice, token requests included');
	else sb.limiter.hit('#auth', '(auth server)');
	if (path === AUTHORIZE_PATH) {
		if (req.method !== 'GET') throw new FhirError(405, 'not-supported', 'Use GET');
		const out = sb.auth.authorize(url.searchParams, {
			practiceForAud: (aud) => practiceForAud(sb, aud),
			rejected,
			firstPatientId: (code) => sb.practices.get(code).idFor('Patient', 0),
		});
		if (out.status === 302) {
			res.writeHead(302, { Location: out.location, 'Cache-Control': 'no-store' });
			return res.end();
		}
		return sendJson(res, out.status, out.body, {}, 'application/json');
	}
	if (req.method !== 'POST') throw new OAuthError(405, 'invalid_request', 'Use POST');
	const body = await readBody(req);
	if (hostileTokenAnswer(sb, { req, res, url, path }, practice, body)) return;
	const tokenUrl = named === null ? sb.tokenUrl : sb.contract.tokenUrlFor(sb.origin, named);
	const out = sb.auth.token(req.headers, body, { tokenUrl, rejected: (aud) => rejected(aud) || (!!named && sb.o.rejectedPractices.includes(named)) });
	return sendJson(res, 200, out, { Pragma: 'no-cache' }, 'application/json');
}

export function practiceForAud(sb, aud) {
	if (!aud) return null;
	const a = String(aud).replace(/\/+$/, '');
	const prefix = `${sb.origin}${FHIR_PREFIX}/`;
	if (!a.startsWith(prefix)) return null;
	const code = a.slice(prefix.length);
	return sb.practices.has(code) ? code : null;
}

