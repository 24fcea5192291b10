import { FhirError } from './errors';
import type { CapabilityResource, CapabilityStatement } from './types';

/**
 * The server's CapabilityStatement, cached for 10 minutes per credential and base URL: a statement
 * read with one credential never answers for another (a wrong secret must still fail).
 */

const TTL_MS = 10 * 60_000;
const cache = new Map<string, { expiresAt: number; value: Promise<CapabilityStatement> }>();

/** Tests only. */
export function clearCapabilitiesCache(): void {
	cache.clear();
}

export async function cachedCapabilities(
	key: string,
	now: number,
	fetch: () => Promise<unknown>,
	options: { fresh?: boolean; request?: string } = {},
): Promise<CapabilityStatement> {
	const hit = cache.get(key);
	if (!options.fresh && hit && hit.expiresAt > now) return await hit.value;
	const value = fetch().then((statement) => {
		if (!statement || (statement as CapabilityStatement).resourceType !== 'CapabilityStatement') {
			throw new FhirError('The server\'s /metadata is not a CapabilityStatement', { kind: 'protocol', request: options.request ?? 'GET metadata' });
		}
		return statement as CapabilityStatement;
	});
	cache.set(key, { expiresAt: now + TTL_MS, value });
	value.then(undefined, () => {
		if (cache.get(key)?.value === value) cache.delete(key);
	});
	return await value;
}

/** The server-mode declaration of one resource type. */
export function declaredResource(statement: CapabilityStatement, type: string): CapabilityResource | undefined {
	const server = statement.rest?.find((r) => r.mode === undefined || r.mode === 'server');
	return server?.resource?.find((r) => r.type === type);
}
