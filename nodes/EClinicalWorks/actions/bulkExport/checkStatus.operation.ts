import { updateDisplayOptions } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { checkStatus } from '../../fhir/bulk/status';
import { recordGone, renewForCheck } from '../../fhir/bulk/claim';
import { serverRulesField, statusUrlField } from './fields';
import { LONG_WAIT_MS, formatWait } from '../../fhir/retry';
import { manifestJson } from './output';
import { addHint, bulkSetup } from './setup';
import { openExportState, stateWarning } from './state';
import { stateStoreFields } from './stateFields';
import { readStatusUrl } from './statusUrl';

const properties: INodeProperties[] = [statusUrlField, ...stateStoreFields, serverRulesField];

const displayOptions = { show: { resource: ['bulkExport'], operation: ['checkStatus'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const statusUrl = readStatusUrl(this, itemIndex);
	const setup = await bulkSetup(this, itemIndex);
	const result = await checkStatus(setup.client, statusUrl, { ecw: setup.ecw });
	try {
		// a failed export frees its state key; a running one stays held by the loop that checks it
		const state = await openExportState(this, itemIndex, setup);
		if (result.state === 'failed') await recordGone(state.rows, statusUrl);
		else if (result.state === 'in-progress') await renewForCheck(state.rows, statusUrl, state.holder, result.retryAfterMs ?? 0);
	} catch (error) {
		stateWarning(this, 'update the export state', error);
	}
	if (result.state === 'in-progress' && result.retryAfterMs !== undefined && result.retryAfterMs >= LONG_WAIT_MS) {
		addHint(this, `The server asks to check again in ${formatWait(result.retryAfterMs)} (its Retry-After${result.throttled ? ' after a 429' : ''}).`, 'info');
	}
	return [
		{
			json: {
				statusUrl,
				state: result.state,
				done: result.state === 'complete',
				failed: result.state === 'failed',
				progress: result.progress,
				retryAfterSeconds: result.retryAfterMs === undefined ? undefined : Math.ceil(result.retryAfterMs / 1000),
				throttled: result.throttled,
				error: result.error,
				manifest: result.manifest ? manifestJson(result.manifest) : undefined,
			},
			pairedItem: { item: itemIndex },
		},
	];
}
