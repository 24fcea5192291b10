import { arr, obj, str } from './elements';
import type { FhirElement, FhirResource } from './elements';

/** References between resources: who and what a visit points at, and the lookup that resolves them. */

/** Looks up a referenced resource (`Patient/123`) among included or fetched resources. */
export type ReferenceLookup = (reference: string) => FhirResource | undefined;

export const noLookup: ReferenceLookup = () => undefined;

/** The id of a `Type/id` reference (absolute URLs and `_history` included), or ''. */
export function referenceOf(ref: unknown, type: string): string {
	const reference = str(obj(ref).reference);
	if (!reference) return '';
	const parts = reference.split('/');
	// absolute URLs and `Type/id/_history/v` both end with (or contain) Type/id
	const at = parts.lastIndexOf(type);
	if (at >= 0 && parts[at + 1]) return parts[at + 1];
	return '';
}

export interface Party {
	id: string;
	ref: unknown;
}

export function firstParty(refs: unknown[], type: string): Party | undefined {
	for (const ref of refs) {
		const id = referenceOf(ref, type);
		if (id) return { id, ref };
	}
	return undefined;
}

/**
 * Who performs a visit, by participant type (HL7 v3 ParticipationType): the primary performer
 * (PPRF), then the attender (ATND), then a performer (PRF, SPRF), then a participant without a type
 * (or PART), then any other role; a referrer (REF) or consultant (CON) only when nobody else is
 * listed. Ties keep the server's order.
 */
const PERFORMER_RANK: Record<string, number> = { PPRF: 0, ATND: 1, PRF: 2, SPRF: 3, PART: 4 };
const UNTYPED_RANK = 4;
const OTHER_ROLE_RANK = 5;
const NOT_PERFORMER = new Set(['REF', 'CON']);
const NOT_PERFORMER_RANK = 6;

function participantRank(participant: FhirElement): number {
	const codes = arr(participant?.type).flatMap((type) => arr(obj(type).coding).map((c) => str(c?.code).toUpperCase()));
	if (codes.length === 0) return UNTYPED_RANK;
	let best = NOT_PERFORMER_RANK;
	for (const code of codes) {
		const rank = PERFORMER_RANK[code] ?? (NOT_PERFORMER.has(code) ? NOT_PERFORMER_RANK : OTHER_ROLE_RANK);
		if (rank < best) best = rank;
	}
	return best;
}

/**
 * The practitioner who performs a visit: among `participant` entries whose `actorKey` (`individual`
 * on Encounter, `actor` on Appointment) is a Practitioner, the best ranked one.
 */
export function performerParty(participants: unknown, actorKey: 'individual' | 'actor'): Party | undefined {
	let best: Party | undefined;
	let bestRank = Number.POSITIVE_INFINITY;
	for (const participant of arr(participants)) {
		const ref = participant?.[actorKey];
		const id = referenceOf(ref, 'Practitioner');
		if (!id) continue;
		const rank = participantRank(participant);
		if (rank < bestRank) {
			best = { id, ref };
			bestRank = rank;
		}
	}
	return best;
}

/** The patient, the practitioner who performs it, and the location of a visit. */
export function visitParties(resource: FhirResource): { patient?: Party; practitioner?: Party; location?: Party } {
	if (resource.resourceType === 'Appointment') {
		const actors = arr(resource.participant).map((p) => p?.actor);
		return {
			patient: firstParty(actors, 'Patient'),
			practitioner: performerParty(resource.participant, 'actor'),
			location: firstParty(actors, 'Location'),
		};
	}
	return {
		patient: firstParty([resource.subject], 'Patient'),
		practitioner: performerParty(resource.participant, 'individual'),
		location: firstParty(arr(resource.location).map((l) => l?.location), 'Location'),
	};
}

/** References a visit's flat view needs (for follow-up reads): `Patient/1`, `Practitioner/2`, `Location/3`. */
export function visitReferences(resource: FhirResource): string[] {
	const parties = visitParties(resource);
	const out: string[] = [];
	if (parties.patient) out.push(`Patient/${parties.patient.id}`);
	if (parties.practitioner) out.push(`Practitioner/${parties.practitioner.id}`);
	if (parties.location) out.push(`Location/${parties.location.id}`);
	return out;
}

/** Builds a lookup over resources keyed by `Type/id`. */
export function buildLookup(resources: Iterable<FhirResource>): Map<string, FhirResource> {
	const map = new Map<string, FhirResource>();
	for (const resource of resources) {
		if (resource?.resourceType && resource.id) map.set(`${resource.resourceType}/${resource.id}`, resource);
	}
	return map;
}
