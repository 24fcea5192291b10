import { arr, obj, str } from './elements';
import type { FhirResource } from './elements';

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

/** References a visit points at (for follow-up reads): `Patient/1`, `Practitioner/2`, `Location/3`. */
export function visitReferences(resource: FhirResource): string[] {
	const refs: unknown[] =
		resource.resourceType === 'Appointment'
			? arr(resource.participant).map((p) => p?.actor)
			: [
					resource.subject,
					...arr(resource.participant).map((p) => p?.individual),
					...arr(resource.location).map((l) => l?.location),
				];
	const out = new Set<string>();
	for (const type of ['Patient', 'Practitioner', 'Location']) {
		const party = firstParty(refs, type);
		if (party) out.add(`${type}/${party.id}`);
	}
	return [...out];
}

/** Builds a lookup over resources keyed by `Type/id`. */
export function buildLookup(resources: Iterable<FhirResource>): Map<string, FhirResource> {
	const map = new Map<string, FhirResource>();
	for (const resource of resources) {
		if (resource?.resourceType && resource.id) map.set(`${resource.resourceType}/${resource.id}`, resource);
	}
	return map;
}
