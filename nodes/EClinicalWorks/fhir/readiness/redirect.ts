import type { Check, CheckResult } from './types';
import { isLoopbackUrl } from './util';

/**
 * The OAuth redirect URI: for User Login credentials, the one n8n sends (from the instance's base URL)
 * must be HTTPS and not localhost: eClinicalWorks does not accept localhost redirect URIs in
 * production. Backend Service credentials have none (no browser login).
 */

const CHECK = 'Redirect URI';

/** n8n's OAuth2 callback: the instance's base URL, n8n's REST path, then /oauth2-credential/callback. */
export function oauthRedirectUri(instanceBaseUrl: string, restApiUrl?: string): string {
	const base = instanceBaseUrl.replace(/\/+$/, '');
	let rest = 'rest';
	try {
		if (restApiUrl) rest = new URL(restApiUrl).pathname.split('/').filter(Boolean).pop() ?? 'rest';
	} catch {
		rest = 'rest';
	}
	return `${base}/${rest}/oauth2-credential/callback`;
}

export const checkRedirect: Check = async (ctx): Promise<CheckResult> => {
	const cred = ctx.credential;
	if (cred.kind === 'backendService') {
		const jwks = (cred.jwksUrl ?? '').replace(/\?.*$/, '');
		const local = isLoopbackUrl(jwks);
		if (jwks && !/^https:/i.test(jwks) && !local) {
			return {
				check: CHECK,
				status: 'fail',
				evidence: `Backend Service credential: no redirect URI (no browser login). Its JWKS URL (jku) ${jwks} is not HTTPS.`,
				whatToDo: 'Publish the JWKS at a public https:// address, register that URL with the app, and enter the same URL (or nothing) as the credential\'s JWKS URL.',
			};
		}
		const where = !jwks ? '' : local ? `; its JWKS URL (jku) ${jwks} is on this machine (a local test server such as the package's sandbox; production needs a public HTTPS one)` : `; its JWKS URL (jku) ${jwks} is HTTPS`;
		return {
			check: CHECK,
			status: 'pass',
			evidence: `Backend Service credential: no redirect URI (it signs in with its key, no browser login)${where}.`,
			whatToDo: 'Nothing to do. The JWKS URL registered in the developer portal must be HTTPS and reachable by eClinicalWorks.',
		};
	}
	const uri = ctx.redirectUri ?? '';
	const https = /^https:/i.test(uri);
	const local = isLoopbackUrl(uri);
	if (uri && https && !local) {
		return { check: CHECK, status: 'pass', evidence: `n8n's OAuth redirect URI is ${uri}: HTTPS, not localhost.`, whatToDo: 'Nothing to do. Register exactly this URI for the app (eCW developer portal).' };
	}
	const problem = !uri ? 'n8n did not say its base URL' : [!https ? 'not HTTPS' : '', local ? 'on localhost (eClinicalWorks does not accept localhost redirect URIs in production)' : ''].filter(Boolean).join(' and ');
	return {
		check: CHECK,
		status: 'fail',
		evidence: `n8n's OAuth redirect URI is ${uri || '(unknown)'}: ${problem}.`,
		whatToDo: 'Serve n8n at its public https:// address: set N8N_EDITOR_BASE_URL (and WEBHOOK_URL) to it and restart n8n, then register the OAuth Redirect URL the credential shows for the app, and reconnect the credential.',
	};
};
