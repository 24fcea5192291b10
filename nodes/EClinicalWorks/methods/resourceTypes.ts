import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';

import { resourceCapability, resourceTypes } from '../fhir/capabilitySummary';
import type { CapabilityStatement } from '../fhir/capabilitySummary';
import { getFhirClient } from '../transport';

/** Resource types from the server's CapabilityStatement, for the FHIR Resource operations. */
export async function getResourceTypes(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const client = await getFhirClient.call(this, 0);
	const caps = (await client.capabilities()) as CapabilityStatement;
	return resourceTypes(caps).map((type) => {
		const capability = resourceCapability(caps, type);
		const interactions = capability?.interactions ?? [];
		const params = capability?.searchParams ?? [];
		const parts = [
			interactions.length > 0 ? interactions.join(', ') : undefined,
			params.length > 0 ? `search by ${params.join(', ')}` : undefined,
		].filter(Boolean);
		return { name: type, value: type, description: parts.join('; ') };
	});
}
