import { knownSmartConfiguration } from './auth/discovery';
import { cachedCapabilities, declaredResource } from './capabilities';
import { resourceCapability } from './capabilitySummary';
import { isEcwStatement } from './ecw';
import { FhirError, InputError, withPractice } from './errors';
import type { HttpMethod, HttpResponse, HttpTransport } from './http';
import { headerValue } from './http';
import { httpError, networkReason } from './httpErrors';
import { validateId, validateResourceType } from './ids';
import type { Pacer } from './pacer';
import { collectPages, followPages } from './paging';
import type { SearchResult } from './paging';
import { asBundle, brokenPageError, discard, looksLikeJson, notJsonError, parsedJson, readBounded } from './responseBody';
import { backoffDelay, isRetryableStatus, LONG_WAIT_MS, rateLimitDelay, retryPolicy } from './retry';
import type { RetryPolicy } from './retry';
import type { Bundle, CapabilityResource, CapabilityStatement, FhirResource } from './types';
import { describeRequest, joinUrl, normalizeBaseUrl } from './urls';

/**
 * The one request path every operation uses: base URL joining that keeps the practice code,
 * FHIR headers, retries, pacing, paging and the origin rule (the bearer token only ever goes to
 * the FHIR base URL's origin). Paging, error wording, body reading and the CapabilityStatement cache
 * live in their own modules (paging.ts, httpErrors.ts, responseBody.ts, capabilities.ts).
 */

export type { Bundle, BundleEntry, BundleLink, CapabilityResource, CapabilityStatement, FhirResource } from './types';
export type { SearchResult } from './paging';
export { clearCapabilitiesCache } from './capabilities';
export { describeRequest, joinUrl, normalizeBaseUrl } from './urls';

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
	/**
	 * Who is asking (the credential's identity): the CapabilityStatement is cached per credential, so
	 * one read with a good credential never answers for a wrong one. Default: the base URL alone.
	 */
	credentialKey?: string;
	/** The credential says this is eClinicalWorks (its environment or host). */
	knownEcw?: boolean;
	/** Told of every wait of a minute or more (a 429's Retry-After, eCW's blocked minute), to report it. */
	onLongWait?: (ms: number, reason: string) => void;
}

