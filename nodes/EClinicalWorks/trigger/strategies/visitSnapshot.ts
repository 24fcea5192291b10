import { classify, toMillis } from '../../fhir/changes';
import type { Change, TrackedResource } from '../../fhir/changes';
import { visitFingerprint, visitStartMs } from './visitFingerprint';

/**
 * The date-window strategy, for servers that cannot list what changed (no `_lastUpdated`, as on
 * eClinicalWorks). Each poll reads the visits of a window of dates (today to N days ahead) and
 * compares them with a snapshot of the previous read, kept in the workflow's static data: per visit,
 * a fingerprint of what a dispatcher cares about (visitFingerprint.ts), its start and its status.
 *
 * - A visit whose fingerprint changed is `updated` (`cancelled` when its status became cancelled).
 * - A visit not in the snapshot whose start lies in the range the previous read covered is new
 *   there: booked, or moved in from outside the window (see `classify` for created vs updated).
 * - A visit not in the snapshot whose start lies in the part of the window the previous read did not
 *   cover (the window moved on at midnight, or was made longer) was only out of sight: it is added
 *   silently, unless its `meta.lastUpdated` says it changed after the previous read.
 * - A visit in the snapshot whose start is now before the window (its day passed) or after it (the
 *   window was made shorter) is dropped silently: leaving the window is not a cancellation.
 * - A visit in the snapshot that should still be in the window but was not returned was moved out
 *   of it, changed so that it no longer matches the filters, or deleted: the poll reads it by id to
 *   tell which (see window.ts). Moved or changed: `updated` (or `cancelled`); gone: `deleted`.
 * - When the user changes the Location or Practitioner filter, the snapshot is taken again silently,
 *   as at activation (else every visit of the new filter would look new).
 *
 * Plain module: no n8n, no HTTP.
 */

/** Most visits kept per practice: the window must hold fewer (else the poll stops with a message). */
export const SNAPSHOT_CAP = 5000;
/** Visits remembered as moved out of the window, so that moving back in is `updated`, not `created`. */
export const MOVED_OUT_LIMIT = 1000;

export interface WindowState {
	strategy: 'window';
	/** The window the last complete read covered (ISO instants, end excluded). */
	window: { start: string; end: string };
	/** The Location and Practitioner filters the snapshot was taken with. */
	filters?: string;
	/** When the trigger was activated (server time when the server sends it, else n8n's). */
	activatedAt?: string;
	/** When the last complete read started (same clock). */
	readAt?: string;
	/** Visit id -> `<fingerprint> <start, minutes since 1970 in base 36> <status>`. */
	visits: Record<string, string>;
	/** Ids of visits reported as moved out of the window, oldest first (bounded). */
	movedOut: string[];
}

export interface SnapshotEntry {
	fingerprint: string;
	startMs: number;
	status: string;
}

export interface WindowBounds {
	startMs: number;
	endMs: number;
	start: string;
	end: string;
	/** The Location and Practitioner filters, as one string. */
	filters: string;
}

export function encodeEntry(entry: SnapshotEntry): string {
	return `${entry.fingerprint} ${Math.floor(entry.startMs / 60000).toString(36)} ${entry.status}`;
}

export function decodeEntry(value: unknown): SnapshotEntry | undefined {
	if (typeof value !== 'string') return undefined;
	const [fingerprint, start, ...status] = value.split(' ');
	const minutes = parseInt(start ?? '', 36);
	if (!fingerprint || Number.isNaN(minutes)) return undefined;
	return { fingerprint, startMs: minutes * 60000, status: status.join(' ') };
}

function entryOf(visit: TrackedResource & Record<string, unknown>, startMs: number): SnapshotEntry {
	return {
		fingerprint: visitFingerprint(visit),
		startMs,
		status: typeof visit.status === 'string' ? visit.status : '',
	};
}

