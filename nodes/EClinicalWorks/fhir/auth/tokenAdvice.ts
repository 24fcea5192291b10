import type { ParsedError } from '../operationOutcome';

/**
 * What to do about a refused token request. The server's own text decides when it names the cause
 * (a bad signature, an unknown kid, a reused jti, an expired registration): the advice is about that
 * cause alone. Otherwise the likely causes for the error code are listed, worded for the server:
 * eClinicalWorks' admin menu and key-only backend services are only mentioned on eClinicalWorks.
 */

export type AuthMethod = 'privateKeyJwt' | 'clientSecretBasic' | 'clientSecretPost';

export interface AdviceContext {
	method: AuthMethod;
	/** The scopes asked for. */
	scopes: string;
	/** The server is eClinicalWorks. */
	ecw: boolean;
}

type Cause = 'signature' | 'jti' | 'assertionTime' | 'registration' | 'kid' | 'audience' | 'scope' | 'algorithm' | 'secret' | 'client';

/** Causes a server may name in `error_description`, most specific first. */
const NAMED_CAUSES: Array<[Cause, RegExp]> = [
	['signature', /signature/i],
	['jti', /\bjti\b|replay/i],
	['assertionTime', /(assertion|jwt|token)\b.{0,20}\b(expired|not yet valid)|\b(exp|iat|nbf)\b/i],
	['registration', /registration|\b(client|app|application)\b.{0,30}\b(expired|withdrawn|revoked|disabled|inactive|suspended)\b|\bexpired\b/i],
	['kid', /\bkid\b|key id|unknown key|no (matching )?key|jwks/i],
	['audience', /\baud\b|audience/i],
	['scope', /scope/i],
	['algorithm', /\balg\b|algorithm/i],
	['secret', /secret/i],
	['client', /client[ _]id|unknown client|client not found|no client/i],
];

/** The cause the server's own text names, if any. */
export function namedCause(parsed: ParsedError | undefined): Cause | undefined {
	// an OAuth error's description (its code is not a cause), else the server's other text
	const text = parsed?.oauthError ? parsed.oauthDescription ?? '' : parsed?.summary ?? '';
	if (!text) return undefined;
	return NAMED_CAUSES.find(([, pattern]) => pattern.test(text))?.[0];
}

function causeAdvice(cause: Cause, ctx: AdviceContext): string {
	switch (cause) {
		case 'signature':
			return 'The server could not verify the assertion\'s signature with the public key it has for the app: the Private Key is not the one published in the registered JWKS. Check the key pair (Key Pair (Setup) > Get Public JWKS shows the public part of this Private Key), that the JWKS URL the server reads publishes it, the Key ID (kid) and the Algorithm.';
		case 'jti':
			return 'The server saw this assertion id (jti) before. Every token request signs a new one, so check that this machine\'s clock is right and that nothing between n8n and the server (a proxy) sends requests twice, then try again.';
		case 'assertionTime':
			return 'The server refused the assertion\'s time (it is valid for 4.5 minutes from when it is signed): check that this machine\'s clock is right (time synchronisation), then try again.';
		case 'registration':
			return 'The app\'s registration has expired or was withdrawn: check it in the server\'s developer portal and renew it.';
		case 'kid':
			return `The server has no key with this Key ID (kid) for the app: the Key ID must equal the kid in the JWKS registered with the app (empty = the key's thumbprint, which is what Generate Key Pair uses), and the JWKS URL must be reachable by the server${ctx.ecw ? ' and allow-listed by eClinicalWorks' : ''}.`;
		case 'audience':
			return 'The assertion is addressed (aud) to the Token URL: check the Token URL, or leave it empty so it is discovered from the FHIR base URL.';
		case 'scope':
			return `Ask only for scopes the server lists and the app is registered for, in the form the server lists them (asked for: "${ctx.scopes}")${ctx.ecw ? '; on eClinicalWorks keep system/Group.read for bulk export tokens only' : ''}.`;
		case 'algorithm':
			return `The Algorithm must match the key registered (RS384 = an RSA key, ES384 = an EC P-384 key)${ctx.ecw ? '; eClinicalWorks accepts RS384 only' : ''}.`;
		case 'secret':
			return ctx.ecw
				? ecwKeyOnly()
				: 'Check the Client Secret, and that the authentication method (Basic or in the body) is the one registered.';
		case 'client':
			return 'Check the Client ID: it must be the one the app was registered with.';
	}
}

function ecwKeyOnly(): string {
	return 'eClinicalWorks backend apps sign in with Private Key JWT only (its documents make backend services key-only): set Authentication Method to Private Key JWT, make a key pair (Key Pair (Setup) > Generate Key Pair) and register its JWKS URL with the app.';
}

function listed(causes: string[]): string {
	return `${causes.length > 1 ? 'One of: ' : 'Cause: '}${causes.map((c, i) => `(${i + 1}) ${c}`).join('; ')}.`;
}

/** invalid_client: the server cannot tell who the client is, or cannot verify it. */
export function invalidClientAdvice(parsed: ParsedError | undefined, ctx: AdviceContext): string {
	const cause = namedCause(parsed);
	if (cause) return causeAdvice(cause, ctx);
	if (ctx.method !== 'privateKeyJwt') {
		if (ctx.ecw) return ecwKeyOnly();
		return 'Check the Client ID and Client Secret, and that the authentication method (Basic or in the body) is the one registered.';
	}
	return `Check: the JWKS URL is reachable by the server${ctx.ecw ? ' and allow-listed by eClinicalWorks' : ''}; the Key ID (kid) matches the key published there; the Algorithm matches the key; the Client ID is right.`;
}

/**
 * invalid_grant / invalid_scope. Scopes are the usual cause, but servers also answer invalid_grant
 * for a signature they cannot verify, an expired registration and a reused assertion id; eCW answers
 * it for an expired or malformed assertion too (its error codes).
 */
export function grantAdvice(code: 'invalid_grant' | 'invalid_scope', parsed: ParsedError | undefined, ctx: AdviceContext): string {
	const cause = namedCause(parsed);
	if (cause) return causeAdvice(cause, ctx);
	const causes = [causeAdvice('scope', ctx).replace(/\.$/, '')];
	if (code === 'invalid_grant' && ctx.method === 'privateKeyJwt') {
		if (ctx.ecw) {
			causes.push('an expired or malformed assertion (eClinicalWorks answers invalid_grant for those): check that this machine\'s clock is right');
		} else {
			causes.push('the signature does not match the key the server has for the app (JWKS URL, Key ID, Algorithm)');
			causes.push('the app registration has expired or was withdrawn (check it in the developer portal)');
			causes.push('an assertion id (jti) the server saw before, or an assertion outside its time: check that this machine\'s clock is right');
		}
	} else if (code === 'invalid_grant') {
		causes.push('the app registration has expired or was withdrawn (check it in the developer portal)');
	}
	return listed(causes);
}

/** invalid_request: malformed, by the server's reading; some servers answer it for a wrong secret. */
export function invalidRequestAdvice(parsed: ParsedError | undefined, ctx: AdviceContext): string {
	const cause = namedCause(parsed);
	if (cause) return causeAdvice(cause, ctx);
	if (ctx.method !== 'privateKeyJwt') {
		return ctx.ecw
			? ecwKeyOnly()
			: 'Some servers answer this for a wrong client secret: check the Client ID and Client Secret, and the authentication method (Basic or in the body).';
	}
	return 'The server found the request malformed and said no more: check the Token URL (leave it empty to discover it) and the Client ID.';
}
