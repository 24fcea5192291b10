import { updateDisplayOptions } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { checkStatus } from '../../fhir/bulk/status';
import { clearInFlight, keyForStatusUrl } from '../../fhir/bulk/state';
import { serverRulesField, statusUrlField } from './fields';
import { LONG_WAIT_MS, formatWait } from '../../fhir/retry';
import { manifestJson } from './output';
import { addHint, bulkSetup } from './setup';
import { readStatusUrl } from './statusUrl';

const properties: INodeProperties[] = [statusUrlField, serverRulesField];

const displayOptions = { show: { resource: ['bulkExport'], operation: ['checkStatus'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const statusUrl = readStatusUrl(this, itemIndex);
	const setup = await bulkSetup(this, itemIndex);
	const result = await checkStatus(setup.client, statusUrl, { ecw: setup.ecw });
	if (result.state === 'failed') {
		const staticData = this.getWorkflowStaticData('node');
		clearInFlight(staticData, keyForStatusUrl(staticData, statusUrl), statusUrl);
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