/** Reads a saved window state, tolerating anything; undefined when it is not one. */
export function readWindowState(raw: unknown): WindowState | undefined {
	if (!raw || typeof raw !== 'object') return undefined;
	const value = raw as Record<string, unknown>;
	if (value.strategy !== 'window') return undefined;
	const window = value.window as { start?: unknown; end?: unknown } | undefined;
	const start = typeof window?.start === 'string' && toMillis(window.start) !== undefined ? window.start : undefined;
	const end = typeof window?.end === 'string' && toMillis(window.end) !== undefined ? window.end : undefined;
	const visits: Record<string, string> = {};
	if (value.visits && typeof value.visits === 'object' && !Array.isArray(value.visits)) {
		for (const [id, entry] of Object.entries(value.visits as Record<string, unknown>)) {
			if (decodeEntry(entry)) visits[id] = entry as string;
		}
	}
	const state: WindowState = {
		strategy: 'window',
		window: start && end ? { start, end } : { start: '', end: '' },
		visits,
		movedOut: Array.isArray(value.movedOut) ? value.movedOut.filter((id): id is string => typeof id === 'string') : [],
	};
	if (typeof value.filters === 'string') state.filters = value.filters;
	if (typeof value.activatedAt === 'string') state.activatedAt = value.activatedAt;
	if (typeof value.readAt === 'string') state.readAt = value.readAt;
	return state;
}

/** A visit the snapshot expected in the window that the search did not return. */
export interface MissingVisit {
	id: string;
	entry: SnapshotEntry;
}

/** One poll's comparison of the window with the snapshot. */
export class SnapshotComparison {
	/** The previous state, unless there is none (activation) or the filters changed since. */
	private readonly previous?: WindowState;
	private readonly activatedAt?: string;
	private readonly window: WindowBounds;
	private readonly old = new Map<string, SnapshotEntry>();
	private readonly next = new Map<string, string>();
	private readonly movedOut: string[];
	private readonly coveredStartMs?: number;
	private readonly coveredEndMs?: number;
	private readonly readAtMs?: number;

	/** @param saved undefined at activation: everything read is taken in silently. */
	constructor(saved: WindowState | undefined, window: WindowBounds) {
		const previous = saved && (saved.filters ?? '') === window.filters ? saved : undefined;
		this.previous = previous;
		this.activatedAt = saved?.activatedAt;
		this.window = window;
		this.movedOut = [...(saved?.movedOut ?? [])];
		for (const [id, raw] of Object.entries(previous?.visits ?? {})) {
			const entry = decodeEntry(raw);
			if (entry) this.old.set(id, entry);
		}
		this.coveredStartMs = toMillis(previous?.window.start);
		this.coveredEndMs = toMillis(previous?.window.end);
		this.readAtMs = toMillis(previous?.readAt);
	}

	get size(): number {
		return this.next.size;
	}

	/** No comparison this time: activation, or new filters. The read must then be complete. */
	get takesSnapshot(): boolean {
		return !this.previous;
	}

	private covered(startMs: number): boolean {
		return (
			this.coveredStartMs !== undefined &&
			this.coveredEndMs !== undefined &&
			startMs >= this.coveredStartMs &&
			startMs < this.coveredEndMs
		);
	}

	/** Whether the server says the visit changed after the previous read (`meta.lastUpdated`). */
	private changedSinceLastRead(visit: TrackedResource): boolean {
		const ms = toMillis(visit.meta?.lastUpdated);
		return ms !== undefined && this.readAtMs !== undefined && ms >= this.readAtMs;
	}

	private newVisit(visit: TrackedResource, id: string): Change {
		const movedOut = this.movedOut;
		const event = classify(
			visit,
			{ known: false },
			{ cursor: this.activatedAt, existedAtActivation: (candidate) => movedOut.includes(candidate) },
		);
		return change(visit, id, event);
	}

