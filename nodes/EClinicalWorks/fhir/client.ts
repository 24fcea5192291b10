import { FhirError, InputError } from './errors';
import type { HttpMethod, HttpResponse, HttpTransport } from './http';
import { headerValue } from './http';
import { validateId, validateResourceType } from './ids';
import { parseErrorBody } from './operationOutcome';
import type { ParsedError } from './operationOutcome';
import type { Pacer } from './pacer';
import { backoffDelay, isRetryableStatus, rateLimitDelay, retryPolicy } from './retry';
import type { RetryPolicy } from './retry';
import { readScopeFor } from './scopes';

/**
 * The one request path every operation uses: base URL joining that keeps the practice code,
 * FHIR headers, retries, pacing, paging and the origin rule (the bearer token only ever goes to
 * the FHIR base URL's origin).
 */

export interface FhirResource {
	resourceType: string;
	id?: string;
	[key: string]: unknown;
}

export interface BundleLink {
	relation: string;
	url: string;
}

export interface BundleEntry {
	fullUrl?: string;
	resource?: FhirResource;
	search?: { mode?: string; score?: number };
}

export interface Bundle extends FhirResource {
	resourceType: 'Bundle';
	type?: string;
	total?: number;
	link?: BundleLink[];
	entry?: BundleEntry[];
}

export interface CapabilityResource {
	type: string;
	interaction?: Array<{ code: string }>;
	searchParam?: Array<{ name: string; type?: string }>;
	operation?: Array<{ name: string; definition?: string }>;
}

export interface CapabilityStatement extends FhirResource {
	fhirVersion?: string;
	software?: { name?: string; version?: string };
	rest?: Array<{ mode?: string; resource?: CapabilityResource[]; operation?: Array<{ name: string }> }>;
}

export interface FhirRequest {
	method: HttpMethod;
	/** Relative to the base URL (`Patient`, `Patient/123`); a leading slash is ignored. */
	path?: string;
	/** Absolute URL (a paging link, a poll URL), used exactly as given. */
	url?: string;
	query?: Array<[string, string]>;
	headers?: Record<string, string>;
	body?: string;
	stream?: boolean;
	/** Statuses returned to the caller instead of raising a FhirError (e.g. 202 and 404 while polling). */
	acceptStatus?: number[];
	timeoutMs?: number;
	/**
	 * false = never send the token, even to the FHIR server's own origin (bulk files with
	 * `requiresAccessToken: false`). The token never goes to another origin whatever this says.
	 */
	withToken?: boolean;
}

export interface SearchOptions {
	/** Stop after this many matches; undefined = every page. */
	limit?: number;
	/** `_count` sent to the server. */
	pageSize?: number;
}

export interface SearchResult {
	matches: FhirResource[];
	included: FhirResource[];
	outcomes: FhirResource[];
	pages: number;
	selfUrl?: string;
	total?: number;
}

export interface FhirClientOptions {
	baseUrl: string;
	transport: HttpTransport;
	retry?: Partial<RetryPolicy>;
	pacer?: Pacer | null;
	/** Paging cap: more pages than this fails (use a limit or bulk export). Default 1000. */
	maxPages?: number;
	/** Per-request timeout passed to the transport. Default 60 s. */
	requestTimeoutMs?: number;
	/**
	 * Called before an authorized request takes its pacing slot (e.g. make sure a fresh token is
	 * cached), so the slot is taken when the request really goes out, not before a token request.
	 */
	prepareAuthorized?: () => Promise<void>;
	/** eCW practice code of this base URL: named in every error, so one failing practice is easy to spot. */
	practiceCode?: string;
}

const FHIR_JSON = 'application/fhir+json';
const MAX_REDIRECTS = 5;
const CAPABILITIES_TTL_MS = 10 * 60_000;

