import { simplifyLocation, simplifyPractitioner } from './directory';
import type { FhirResource } from './elements';
import { simplifyPatient } from './patient';
import { noLookup } from './references';
import type { ReferenceLookup } from './references';
import { simplifyAppointment, simplifyEncounter } from './visit';

/**
 * Flat, dispatcher-friendly views of FHIR R4 resources. Pure functions: no n8n, no HTTP.
 * Every simplified item keeps `resourceType` and `id`; fields that the record does not carry are
 * empty strings (or null for booleans/lists that cannot be known), so columns line up in n8n tables.
 *
 * elements.ts reads FHIR JSON defensively; contact.ts names, addresses and phones; patient.ts the
 * patient and its MRN; directory.ts practitioners and locations; visit.ts appointments and
 * Encounters; needs.ts what a patient needs to get to a visit; references.ts who a visit points at.
 */

export type { FhirElement, FhirResource, SimpleItem } from './elements';
export type { ReferenceLookup } from './references';
export { formatAddress, formatHumanName } from './contact';
export { simplifyLocation, simplifyPractitioner } from './directory';
export { detectNeeds } from './needs';
export type { DetectedNeeds, LevelOfService } from './needs';
export { currentMrnIfFormer, findMrn, simplifyPatient } from './patient';
export { buildLookup, visitReferences } from './references';
export { SOURCE_APPOINTMENT, SOURCE_ECW_VISIT, SOURCE_ENCOUNTER, simplifyAppointment, simplifyEncounter } from './visit';

/**
 * Simplifies any resource: Patient, Appointment, Encounter, Practitioner and Location get their flat
 * view; other types come back unchanged (they have no agreed flat shape).
 */
export function simplifyResource(
	resource: FhirResource,
	options: { lookup?: ReferenceLookup; zone?: string; encounterSource?: string } = {},
): Record<string, unknown> {
	const lookup = options.lookup ?? noLookup;
	const zone = options.zone ?? 'UTC';
	switch (resource?.resourceType) {
		case 'Patient':
			return simplifyPatient(resource);
		case 'Appointment':
			return { resourceType: 'Appointment', ...simplifyAppointment(resource, lookup, zone) };
		case 'Encounter':
			return { resourceType: 'Encounter', ...simplifyEncounter(resource, lookup, zone, options.encounterSource) };
		case 'Practitioner':
			return simplifyPractitioner(resource);
		case 'Location':
			return simplifyLocation(resource);
		default:
			return resource;
	}
}
