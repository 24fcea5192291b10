import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';

import { offeringInteraction, resourceCapability, resourceTypes } from '../fhir/capabilitySummary';
import type { CapabilityStatement } from '../fhir/capabilitySummary';
import { getFhirClient } from '../transport';

/** Resource types whose CapabilityStatement entry offers `interaction`, for the FHIR Resource operations. */
async function typesOffering(ctx: ILoadOptionsFunctions, interaction: 'search-type' | 'read'): Promise<INodePropertyOptions[]> {
	const client = await getFhirClient.call(ctx, 0);
	const caps = (await client.capabilities()) as CapabilityStatement;
	return offeringInteraction(caps, interaction).map((type) => {
		const params = resourceCapability(caps, type)?.searchParams ?? [];
		return {
			name: type,
			value: type,
			description: interaction === 'search-type' && params.length > 0 ? `search by ${params.join(', ')}` : (resourceCapability(caps, type)?.interactions ?? []).join(', '),
		};
	});
}

/** Types the server lets the app search (interaction search-type). */
export async function getSearchableResourceTypes(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return await typesOffering(this, 'search-type');
}

/** Types the server lets the app read by id (interaction read). */
export async function getReadableResourceTypes(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return await typesOffering(this, 'read');
}

/** Every type the server declares, for Bulk Export's _type (the server leaves out what the token may not read). */
export async function getExportableResourceTypes(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const client = await getFhirClient.call(this, 0);
	const caps = (await client.capabilities()) as CapabilityStatement;
	return resourceTypes(caps).map((type) => ({ name: type, value: type }));
}
