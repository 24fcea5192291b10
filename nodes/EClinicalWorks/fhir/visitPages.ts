import { compareVisits, matchesFilter, splitBundle } from './appointments';
import type { VisitFilter, VisitQuery } from './appointments';
import { appliedParameter } from './paging';
import { buildLookup } from './simplify';
import type { FhirResource } from './simplify';
import type { Bundle } from './types';

/**
 * Reading the visits of a range in as few requests as it takes. Limit N means the N earliest:
 * - where the server sorts by date (`_sort` declared for the type or for every type), the first
 *   pages are enough: `_count` is N (capped at the range page size) when every filter went to the
 *   server, else the range page size; reading stops once N visits are in;
 * - where nothing sorts (eClinicalWorks declares no `_sort`), the whole range is read, at the range
 *   page size, never at `_count=N` (a request per visit on a busy day);
 * - a server that declares `_sort` but does not apply it (its `self` link leaves it out) is read
 *   again from the start at the range page size, once.
 */

/**
 * `_count` for reading a whole range, on every environment. eClinicalWorks documents no maximum
 * (its conventions present `_count` as a way to ask for smaller pages); 100 is a common server cap
 * (some refuse more), and keeps a 7-day range of a busy practice to a few dozen requests, far under
 * eCW's 250 a minute. Servers that allow fewer answer fewer per page and the next links go on.
 */
export const RANGE_PAGE_SIZE = 100;

export type PageReader = (query: Array<[string, string]>, pageSize: number) => AsyncIterable<Bundle>;

export interface VisitPages {
	/** The visits to output: the N earliest (or all), sorted by start. */
	visits: FhirResource[];
	/** Resources the server `_include`d, by `Type/id`. */
	included: Map<string, FhirResource>;
	/** Status counts of the visits in the range, whatever their status (for the empty-result hint). */
	statusesInRange: Map<string, number>;
	/** How many visits Limit left out: a count, `true` when there were more but the count is unknown, 0 when none. */
	leftOut: number | true;
	/** Requests made (pages read). */
	pages: number;
}

export async function readVisitPages(
	read: PageReader,
	type: string,
	visitQuery: VisitQuery,
	filter: VisitFilter,
	limit: number | undefined,
): Promise<VisitPages> {
	const sorted = limit !== undefined && visitQuery.sortedByDate;
	const exact = visitQuery.allFiltersOnServer;
	const sortedSize = exact ? Math.min(limit ?? RANGE_PAGE_SIZE, RANGE_PAGE_SIZE) : RANGE_PAGE_SIZE;
	const first = await readPages(read, type, visitQuery.query, filter, limit, sorted ? sortedSize : RANGE_PAGE_SIZE, { sorted, exact });
	if (!first.sortIgnored) return first;
	// `_sort` declared but not applied: what was read is in the server's own order. Read again, unsorted.
	const unsorted = visitQuery.query.filter(([name]) => name !== '_sort');
	const again = await readPages(read, type, unsorted, filter, limit, RANGE_PAGE_SIZE, { sorted: false, exact });
	return { ...again, pages: again.pages + first.pages };
}

async function readPages(
	read: PageReader,
	type: string,
	query: Array<[string, string]>,
	filter: VisitFilter,
	limit: number | undefined,
	pageSize: number,
	how: { sorted: boolean; exact: boolean },
): Promise<VisitPages & { sortIgnored: boolean }> {
	let sorted = how.sorted;
	const visits: FhirResource[] = [];
	const included = new Map<string, FhirResource>();
	const statusesInRange = new Map<string, number>();
	let pages = 0;
	let seen = 0;
	let leftOut: number | true = 0;
	for await (const bundle of read(query, pageSize)) {
		pages++;
		const split = splitBundle(bundle, type);
		if (pages === 1 && sorted && appliedParameter(bundle, '_sort') === false) {
			// All on this one page: its order does not matter. Otherwise read again, unsorted.
			if (split.next) return { visits, included, statusesInRange, leftOut, pages, sortIgnored: true };
			sorted = false;
		}
		for (const [key, resource] of buildLookup(split.included)) included.set(key, resource);
		const matches = split.matches.filter((match) => match.resourceType === type);
		let readHere = 0;
		for (const match of matches) {
			readHere++;
			seen++;
			if (matchesFilter(match, { ...filter, statuses: undefined })) {
				const status = typeof match.status === 'string' ? match.status : '(none)';
				statusesInRange.set(status, (statusesInRange.get(status) ?? 0) + 1);
			}
			if (matchesFilter(match, filter)) visits.push(match);
			if (sorted && limit !== undefined && visits.length > limit) break;
		}
		if (sorted && limit !== undefined && visits.length >= limit) {
			const more = visits.length > limit || readHere < matches.length || split.next !== undefined;
			// the server's total counts what it matched; exact when every filter went to it and none was dropped here
			const total = typeof bundle.total === 'number' && how.exact && seen === visits.length ? bundle.total - limit : undefined;
			leftOut = total !== undefined && total >= 0 && (total > 0) === more ? total : more ? true : 0;
			break;
		}
	}
	visits.sort(compareVisits);
	if (!sorted && limit !== undefined && visits.length > limit) leftOut = visits.length - limit;
	return { visits: limit === undefined ? visits : visits.slice(0, limit), included, statusesInRange, leftOut, pages, sortIgnored: false };
}
