import { splitBundle } from '../../fhir/appointments';
import { classify, toMillis } from '../../fhir/changes';
import type { Change } from '../../fhir/changes';
import { FhirError, InputError } from '../../fhir/errors';
import type { FhirResource } from '../../fhir/simplify';
import { serverTime, wanted } from './common';
import type { PracticePoll, PracticePollResult } from './strategy';
import type { WatchedSource } from '../source';
import { visitStartMs } from './visitFingerprint';
import { SNAPSHOT_CAP, SnapshotComparison } from './visitSnapshot';
import type { MissingVisit, WindowBounds } from './visitSnapshot';

/**
 * The date-window strategy against the server (the comparison itself is in visitSnapshot.ts): read
 * every page of the window's visit search, compare, then read by id the visits the snapshot expected
 * but the search did not return, to tell a visit moved out of the window from a deleted one.
 */

/** Visits read by id per poll; the rest keep their snapshot entry and are checked at the next poll. */
export const MAX_LOOKUPS_PER_POLL = 50;
/** Pages "Fetch test event" reads at most. */
const TEST_EVENT_PAGES = 5;

function windowOf(source: WatchedSource): WindowBounds {
	if (!source.window) throw new Error('A date-window source has no window');
	return source.window;
}

function windowDays(window: WindowBounds): number {
	return Math.round((window.endMs - window.startMs) / 86_400_000);
}

function capReached(window: WindowBounds, cap: number): InputError {
	return new InputError(
		'Visits Within (Days)',
		`the ${windowDays(window)}-day window holds more than ${cap} visits, the most the trigger keeps track of per practice on a server that cannot list changed records (no _lastUpdated, as on eClinicalWorks)`,
		'Set Visits Within (Days) lower, or watch one Location or Practitioner per trigger',
	);
}

function isGone(error: unknown): boolean {
	return error instanceof FhirError && (error.status === 404 || error.status === 410);
}

function isRateLimit(error: unknown): error is FhirError {
	return error instanceof FhirError && error.kind === 'rateLimit';
}

/**
 * "Fetch test event": the visit in the window changed most recently (`meta.lastUpdated`), else the
 * next one to start, among the first pages. Nothing is saved.
 */
async function testEvent(poll: PracticePoll): Promise<PracticePollResult> {
	const { client, source } = poll;
	let best: { change: Change; updated: number; start: number } | undefined;
	let pages = 0;
	for await (const bundle of client.searchPages(source.type, source.query, { pageSize: poll.pageSize })) {
		for (const resource of splitBundle(bundle, source.type).matches) {
			if (!source.matches(resource as Record<string, unknown>)) continue;
			const id = String(resource.id ?? '');
			const change: Change = { resource, id, key: id, event: classify(resource, { known: false }) };
			if (typeof resource.status === 'string') change.status = resource.status;
			const lastUpdated = (resource.meta as { lastUpdated?: unknown } | undefined)?.lastUpdated;
			if (typeof lastUpdated === 'string') change.lastUpdated = lastUpdated;
			if (!wanted(source, change)) continue;
			const updated = toMillis(change.lastUpdated) ?? 0;
			const start = visitStartMs(resource) ?? Number.MAX_SAFE_INTEGER;
			if (!best || updated > best.updated || (updated === best.updated && start < best.start)) best = { change, updated, start };
		}
		if (++pages >= TEST_EVENT_PAGES) break;
	}
	return { changes: best ? [best.change] : [], included: new Map() };
}

/** Reads the visits the search did not return, by id (at most MAX_LOOKUPS_PER_POLL). */
async function lookUpMissing(
	poll: PracticePoll,
	comparison: SnapshotComparison,
	missing: MissingVisit[],
	changes: Change[],
): Promise<FhirError | undefined> {
	const { client, source } = poll;
	let interrupted: FhirError | undefined;
	missing.forEach((visit, index) => {
		if (index >= MAX_LOOKUPS_PER_POLL) comparison.keep(visit);
	});
	for (const visit of missing.slice(0, MAX_LOOKUPS_PER_POLL)) {
		if (interrupted) {
			comparison.keep(visit);
			continue;
		}
		let resource: FhirResource | undefined;
		let failure: unknown;
		try {
			resource = (await client.read(source.type, visit.id)) as FhirResource;
		} catch (error) {
			failure = error;
		}
		if (resource) {
			const watched = source.matches(resource as Record<string, unknown>);
			const change = comparison.found(visit, resource, watched);
			if (change && wanted(source, change, !watched)) changes.push(change);
		} else if (isGone(failure)) {
			const change = comparison.gone(visit, source.type);
			if (wanted(source, change)) changes.push(change);
		} else if (isRateLimit(failure)) {
			interrupted = failure;
			comparison.keep(visit);
		} else if (failure instanceof FhirError) {
			// The server would not say (5xx, network, an unexpected status): asked again next poll,
			// until the visit's day leaves the window. One unreadable visit never stops the trigger.
			comparison.keep(visit);
		} else {
			throw failure;
		}
	}
	return interrupted;
}

/**
 * One poll: activation (no state) reads the window and emits nothing; later polls emit what changed
 * since the previous one. A 429 that outlasts the client's waits ends the read: the visits read are
 * compared and emitted, the rest wait for the next poll. Any other failure fails the poll with the
 * state untouched.
 */
export async function pollWindow(poll: PracticePoll): Promise<PracticePollResult> {
	if (poll.mode === 'manual') return await testEvent(poll);
	const { client, source } = poll;
	const window = windowOf(source);
	const cap = poll.limits?.snapshotCap ?? SNAPSHOT_CAP;
	const comparison = new SnapshotComparison(poll.state?.strategy === 'window' ? poll.state : undefined, window);
	const changes: Change[] = [];

	let readAt: string | undefined;
	let complete = false;
	let failure: unknown;
	try {
		for await (const bundle of client.searchPages(source.type, source.query, { pageSize: poll.pageSize })) {
			readAt ??= serverTime(bundle) ?? poll.now ?? new Date().toISOString();
			for (const resource of splitBundle(bundle, source.type).matches) {
				if (!source.matches(resource as Record<string, unknown>)) continue;
				const change = comparison.offer(resource);
				if (comparison.size > cap) throw capReached(window, cap);
				if (change && wanted(source, change)) changes.push(change);
			}
		}
		complete = true;
	} catch (error) {
		failure = error;
	}
	// A new snapshot needs the whole window; a comparison keeps what it read before a 429.
	let interrupted = isRateLimit(failure) && !comparison.takesSnapshot ? failure : undefined;
	if (failure !== undefined && !interrupted) throw failure;
	if (complete && !comparison.takesSnapshot) interrupted = await lookUpMissing(poll, comparison, comparison.missing(), changes);
	return { changes, included: new Map(), state: comparison.commit({ complete, readAt }), interrupted };
}
