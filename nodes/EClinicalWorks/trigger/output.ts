import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { fetchReferences, makeLookup } from '../actions/common/references';
import { missingReferences, sourceLabel } from '../fhir/appointments';
import type { VisitSource } from '../fhir/appointments';
import type { CapabilityStatement } from '../fhir/capabilitySummary';
import type { Change } from '../fhir/changes';
import type { FhirClient } from '../fhir/client';
import { toZoned } from '../fhir/dates';
import { simplifyAppointment, simplifyEncounter, simplifyResource } from '../fhir/simplify';
import type { FhirResource } from '../fhir/simplify';

export interface OutputContext {
	simple: boolean;
	zone: string;
	/** The practice code the user gave (empty when the credential's default practice is used). */
	practiceCode: string;
	caps: CapabilityStatement;
	/** Resources included by the searches (`_include`), by `Type/id`. */
	included: Map<string, FhirResource>;
	/** Types of referenced resources the simplified view shows (patient, practitioner, location). */
	followUp: string[];
	/** The server is eClinicalWorks: its Encounters are labelled as its visits. */
	ecw: boolean;
}

/** The same flat record as the eClinicalWorks node (Get Appointments, Patient operations). */
function simplified(resource: FhirResource, lookup: (reference: string) => FhirResource | undefined, zone: string, ecw: boolean) {
	if (resource.resourceType === 'Appointment') return simplifyAppointment(resource, lookup, zone);
	if (resource.resourceType === 'Encounter') return simplifyEncounter(resource, lookup, zone, sourceLabel('Encounter', ecw));
	return simplifyResource(resource, { lookup, zone });
}

/** One output item per change: the event fields first, then the simplified record or the raw resource. */
export async function toItems(client: FhirClient, changes: Change[], context: OutputContext): Promise<INodeExecutionData[]> {
	const cache = new Map<string, FhirResource | null>();
	if (context.simple && context.followUp.length > 0 && changes.length > 0) {
		const visits = changes.map((change) => change.resource as FhirResource);
		const known = (reference: string) => context.included.has(reference);
		const missing = missingReferences(visits, context.followUp, known);
		try {
			// The same reads as Get Appointments (`_id` searches in batches of 50).
			await fetchReferences(client, context.caps, missing, cache, (error) => error as Error);
		} catch {
			// Best effort: the changes are already taken off the server's list, so they are emitted
			// anyway; names then come from the references' display text.
		}
	}
	const lookup = makeLookup(client.baseUrl, context.included, cache);
	return changes.map((change) => {
		const resource = change.resource as FhirResource;
		const head: IDataObject = { event: change.event };
		if (resource.resourceType !== 'Patient') head.previousStatus = change.previousStatus ?? '';
		if (change.event === 'deleted') head.previousStart = toZoned(change.previousStart, context.zone).iso;
		head.practiceCode = context.practiceCode;
		if (!context.simple) return { json: { ...head, resource: resource as IDataObject } };
		// The server no longer has the visit: only its id and what the trigger remembered are known.
		if (change.event === 'deleted') {
			return { json: { ...head, id: change.id, source: sourceLabel(resource.resourceType as VisitSource, context.ecw) } };
		}
		return { json: { ...head, ...(simplified(resource, lookup, context.zone, context.ecw) as IDataObject) } };
	});
}
