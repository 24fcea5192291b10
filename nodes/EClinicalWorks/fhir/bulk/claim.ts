import { storableStatusUrl, statusHashOf } from './state';
import type { ExportStateRow, StateChanges, StateRows } from './state';

/**
 * One export at a time per state key, and no second kick-off after a run that died.
 *
 * An execution that wants to export first claims the key's row (compare-and-set): it becomes the
 * row's `owner` with a lease it renews every HEARTBEAT_MS while it works. It records its intent
 * (`phase: starting`) BEFORE it sends the kick-off and the status URL right after the server's
 * answer. Another execution that finds a live claim does not kick off: it watches the row until it
 * sees the holder renew its lease (alive: "running elsewhere"), finish ("done elsewhere"), or let
 * the lease lapse (dead: it takes the export over and collects it). A row left in `starting` by a
 * holder that is gone means the kick-off may have reached the server with nobody to record its
 * status URL: the next run says so and does not start another export unless told to.
 */

/** A holder that stops renewing is presumed dead after this long. */
export const LEASE_MS = 120_000;
/** How often a holder renews its lease while it polls or downloads. */
export const HEARTBEAT_MS = 30_000;
/** How often a run that found a live claim looks at the row again. */
export const WATCH_EVERY_MS = 10_000;
/**
 * A run that returns with the export still running and comes back to it through n8n's Wait node
 * (Start, or Export with Max Total Wait 0) keeps it this long past the next status check, so that its
 * next turn finds it held: the Wait should be about the server's Retry-After (eClinicalWorks: 2 minutes).
 */
export const PARKED_MS = 2 * 60_000;

export interface Holder {
	/** The execution id. */
	owner: string;
	now: () => number;
	/** Resolves after `ms`, or early (resolving or rejecting) when `signal` fires. */
	sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
	/** Progress for n8n's log (no URL, no token). */
	log?: (message: string) => void;
}

export interface Intent {
	since?: string;
	/** Method and path of the kick-off, for people reading the row. */
	request: string;
}

export type Claim =
	/** Kick off now: the intent is recorded and held. */
	| { kind: 'start'; held: HeldExport }
	/** An export this key left running: poll `held.row.statusUrl` instead of starting one. */
	| { kind: 'resume'; held: HeldExport }
	/** Another live execution (`by`) holds the key; `done` when it finished the export while this one watched. */
	| { kind: 'elsewhere'; row: ExportStateRow; done: boolean; by: string }
	/** A kick-off may have been sent by a run that is gone before it recorded the status URL (or the URL could not be stored). */
	| { kind: 'interrupted'; row: ExportStateRow };

const iso = (ms: number) => new Date(ms).toISOString();
const time = (value: string) => (value ? Date.parse(value) : Number.NaN);

function liveElsewhere(row: ExportStateRow, holder: Holder): boolean {
	return row.owner !== '' && row.owner !== holder.owner && time(row.leaseUntil) > holder.now();
}

/** The fields of an export in flight, cleared when it ends. */
const idle: StateChanges = { phase: '', statusUrl: '', statusHash: '', since: '', request: '', owner: '', leaseUntil: '' };

/**
 * Claims the key for an export. `intent` is built from the row as found (its last transactionTime is
 * the `_since`). `restartInterrupted`: a row left in `starting` by a run that is gone is overwritten
 * and a new export started (the user said the old one is not running).
 */
