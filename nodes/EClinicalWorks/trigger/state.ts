import type { IDataObject } from 'n8n-workflow';

import { readState } from '../fhir/changes';
import type { ChangeState } from '../fhir/changes';
import type { Strategy } from './strategies/strategy';
import { readWindowState } from './strategies/visitSnapshot';
import type { WindowState } from './strategies/visitSnapshot';

/**
 * Where the trigger keeps its positions in the workflow's static data: one state per practice
 * (resolved FHIR base URL) and resource type, so a trigger watching several practices keeps one
 * position each, and switching the event does not reuse another resource's position.
 *
 *   staticData.practices[baseUrl][resourceType] =
 *     { strategy: 'lastUpdated', cursor, atCursor, recent, known, seed? }   (fhir/changes.ts)
 *   | { strategy: 'window', window, activatedAt, readAt, visits, movedOut } (strategies/visitSnapshot.ts)
 *
 * States saved before strategies existed have no `strategy`: they are `lastUpdated` states.
 */

export type LastUpdatedState = ChangeState & { strategy?: 'lastUpdated' };
export type PracticeState = LastUpdatedState | WindowState;

export function strategyOf(state: PracticeState): Strategy {
	return state.strategy === 'window' ? 'window' : 'lastUpdated';
}

function practices(staticData: IDataObject): IDataObject {
	const value = staticData.practices;
	if (value && typeof value === 'object' && !Array.isArray(value)) return value as IDataObject;
	const created: IDataObject = {};
	staticData.practices = created;
	return created;
}

/** The saved state, or undefined when this practice and resource type were never polled. */
export function loadState(staticData: IDataObject, baseUrl: string, resourceType: string): PracticeState | undefined {
	const practice = (staticData.practices as IDataObject | undefined)?.[baseUrl] as IDataObject | undefined;
	const raw = practice?.[resourceType];
	if (raw === undefined) return undefined;
	const window = readWindowState(raw);
	if (window) return window;
	return { strategy: 'lastUpdated', ...readState(raw) };
}

export function saveState(staticData: IDataObject, baseUrl: string, resourceType: string, state: PracticeState): void {
	const all = practices(staticData);
	const practice = (all[baseUrl] && typeof all[baseUrl] === 'object' ? all[baseUrl] : {}) as IDataObject;
	const saved = state.strategy === 'window' ? state : { strategy: 'lastUpdated', ...state };
	practice[resourceType] = saved as unknown as IDataObject;
	all[baseUrl] = practice;
}
