import { updateDisplayOptions } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { cancelExport } from '../../fhir/bulk/cancel';
import { recordGone } from '../../fhir/bulk/claim';
import { statusUrlField } from './fields';
import { bulkSetup } from './setup';
import { openExportState, stateWarning } from './state';
import { stateStoreFields } from './stateFields';
import { readStatusUrl } from './statusUrl';

const properties: INodeProperties[] = [statusUrlField, ...stateStoreFields];

const displayOptions = { show: { resource: ['bulkExport'], operation: ['cancel'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const statusUrl = readStatusUrl(this, itemIndex);
	const setup = await bulkSetup(this, itemIndex);
	const result = await cancelExport(setup.client, statusUrl);
	try {
		await recordGone((await openExportState(this, itemIndex, setup)).rows, statusUrl);
	} catch (error) {
		stateWarning(this, 'clear the cancelled export from the export state', error);
	}
	return [
		{
			json: {
				statusUrl,
				cancelled: result.cancelled,
				alreadyGone: result.alreadyGone,
				message: result.cancelled
					? 'The server accepted the cancellation; the export and its files are removed.'
					: 'The export was not found: it already finished and expired, was cancelled before, or the status URL is wrong.',
			},
			pairedItem: { item: itemIndex },
		},
	];
}
