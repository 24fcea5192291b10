import { FhirError, InputError } from '../errors';
import type { HttpFunction, HttpResponse } from '../http';
import { parseErrorBody } from '../operationOutcome';
import { ECW_ENABLE_APP_HINT } from '../ecw';
import { describeRequest } from '../urls';
import { createClientAssertion } from './assertion';
import type { SigningAlgorithm } from './assertion';

/** OAuth 2.0 client-credentials token request (SMART Backend Services). */

export type ClientAuthMethod = 'privateKeyJwt' | 'clientSecretBasic' | 'clientSecretPost';

export interface TokenRequestConfig {
	tokenUrl: string;
	clientId: string;
	authMethod: ClientAuthMethod;
	scopes: string;
	privateKey?: string;
	algorithm?: SigningAlgorithm;
	keyId?: string;
	jwksUrl?: string;
	clientSecret?: string;
	now?: () => number;
}

export interface TokenResponse {
	accessToken: string;
	/** Seconds, as the server said (300 when it said nothing). */
	expiresIn: number;
	/** ms epoch, measured from just before the request was sent. */
	expiresAt: number;
	obtainedAt: number;
	scope?: string;
	tokenType: string;
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** RFC 6749 2.3.1: client id and secret are form-urlencoded before Basic encoding. */
function formEncode(value: string): string {
	return encodeURIComponent(value).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function basicAuth(clientId: string, secret: string): string {
	return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(secret)}`).toString('base64')}`;
}

function invalidClientHint(method: ClientAuthMethod): string {
	if (method === 'privateKeyJwt') {
		return `Check: the JWKS URL is reachable by the server and allow-listed in the app registration; the Key ID (kid) matches the key published there; the Algorithm matches the key; the Client ID is right; ${ECW_ENABLE_APP_HINT}.`;
	}
	return `Check the Client ID and Client Secret, that the authentication method (Basic or in the body) is the one registered, and that ${ECW_ENABLE_APP_HINT}.`;
}

/**
 * invalid_grant / invalid_scope. Scopes are the usual cause, but servers also answer invalid_grant
 * for a signature they cannot verify, an expired registration and a reused assertion id.
 */
function grantHint(code: string, scopes: string, method: ClientAuthMethod): string {
	const causes = [
		`a scope the server does not offer or the app is not registered for (asked for: "${scopes}"; ask only for scopes the server lists, in the form it lists them, and on eCW keep system/Group.read for bulk export tokens only)`,
	];
	if (code === 'invalid_grant') {
		if (method === 'privateKeyJwt') causes.push('the signature does not match the key the server has for the app (JWKS URL, Key ID, Algorithm)');
		causes.push('the app registration has expired or was withdrawn (check it in the developer portal)');
		if (method === 'privateKeyJwt') causes.push('an assertion id (jti) the server saw before: check that this machine\'s clock is right');
	}
	return `${causes.length > 1 ? 'One of: ' : 'Cause: '}${causes.map((c, i) => `(${i + 1}) ${c}`).join('; ')}.`;
}

export function validateTokenConfig(cfg: TokenRequestConfig): void {
	if (!cfg.clientId?.trim()) throw new InputError('Client ID', 'is empty', 'Enter the client ID of the app registered with the server.');
	if (cfg.authMethod === 'privateKeyJwt') {
		if (!cfg.privateKey?.trim()) {
			throw new InputError('Private Key', 'is empty', 'Paste the private key whose public key is in the registered JWKS (or use the "Generate Key Pair" operation).');
		}
	} else if (cfg.authMethod === 'clientSecretBasic' || cfg.authMethod === 'clientSecretPost') {
		if (!cfg.clientSecret) throw new InputError('Client Secret', 'is empty', 'Enter the client secret issued with the app registration.');
	} else {
		throw new InputError('Authentication Method', `"${String(cfg.authMethod)}" is not supported`, 'Choose Private Key JWT, Client Secret (Basic) or Client Secret (Post).');
	}
}

/** Mints an access token. Errors say what to check; no secret, assertion or token ever appears in them. */
export async function requestToken(http: HttpFunction, cfg: TokenRequestConfig): Promise<TokenResponse> {
	validateTokenConfig(cfg);
	if (!/^https?:\/\/[^/]/i.test(cfg.tokenUrl ?? '')) {
		throw new InputError('Token URL', 'is not a valid http(s) URL', 'Enter the full token URL, or leave it empty to discover it from the FHIR base URL.');
	}
	const now = cfg.now ?? (() => Date.now());
	const form = new URLSearchParams();
	form.set('grant_type', 'client_credentials');
	if (cfg.scopes.trim()) form.set('scope', cfg.scopes.trim());
	const headers: Record<string, string> = {
		'content-type': 'application/x-www-form-urlencoded',
		accept: 'application/json',
	};
	if (cfg.authMethod === 'privateKeyJwt') {
		form.set('client_assertion_type', ASSERTION_TYPE);
		form.set(
			'client_assertion',
			createClientAssertion({
				clientId: cfg.clientId.trim(),
				tokenUrl: cfg.tokenUrl,
				privateKey: cfg.privateKey as string,
				algorithm: cfg.algorithm ?? 'RS384',
				keyId: cfg.keyId ?? '',
				jwksUrl: cfg.jwksUrl || undefined,
				now: now(),
			}),
		);
	} else if (cfg.authMethod === 'clientSecretBasic') {
		headers.authorization = basicAuth(cfg.clientId.trim(), cfg.clientSecret as string);
	} else {
		form.set('client_id', cfg.clientId.trim());
		form.set('client_secret', cfg.clientSecret as string);
	}

	const request = describeRequest('POST', cfg.tokenUrl);
	const host = new URL(cfg.tokenUrl).host;
	const obtainedAt = now();
	let response: HttpResponse | undefined;
	let failure: unknown;
	try {
		response = await http({ method: 'POST', url: cfg.tokenUrl, headers, body: form.toString(), timeoutMs: 30_000 });
	} catch (error) {
		failure = error;
	}
	if (failure instanceof FhirError) throw failure;
	if (!response) {
		throw new FhirError(`Token request failed: the token URL is unreachable (${host})`, {
			kind: 'network',
			hint: 'Check the Token URL (or leave it empty to discover it) and that this n8n instance can reach it.',
			request,
		});
	}
	const text = typeof response.body === 'string' ? response.body : '';
	if (response.status < 200 || response.status >= 300) {
		const parsed = parseErrorBody(text);
		const code = parsed.oauthError;
		let message: string;
		let hint: string;
		if (code === 'invalid_client' || (!code && response.status === 401)) {
			message = `Token request failed: the server rejected the client (${code ?? response.status})`;
			hint = invalidClientHint(cfg.authMethod);
		} else if (code === 'invalid_scope' || code === 'invalid_grant') {
			message = code === 'invalid_scope' ? 'Token request failed: the server refused the scopes (invalid_scope)' : 'Token request failed: the server refused the grant (invalid_grant)';
			hint = grantHint(code, cfg.scopes, cfg.authMethod);
		} else if (code === 'invalid_request') {
			message = 'Token request failed: the server rejected the request (invalid_request)';
			hint =
				cfg.authMethod === 'privateKeyJwt'
					? 'The server found the request malformed: check the Token URL and the Client ID.'
					: 'Some servers answer this for a wrong client secret: check the Client ID and Client Secret, and the authentication method (Basic or in the body).';
		} else if (code === 'unauthorized_client') {
			message = 'Token request failed: the app may not use the client-credentials (backend service) grant (unauthorized_client)';
			hint = 'Register the app as a backend (system) app, or use the User Login authentication.';
		} else if (response.status === 429) {
			message = 'Token request failed: rate limited (429)';
			hint = 'Too many requests for this practice; eCW counts token requests in its 250 per minute.';
		} else if (response.status === 404 || response.status === 405) {
			message = `Token request failed: no token endpoint at the Token URL (${response.status})`;
			hint = 'Check the Token URL, or leave it empty so it is discovered from the FHIR base URL.';
		} else {
			message = `Token request failed (${code ?? response.status})`;
			hint = 'Check the credential against what the server said.';
		}
		throw new FhirError(message, { kind: 'auth', status: response.status, outcome: parsed, hint, request });
	}
	let json: Record<string, unknown> | undefined;
	try {
		json = JSON.parse(text) as Record<string, unknown>;
	} catch {
		json = undefined;
	}
	const accessToken = typeof json?.access_token === 'string' ? json.access_token : '';
	if (!accessToken) {
		throw new FhirError('Token request failed: the answer holds no access token', {
			kind: 'auth',
			status: response.status,
			hint: 'Check that the Token URL is the OAuth token endpoint.',
			request,
		});
	}
	const rawExpires = Number(json?.expires_in);
	const expiresIn = Number.isFinite(rawExpires) && rawExpires > 0 ? rawExpires : 300;
	return {
		accessToken,
		expiresIn,
		obtainedAt,
		expiresAt: obtainedAt + expiresIn * 1000,
		scope: typeof json?.scope === 'string' ? json.scope : undefined,
		tokenType: typeof json?.token_type === 'string' ? json.token_type : 'Bearer',
	};
}
