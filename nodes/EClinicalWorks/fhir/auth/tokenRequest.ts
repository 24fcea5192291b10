import { FhirError, InputError } from '../errors';
import type { HttpFunction, HttpResponse } from '../http';
import { networkReason } from '../httpErrors';
import { parseErrorBody } from '../operationOutcome';
import { describeRequest } from '../urls';
import { createClientAssertion, loadPrivateKey } from './assertion';
import type { SigningAlgorithm } from './assertion';
import { NoAnswerError, triesFor } from './authHttp';
import { grantAdvice, invalidClientAdvice, invalidRequestAdvice } from './tokenAdvice';

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
	/** The token URL came from the server's SMART configuration (not typed in the credential). */
	discovered?: boolean;
	/** The server is eClinicalWorks (advice names its menus and rules only then). */
	ecw?: boolean;
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

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * A token endpoint receives the client's secret or signed assertion: over plain http only on this
 * machine (a local test server), never across a network.
 */
export function checkTokenUrlTransport(tokenUrl: string, discovered: boolean): void {
	const url = new URL(tokenUrl);
	if (url.protocol === 'https:' || LOOPBACK_HOST.test(url.hostname)) return;
	if (discovered) {
		throw new FhirError(`Discovery: the server's SMART configuration names a token endpoint over plain http (${url.host}); refused, the credentials would travel unencrypted`, {
			kind: 'auth',
			hint: 'Ask the server operator for an https token endpoint, or enter the https Token URL in the credential.',
			request: 'GET .well-known/smart-configuration',
		});
	}
	throw new InputError('Token URL', `uses plain http on another host (${url.host.slice(0, 70)}): the credentials would travel unencrypted`, 'Use the https:// token URL (plain http is accepted only for this machine, e.g. a local test server), or leave Token URL empty to discover it.');
}

/** Why the token endpoint did not answer, and what to do: a wrong URL, or a server or network failure. */
function noAnswer(error: NoAnswerError | unknown, host: string, request: string): FhirError {
	const failure = error instanceof NoAnswerError ? error.failure : error;
	const tries = error instanceof NoAnswerError ? error.tries : 1;
	const reason = networkReason(failure);
	const wrongUrl = reason === 'connection refused' || reason === 'host name not found';
	const after = tries > 1 ? ` after ${tries} tries` : '';
	if (wrongUrl) {
		return new FhirError(`Token request failed: the token URL is unreachable (${host}: ${reason})${after}`, {
			kind: 'network',
			hint: 'Check the Token URL (or leave it empty to discover it) and that this n8n instance can reach it.',
			request,
		});
	}
	return new FhirError(`Token request failed: no answer from the token endpoint (${host}: ${reason})${after}`, {
		kind: 'network',
		hint: 'The server or the network failed, not the credential: check that this n8n instance can reach the token endpoint (proxy, firewall), then try again later.',
		request,
	});
}

/**
 * Mints an access token. Every try (after a 429, a 5xx or a network error, see authHttp.ts) signs a
 * new assertion. Errors say what to check; no secret, assertion or token ever appears in them.
 */
