import { updateDisplayOptions } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { summarizeCapabilities } from '../../fhir/capabilitySummary';
import type { CapabilityStatement } from '../../fhir/capabilitySummary';
import { getFhirClient } from '../../transport';
import { toItems } from '../common/helpers';

const properties: INodeProperties[] = [
	{
		displayName: 'Output',
		name: 'output',
		type: 'options',
		options: [
			{
				name: 'Summary',
				value: 'simplified',
				description:
					'FHIR version, software, the server-level operations, and for each resource type its interactions, search parameters, includes and operations',
			},
			{
				name: 'Raw CapabilityStatement',
				value: 'raw',
				description: 'The CapabilityStatement exactly as the server returned it',
			},
		],
		default: 'simplified',
		description: 'A readable summary, or the full CapabilityStatement',
	},
];

const displayOptions = { show: { resource: ['server'], operation: ['getCapabilities'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const output = this.getNodeParameter('output', itemIndex, 'simplified') as string;
	const client = await getFhirClient.call(this, itemIndex);
	// users run this as a connectivity check: always read it again, signed in with this credential
	const caps = (await client.capabilities({ fresh: true })) as CapabilityStatement;
	if (output === 'raw') return toItems([caps], itemIndex);
	return toItems([{ baseUrl: client.baseUrl, ...summarizeCapabilities(caps) } as unknown as Record<string, unknown>], itemIndex);
}