const FHIR_JSON = 'application/fhir+json';
const MAX_REDIRECTS = 5;

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
	readonly credentialKey: string;
	readonly knownEcw: boolean;
	readonly onLongWait?: (ms: number, reason: string) => void;
	/** Scopes the token holds (granted, else configured), used to explain a 403. */
	configuredScopes?: string;
	/** Backend credentials: the scopes a token asks for (defaults fitted to the server) and what the server offers. */
	scopesInUse?: () => Promise<{ scopes: string; supported?: string[]; defaults: boolean }>;

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
		this.credentialKey = options.credentialKey ?? '';
		this.knownEcw = options.knownEcw ?? false;
		this.onLongWait = options.onLongWait;
	}

	/** Adds "(practice X)" to an error's message when this client serves one practice of many. */
	private labelled<E>(error: E): E {
		return withPractice(error, this.practiceCode);
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
				// the log names the path only (its lines carry no URL)
				if (wait >= LONG_WAIT_MS) this.onLongWait?.(wait, `the server's rate limit (429 on ${method} ${new URL(url).pathname})`);
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

			throw await httpError(response, {
				method,
				url,
				baseUrl: this.baseUrl,
				configuredScopes: this.configuredScopes,
				scopesSupported: knownSmartConfiguration(this.baseUrl)?.scopesSupported,
				ecw: this.knownEcw,
				tries: { rateLimited, failures: failures + 1, reminted },
			});
		}
	}

	/**
	 * GET and parse JSON. A 200 whose JSON is cut short or damaged is a failed try, like a 5xx: it is
	 * fetched again (with backoff, within the retry policy) before it fails.
	 */
	async getJson<T = unknown>(pathOrUrl: string, query?: Array<[string, string]>): Promise<T> {
		const absolute = /^https?:\/\//i.test(pathOrUrl);
		const label = describeRequest('GET', absolute ? pathOrUrl : this.url(pathOrUrl));
		for (let attempt = 1; ; attempt++) {
			const response = await this.send({ method: 'GET', ...(absolute ? { url: pathOrUrl } : { path: pathOrUrl }), query });
			const text = await readBounded(response.body, { maxBytes: Number.POSITIVE_INFINITY, overflow: 'fail', request: label });
			const parsed = parsedJson<T>(text);
			if (parsed) return parsed.value;
			const broken = text.trim() === '' || looksLikeJson(text) || /json/i.test(headerValue(response.headers, 'content-type') ?? '');
			if (!broken) throw this.labelled(notJsonError(label));
			if (attempt >= this.policy.maxAttempts) throw this.labelled(brokenPageError(label, attempt));
			await this.transport.sleep(backoffDelay(attempt, this.policy));
		}
	}

	async read(resourceType: string, id: string): Promise<FhirResource> {
		const type = validateResourceType(resourceType);
		const safeId = validateId(id);
		const resource = await this.getJson<FhirResource>(`${type}/${encodeURIComponent(safeId)}`);
		if (!resource || typeof resource !== 'object' || typeof resource.resourceType !== 'string') {
			throw new FhirError('The server answered something that is not a FHIR resource', { kind: 'protocol', request: describeRequest('GET', this.url(type)) });
		}
		return resource;
	}

	/** Every page of a search, one Bundle at a time, following `next` links exactly as given. */
	async *searchPages(resourceType: string, query: Array<[string, string]> = [], options: SearchOptions = {}): AsyncGenerator<Bundle> {
		const type = validateResourceType(resourceType);
		const params = [...query];
		const pageSize = options.pageSize ?? (options.limit !== undefined ? Math.min(Math.max(options.limit, 1), 100) : undefined);
		if (pageSize !== undefined && !params.some(([name]) => name === '_count')) params.push(['_count', String(pageSize)]);
		const request = describeRequest('GET', this.url(type));
		const first = asBundle(await this.getJson(type, params), request);
		yield* followPages(this.pageSource(), first, request);
	}

	/** Every page of an operation that answers a searchset Bundle (e.g. `Patient/1/$everything`). */
	async *operationPages(path: string, query: Array<[string, string]> = []): AsyncGenerator<Bundle> {
		const request = describeRequest('GET', this.url(path));
		const first = asBundle(await this.getJson(path, query), request);
		yield* followPages(this.pageSource(), first, request);
	}

	private pageSource() {
		return { baseUrl: this.baseUrl, maxPages: this.maxPages, getJson: async (url: string) => await this.getJson(url) };
	}

	/** Search and collect: entries split by `search.mode`, included resources deduplicated across pages. */
	async search(resourceType: string, query: Array<[string, string]> = [], options: SearchOptions = {}): Promise<SearchResult> {
		if (options.limit !== undefined && options.limit <= 0) return { matches: [], included: [], outcomes: [], pages: 0, leftOut: 0 };
		return await collectPages(this.searchPages(resourceType, query, options), options.limit);
	}

	/**
	 * The server's CapabilityStatement, cached for 10 minutes per credential and base URL. `fresh`
	 * reads it again with the credential's token (a connectivity check must never skip signing in).
	 */
	async capabilities(options: { fresh?: boolean } = {}): Promise<CapabilityStatement> {
		return await cachedCapabilities(`${this.credentialKey}|${this.baseUrl}`, this.now(), async () => await this.getJson('metadata'), { ...options, request: describeRequest('GET', this.url('metadata')) });
	}

	/**
	 * Whether the server is eClinicalWorks: the credential says so (its environment or host), else its
	 * CapabilityStatement does (eCW's facade publishes itself by name). Read only when needed.
	 */
	async isEcw(): Promise<boolean> {
		return this.knownEcw || isEcwStatement(await this.capabilities());
	}

	async resourceCapability(type: string): Promise<CapabilityResource | undefined> {
		return declaredResource(await this.capabilities(), type);
	}

	async supportsResource(type: string): Promise<boolean> {
		return (await this.resourceCapability(type)) !== undefined;
	}

	async supportsInteraction(type: string, interaction: string): Promise<boolean> {
		const resource = await this.resourceCapability(type);
		return resource?.interaction?.some((i) => i.code === interaction) ?? false;
	}

	/**
	 * Names of the search parameters the server declares for a type, its own and those declared for
	 * every type (`rest.searchParam`); [] when the type is not served.
	 */
	async searchParams(type: string): Promise<string[]> {
		return resourceCapability(await this.capabilities(), type)?.searchParams ?? [];
	}
}

function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
	return out;
}