/** Validates and normalises a FHIR base URL (no trailing slash, http(s), no query or fragment). */
export function normalizeBaseUrl(raw: unknown, field = 'FHIR Base URL'): string {
	const text = typeof raw === 'string' ? raw.trim() : '';
	if (text === '') {
		throw new InputError(field, 'is empty', 'Enter the FHIR R4 base URL, e.g. https://fhir4.eclinicalworks.com/fhir/r4/ABCDEF (ending with your practice code).');
	}
	const url = URL.canParse(text) ? new URL(text) : undefined;
	if (!url) throw new InputError(field, 'is not a valid URL', 'Enter a full URL starting with https://');
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		throw new InputError(field, 'must start with https:// (or http:// for a local test server)', 'Enter a full URL starting with https://');
	}
	if (url.search !== '' || url.hash !== '') {
		throw new InputError(field, 'must not contain "?" or "#"', 'Remove the query string: enter only the FHIR base URL.');
	}
	if (/\{[^}]*\}/.test(decodeURIComponent(url.pathname))) {
		throw new InputError(field, 'still contains a {placeholder}', 'Set the Practice Code (in the credential or the node) so {practiceCode} can be filled in.');
	}
	return url.toString().replace(/\/+$/, '');
}

/** `base` + relative path, keeping every segment of the base (the eCW practice code). */
export function joinUrl(baseUrl: string, path: string, query?: Array<[string, string]>): string {
	const relative = path.replace(/^\/+/, '');
	if (/^[a-z][a-z0-9+.-]*:/i.test(relative) || relative.startsWith('//')) {
		throw new InputError('Path', 'must be relative to the FHIR base URL', 'Use a path like "Patient/123", not a full URL.');
	}
	const url = new URL(relative, `${baseUrl.replace(/\/+$/, '')}/`);
	for (const [name, value] of query ?? []) url.searchParams.append(name, value);
	return url.toString();
}

/** Method and path, never the query string: safe for error messages. */
export function describeRequest(method: string, url: string): string {
	try {
		return `${method} ${new URL(url).pathname}`;
	} catch {
		return method;
	}
}

async function readText(body: HttpResponse['body'], maxBytes = 64_000): Promise<string> {
	if (typeof body === 'string') return body;
	if (!body || typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') return '';
	const decoder = new TextDecoder();
	let text = '';
	let size = 0;
	for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
		const part = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
		text += part;
		size += part.length;
		if (size >= maxBytes) break;
	}
	discard(body);
	return text;
}

function discard(body: HttpResponse['body']): void {
	if (body && typeof body !== 'string') {
		const stream = body as unknown as { destroy?: () => void; resume?: () => void };
		if (typeof stream.destroy === 'function') stream.destroy();
		else if (typeof stream.resume === 'function') stream.resume();
	}
}

function networkReason(error: unknown): string {
	const e = error as { code?: unknown; cause?: { code?: unknown }; httpCode?: unknown } | undefined;
	const code = [e?.code, e?.cause?.code, e?.httpCode].find((c) => typeof c === 'string' && /^[A-Z_]+$/.test(c));
	const known: Record<string, string> = {
		ECONNREFUSED: 'connection refused',
		ECONNRESET: 'connection reset',
		ENOTFOUND: 'host name not found',
		EAI_AGAIN: 'host name lookup failed',
		ETIMEDOUT: 'timed out',
		ECONNABORTED: 'timed out',
		EHOSTUNREACH: 'host unreachable',
		CERT_HAS_EXPIRED: 'TLS certificate expired',
		DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed TLS certificate',
		UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate not trusted',
	};
	if (typeof code === 'string') return known[code] ?? code;
	return 'no response';
}

function resourceTypeOf(url: string, baseUrl: string): string | undefined {
	const base = new URL(`${baseUrl}/`).pathname;
	const path = new URL(url).pathname;
	const rest = path.startsWith(base) ? path.slice(base.length) : path;
	const first = rest.split('/')[0];
	return /^[A-Z][A-Za-z]+$/.test(first) ? first : undefined;
}

function scopeNamedIn(parsed: ParsedError): string | undefined {
	const text = [parsed.summary, parsed.oauthDescription].filter(Boolean).join(' ');
	return /\b(?:system|user|patient)\/[A-Za-z*]+\.[A-Za-z*]+/.exec(text)?.[0];
}

interface CachedCapabilities {
	expiresAt: number;
	value: Promise<CapabilityStatement>;
}

const capabilitiesCache = new Map<string, CachedCapabilities>();

/** Tests only. */
export function clearCapabilitiesCache(): void {
	capabilitiesCache.clear();
}

