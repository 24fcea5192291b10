import { updateDisplayOptions } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { collectManifest, parseManifest } from '../../fhir/bulk/manifest';
import type { Manifest } from '../../fhir/bulk/manifest';
import { checkStatus } from '../../fhir/bulk/status';
import { FhirError, InputError } from '../../fhir/errors';
import { downloadFields, serverRulesField } from './fields';
import { downloadManifest, readDownloadSettings, summaryItem } from './output';
import { bulkSetup, reportLongWaits } from './setup';
import { stateStoreFields } from './stateFields';
import { readStatusUrl } from './statusUrl';

const properties: INodeProperties[] = [
	{
		displayName: 'Source',
		name: 'source',
		type: 'options',
		options: [
			{ name: 'Status URL', value: 'statusUrl', description: 'Read the manifest from a completed export\'s status URL' },
			{ name: 'Manifest', value: 'manifest', description: 'A manifest output by Check Status' },
		],
		default: 'statusUrl',
		description: 'Where the list of files comes from',
	},
	{
		displayName: 'Status URL',
		name: 'statusUrl',
		type: 'string',
		default: '={{ $json.statusUrl }}',
		required: true,
		description: 'The status (poll) URL of a completed export',
		displayOptions: { show: { source: ['statusUrl'] } },
	},
	{
		displayName: 'Manifest',
		name: 'manifest',
		type: 'json',
		default: '={{ $json.manifest }}',
		required: true,
		description: 'The completion manifest (transactionTime, output[], error[]) as output by Check Status',
		displayOptions: { show: { source: ['manifest'] } },
	},
	...downloadFields,
	...stateStoreFields,
	serverRulesField,
];

const displayOptions = { show: { resource: ['bulkExport'], operation: ['download'] } };

export const description = updateDisplayOptions(displayOptions, properties);

/** A manifest output by Check Status whose pre-signed file URLs lost their signatures (see manifestJson). */
function signaturesRemoved(raw: unknown): boolean {
	let value = raw;
	if (typeof raw === 'string') {
		try {
			value = JSON.parse(raw) as unknown;
		} catch {
			return false;
		}
	}
	return typeof value === 'object' && value !== null && (value as { fileUrlSignaturesRemoved?: unknown }).fileUrlSignaturesRemoved === true;
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const source = this.getNodeParameter('source', itemIndex, 'statusUrl') as string;
	const settings = readDownloadSettings(this, itemIndex);
	let statusUrl: string | undefined;
	let manifest: Manifest | undefined;
	if (source === 'manifest') {
		const raw = this.getNodeParameter('manifest', itemIndex, '') as unknown;
		if (raw === '' || raw === undefined || raw === null) {
			throw new InputError('Manifest', 'is empty', 'Map the manifest output by Check Status, e.g. {{ $json.manifest }}.');
		}
		if (signaturesRemoved(raw)) {
			throw new InputError(
				'Manifest',
				'its file URLs are pre-signed, and Check Status leaves their signatures out of its output (they work like passwords for about an hour)',
				'Set Source to "Status URL" and map {{ $json.statusUrl }}: Download then reads the full file URLs from the server.',
			);
		}
		manifest = parseManifest(raw);
	}
	const setup = await bulkSetup(this, itemIndex);
	if (manifest) {
		manifest = await collectManifest(setup.client, manifest);
	} else {
		statusUrl = readStatusUrl(this, itemIndex);
		const status = await checkStatus(setup.client, statusUrl, { ecw: setup.ecw });
		if (status.state !== 'complete' || !status.manifest) {
			throw new FhirError(
				status.state === 'failed' ? status.reason ?? 'The export failed' : `The export is not finished yet${status.progress ? ` (${status.progress})` : ''}`,
				{
					kind: 'protocol',
					outcome: status.outcome,
					hint:
						status.state === 'failed'
							? 'Start a new export.'
							: 'Wait (e.g. with a Wait node) and check the status again before downloading, or use the Export operation, which waits for you.',
				},
			);
		}
		manifest = status.manifest;
	}
	const outcome = await downloadManifest(this, itemIndex, setup, manifest, settings, statusUrl);
	reportLongWaits(this, setup);
	if (outcome.items.length === 0) return [summaryItem(itemIndex, manifest, outcome, statusUrl)];
	return outcome.items;
}
