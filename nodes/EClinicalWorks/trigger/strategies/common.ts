import { toMillis } from '../../fhir/changes';
import type { Bundle } from '../../fhir/client';
import { buildLookup } from '../../fhir/simplify';
import type { FhirResource } from '../../fhir/simplify';
import type { WatchedSource } from '../source';
import type { Change } from '../../fhir/changes';

/** What both strategies share: what they read off a search Bundle besides its entries, and the local filters. */

/** The server's time when it answered (`Bundle.meta.lastUpdated`), when it sends one. */
export function serverTime(bundle: Bundle | undefined): string | undefined {
	const value = (bundle?.meta as { lastUpdated?: unknown } | undefined)?.lastUpdated;
	return typeof value === 'string' && toMillis(value) !== undefined ? value : undefined;
}

export function hasNext(bundle: Bundle): boolean {
	return Boolean(bundle.link?.find((link) => link?.relation === 'next')?.url);
}

/** The self link, when the server sends one, tells which parameters it really applied. */
export { appliedParameter as applied, selfLink } from '../../fhir/paging';

/** Adds included resources to `target`, by `Type/id`. */
export function collectIncluded(target: Map<string, FhirResource>, resources: FhirResource[]): void {
	for (const [key, resource] of buildLookup(resources)) target.set(key, resource);
}

/**
 * Whether a change passes the trigger's local filters: the search filters re-checked (servers may
 * ignore parameters) and the Status option. A visit that had one of the wanted statuses and then is
 * cancelled, deleted or moved out of what the trigger watches is still news (a transport booked for
 * it can be cancelled too).
 *
 * @param leftWatch the visit moved out of the date window or the filters (date-window strategy)
 */
export function wanted(source: WatchedSource, change: Change, leftWatch = false): boolean {
	const gone = leftWatch || change.event === 'deleted';
	if (!gone && !source.matches(change.resource as Record<string, unknown>)) return false;
	if (!source.statuses) return true;
	if (change.status !== undefined && source.statuses.includes(change.status)) return true;
	return (
		(gone || change.event === 'cancelled') &&
		change.previousStatus !== undefined &&
		source.statuses.includes(change.previousStatus)
	);
}