export class FhirClient {
	readonly baseUrl: string;
	readonly origin: string;
	readonly transport: HttpTransport;
	readonly policy: RetryPolicy;
	readonly pacer: Pacer | null;
	readonly maxPages: number;
	readonly requestTimeoutMs: number;
	readonly prepareAuthorized?: () => Promise<void>;
	readonly practiceCode?: string;
	/** Scopes configured on the credential, used to name a missing scope after a 403. */
	configuredScopes?: string;

	constructor(options: FhirClientOptions) {
		this.baseUrl = normalizeBaseUrl(options.baseUrl);
		this.origin = new URL(this.baseUrl).origin;
		this.transport = options.transport;
		this.policy = retryPolicy(options.retry);
		this.pacer = options.pacer ?? null;
		this.maxPages = options.maxPages ?? 1000;
		this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
		this.prepareAuthorized = options.prepareAuthorized;
		this.practiceCode = options.practiceCode;
	}

	/** Adds "(practice X)" to an error's message when this client serves one practice of many. */
	private labelled<E>(error: E): E {
		if (!this.practiceCode) return error;
		const suffix = ` (practice ${this.practiceCode})`;
		if (error instanceof FhirError && !error.message.endsWith(suffix)) {
			return new FhirError(`${error.message}${suffix}`, {
				kind: error.kind,
				status: error.status,
				outcome: error.outcome,
				hint: error.hint,
				request: error.request,
			}) as unknown as E;
		}
		if (error instanceof InputError && !error.message.endsWith(suffix)) {
			const labelled = new InputError(error.field, `${error.message.slice(error.field.length + 2)}${suffix}`, error.fix);
			return labelled as unknown as E;
		}
		return error;
	}

	private now(): number {
		return this.transport.now ? this.transport.now() : Date.now();
	}

	private get clock() {
		return { now: () => this.now(), sleep: this.transport.sleep };
	}

	/** Absolute URL of a path relative to the base URL. */
	url(path: string, query?: Array<[string, string]>): string {
		return joinUrl(this.baseUrl, path, query);
	}

	isSameOrigin(url: string): boolean {
		return new URL(url).origin === this.origin;
	}

	private target(request: FhirRequest): string {
		if (request.url !== undefined) {
			const url = URL.canParse(request.url, `${this.baseUrl}/`) ? new URL(request.url, `${this.baseUrl}/`) : undefined;
			if (!url) throw new FhirError('The server sent a link that is not a valid URL', { kind: 'protocol' });
			if (url.protocol !== 'https:' && url.protocol !== 'http:') {
				throw new FhirError('The server sent a link that is not http(s)', { kind: 'protocol' });
			}
			for (const [name, value] of request.query ?? []) url.searchParams.append(name, value);
			return url.toString();
		}
		return this.url(request.path ?? '', request.query);
	}

	/** One request with retries, pacing, redirects and the origin rule. Non-2xx -> FhirError unless accepted. */
	async send(request: FhirRequest): Promise<HttpResponse> {
		let failure: unknown;
		let response: HttpResponse | undefined;
		try {
			response = await this.sendWithRetries(request);
		} catch (error) {
			failure = error;
		}
		if (response) return response;
		throw this.labelled(failure);
	}

