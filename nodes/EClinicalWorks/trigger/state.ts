import type { IDataObject } from 'n8n-workflow';

import { readState } from '../fhir/changes';
import type { ChangeState } from '../fhir/changes';

/**
 * Where the trigger keeps its positions in the workflow's static data: one change state per
 * practice (resolved FHIR base URL) and resource type, so a trigger watching several practices
 * keeps one cursor each, and switching the event does not reuse another resource's cursor.
 *
 *   staticData.practices[baseUrl][resourceType] = { cursor, atCursor, recent, known }
 */

function practices(staticData: IDataObject): IDataObject {
	const value = staticData.practices;
	if (value && typeof value === 'object' && !Array.isArray(value)) return value as IDataObject;
	const created: IDataObject = {};
	staticData.practices = created;
	return created;
}

/** The saved state, or undefined when this practice and resource type were never polled. */
export function loadState(staticData: IDataObject, baseUrl: string, resourceType: string): ChangeState | undefined {
	const practice = (staticData.practices as IDataObject | undefined)?.[baseUrl] as IDataObject | undefined;
	const raw = practice?.[resourceType];
	return raw === undefined ? undefined : readState(raw);
}

export function saveState(staticData: IDataObject, baseUrl: string, resourceType: string, state: ChangeState): void {
	const all = practices(staticData);
	const practice = (all[baseUrl] && typeof all[baseUrl] === 'object' ? all[baseUrl] : {}) as IDataObject;
	practice[resourceType] = state as unknown as IDataObject;
	all[baseUrl] = practice;
}
