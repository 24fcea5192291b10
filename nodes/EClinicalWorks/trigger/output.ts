import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { missingReferences } from '../fhir/appointments';
import type { Change } from '../fhir/changes';
import type { FhirClient } from '../fhir/client';
import { buildLookup, simplifyResource } from '../fhir/simplify';
import type { FhirResource } from '../fhir/simplify';

/** Ids per follow-up read (`_id=a,b,c`): keeps each URL short. */
const IDS_PER_READ = 50;

export interface OutputContext {
	simple: boolean;
	zone: string;
	/** The practice code the user gave (empty when the credential's default practice is used). */
	practiceCode: string;
	/** Resources included by the searches (`_include`), by `Type/id`. */
	included: Map<string, FhirResource>;
	/** Types of referenced resources the simplified view shows (patient, practitioner, location). */
	followUp: string[];
}

/**
 * Reads the referenced patients, practitioners and locations the searches did not include, with
 * one `_id` search per type and 50 ids, so simplified items carry names.
 */
async function resolveReferences(client: FhirClient, changes: Change[], context: OutputContext): Promise<void> {
	if (!context.simple || context.followUp.length === 0 || changes.length === 0) return;
	const visits = changes.map((change) => change.resource as FhirResource);
	const missing = missingReferences(visits, context.followUp, (reference) => context.included.has(reference));
	try {
		for (const [type, ids] of missing) {
			for (let start = 0; start < ids.length; start += IDS_PER_READ) {
				const chunk = ids.slice(start, start + IDS_PER_READ);
				const result = await client.search(type, [['_id', chunk.join(',')]], { pageSize: chunk.length });
				for (const [key, resource] of buildLookup(result.matches as FhirResource[])) context.included.set(key, resource);
			}
		}
	} catch {
		// Best effort: the changes are already taken off the server's list, so they are emitted
		// anyway; names then come from the references' display text.
	}
}

/** One output item per change: the event fields first, then the simplified record or the raw resource. */
export async function toItems(client: FhirClient, changes: Change[], context: OutputContext): Promise<INodeExecutionData[]> {
	await resolveReferences(client, changes, context);
	const lookup = (reference: string) => context.included.get(reference);
	return changes.map((change) => {
		const resource = change.resource as FhirResource;
		const head: IDataObject = { event: change.event };
		if (resource.resourceType !== 'Patient') head.previousStatus = change.previousStatus ?? '';
		head.practiceCode = context.practiceCode;
		if (!context.simple) return { json: { ...head, resource: resource as IDataObject } };
		return { json: { ...head, ...(simplifyResource(resource, { lookup, zone: context.zone }) as IDataObject) } };
	});
}
