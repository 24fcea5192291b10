// Token and authorize endpoints, and which practice a token request belongs to.
import { hostileTokenAnswer } from './hostile.mjs';
import { AUTHORIZE_PATH, FHIR_PREFIX, TOKEN_PATH } from './paths.mjs';
import { FhirError, OAuthError, readBody, sendJson } from './util.mjs';

/**
 * Token and authorize endpoints, one for every practice. eCW counts them in the practice's 250
 * requests per minute: `/authorize` names the practice (`aud`); a token request names none, so it
 * is charged to the practice that first uses the token (chargeTokenRequest) and, meanwhile, to the
 * auth server's own bucket.
 */
export async function handleAuth(sb, { req, res, url, path, entry }) {
	sb.stats.tokenRequests += 1;
	const practice = path === AUTHORIZE_PATH ? practiceForAud(sb, url.searchParams.get('aud')) : null;
	if (practice) {
		entry.practice = practice;
		sb.stats.byPractice[practice].tokenRequests += 1;
	}
	const body = path === TOKEN_PATH && req.method === 'POST' ? await readBody(req) : '';
	try {
		await sb.faults.beforeRequest(path, practice);
		if (sb.contract.tokenCountsInPractice && practice) sb.limiter.hit(practice, 'per practice, token requests included');
		else sb.limiter.hit('#auth', '(auth server)');
	} catch (e) {
		// the server saw the request: its assertion's jti is used
		sb.auth.rememberAssertion(body);
		throw e;
	}
	if (path === AUTHORIZE_PATH) {
		if (req.method !== 'GET') throw new FhirError(405, 'not-supported', 'Use GET');
		const out = sb.auth.authorize(url.searchParams, {
			practiceForAud: (aud) => practiceForAud(sb, aud),
			rejected: (aud) => sb.o.rejectedPractices.includes(practiceForAud(sb, aud)),
			firstPatientId: (code) => sb.practices.get(code).idFor('Patient', 0),
		});
		if (out.status === 302) {
			res.writeHead(302, { Location: out.location, 'Cache-Control': 'no-store' });
			return res.end();
		}
		return sendJson(res, out.status, out.body, {}, 'application/json');
	}
	if (req.method !== 'POST') throw new OAuthError(405, 'invalid_request', 'Use POST');
	if (hostileTokenAnswer(sb, { req, res, url, path }, practice, body)) return;
	const out = sb.auth.token(req.headers, body, { tokenUrls: [sb.tokenUrl, sb.advertisedTokenUrl], entry });
	return sendJson(res, 200, out, { Pragma: 'no-cache' }, 'application/json');
}

/**
 * A token's request, charged to the practice that first uses the token: in its requests per minute
 * (ecw) when that is still the minute the token was asked for, and in the stats and log.
 */
export function chargeTokenRequest(sb, token, practice) {
	if (token.chargedTo || !token.tokenEntry) return;
	token.chargedTo = practice;
	token.tokenEntry.practice = practice;
	sb.stats.byPractice[practice].tokenRequests += 1;
	const sameMinute = Math.floor(token.issuedAt / 60000) === Math.floor(sb.clock() / 60000);
	if (sb.contract.tokenCountsInPractice && sameMinute) sb.limiter.hit(practice, 'per practice, token requests included');
}

export function practiceForAud(sb, aud) {
	if (!aud) return null;
	const a = String(aud).replace(/\/+$/, '');
	const prefix = `${sb.origin}${FHIR_PREFIX}/`;
	if (!a.startsWith(prefix)) return null;
	const code = a.slice(prefix.length);
	return sb.practices.has(code) ? code : null;
}