	private async sendWithRetries(request: FhirRequest): Promise<HttpResponse> {
		let url = this.target(request);
		let method: HttpMethod = request.method;
		let body = request.body;
		const idempotent = () => method === 'GET' || method === 'DELETE';
		const headers: Record<string, string> = { accept: FHIR_JSON, ...lowerCaseKeys(request.headers) };
		let failures = 0;
		let rateLimited = 0;
		let redirects = 0;
		let reminted = false;

		for (;;) {
			const sameOrigin = this.isSameOrigin(url);
			const withToken = sameOrigin && request.withToken !== false;
			if (withToken && this.prepareAuthorized) await this.prepareAuthorized();
			if (sameOrigin && this.pacer) await this.pacer.acquire(this.clock);
			const send = withToken ? this.transport.authorized : this.transport.anonymous;
			let response: HttpResponse | undefined;
			let failure: unknown;
			try {
				response = await send({
					method,
					url,
					headers: { ...headers },
					body,
					stream: request.stream,
					timeoutMs: request.timeoutMs ?? this.requestTimeoutMs,
				});
			} catch (error) {
				failure = error;
			}
			if (failure instanceof FhirError || failure instanceof InputError) throw failure;
			if (!response) {
				failures++;
				if (idempotent() && failures < this.policy.maxAttempts) {
					await this.transport.sleep(backoffDelay(failures, this.policy));
					continue;
				}
				const host = new URL(url).host;
				throw new FhirError(`No answer from the FHIR server ${host} (${networkReason(failure)})`, {
					kind: 'network',
					hint: sameOrigin
						? 'Check the FHIR base URL and that this n8n instance can reach it (proxy, firewall, VPN).'
						: 'The server sent a link to another host that could not be reached.',
					request: describeRequest(method, url),
				});
			}

			const status = response.status;
			const location = headerValue(response.headers, 'location');
			if (status >= 300 && status < 400 && status !== 304 && location !== undefined && !request.acceptStatus?.includes(status)) {
				discard(response.body);
				redirects++;
				if (redirects > MAX_REDIRECTS) {
					throw new FhirError('Too many redirects', { kind: 'protocol', status, request: describeRequest(method, url) });
				}
				url = new URL(location, url).toString();
				if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
					method = 'GET';
					body = undefined;
					delete headers['content-type'];
				}
				continue;
			}

			if ((status >= 200 && status < 300) || request.acceptStatus?.includes(status)) return response;

			if (status === 401 && withToken && !reminted && this.transport.invalidateToken) {
				discard(response.body);
				reminted = true;
				this.transport.invalidateToken();
				continue;
			}

			if ((status === 401 || status === 403) && !sameOrigin) {
				discard(response.body);
				throw new FhirError(
					`The server sent a link to another host (${new URL(url).host}) that answered ${status}: the access token is only sent to the FHIR server's own host (${new URL(this.baseUrl).host}), never to another one`,
					{
						kind: 'origin',
						status,
						hint: 'Ask the server operator to return paging links and file URLs on the FHIR base URL host, or pre-signed URLs that need no token.',
						request: describeRequest(method, url),
					},
				);
			}

			if (status === 429 && rateLimited < this.policy.maxRateLimitRetries) {
				discard(response.body);
				rateLimited++;
				const wait = rateLimitDelay(headerValue(response.headers, 'retry-after'), rateLimited, this.policy, this.now());
				if (sameOrigin && this.pacer) this.pacer.pauseUntil(this.now() + wait);
				else await this.transport.sleep(wait);
				continue;
			}

			if (isRetryableStatus(status) && idempotent() && failures + 1 < this.policy.maxAttempts) {
				discard(response.body);
				failures++;
				const retryAfter = headerValue(response.headers, 'retry-after');
				const wait = status === 503 && retryAfter !== undefined
					? rateLimitDelay(retryAfter, failures, this.policy, this.now())
					: backoffDelay(failures, this.policy);
				await this.transport.sleep(wait);
				continue;
			}

			throw await this.errorFor(response, method, url, { rateLimited, failures: failures + 1, reminted });
		}
	}

	private async errorFor(
		response: HttpResponse,
		method: string,
		url: string,
		tries: { rateLimited: number; failures: number; reminted: boolean },
	): Promise<FhirError> {
		const status = response.status;
		const outcome = parseErrorBody(await readText(response.body));
		const request = describeRequest(method, url);
		const type = resourceTypeOf(url, this.baseUrl);
		const base = { kind: 'http' as const, status, outcome, request };
		switch (true) {
			case status === 400:
				return new FhirError('The FHIR server rejected the request as invalid (400 Bad Request)', {
					...base,
					hint: 'Check the search fields and their values (dates with a time zone, codes in system|code form). The server\'s own message is below.',
				});
			case status === 401:
				return new FhirError(
					tries.reminted
						? 'The FHIR server rejected the access token (401), also a freshly issued one'
						: 'The FHIR server rejected the access token (401)',
					{
						...base,
						hint: 'Token rejected: check the credential (client ID, key, scopes) and that the app is enabled for this practice (eCW: Admin > Product Activation > FHIR APIs > Bulk/Backend Apps). A group the app may not read also answers 401 on eCW bulk export.',
					},
				);
			case status === 403: {
				const scope = scopeNamedIn(outcome) ?? readScopeFor(type ?? 'Patient', this.configuredScopes);
				return new FhirError(`Access denied (403): missing scope ${scope}`, {
					...base,
					hint: `Add ${scope} to the credential's Scopes and to the app's registration (or ask the practice to grant it), then try again.`,
				});
			}
			case status === 404:
				return new FhirError(`Not found (404)${type ? `: no such ${type}` : ''}`, {
					...base,
					hint: 'Check the ID, and that the FHIR base URL (with its practice code) is right. A resource type the server does not serve also answers 404.',
				});
			case status === 410:
				return new FhirError(`Gone (410)${type ? `: the ${type} was deleted` : ''}`, {
					...base,
					hint: 'The resource no longer exists on the server.',
				});
			case status === 429:
				return new FhirError(`Rate limit: the FHIR server still answered 429 Too Many Requests after ${tries.rateLimited} waits`, {
					...base,
					kind: 'rateLimit',
					hint: 'Lower the credential\'s Rate Limit (requests per minute), or run fewer workflows against this practice at the same time. eCW allows 250 requests per minute per practice, token requests included.',
				});
			case status >= 500:
				return new FhirError(`The FHIR server failed (${status})${tries.failures > 1 ? ` ${tries.failures} times in a row` : ''}`, {
					...base,
					hint: 'A temporary problem on the server side. Try again later; if it persists, contact the server operator with the time of the error.',
				});
			default:
				return new FhirError(`The FHIR server answered ${status}`, { ...base });
		}
	}

	/** GET and parse JSON. */
	async getJson<T = unknown>(pathOrUrl: string, query?: Array<[string, string]>): Promise<T> {
		const absolute = /^https?:\/\//i.test(pathOrUrl);
		const response = await this.send({ method: 'GET', ...(absolute ? { url: pathOrUrl } : { path: pathOrUrl }), query });
		return parseJson<T>(await readText(response.body, Number.POSITIVE_INFINITY), describeRequest('GET', absolute ? pathOrUrl : this.url(pathOrUrl)));
	}

	async read(resourceType: string, id: string): Promise<FhirResource> {
		const type = validateResourceType(resourceType);
		const safeId = validateId(id);
		const resource = await this.getJson<FhirResource>(`${type}/${encodeURIComponent(safeId)}`);
		if (!resource || typeof resource !== 'object' || typeof resource.resourceType !== 'string') {
			throw new FhirError('The server answered something that is not a FHIR resource', { kind: 'protocol', request: `GET ${type}` });
		}
		return resource;
	}

	/** Every page of a search, one Bundle at a time, following `next` links exactly as given. */
	async *searchPages(resourceType: string, query: Array<[string, string]> = [], options: SearchOptions = {}): AsyncGenerator<Bundle> {
		const type = validateResourceType(resourceType);
		const params = [...query];
		const pageSize = options.pageSize ?? (options.limit !== undefined ? Math.min(Math.max(options.limit, 1), 100) : undefined);
		if (pageSize !== undefined && !params.some(([name]) => name === '_count')) params.push(['_count', String(pageSize)]);
		const seen = new Set<string>();
		let bundle = asBundle(await this.getJson(type, params), `GET ${type}`);
		let pages = 0;
		for (;;) {
			pages++;
			yield bundle;
			const next = bundle.link?.find((l) => l?.relation === 'next')?.url;
			if (typeof next !== 'string' || next === '') return;
			const absolute = new URL(next, `${this.baseUrl}/`).toString();
			if (seen.has(absolute)) {
				throw new FhirError('The server sent the same next-page link twice; stopped to avoid an endless loop', {
					kind: 'protocol',
					request: `GET ${type}`,
					hint: 'Use a Limit, or narrower search criteria.',
				});
			}
			seen.add(absolute);
			if (pages >= this.maxPages) {
				throw new FhirError(`The search has more than ${this.maxPages} pages; stopped`, {
					kind: 'protocol',
					request: `GET ${type}`,
					hint: 'Use a Limit, narrower search criteria, or Bulk Export for large data sets.',
				});
			}
			bundle = asBundle(await this.getJson(absolute), `GET ${type} (next page)`);
		}
	}

	/** Search and collect: entries split by `search.mode`, included resources deduplicated across pages. */
	async search(resourceType: string, query: Array<[string, string]> = [], options: SearchOptions = {}): Promise<SearchResult> {
		const result: SearchResult = { matches: [], included: [], outcomes: [], pages: 0 };
		const includedKeys = new Set<string>();
		const limit = options.limit;
		if (limit !== undefined && limit <= 0) return result;
		for await (const bundle of this.searchPages(resourceType, query, options)) {
			result.pages++;
			if (result.pages === 1) {
				result.selfUrl = bundle.link?.find((l) => l?.relation === 'self')?.url;
				if (typeof bundle.total === 'number') result.total = bundle.total;
			}
			for (const entry of bundle.entry ?? []) {
				const resource = entry?.resource;
				if (!resource || typeof resource !== 'object') continue;
				const mode = entry.search?.mode ?? (resource.resourceType === 'OperationOutcome' ? 'outcome' : 'match');
				if (mode === 'outcome') {
					result.outcomes.push(resource);
				} else if (mode === 'include') {
					const key = `${resource.resourceType}/${resource.id ?? entry.fullUrl ?? result.included.length}`;
					if (!includedKeys.has(key)) {
						includedKeys.add(key);
						result.included.push(resource);
					}
				} else if (limit === undefined || result.matches.length < limit) {
					result.matches.push(resource);
				}
			}
			if (limit !== undefined && result.matches.length >= limit) break;
		}
		return result;
	}

	/** The server's CapabilityStatement, cached per base URL for 10 minutes. */
	async capabilities(): Promise<CapabilityStatement> {
		const now = this.now();
		const cached = capabilitiesCache.get(this.baseUrl);
		if (cached && cached.expiresAt > now) return await cached.value;
		const value = this.getJson<CapabilityStatement>('metadata').then((statement) => {
			if (!statement || statement.resourceType !== 'CapabilityStatement') {
				throw new FhirError('The server\'s /metadata is not a CapabilityStatement', { kind: 'protocol', request: 'GET metadata' });
			}
			return statement;
		});
		capabilitiesCache.set(this.baseUrl, { expiresAt: now + CAPABILITIES_TTL_MS, value });
		value.then(undefined, () => {
			if (capabilitiesCache.get(this.baseUrl)?.value === value) capabilitiesCache.delete(this.baseUrl);
		});
		return await value;
	}

	async resourceCapability(type: string): Promise<CapabilityResource | undefined> {
		const statement = await this.capabilities();
		const server = statement.rest?.find((r) => r.mode === undefined || r.mode === 'server');
		return server?.resource?.find((r) => r.type === type);
	}

	async supportsResource(type: string): Promise<boolean> {
		return (await this.resourceCapability(type)) !== undefined;
	}

	async supportsInteraction(type: string, interaction: string): Promise<boolean> {
		const resource = await this.resourceCapability(type);
		return resource?.interaction?.some((i) => i.code === interaction) ?? false;
	}

	/** Names of the search parameters the server declares for a type ([] when the type is not served). */
	async searchParams(type: string): Promise<string[]> {
		const resource = await this.resourceCapability(type);
		return (resource?.searchParam ?? []).map((p) => p.name);
	}
}

function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
	return out;
}

function parseJson<T>(text: string, request: string): T {
	let parsed: { value: T } | undefined;
	try {
		parsed = { value: JSON.parse(text) as T };
	} catch {
		parsed = undefined;
	}
	if (parsed) return parsed.value;
	throw new FhirError('The FHIR server answered with something that is not JSON', {
		kind: 'protocol',
		request,
		hint: 'Check that the FHIR base URL points at the FHIR API (it usually ends with /fhir/r4/<practice code> for eCW), not at a web page.',
	});
}

function asBundle(value: unknown, request: string): Bundle {
	if (!value || typeof value !== 'object' || (value as FhirResource).resourceType !== 'Bundle') {
		throw new FhirError('The FHIR server answered a search with something that is not a Bundle', { kind: 'protocol', request });
	}
	return value as Bundle;
}
