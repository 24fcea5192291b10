import { toMillis } from '../fhir/changes';
import type { Bundle } from '../fhir/client';
import { buildLookup } from '../fhir/simplify';
import type { FhirResource } from '../fhir/simplify';

/** What the trigger reads off a search Bundle besides its entries. */

/** The server's time when it answered (`Bundle.meta.lastUpdated`), when it sends one. */
export function serverTime(bundle: Bundle | undefined): string | undefined {
	const value = (bundle?.meta as { lastUpdated?: unknown } | undefined)?.lastUpdated;
	return typeof value === 'string' && toMillis(value) !== undefined ? value : undefined;
}

export function hasNext(bundle: Bundle): boolean {
	return Boolean(bundle.link?.find((link) => link?.relation === 'next')?.url);
}

/** The self link, when the server sends one, tells which parameters it really applied. */
export { appliedParameter as applied, selfLink } from '../fhir/paging';

/** Adds included resources to `target`, by `Type/id`. */
export function collectIncluded(target: Map<string, FhirResource>, resources: FhirResource[]): void {
	for (const [key, resource] of buildLookup(resources)) target.set(key, resource);
}
