import { FhirError } from '../errors';
import type { HttpFunction, HttpResponse } from '../http';
import { describeRequest } from '../urls';

/**
 * SMART discovery: `{base}/.well-known/smart-configuration` names the token endpoint. eCW tells
 * apps to read the token URL from there. Cached per base URL (one entry per practice).
 */

export interface SmartConfiguration {
	tokenEndpoint: string;
	authorizationEndpoint?: string;
	tokenEndpointAuthMethods?: string[];
	signingAlgorithms?: string[];
	scopesSupported?: string[];
	capabilities?: string[];
}

interface Cached {
	expiresAt: number;
	value: Promise<SmartConfiguration>;
}

const DISCOVERY_TTL_MS = 60 * 60_000;
const cache = new Map<string, Cached>();
/** The last configuration read per base URL, for advice after an error (which scope forms the server offers). */
const known = new Map<string, SmartConfiguration>();

/** Tests only. */
export function clearDiscoveryCache(): void {
	cache.clear();
	typesCache.clear();
	known.clear();
}

/** The configuration last discovered for a base URL, if any (read without a request). */
export function knownSmartConfiguration(baseUrl: string): SmartConfiguration | undefined {
	return known.get(baseUrl.replace(/\/+$/, ''));
}

/** True for eClinicalWorks / healow hosts (practice-code hints apply). */
export function isEcwHost(url: string): boolean {
	try {
		return /(^|\.)(eclinicalworks\.com|ecwcloud\.com|healow\.com)$/i.test(new URL(url).hostname);
	} catch {
		return false;
	}
}

function strings(value: unknown): string[] | undefined {
	return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
}

async function fetchConfiguration(http: HttpFunction, baseUrl: string, ecw: boolean): Promise<SmartConfiguration> {
	const url = `${baseUrl.replace(/\/+$/, '')}/.well-known/smart-configuration`;
	const host = new URL(url).host;
	let response: HttpResponse | undefined;
	let failure: unknown;
	try {
		response = await http({ method: 'GET', url, headers: { accept: 'application/json' }, timeoutMs: 30_000 });
	} catch (error) {
		failure = error;
	}
	if (failure instanceof FhirError) throw failure;
	if (!response) {
		throw new FhirError(`Discovery failed: the FHIR base URL is unreachable (${host})`, {
			kind: 'network',
			hint: 'Check the FHIR Base URL in the credential and that this n8n instance can reach it (proxy, firewall).',
			request: describeRequest('GET', url),
		});
	}
	const request = describeRequest('GET', url);
	if (response.status === 400 || response.status === 404) {
		throw new FhirError(
			ecw
				? `Discovery failed (${response.status}): the practice code is missing or wrong in the FHIR base URL`
				: `Discovery failed (${response.status}): the server publishes no SMART configuration under this FHIR base URL`,
			{
				kind: 'auth',
				status: response.status,
				hint: ecw
					? 'The eCW FHIR base URL ends with the practice code, e.g. https://fhir4.eclinicalworks.com/fhir/r4/JAFJCD. Get it from the practice (it is shown where the practice enables FHIR apps in its eCW admin settings), or enter the Token URL in the credential.'
					: 'Check the FHIR Base URL, or enter the Token URL in the credential so discovery is not needed.',
				request,
			},
		);
	}
	if (response.status < 200 || response.status >= 300) {
		throw new FhirError(`Discovery failed: the server answered ${response.status} for its SMART configuration`, {
			kind: 'auth',
			status: response.status,
			hint: 'Try again later, or enter the Token URL in the credential so discovery is not needed.',
			request,
		});
	}
	let json: Record<string, unknown> | undefined;
	try {
		json = JSON.parse(typeof response.body === 'string' ? response.body : '') as Record<string, unknown>;
	} catch {
		json = undefined;
	}
	const tokenEndpoint = json && typeof json.token_endpoint === 'string' ? json.token_endpoint : '';
	if (!tokenEndpoint) {
		throw new FhirError('Discovery failed: the SMART configuration names no token endpoint', {
			kind: 'auth',
			hint: 'Enter the Token URL in the credential.',
			request,
		});
	}
	return {
		tokenEndpoint: new URL(tokenEndpoint, url).toString(),
		authorizationEndpoint: typeof json?.authorization_endpoint === 'string' ? json.authorization_endpoint : undefined,
		tokenEndpointAuthMethods: strings(json?.token_endpoint_auth_methods_supported),
		signingAlgorithms: strings(json?.token_endpoint_auth_signing_alg_values_supported),
		scopesSupported: strings(json?.scopes_supported),
		capabilities: strings(json?.capabilities),
	};
}

/** Discovered configuration for a base URL, cached for an hour (failures are not cached). */
export async function discoverSmartConfiguration(
	http: HttpFunction,
	baseUrl: string,
	options: { now?: () => number; ecw?: boolean; ttlMs?: number } = {},
): Promise<SmartConfiguration> {
	const key = baseUrl.replace(/\/+$/, '');
	const now = options.now ? options.now() : Date.now();
	const hit = cache.get(key);
	if (hit && hit.expiresAt > now) return await hit.value;
	const value = fetchConfiguration(http, key, options.ecw ?? isEcwHost(key));
	cache.set(key, { expiresAt: now + (options.ttlMs ?? DISCOVERY_TTL_MS), value });
	value.then(
		(configuration) => {
			known.set(key, configuration);
		},
		() => {
			if (cache.get(key)?.value === value) cache.delete(key);
		},
	);
	return await value;
}

const typesCache = new Map<string, { expiresAt: number; value: Promise<string[] | undefined> }>();

/**
 * The resource types a server's CapabilityStatement lists, read without a token (FHIR servers publish
 * /metadata openly), for fitting default scopes before the first token exists. undefined when it
 * cannot be read: the caller then does not filter by type.
 */
export async function discoverResourceTypes(http: HttpFunction, baseUrl: string, options: { now?: () => number } = {}): Promise<string[] | undefined> {
	const key = baseUrl.replace(/\/+$/, '');
	const now = options.now ? options.now() : Date.now();
	const hit = typesCache.get(key);
	if (hit && hit.expiresAt > now) return await hit.value;
	const value = (async () => {
		try {
			const response = await http({ method: 'GET', url: `${key}/metadata`, headers: { accept: 'application/fhir+json' }, timeoutMs: 30_000 });
			if (response.status < 200 || response.status >= 300 || typeof response.body !== 'string') return undefined;
			const statement = JSON.parse(response.body) as { rest?: Array<{ mode?: string; resource?: Array<{ type?: unknown }> }> };
			const server = (statement.rest ?? []).filter((r) => r.mode === undefined || r.mode === 'server');
			const types = server.flatMap((r) => (r.resource ?? []).map((x) => x.type)).filter((t): t is string => typeof t === 'string');
			return types.length > 0 ? types : undefined;
		} catch {
			return undefined;
		}
	})();
	typesCache.set(key, { expiresAt: now + DISCOVERY_TTL_MS, value });
	const types = await value;
	if (types === undefined) typesCache.delete(key);
	return types;
}
