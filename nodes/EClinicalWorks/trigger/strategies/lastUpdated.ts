import { splitBundle } from '../../fhir/appointments';
import { ChangeBatch, SEED_LIMIT, classify, emptyState, initialState, lastUpdatedQuery, toMillis, versionsAreCounters } from '../../fhir/changes';
import type { Change, ChangeState } from '../../fhir/changes';
import type { FhirClient } from '../../fhir/client';
import { FhirError } from '../../fhir/errors';
import type { FhirResource } from '../../fhir/simplify';
import { applied, collectIncluded, hasNext, serverTime, wanted } from './common';
import type { PracticePoll, PracticePollResult } from './strategy';
import type { WatchedSource } from '../source';

/**
 * The `_lastUpdated` strategy, for servers that list what changed: see fhir/changes.ts for the
 * cursor. Activation notes the server's time and, where the server's version ids say nothing about
 * whether a record is new (not counters), the ids that exist now (at most SEED_LIMIT): a record
 * first seen later is then `created` unless its id is among them.
 */

/** Whether the server declares `_sort` for the type or for every type. */
async function declaresSort(client: FhirClient, type: string): Promise<boolean> {
	if ((await client.searchParams(type)).includes('_sort')) return true;
	const statement = (await client.capabilities()) as { rest?: Array<{ mode?: string; searchParam?: Array<{ name?: string }> }> };
	return (statement.rest ?? []).some(
		(rest) => (rest.mode === undefined || rest.mode === 'server') && (rest.searchParam ?? []).some((p) => p?.name === '_sort'),
	);
}

/**
 * A `_lastUpdated` criterion every record meets. Some servers (eCW among them) refuse a Patient
 * search without any criterion; this one asks for everything and satisfies them.
 */
const ANY_TIME: [string, string] = ['_lastUpdated', 'ge1900-01-01T00:00:00Z'];

/** Look-back windows for the most recent record on a server that cannot sort: 1 hour to 1 year. */
const LOOK_BACK_MS = [3_600_000, 86_400_000, 7 * 86_400_000, 31 * 86_400_000, 366 * 86_400_000];

function toChange(resource: FhirResource, state: ChangeState): Change {
	const known = new Map(state.known);
	const seed = state.seed ? new Set(state.seed) : undefined;
	const id = String(resource.id ?? '');
	const status = typeof resource.status === 'string' ? resource.status : undefined;
	const previousStatus = known.get(id) || undefined;
	const change: Change = {
		resource,
		id,
		key: '',
		event: classify(
			resource,
			{ known: known.has(id), status: previousStatus },
			{ cursor: state.cursor, existedAtActivation: seed ? (candidate) => seed.has(candidate) : undefined },
		),
	};
	const lastUpdated = (resource.meta as { lastUpdated?: unknown } | undefined)?.lastUpdated;
	if (typeof lastUpdated === 'string') change.lastUpdated = lastUpdated;
	if (status !== undefined) change.status = status;
	if (previousStatus !== undefined) change.previousStatus = previousStatus;
	return change;
}

/** The newest wanted change among resources, or undefined. */
function newestOf(source: WatchedSource, resources: FhirResource[], state: ChangeState): Change | undefined {
	let best: Change | undefined;
	for (const resource of resources) {
		const change = toChange(resource, state);
		if (!wanted(source, change)) continue;
		if (!best || (toMillis(change.lastUpdated) ?? 0) > (toMillis(best.lastUpdated) ?? 0)) best = change;
	}
	return best;
}

/**
 * "Fetch test event": the most recent record matching the filters, without touching the state.
 * Sorted servers answer with one search; others are searched over growing look-back windows
 * counted back from the server's own time.
 */
async function newest(poll: PracticePoll, sortable: boolean): Promise<PracticePollResult> {
	const { client, source } = poll;
	const state = poll.state && poll.state.strategy !== 'window' ? poll.state : emptyState();
	const included = new Map<string, FhirResource>();
	const firstPage = async (query: Array<[string, string]>, pageSize: number) => {
		for await (const bundle of client.searchPages(source.type, query, { pageSize })) return bundle;
		return undefined;
	};

	if (sortable) {
		const bundle = await firstPage([...source.query, ANY_TIME, ['_sort', '-_lastUpdated']], Math.min(poll.pageSize, 20));
		if (bundle && applied(bundle, '_sort') !== false) {
			const split = splitBundle(bundle, source.type);
			collectIncluded(included, split.included);
			const change = newestOf(source, split.matches, state);
			return { changes: change ? [change] : [], included };
		}
	}

	// The server's current time, from an empty search.
	const probe = await firstPage([...source.query, ['_lastUpdated', 'ge2999-01-01T00:00:00Z']], 1);
	const nowMs = toMillis(serverTime(probe));
	const windows = nowMs === undefined ? [undefined] : [...LOOK_BACK_MS, undefined];
	for (const window of windows) {
		const since = window === undefined || nowMs === undefined ? ANY_TIME[1] : `ge${new Date(nowMs - window).toISOString()}`;
		const resources: FhirResource[] = [];
		let pages = 0;
		for await (const bundle of client.searchPages(source.type, [...source.query, ['_lastUpdated', since]], { pageSize: poll.pageSize })) {
			const split = splitBundle(bundle, source.type);
			collectIncluded(included, split.included);
			resources.push(...split.matches);
			if (++pages >= poll.maxPages) break;
		}
		const change = newestOf(source, resources, state);
		if (change) return { changes: [change], included };
	}
	return { changes: [], included };
}

