// Per-practice request budget, counted like eCW: a fixed count per wall-clock minute; over it, a 429
// and (on eCW) every request blocked until the minute ends.
import { FhirError } from './util.mjs';

export class RateLimiter {
	/**
	 * @param {{ clock: () => number, limitPerMinute: () => number|null, blockRestOfMinute: boolean, retryAfterHeader: (waitMs: number) => Record<string,string> }} o
	 */
	constructor(o) {
		this.o = o;
		this.buckets = new Map();
	}

	bucket(key) {
		const minute = Math.floor(this.o.clock() / 60000);
		let b = this.buckets.get(key);
		if (!b) {
			b = { minute, count: 0, blockedUntil: 0 };
			this.buckets.set(key, b);
		}
		if (b.minute !== minute) {
			b.minute = minute;
			b.count = 0;
		}
		return b;
	}

	/** Block `key` until the start of the next minute. */
	blockRestOfMinute(key) {
		this.bucket(key).blockedUntil = this.nextMinute();
	}

	nextMinute() {
		return (Math.floor(this.o.clock() / 60000) + 1) * 60000;
	}

	/** Count one request for `key`; throws the 429 when over the limit or blocked. */
	hit(key, label) {
		const b = this.bucket(key);
		const now = this.o.clock();
		const limit = this.o.limitPerMinute();
		b.count += 1;
		const headers = this.o.retryAfterHeader(this.nextMinute() - now);
		if (b.blockedUntil > now) throw new FhirError(429, 'throttled', 'Too many requests: blocked for the rest of the current minute', headers);
		if (limit && b.count > limit) {
			if (this.o.blockRestOfMinute) b.blockedUntil = this.nextMinute();
			throw new FhirError(429, 'throttled', `Rate limit exceeded: ${limit} requests per minute ${label}`, headers);
		}
	}
}
