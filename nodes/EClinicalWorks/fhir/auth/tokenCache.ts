import { createHash } from 'node:crypto';

/**
 * Access tokens shared by every node and execution in the n8n process, keyed by a fingerprint of
 * everything that makes a token different (token URL, client, method, key or secret, scopes,
 * audience/base URL), so two credentials never share a token. Tokens are refreshed before they
 * expire; concurrent callers share one in-flight token request.
 *
 * Both credential modules and the node's transport import this file, so in n8n they share one
 * instance (same compiled module path).
 */

export interface CachedToken {
	accessToken: string;
	expiresAt: number;
	obtainedAt: number;
	/** The scopes the server says it granted (the token response's `scope`), when it said. */
	scope?: string;
	/** The scopes the token request asked for (what the token holds when the server does not say). */
	requested?: string;
	/** Renew from this time on, although the token is still valid (set by `forceRenewal`). */
	renewAt?: number;
}

export interface TokenKeyParts {
	tokenUrl?: string;
	clientId: string;
	authMethod: string;
	/** Private key PEM or client secret: only its hash enters the key. */
	secret: string;
	algorithm?: string;
	keyId?: string;
	jwksUrl?: string;
	scopes: string;
	/** Resolved FHIR base URL (the audience: one entry per practice). */
	baseUrl: string;
}

function sha256(text: string): string {
	return createHash('sha256').update(text).digest('hex');
}

export function tokenCacheKey(parts: TokenKeyParts): string {
	const scopes = parts.scopes.split(/\s+/).filter(Boolean).sort().join(' ');
	return sha256(
		JSON.stringify([
			parts.tokenUrl ?? '',
			parts.clientId,
			parts.authMethod,
			sha256(parts.secret),
			parts.algorithm ?? '',
			parts.keyId ?? '',
			parts.jwksUrl ?? '',
			scopes,
			parts.baseUrl.replace(/\/+$/, ''),
		]),
	);
}

/** Refresh margin: max(30 s, 10 % of the lifetime), at most 20 % of it (so a 2 s test token still lasts 1.6 s). */
export function refreshMargin(lifetimeMs: number): number {
	return Math.min(Math.max(30_000, lifetimeMs * 0.1), lifetimeMs * 0.2);
}

export function isFresh(token: CachedToken, now: number): boolean {
	if (token.renewAt !== undefined && now >= token.renewAt) return false;
	return now < token.expiresAt - refreshMargin(token.expiresAt - token.obtainedAt);
}

export type Mint = () => Promise<CachedToken>;

export class TokenCache {
	private readonly tokens = new Map<string, CachedToken>();
	private readonly inFlight = new Map<string, Promise<CachedToken>>();
	/** Number of mint calls made per key (for tests and the token figures). */
	readonly mints = new Map<string, number>();

	/** A fresh token for the key: the cached one, a shared in-flight request, or a new one. */
	async get(key: string, mint: Mint, now: () => number = Date.now): Promise<string> {
		const cached = this.tokens.get(key);
		if (cached && isFresh(cached, now())) return cached.accessToken;
		return (await this.refresh(key, mint)).accessToken;
	}

	/** Mints a new token now (sharing an in-flight one) and stores it. */
	async refresh(key: string, mint: Mint): Promise<CachedToken> {
		const running = this.inFlight.get(key);
		if (running) return await running;
		const promise = (async () => {
			this.mints.set(key, (this.mints.get(key) ?? 0) + 1);
			const token = await mint();
			this.tokens.set(key, token);
			this.prune(Date.now());
			return token;
		})();
		this.inFlight.set(key, promise);
		try {
			return await promise;
		} finally {
			this.inFlight.delete(key);
		}
	}

	/** The stored token if it has not expired yet (it may be inside the refresh margin). */
	peek(key: string, now: number = Date.now()): CachedToken | undefined {
		const cached = this.tokens.get(key);
		if (!cached || cached.expiresAt <= now) return undefined;
		return cached;
	}

	set(key: string, token: CachedToken): void {
		this.tokens.set(key, token);
	}

	/** After a 401: drop the token, but only if it is the rejected one (another caller may have refreshed it). */
	invalidate(key: string, rejectedToken?: string): void {
		const cached = this.tokens.get(key);
		if (!cached) return;
		if (rejectedToken === undefined || cached.accessToken === rejectedToken) this.tokens.delete(key);
	}

	/**
	 * Makes the next `get` renew the token now, as it would near the end of the token's lifetime: the
	 * token stays valid for requests already on their way, and concurrent callers share one renewal.
	 * The readiness check uses it to prove renewal under load without waiting for expiry.
	 */
	forceRenewal(key: string, now: number = Date.now()): boolean {
		const cached = this.tokens.get(key);
		if (!cached) return false;
		this.tokens.set(key, { ...cached, renewAt: now });
		return true;
	}

	/** Drops expired tokens once the cache holds many (long-lived n8n process, many practices). */
	private prune(now: number): void {
		if (this.tokens.size <= 200) return;
		for (const [key, token] of this.tokens) if (token.expiresAt <= now) this.tokens.delete(key);
	}

	clear(): void {
		this.tokens.clear();
		this.inFlight.clear();
		this.mints.clear();
	}
}

export const tokenCache = new TokenCache();
