import { FhirError } from './errors';
import { asBundle } from './responseBody';
import type { Bundle, FhirResource } from './types';

/**
 * Paging by the server's own links: a search continues only through `Bundle.link[relation=next]`,
 * exactly as given (eCW's links carry an opaque `page` cursor; a link the node built would be refused).
 */

export interface PageSource {
	baseUrl: string;
	maxPages: number;
	getJson(url: string): Promise<unknown>;
}

export function selfLink(bundle: Bundle): string | undefined {
	return bundle.link?.find((link) => link?.relation === 'self')?.url;
}

/**
 * Whether the server applied a parameter, as its `self` link says (servers drop what they do not
 * support from it); undefined when it sends no self link.
 */
export function appliedParameter(bundle: Bundle, parameter: string): boolean | undefined {
	const self = selfLink(bundle);
	if (!self) return undefined;
	try {
		return new URL(self, 'http://self.invalid/').searchParams.has(parameter);
	} catch {
		return undefined;
	}
}

/** The first page and every next page, with a loop guard and a page cap. */
export async function* followPages(source: PageSource, first: Bundle, request: string): AsyncGenerator<Bundle> {
	const seen = new Set<string>();
	let bundle = first;
	for (let pages = 1; ; pages++) {
		yield bundle;
		const next = bundle.link?.find((l) => l?.relation === 'next')?.url;
		if (typeof next !== 'string' || next === '') return;
		const absolute = new URL(next, `${source.baseUrl}/`).toString();
		if (seen.has(absolute)) {
			throw new FhirError('The server sent the same next-page link twice; stopped to avoid an endless loop', {
				kind: 'protocol',
				request,
				hint: 'Use a Limit, or narrower search criteria.',
			});
		}
		seen.add(absolute);
		if (pages >= source.maxPages) {
			throw new FhirError(`The search has more than ${source.maxPages} pages; stopped`, {
				kind: 'protocol',
				request,
				hint: 'Use a Limit, narrower search criteria, or Bulk Export for large data sets.',
			});
		}
		bundle = asBundle(await source.getJson(absolute), `${request} (next page)`);
	}
}

export interface SearchResult {
	matches: FhirResource[];
	included: FhirResource[];
	outcomes: FhirResource[];
	pages: number;
	selfUrl?: string;
	total?: number;
	/**
	 * How many matches the limit left out: the server's `total` less the limit where it gives one,
	 * else `true` when there were more (on the last page read, or a next page), else 0.
	 */
	leftOut: number | true;
}

/** Collects pages: entries split by `search.mode`, included resources deduplicated across pages. */
export async function collectPages(pages: AsyncIterable<Bundle>, limit?: number): Promise<SearchResult> {
	const result: SearchResult = { matches: [], included: [], outcomes: [], pages: 0, leftOut: 0 };
	const includedKeys = new Set<string>();
	if (limit !== undefined && limit <= 0) return result;
	let unread = 0;
	for await (const bundle of pages) {
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
			} else {
				unread++;
			}
		}
		if (limit !== undefined && result.matches.length >= limit) {
			const next = bundle.link?.some((l) => l?.relation === 'next' && typeof l.url === 'string' && l.url !== '');
			const more = unread > 0 || next === true;
			const byTotal = result.total !== undefined ? result.total - limit : undefined;
			result.leftOut = byTotal !== undefined && byTotal >= 0 && (byTotal > 0) === more ? byTotal : more ? true : 0;
			break;
		}
	}
	return result;
}
