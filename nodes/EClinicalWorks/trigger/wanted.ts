import type { Change } from '../fhir/changes';
import type { WatchedSource } from './source';

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
