import { NodeOperationError } from 'n8n-workflow';
import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { ECW_ADMIN_MENU } from '../fhir/ecw';
import { FhirError } from '../fhir/errors';
import { getFhirClient } from '../transport';

interface GroupResource {
	resourceType: string;
	id?: string;
	name?: string;
	quantity?: number;
	type?: string;
}

/**
 * Groups for bulk export, read from the server (Group search with the bulk token). Servers that do
 * not let the app list Groups answer with an explanation: the user types the id instead.
 */
export async function searchBulkGroups(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	const client = await getFhirClient.call(this, 0, { bulk: true });
	// filtered here: servers differ in the Group search parameters they support
	const query: Array<[string, string]> = [];
	const text = (filter ?? '').trim();
	let matches: GroupResource[];
	try {
		matches = (await client.search('Group', query, { limit: 200, pageSize: 100 })).matches as GroupResource[];
	} catch (error) {
		const status = error instanceof FhirError ? error.status : undefined;
		const reason =
			status === 401 || status === 403
				? 'the app may not list Groups'
				: status === 400 || status === 404
					? 'the server does not offer a Group search'
					: 'the Group list could not be read';
		throw new NodeOperationError(this.getNode(), `Could not list Groups: ${reason}. Switch the Group field to "ID" and type the Group id.`, {
			description:
				`eClinicalWorks: the practice builds Groups in the EMR registry and enables them for the app in ${ECW_ADMIN_MENU}; ask it for the Group id.`,
		});
	}
	const lower = text.toLowerCase();
	const results = matches
		.filter((g) => g.resourceType === 'Group' && typeof g.id === 'string')
		.filter((g) => lower === '' || (g.name ?? '').toLowerCase().includes(lower) || (g.id ?? '').toLowerCase().includes(lower))
		.map((g) => ({
			name: `${g.name ?? g.id}${typeof g.quantity === 'number' ? ` (${g.quantity} members)` : ''}`,
			value: g.id as string,
		}));
	return { results };
}