export async function claimExport(
	rows: StateRows,
	key: string,
	holder: Holder,
	intent: (row: ExportStateRow) => Intent,
	restartInterrupted = false,
): Promise<Claim> {
	let watched: ExportStateRow | undefined;
	for (let attempt = 0; attempt < 100; attempt++) {
		const row = await rows.read(key);
		const now = holder.now();
		if (liveElsewhere(row, holder)) {
			// parked (Start, a Wait loop): its holder said it will come back after its next check
			if (!watched && time(row.leaseUntil) - now > LEASE_MS + WATCH_EVERY_MS) return { kind: 'elsewhere', row, done: false, by: row.owner };
			if (!watched) {
				watched = row;
				holder.log?.(
					`execution ${row.owner} holds this export (since ${row.startedAt || 'an earlier run'}); watching it for up to ${Math.round((time(row.leaseUntil) - now) / 1000)} s to see whether it is alive`,
				);
			} else if (row.owner !== watched.owner || row.startedAt !== watched.startedAt || row.version !== watched.version) {
				// the holder renewed its lease or moved on (or another run took over): someone alive has it
				return { kind: 'elsewhere', row, done: false, by: row.owner };
			}
			await holder.sleep(Math.max(1000, Math.min(WATCH_EVERY_MS, time(row.leaseUntil) - now + 1000)));
			continue;
		}
		if (watched && row.phase === '' && row.lastCompletedAt && time(row.lastCompletedAt) >= time(watched.startedAt)) {
			return { kind: 'elsewhere', row, done: true, by: watched.owner };
		}
		const lostStart = row.phase === 'starting' || (row.phase === 'running' && row.statusUrl === '');
		if (lostStart && !restartInterrupted) return { kind: 'interrupted', row };
		if (row.phase === 'running' && row.statusUrl !== '') {
			const taken = await rows.write(row, { owner: holder.owner, leaseUntil: iso(now + LEASE_MS) });
			if (taken) {
				if (row.owner && row.owner !== holder.owner) holder.log?.(`taking over the export execution ${row.owner} left running`);
				return { kind: 'resume', held: new HeldExport(rows, taken, holder) };
			}
			continue;
		}
		const wanted = intent(row);
		const started = await rows.write(row, {
			...idle,
			phase: 'starting',
			owner: holder.owner,
			leaseUntil: iso(now + LEASE_MS),
			startedAt: iso(now),
			since: wanted.since ?? '',
			request: wanted.request,
		});
		if (started) return { kind: 'start', held: new HeldExport(rows, started, holder) };
	}
	throw new Error(`Could not claim the export state in ${rows.label}: it kept changing`);
}

/** Takes the key over for a status URL the user gave (Resume From Status URL): theirs to resume. */
export async function adoptExport(rows: StateRows, key: string, holder: Holder, statusUrl: string, baseUrl: string): Promise<HeldExport> {
	for (let attempt = 0; attempt < 20; attempt++) {
		const row = await rows.read(key);
		const changes: StateChanges =
			row.statusHash === statusHashOf(statusUrl)
				? { owner: holder.owner, leaseUntil: iso(holder.now() + LEASE_MS) }
				: {
						...idle,
						phase: 'running',
						statusUrl: storableStatusUrl(statusUrl, baseUrl),
						statusHash: statusHashOf(statusUrl),
						startedAt: iso(holder.now()),
						owner: holder.owner,
						leaseUntil: iso(holder.now() + LEASE_MS),
					};
		const taken = await rows.write(row, changes);
		if (taken) return new HeldExport(rows, taken, holder);
	}
	throw new Error(`Could not record the export in ${rows.label}: it kept changing`);
}

/** A claimed key: the holder's writes, its lease renewals and how it lets go. */
export class HeldExport {
	private heartbeat?: { stop: AbortController; done: Promise<void> };
	private queue: Promise<unknown> = Promise.resolve();
	/** Set when another execution took the key over (this one's lease lapsed). */
	lostTo?: string;

	constructor(
		private readonly rows: StateRows,
		public row: ExportStateRow,
		private readonly holder: Holder,
	) {}

	/** Writes as the holder (serialised; retried on a concurrent write while the row is still ours). */
	update(changes: StateChanges): Promise<boolean> {
		const run = this.queue.then(async () => {
			for (let attempt = 0; attempt < 10; attempt++) {
				const next = await this.rows.write(this.row, changes);
				if (next) {
					this.row = next;
					return true;
				}
				const fresh = await this.rows.read(this.row.key);
				if (fresh.owner !== this.holder.owner) {
					this.lostTo = fresh.owner || 'nobody';
					this.row = fresh;
					return false;
				}
				this.row = fresh;
			}
			return false;
		});
		this.queue = run.catch(() => undefined);
		return run;
	}

