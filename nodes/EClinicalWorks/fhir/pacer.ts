/**
 * Client-side pacing: at most `limitPerMinute` requests in any sliding 60-second window, per FHIR
 * base URL (eCW: 250/min per practice, token calls included). One pacer per key, shared by every
 * node and execution in the n8n process, so two nodes reading the same practice share the budget.
 */

export interface Clock {
	now: () => number;
	sleep: (ms: number) => Promise<void>;
}

export class Pacer {
	limitPerMinute: number;
	readonly windowMs: number;
	private readonly sent: number[] = [];
	private queue: Promise<void> = Promise.resolve();
	private blockedUntil = 0;

	/** 61 s rather than 60 s: the server counts arrival times, a little after our send times. */
	constructor(limitPerMinute: number, windowMs = 61_000) {
		this.limitPerMinute = limitPerMinute;
		this.windowMs = windowMs;
	}

	/** Waits until one more request fits in the window, then counts it. Callers are served in order. */
	async acquire(clock: Clock): Promise<void> {
		const turn = this.queue.then(async () => await this.take(clock));
		this.queue = turn.catch(() => undefined);
		await turn;
	}

	/** After a 429: nobody sends before `untilMs` (eCW blocks the rest of the minute). */
	pauseUntil(untilMs: number): void {
		this.blockedUntil = Math.max(this.blockedUntil, untilMs);
	}

	/** Requests counted in the window ending now. */
	inWindow(nowMs: number): number {
		this.prune(nowMs);
		return this.sent.length;
	}

	private prune(nowMs: number): void {
		while (this.sent.length > 0 && this.sent[0] <= nowMs - this.windowMs) this.sent.shift();
	}

	private async take(clock: Clock): Promise<void> {
		for (let guard = 0; guard < 10_000; guard++) {
			const now = clock.now();
			if (now < this.blockedUntil) {
				await clock.sleep(this.blockedUntil - now);
				continue;
			}
			this.prune(now);
			if (this.sent.length < this.limitPerMinute) {
				this.sent.push(now);
				return;
			}
			const wait = this.sent[0] + this.windowMs - now;
			await clock.sleep(Math.max(1, wait));
		}
	}
}

/**
 * One n8n process's share of a per-minute limit that `processes` processes spend at the same time
 * (queue-mode workers, and the main process when it runs triggers for the same practices). Each
 * paces itself to its share, so together they stay within the limit without talking to each other.
 * 0 = no pacing.
 */
export function shareOfLimit(limitPerMinute: number, processes: number): number {
	if (!(limitPerMinute > 0) || !Number.isFinite(limitPerMinute)) return 0;
	const count = Number.isInteger(processes) && processes > 1 ? processes : 1;
	return Math.max(1, Math.floor(limitPerMinute / count));
}

const pacers = new Map<string, Pacer>();

/** The shared pacer for a key (the resolved FHIR base URL); null when pacing is off. */
export function pacerFor(key: string, limitPerMinute: number | undefined): Pacer | null {
	if (!limitPerMinute || limitPerMinute <= 0 || !Number.isFinite(limitPerMinute)) return null;
	const id = key.replace(/\/+$/, '');
	const limit = Math.floor(limitPerMinute);
	let pacer = pacers.get(id);
	if (!pacer) {
		pacer = new Pacer(limit);
		pacers.set(id, pacer);
	} else if (pacer.limitPerMinute !== limit) {
		pacer.limitPerMinute = limit;
	}
	return pacer;
}

/** Tests only: forget every pacer. */
export function resetPacers(): void {
	pacers.clear();
}