/**
 * First activation: remember where the server is now and emit nothing. When the first records read
 * do not all carry counter version ids, also remember the ids that exist now (most recently changed
 * first where the server sorts), up to `seedLimit`.
 */
async function start(poll: PracticePoll, sortable: boolean): Promise<PracticePollResult> {
	const { client, source } = poll;
	const seedLimit = poll.limits?.seedLimit ?? SEED_LIMIT;
	// Ids only: no `_include`d records.
	const query: Array<[string, string]> = [...source.query.filter(([name]) => name !== '_include'), ANY_TIME];
	if (sortable) query.push(['_sort', '-_lastUpdated']);
	let state: ChangeState | undefined;
	const seed = new Set<string>();
	for await (const bundle of client.searchPages(source.type, query, { pageSize: Math.min(1000, Math.max(poll.pageSize, 100)) })) {
		const { matches } = splitBundle(bundle, source.type);
		if (!state) {
			state = initialState(serverTime(bundle), matches);
			// Counter versions tell new records apart by themselves: nothing to remember.
			if (matches.length > 0 && versionsAreCounters(matches)) return { changes: [], included: new Map(), state };
		}
		for (const resource of matches) {
			if (typeof resource.id === 'string' && seed.size < seedLimit) seed.add(resource.id);
		}
		if (seed.size >= seedLimit) break;
	}
	return { changes: [], included: new Map(), state: { ...(state ?? emptyState()), seed: [...seed] } };
}

/**
 * One poll of one practice: `_lastUpdated=ge<cursor>` (sorted by `_lastUpdated` when the server
 * declares `_sort`), every page, or up to `maxPages` pages of a sorted result; records already
 * emitted are dropped by the change batch. A 429 that outlasts the client's waits ends the read:
 * what was read is emitted and the cursor covers exactly that.
 */
export async function pollLastUpdated(poll: PracticePoll): Promise<PracticePollResult> {
	const { client, source } = poll;
	const sortable = await declaresSort(client, source.type);
	if (poll.mode === 'manual') return await newest(poll, sortable);
	if (!poll.state || poll.state.strategy === 'window') return await start(poll, sortable);
	const state: ChangeState = poll.state;

	const batch = new ChangeBatch<FhirResource>(state, { sorted: sortable });
	const included = new Map<string, FhirResource>();
	const changes: Change[] = [];
	const since = lastUpdatedQuery(state);
	const query: Array<[string, string]> = [...source.query, ...(since.length > 0 ? since : [ANY_TIME])];
	if (sortable) query.push(['_sort', '_lastUpdated']);

	let pages = 0;
	let freshPages = 0;
	let complete = false;
	let now: string | undefined;
	let failure: unknown;
	try {
		for await (const bundle of client.searchPages(source.type, query, { pageSize: poll.pageSize })) {
			pages++;
			if (pages === 1) {
				now = serverTime(bundle);
				batch.setCeiling(now);
				if (sortable && applied(bundle, '_sort') === false) batch.markUnsorted();
				if (applied(bundle, '_lastUpdated') === false && !source.bounded) {
					// The server dropped `_lastUpdated` (its self link says so): every poll would read
					// the whole history. Records older than the cursor would still be dropped here, but
					// reading them all each minute is not acceptable.
					throw new FhirError(`This server ignores _lastUpdated on ${source.type} searches, so it cannot list what changed`, {
						kind: 'protocol',
						request: `GET ${source.type}`,
						hint:
							source.type === 'Patient'
								? 'Watch appointments instead, or use Bulk Export with _since for patients.'
								: 'Set the option Visits Within (Days) so each poll reads only the coming days.',
					});
				}
			}
			const split = splitBundle(bundle, source.type);
			collectIncluded(included, split.included);
			let fresh = false;
			for (const resource of split.matches) {
				const change = batch.offer(resource);
				if (!change) continue;
				fresh = true;
				if (wanted(source, change)) changes.push(change);
			}
			batch.pageDone();
			if (!hasNext(bundle)) {
				complete = true;
				break;
			}
			// Pages of records already handled (many sharing the cursor timestamp) do not count, so
			// the next poll always gets further than this one.
			if (fresh) freshPages++;
			if (batch.isSorted && freshPages >= poll.maxPages) break;
		}
	} catch (error) {
		failure = error;
	}
	// Only a 429 that outlasted the client's waits ends the read softly; anything else fails the
	// poll with the state untouched.
	const interrupted = failure instanceof FhirError && failure.kind === 'rateLimit' ? failure : undefined;
	if (failure !== undefined && !interrupted) throw failure;
	return { changes, included, state: batch.commit({ complete, serverTime: now }), interrupted };
}