	/** The server accepted the kick-off: record its status URL (the URL only if it may be stored). */
	async started(statusUrl: string, baseUrl: string): Promise<void> {
		await this.update({
			phase: 'running',
			statusUrl: storableStatusUrl(statusUrl, baseUrl),
			statusHash: statusHashOf(statusUrl),
			leaseUntil: iso(this.holder.now() + LEASE_MS),
		});
	}

	/** The kick-off was answered with an error: nothing runs on the server, the key is free again. */
	async notStarted(): Promise<void> {
		await this.update({ ...idle, startedAt: '' });
	}

	/** A new export replaces one the server no longer has (expired, cancelled). */
	async restart(intent: Intent): Promise<void> {
		const now = this.holder.now();
		await this.update({ ...idle, phase: 'starting', owner: this.holder.owner, leaseUntil: iso(now + LEASE_MS), startedAt: iso(now), since: intent.since ?? '', request: intent.request });
	}

	/** The export failed or is gone: forget it, keep the last success. */
	async ended(): Promise<void> {
		await this.update(idle);
	}

	/** Returning to a Wait loop with the export still running: keep it until `nextCheckMs` plus PARKED_MS, then anyone may take it over. */
	async park(nextCheckMs: number): Promise<void> {
		await this.update({ leaseUntil: iso(this.holder.now() + Math.max(0, nextCheckMs) + PARKED_MS) });
	}

	/** Ending with the export still running (Max Total Wait ran out): the next run takes it over at once. */
	async release(): Promise<void> {
		await this.update({ owner: '', leaseUntil: '' });
	}

	/** Renews the lease every HEARTBEAT_MS until `stopHeartbeat()`. */
	startHeartbeat(): void {
		if (this.heartbeat) return;
		const stop = new AbortController();
		const done = (async () => {
			while (!stop.signal.aborted) {
				await this.holder.sleep(HEARTBEAT_MS, stop.signal).catch(() => undefined);
				if (stop.signal.aborted || this.lostTo) break;
				const kept = await this.update({ leaseUntil: iso(this.holder.now() + LEASE_MS) }).catch(() => true);
				if (!kept && !stop.signal.aborted) {
					this.holder.log?.(`execution ${this.lostTo} took this export over (this run could not renew its claim in time)`);
				}
			}
		})();
		this.heartbeat = { stop, done };
	}

	/** Ends the lease renewals (the pending renewal, if any, finishes first). */
	async stopHeartbeat(): Promise<void> {
		const beat = this.heartbeat;
		if (!beat) return;
		this.heartbeat = undefined;
		beat.stop.abort();
		await beat.done;
	}
}

/**
 * All files of the export with this status URL were downloaded: its `transactionTime` becomes the next
 * `_since` (never moving back), and the key is free. Found by status URL, so Download and a run that
 * took the export over record it too. False when no row has this status URL.
 */
export async function recordCompleted(rows: StateRows, statusUrl: string, transactionTime: string, now: number): Promise<boolean> {
	for (let attempt = 0; attempt < 20; attempt++) {
		const row = await rows.findByStatusUrl(statusUrl);
		if (!row) return false;
		const previous = time(row.lastTransactionTime);
		const newer = !(time(transactionTime) < previous);
		const written = await rows.write(row, {
			...idle,
			lastTransactionTime: newer ? transactionTime : row.lastTransactionTime,
			lastCompletedAt: iso(now),
		});
		if (written) return true;
	}
	return false;
}

/** The export with this status URL failed, was cancelled or is gone: forget it, keep the last success. */
export async function recordGone(rows: StateRows, statusUrl: string): Promise<void> {
	for (let attempt = 0; attempt < 20; attempt++) {
		const row = await rows.findByStatusUrl(statusUrl);
		if (!row || (await rows.write(row, idle))) return;
	}
}

/** Keeps the key for the execution checking the status of its export (Start -> Wait -> Check Status loops). */
export async function renewForCheck(rows: StateRows, statusUrl: string, holder: Holder, nextCheckMs: number): Promise<void> {
	const row = await rows.findByStatusUrl(statusUrl);
	if (!row || (row.owner !== '' && row.owner !== holder.owner && time(row.leaseUntil) > holder.now())) return;
	await rows.write(row, { owner: holder.owner, leaseUntil: iso(holder.now() + Math.max(0, nextCheckMs) + PARKED_MS) });
}