export async function requestToken(http: HttpFunction, cfg: TokenRequestConfig): Promise<TokenResponse> {
	validateTokenConfig(cfg);
	if (!/^https?:\/\/[^/]/i.test(cfg.tokenUrl ?? '') || !URL.canParse(cfg.tokenUrl)) {
		throw new InputError('Token URL', 'is not a valid http(s) URL', 'Enter the full token URL, or leave it empty to discover it from the FHIR base URL.');
	}
	checkTokenUrlTransport(cfg.tokenUrl, cfg.discovered === true);
	const now = cfg.now ?? (() => Date.now());
	const headers: Record<string, string> = {
		'content-type': 'application/x-www-form-urlencoded',
		accept: 'application/json',
	};
	const algorithm = cfg.algorithm ?? 'RS384';
	const key = cfg.authMethod === 'privateKeyJwt' ? loadPrivateKey(cfg.privateKey as string, algorithm) : undefined;
	const body = (): string => {
		const form = new URLSearchParams();
		form.set('grant_type', 'client_credentials');
		if (cfg.scopes.trim()) form.set('scope', cfg.scopes.trim());
		if (key) {
			form.set('client_assertion_type', ASSERTION_TYPE);
			form.set(
				'client_assertion',
				createClientAssertion({ clientId: cfg.clientId.trim(), tokenUrl: cfg.tokenUrl, privateKey: key, algorithm, keyId: cfg.keyId ?? '', jwksUrl: cfg.jwksUrl || undefined, now: now() }),
			);
		} else if (cfg.authMethod === 'clientSecretPost') {
			form.set('client_id', cfg.clientId.trim());
			form.set('client_secret', cfg.clientSecret as string);
		}
		return form.toString();
	};
	if (cfg.authMethod === 'clientSecretBasic') headers.authorization = basicAuth(cfg.clientId.trim(), cfg.clientSecret as string);

	const request = describeRequest('POST', cfg.tokenUrl);
	const host = new URL(cfg.tokenUrl).host;
	const obtainedAt = now();
	let response: HttpResponse | undefined;
	let failure: unknown;
	try {
		response = await http({ method: 'POST', url: cfg.tokenUrl, headers, body: body(), freshBody: key ? body : undefined, timeoutMs: 30_000 });
	} catch (error) {
		failure = error;
	}
	if (failure instanceof FhirError || failure instanceof InputError) throw failure;
	if (!response) throw noAnswer(failure, host, request);
	const text = typeof response.body === 'string' ? response.body : '';
	if (response.status < 200 || response.status >= 300) {
		const parsed = parseErrorBody(text);
		const code = parsed.oauthError;
		const advice = { method: cfg.authMethod, scopes: cfg.scopes, ecw: cfg.ecw === true };
		let message: string;
		let hint: string;
		if (code === 'invalid_client' || (!code && response.status === 401)) {
			message = `Token request failed: the server rejected the client (${code ?? response.status})`;
			hint = invalidClientAdvice(parsed, advice);
		} else if (code === 'invalid_scope' || code === 'invalid_grant') {
			message = code === 'invalid_scope' ? 'Token request failed: the server refused the scopes (invalid_scope)' : 'Token request failed: the server refused the grant (invalid_grant)';
			hint = grantAdvice(code, parsed, advice);
		} else if (code === 'invalid_request') {
			message = 'Token request failed: the server rejected the request (invalid_request)';
			hint = invalidRequestAdvice(parsed, advice);
		} else if (code === 'unauthorized_client') {
			message = 'Token request failed: the app may not use the client-credentials (backend service) grant (unauthorized_client)';
			hint = 'Register the app as a backend (system) app, or use the User Login authentication.';
		} else if (response.status === 429) {
			message = `Token request failed: rate limited (429)${triesFor(response) > 1 ? ` after ${triesFor(response) - 1} waits` : ''}`;
			hint = `Too many requests to the token endpoint. Lower the credential's Rate Limit or run fewer workflows at once${cfg.ecw ? '; eClinicalWorks counts token requests in its 250 per minute' : ''}.`;
		} else if (response.status === 404 || response.status === 405) {
			message = `Token request failed: no token endpoint at the Token URL (${response.status})`;
			hint = 'Check the Token URL, or leave it empty so it is discovered from the FHIR base URL.';
		} else if (response.status >= 500) {
			const tries = triesFor(response);
			message = `Token request failed: the token endpoint failed (${code ? `${code}, ` : ''}${response.status})${tries > 1 ? ` ${tries} times in a row` : ''}`;
			hint = `The server failed, not the credential: a problem at ${host}. Try again later; if it persists, contact the server operator with the time of the error.`;
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
