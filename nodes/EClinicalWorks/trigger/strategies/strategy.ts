import { resourceCapability } from '../../fhir/capabilitySummary';
import type { CapabilityStatement } from '../../fhir/capabilitySummary';
import { InputError } from '../../fhir/errors';
import type { Change } from '../../fhir/changes';
import type { FhirClient } from '../../fhir/client';
import type { FhirError } from '../../fhir/errors';
import type { FhirResource } from '../../fhir/simplify';
import type { WatchedSource } from '../source';
import type { PracticeState } from '../state';

/**
 * How the trigger finds changes on one practice, chosen from the server's CapabilityStatement when
 * the trigger activates (the first poll with no saved state) and kept in the state afterwards:
 *
 * - `lastUpdated`: the server lists what changed (`_lastUpdated=ge<cursor>`), see fhir/changes.ts;
 * - `window`: the server cannot (eClinicalWorks declares `_lastUpdated` for no resource), so the
 *   visits of a date window are read each poll and compared with a snapshot, see visitSnapshot.ts.
 */
export type Strategy = 'lastUpdated' | 'window';

function declaredAtServerLevel(caps: CapabilityStatement | undefined, name: string): boolean {
	const rests = Array.isArray(caps?.rest) ? (caps?.rest as Array<Record<string, unknown>>) : [];
	return rests.some(
		(rest) =>
			(rest?.mode === undefined || rest?.mode === 'server') &&
			Array.isArray(rest?.searchParam) &&
			(rest.searchParam as Array<{ name?: unknown }>).some((p) => p?.name === name),
	);
}

/**
 * Whether the server declares a search parameter for a type (or for every type). A type listed
 * without any search parameter tells nothing: it counts as declaring them all, as before this check.
 */
export function declaresSearchParam(caps: CapabilityStatement | undefined, type: string, name: string): boolean {
	const params = resourceCapability(caps, type)?.searchParams ?? [];
	return params.length === 0 || params.includes(name) || declaredAtServerLevel(caps, name);
}

/** The strategy for a watched type; throws when the server offers no way to watch it. */
export function pickStrategy(caps: CapabilityStatement | undefined, type: string): Strategy {
	if (declaresSearchParam(caps, type, '_lastUpdated')) return 'lastUpdated';
	if (type === 'Patient') {
		throw new InputError(
			'Trigger On',
			"this server's CapabilityStatement declares no _lastUpdated search for Patient, so it cannot list new or changed patients (eClinicalWorks declares _lastUpdated for no resource)",
			'Watch visits instead (Trigger On: Appointment Created or Changed), or get changed patients with the eClinicalWorks node: Bulk Export > Export of Patient on a schedule, Since: Since Last Successful Export (_since)',
		);
	}
	if (declaresSearchParam(caps, type, 'date')) return 'window';
	throw new InputError(
		'Trigger On',
		`this server's CapabilityStatement declares neither _lastUpdated nor date search for ${type}, so the trigger has no way to find new or changed visits`,
		'Check with the server vendor which search parameters the practice endpoint supports (eClinicalWorks node > Server > Get Capabilities shows them)',
	);
}

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
