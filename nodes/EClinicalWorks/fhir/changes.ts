/**
 * Change tracking for the polling trigger: the cursor, the ids already emitted at the cursor
 * timestamp, recently emitted versions and the last known status per record.
 *
 * Plain module (no n8n import). The trigger stores one `ChangeState` per practice (resolved base
 * URL) and resource type in the workflow's static data.
 *
 * How a poll works:
 * - query `_lastUpdated=ge<cursor>` (ge, not gt: several records can share the cursor timestamp and
 *   a `gt` query would miss the ones not yet seen), sorted by `_lastUpdated` when the server can;
 * - feed every returned record, in server order, to `ChangeBatch.offer`: records already emitted
 *   (same id and version at the cursor timestamp, or in the recent list) are dropped;
 * - `ChangeBatch.commit` returns the next state. The cursor only moves over records that were
 *   actually read: after a complete read to the newest timestamp seen, after an interrupted read
 *   (429, page limit) of a sorted result to the last timestamp read, and after an interrupted read
 *   of an unsorted result not at all (the recent list then prevents duplicates on the retry).
 *
 * All timestamps come from the FHIR server (`meta.lastUpdated`, `Bundle.meta.lastUpdated`), never
 * from the machine running n8n.
 */

/** `deleted`: a watched visit the server no longer has (date-window strategy only, see trigger/). */
export type ChangeEvent = 'created' | 'updated' | 'cancelled' | 'deleted';

export interface ChangeState {
	/** Server timestamp as the server wrote it; undefined until the first poll found one. */
	cursor?: string;
	/** `id|version` of records already handled whose `meta.lastUpdated` equals the cursor. */
	atCursor: string[];
	/** `id|version` of recently emitted records, oldest first (bounded). */
	recent: string[];
	/** `[id, status]` of records seen, oldest first (bounded). Status is '' for resources without one. */
	known: Array<[string, string]>;
	/**
	 * Ids that existed when the trigger was activated (at most `SEED_LIMIT`), kept only when the
	 * server gives no signal of its own (version ids that are not counters): a record first seen
	 * after activation is then `created` unless its id is here. Absent: the server's signals decide.
	 */
	seed?: string[];
}

export interface ChangeLimits {
	recent: number;
	known: number;
	atCursor: number;
}

export const DEFAULT_LIMITS: ChangeLimits = { recent: 1000, known: 3000, atCursor: 5000 };

/** Most ids remembered from activation (`ChangeState.seed`). */
export const SEED_LIMIT = 5000;

/** The fields of a FHIR resource this module reads. */
export interface TrackedResource {
	resourceType?: string;
	id?: string;
	status?: unknown;
	/** Appointment.created (when the appointment was booked). */
	created?: unknown;
	meta?: { versionId?: unknown; lastUpdated?: unknown };
}

export interface Change<R extends TrackedResource = TrackedResource> {
	resource: R;
	id: string;
	/** `id|versionId`, or `id|lastUpdated` when the server sends no version. */
	key: string;
	lastUpdated?: string;
	event: ChangeEvent;
	status?: string;
	/** Status before this change, when this trigger saw the record before. */
	previousStatus?: string;
	/** `deleted` only: the visit's start when the trigger last saw it (ISO instant). */
	previousStart?: string;
}

export function emptyState(): ChangeState {
	return { atCursor: [], recent: [], known: [] };
}

/** Reads a state from static data, tolerating anything (missing, older shapes, edited by hand). */
export function readState(raw: unknown): ChangeState {
	const state = emptyState();
	if (!raw || typeof raw !== 'object') return state;
	const value = raw as Record<string, unknown>;
	if (typeof value.cursor === 'string' && toMillis(value.cursor) !== undefined) state.cursor = value.cursor;
	state.atCursor = stringArray(value.atCursor);
	state.recent = stringArray(value.recent);
	if (Array.isArray(value.known)) {
		for (const entry of value.known) {
			if (Array.isArray(entry) && typeof entry[0] === 'string' && typeof entry[1] === 'string') {
				state.known.push([entry[0], entry[1]]);
			}
		}
	}
	if (Array.isArray(value.seed)) state.seed = stringArray(value.seed);
	return state;
}