	/**
	 * A visit the search returned that lies in the window and matches the filters. Returns the change
	 * to report, or undefined. Each id once per poll.
	 */
	offer(visit: TrackedResource & Record<string, unknown>): Change | undefined {
		const id = typeof visit.id === 'string' ? visit.id : '';
		const startMs = visitStartMs(visit);
		if (!id || startMs === undefined || this.next.has(id)) return undefined;
		const entry = entryOf(visit, startMs);
		this.next.set(id, encodeEntry(entry));
		if (!this.previous) return undefined;
		const before = this.old.get(id);
		if (before) return before.fingerprint === entry.fingerprint ? undefined : changed(visit, id, entry, before);
		if (this.covered(startMs) || this.changedSinceLastRead(visit)) return this.newVisit(visit, id);
		return undefined;
	}

	/** Visits of the snapshot that should be in the window but were not returned (after a complete read). */
	missing(): MissingVisit[] {
		const out: MissingVisit[] = [];
		for (const [id, entry] of this.old) {
			if (this.next.has(id)) continue;
			if (entry.startMs < this.window.startMs || entry.startMs >= this.window.endMs) continue;
			out.push({ id, entry });
		}
		return out;
	}

	/** The server has no such visit any more (404 / 410). */
	gone(missing: MissingVisit, type: string): Change {
		const result = change({ resourceType: type, id: missing.id }, missing.id, 'deleted');
		if (missing.entry.status) result.previousStatus = missing.entry.status;
		result.previousStart = new Date(missing.entry.startMs).toISOString();
		return result;
	}

	/**
	 * The visit read by id. `watched`: it lies in the window and matches the filters (the search
	 * missed it): compared as usual. Otherwise it moved out of the window or out of the filters:
	 * `updated` (or `cancelled`) once, then forgotten.
	 */
	found(missing: MissingVisit, visit: TrackedResource & Record<string, unknown>, watched: boolean): Change | undefined {
		if (watched) return this.offer(visit);
		const startMs = visitStartMs(visit) ?? missing.entry.startMs;
		const entry = entryOf(visit, startMs);
		if (entry.fingerprint === missing.entry.fingerprint) return undefined;
		this.movedOut.push(missing.id);
		return changed(visit, missing.id, entry, missing.entry);
	}

	/** Keeps a snapshot entry that could not be checked this poll (checked again next time). */
	keep(missing: MissingVisit): void {
		this.next.set(missing.id, encodeEntry(missing.entry));
	}

	/**
	 * The state after this poll. After an incomplete read (a 429 that outlasted the waits) the visits
	 * read are updated, the others kept as they were, and the covered window stays the previous one.
	 */
	commit(options: { complete: boolean; readAt?: string }): WindowState {
		const complete = options.complete || !this.previous;
		if (!complete && this.previous) {
			for (const [id, entry] of this.old) if (!this.next.has(id)) this.next.set(id, encodeEntry(entry));
		}
		const readAt = complete ? options.readAt : this.previous?.readAt;
		const state: WindowState = {
			strategy: 'window',
			window: complete ? { start: this.window.start, end: this.window.end } : (this.previous as WindowState).window,
			filters: this.window.filters,
			visits: Object.fromEntries(this.next),
			movedOut: [...new Set(this.movedOut)].slice(-MOVED_OUT_LIMIT),
		};
		const activatedAt = this.activatedAt ?? options.readAt;
		if (activatedAt) state.activatedAt = activatedAt;
		if (readAt) state.readAt = readAt;
		return state;
	}
}

function change(visit: TrackedResource, id: string, event: Change['event']): Change {
	const result: Change = { resource: visit, id, key: id, event };
	if (typeof visit.meta?.lastUpdated === 'string') result.lastUpdated = visit.meta.lastUpdated;
	if (typeof visit.status === 'string') result.status = visit.status;
	return result;
}

function changed(visit: TrackedResource, id: string, entry: SnapshotEntry, before: SnapshotEntry): Change {
	const event = entry.status === 'cancelled' && before.status !== 'cancelled' ? 'cancelled' : 'updated';
	const result = change(visit, id, event);
	if (before.status) result.previousStatus = before.status;
	return result;
}
