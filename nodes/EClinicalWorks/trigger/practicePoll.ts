import type { Change } from '../fhir/changes';
import type { FhirClient } from '../fhir/client';
import type { FhirError } from '../fhir/errors';
import type { FhirResource } from '../fhir/simplify';
import type { WatchedSource } from './source';
import type { PracticeState } from './state';

/** What one poll of one practice gets and gives, whatever the strategy. */

export interface PracticePoll {
	client: FhirClient;
	/** What to watch, built for the strategy of `state` (or the one picked at activation). */
	source: WatchedSource;
	/** Saved state; undefined on the first poll (activation) of this practice and resource type. */
	state: PracticeState | undefined;
	mode: 'trigger' | 'manual';
	pageSize: number;
	/** Pages read per poll when the server sorts by `_lastUpdated`; the next poll goes on from there. */
	maxPages: number;
	/** n8n's clock (ISO), used only where the server sends no time of its own. Default: now. */
	now?: string;
	/** Tests only: bounds of the state (`seedLimit` for `lastUpdated`, `snapshotCap` for `window`). */
	limits?: { seedLimit?: number; snapshotCap?: number };
}

export interface PracticePollResult {
	/** Changes to emit, in server order. */
	changes: Change[];
	/** Resources included by the searches, by `Type/id`. */
	included: Map<string, FhirResource>;
	/** State to save (trigger mode only). */
	state?: PracticeState;
	/** The read stopped at a 429 that outlasted the client's waits; the state covers what was read. */
	interrupted?: FhirError;
}