/** Milliseconds since the epoch of a FHIR instant / dateTime, or undefined when unreadable. */
export function toMillis(value: unknown): number | undefined {
	if (typeof value !== 'string' || value === '') return undefined;
	const ms = Date.parse(value);
	return Number.isNaN(ms) ? undefined : ms;
}

/** FHIR instant (UTC) for an HTTP `Date` header value, or undefined. */
export function instantFromHttpDate(value: string | undefined): string | undefined {
	const ms = toMillis(value);
	return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** The `_lastUpdated` search values for a state: `ge<cursor>`, or none before the first cursor. */
export function lastUpdatedQuery(state: ChangeState): Array<[string, string]> {
	return state.cursor ? [['_lastUpdated', `ge${state.cursor}`]] : [];
}

function stringArray(value: unknown): string[] {
	return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function stringValue(value: unknown): string | undefined {
	return typeof value === 'string' && value !== '' ? value : undefined;
}

function lastN<T>(values: T[], n: number): T[] {
	return values.length > n ? values.slice(values.length - n) : values;
}

export function versionKey(resource: TrackedResource): string | undefined {
	const id = stringValue(resource.id);
	if (!id) return undefined;
	const version = stringValue(resource.meta?.versionId) ?? stringValue(resource.meta?.lastUpdated) ?? '';
	return `${id}|${version}`;
}

/** Whether a version id is a counter (`1`, `2`, ...): then version 1 means "just created". */
export function isCounterVersion(version: unknown): boolean {
	return typeof version === 'string' && /^[0-9]+$/.test(version);
}

/** Whether the server's records say themselves whether they are new (every version id a counter). */
export function versionsAreCounters(resources: TrackedResource[]): boolean {
	return resources.every((resource) => isCounterVersion(resource.meta?.versionId));
}

export interface ClassifyContext {
	/** Changes older than this were read by an earlier poll (the `_lastUpdated` cursor). */
	cursor?: string;
	/** Whether an id existed at activation; undefined when the trigger did not record it. */
	existedAtActivation?: (id: string) => boolean;
}

/**
 * Classifies a change.
 * - `cancelled`: the status is now `cancelled` and was not known to be `cancelled` before;
 * - `updated`: a record this trigger has seen before;
 * - otherwise (first sighting), the server's own signals first: version id 1 is `created`; when the
 *   record says when it was created (Appointment.created), `created` if that is not older than the
 *   cursor (booked, then edited before this poll), `updated` if it is; a later counter version id is
 *   `updated`. Without a signal (version ids that are not counters, such as
 *   UUIDs, or no version at all) the trigger's own memory decides: `created` unless the id existed
 *   at activation. A trigger that did not record that (saved by an older version) keeps the old
 *   rule: `updated` when the record has a version, `created` when it has none.
 */
export function classify(
	resource: TrackedResource,
	previous: { known: boolean; status?: string },
	context: ClassifyContext = {},
): ChangeEvent {
	const status = stringValue(resource.status);
	if (status === 'cancelled' && previous.status !== 'cancelled') return 'cancelled';
	if (previous.known) return 'updated';
	const version = stringValue(resource.meta?.versionId);
	const counter = isCounterVersion(version);
	if (counter && Number(version) === 1) return 'created';
	const created = toMillis(resource.created);
	const cursorMs = toMillis(context.cursor);
	if (created !== undefined && cursorMs !== undefined) return created < cursorMs ? 'updated' : 'created';
	if (counter) return 'updated';
	const id = stringValue(resource.id);
	if (context.existedAtActivation && id !== undefined) return context.existedAtActivation(id) ? 'updated' : 'created';
	return version !== undefined ? 'updated' : 'created';
}

/** One poll's worth of records for one practice and resource type. */
export class ChangeBatch<R extends TrackedResource = TrackedResource> {
	private readonly state: ChangeState;
	private readonly limits: ChangeLimits;
	private sorted: boolean;
	private readonly cursorMs?: number;
	private readonly atCursor: Set<string>;
	private readonly recent: Set<string>;
	private readonly known: Map<string, string>;
	private readonly seed?: Set<string>;
	private readonly handled = new Set<string>();
	private readonly emitted: string[] = [];
	/** Newest timestamp read, with the keys read at it. */
	private maxMs?: number;
	private maxValue?: string;
	private maxKeys: string[] = [];
	/** Last timestamp read in server order (sorted results), with the keys read at it. */
	private lastMs?: number;
	private lastValue?: string;
	private lastKeys: string[] = [];
	/** The server's time when the read started: the cursor never moves past it. */
	private ceilingMs?: number;
	private ceilingValue?: string;
	private ceilingKeys: string[] = [];
	/** Where the first page ended (the last timestamp read on it, with its keys), and pages read. */
	private firstPageEnd?: { ms?: number; value?: string; keys: string[] };
	private pagesRead = 0;

	constructor(state: ChangeState, options: { sorted: boolean; limits?: Partial<ChangeLimits> }) {
		this.state = state;
		this.limits = { ...DEFAULT_LIMITS, ...options.limits };
		this.sorted = options.sorted;
		this.cursorMs = toMillis(state.cursor);
		this.atCursor = new Set(state.atCursor);
		this.recent = new Set(state.recent);
		this.known = new Map(state.known);
		if (state.seed) this.seed = new Set(state.seed);
	}

	/** False once a record arrived out of `_lastUpdated` order. */
	get isSorted(): boolean {
		return this.sorted;
	}

	/**
	 * The server's time when the read started (the first page's `Bundle.meta.lastUpdated`). Records
	 * changed while the pages were read may have moved between pages; the cursor stops at this time,
	 * so they are read again next time (and not emitted twice: they are in the recent list).
	 */
	setCeiling(serverTime: string | undefined): void {
		const ms = toMillis(serverTime);
		if (ms === undefined || this.maxMs !== undefined) return;
		this.ceilingMs = ms;
		this.ceilingValue = serverTime;
	}

	/** The server did not apply `_sort` after all: the cursor will only move after a complete read. */
	markUnsorted(): void {
		this.sorted = false;
	}

	/** Call after each page's records were offered (see `commit` for why the first page matters). */
	pageDone(): void {
		this.pagesRead += 1;
		if (this.pagesRead === 1) this.firstPageEnd = { ms: this.lastMs, value: this.lastValue, keys: [...this.lastKeys] };
	}

	get emittedCount(): number {
		return this.emitted.length;
	}

	/** Feed records in server order. Returns the change to emit, or undefined when already emitted. */
	offer(resource: R): Change<R> | undefined {
		const id = stringValue(resource.id);
		const key = versionKey(resource);
		if (!id || !key) return undefined;
		const lastUpdated = stringValue(resource.meta?.lastUpdated);
		const ms = toMillis(lastUpdated);

		if (ms !== undefined) this.track(ms, lastUpdated as string, key);
		else this.sorted = false; // cannot place this record: never move the cursor over it incrementally

		if (this.handled.has(key)) return undefined;
		this.handled.add(key);
		if (this.recent.has(key)) return undefined;
		if (ms !== undefined && this.cursorMs !== undefined) {
			// Older than the cursor: read by an earlier poll (the cursor only moves over records
			// read). Matters when a server ignores `_lastUpdated` and returns older records.
			if (ms < this.cursorMs) return undefined;
			if (ms === this.cursorMs && this.atCursor.has(key)) return undefined;
		}

		const wasKnown = this.known.has(id);
		const previousStatus = wasKnown ? this.known.get(id) || undefined : undefined;
		const seed = this.seed;
		const event = classify(
			resource,
			{ known: wasKnown, status: previousStatus },
			{ cursor: this.state.cursor, existedAtActivation: seed ? (candidate) => seed.has(candidate) : undefined },
		);
		const status = stringValue(resource.status);
		this.known.delete(id); // re-insert to keep the newest last
		this.known.set(id, status ?? '');
		this.recent.add(key);
		this.emitted.push(key);

		const change: Change<R> = { resource, id, key, event };
		if (lastUpdated) change.lastUpdated = lastUpdated;
		if (status !== undefined) change.status = status;
		if (previousStatus !== undefined) change.previousStatus = previousStatus;
		return change;
	}

	private track(ms: number, value: string, key: string): void {
		if (ms === this.ceilingMs) this.ceilingKeys.push(key);
		if (this.maxMs === undefined || ms > this.maxMs) {
			this.maxMs = ms;
			this.maxValue = value;
			this.maxKeys = [key];
		} else if (ms === this.maxMs) {
			this.maxKeys.push(key);
		}
		if (this.lastMs !== undefined && ms < this.lastMs) this.sorted = false;
		if (this.lastMs === undefined || ms > this.lastMs) {
			this.lastMs = ms;
			this.lastValue = value;
			this.lastKeys = [key];
		} else if (ms === this.lastMs) {
			this.lastKeys.push(key);
		}
	}

	/**
	 * The state after this poll.
	 * @param complete every page of the result was read
	 * @param serverTime the server's current time (Bundle.meta.lastUpdated or Date header), used only
	 *   when there is no cursor yet and no record was read
	 */
	commit(options: { complete: boolean; serverTime?: string }): ChangeState {
		let cursor = this.state.cursor;
		let atCursor = this.state.atCursor;

		let target: { ms?: number; value?: string; keys: string[] } | undefined;
		if (options.complete) target = { ms: this.maxMs, value: this.maxValue, keys: this.maxKeys };
		else if (this.sorted) target = { ms: this.lastMs, value: this.lastValue, keys: this.lastKeys };

		// A record newer than the read's start changed while the pages were read. A server that pages
		// by offset over a live sorted result then shifts the later pages by one, and the record at the
		// shift is skipped: only the first page is sure to have been read whole. What later pages held
		// is read again next time, and not emitted twice (the recent list).
		const changedDuringRead = this.maxMs !== undefined && this.ceilingMs !== undefined && this.maxMs > this.ceilingMs;
		const firstPage = this.firstPageEnd;
		if (target?.ms !== undefined && this.sorted && this.pagesRead > 1 && changedDuringRead && firstPage?.ms !== undefined && target.ms > firstPage.ms) {
			target = firstPage;
		}
		if (target?.ms !== undefined && this.ceilingMs !== undefined && target.ms > this.ceilingMs) {
			target = { ms: this.ceilingMs, value: this.ceilingValue, keys: this.ceilingKeys };
		}
		if (target?.ms !== undefined && target.value !== undefined) {
			if (this.cursorMs === undefined || target.ms > this.cursorMs) {
				cursor = target.value;
				atCursor = unique(target.keys);
			} else if (target.ms === this.cursorMs) {
				atCursor = unique([...this.state.atCursor, ...target.keys]);
			}
		} else if (cursor === undefined && options.complete && toMillis(options.serverTime) !== undefined) {
			cursor = options.serverTime;
			atCursor = [];
		}

		return {
			...(cursor !== undefined ? { cursor } : {}),
			atCursor: lastN(atCursor, this.limits.atCursor),
			recent: lastN([...this.recent], this.limits.recent),
			known: lastN([...this.known.entries()], this.limits.known),
			...(this.state.seed ? { seed: this.state.seed } : {}),
		};
	}
}

function unique(values: string[]): string[] {
	return [...new Set(values)];
}

/**
 * First activation: the cursor starts at the server's current time (or, when the server sends no
 * time, at the newest record's timestamp, with the records at that timestamp marked as handled),
 * so activating a trigger does not replay history.
 */
export function initialState(serverTime: string | undefined, newest?: TrackedResource[]): ChangeState {
	const state = emptyState();
	if (toMillis(serverTime) !== undefined) {
		state.cursor = serverTime;
		return state;
	}
	let maxMs: number | undefined;
	for (const resource of newest ?? []) {
		const ms = toMillis(resource.meta?.lastUpdated);
		if (ms === undefined) continue;
		const key = versionKey(resource);
		if (maxMs === undefined || ms > maxMs) {
			maxMs = ms;
			state.cursor = resource.meta?.lastUpdated as string;
			state.atCursor = key ? [key] : [];
		} else if (ms === maxMs && key) {
			state.atCursor.push(key);
		}
	}
	return state;
}
