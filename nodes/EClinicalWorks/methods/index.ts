import type { ILoadOptionsFunctions, INodeListSearchResult, INodePropertyOptions } from 'n8n-workflow';

import { searchBulkGroups } from './groups';
import { getExportableResourceTypes, getReadableResourceTypes, getSearchableResourceTypes } from './resourceTypes';

type LoadOptions = (this: ILoadOptionsFunctions) => Promise<INodePropertyOptions[]>;
type ListSearch = (this: ILoadOptionsFunctions, filter?: string, paginationToken?: string) => Promise<INodeListSearchResult>;

/** Dynamic options of the node. Add a method file here and register it below. */
export const methods: { loadOptions: Record<string, LoadOptions>; listSearch: Record<string, ListSearch> } = {
	loadOptions: { getSearchableResourceTypes, getReadableResourceTypes, getExportableResourceTypes },
	listSearch: { searchBulkGroups },
};
