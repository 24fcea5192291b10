import { updateDisplayOptions } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { sourceLabel } from '../../fhir/appointments';
import { simplifyResource } from '../../fhir/simplify';
import type { FhirResource } from '../../fhir/simplify';
import { getFhirClient } from '../../transport';
import { outputField, resourceTypeField } from '../common/fields';
import { checkInteraction, checkResourceTypeShape, readId, toItems } from '../common/helpers';

const properties: INodeProperties[] = [
	resourceTypeField('read'),
	{
		displayName: 'Resource ID',
		name: 'resourceId',
		type: 'string',
		required: true,
		default: '',
		description: 'The FHIR ID of the record (its ID field), or a reference such as Practitioner/123',
	},
	outputField('Flat fields for Patient, Appointment, Encounter, Practitioner and Location; other types as returned by the server'),
];

const displayOptions = { show: { resource: ['fhirResource'], operation: ['get'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const type = checkResourceTypeShape(this.getNodeParameter('resourceType', itemIndex));
	const id = readId(this.getNodeParameter('resourceId', itemIndex), 'Resource ID', type);
	const output = this.getNodeParameter('output', itemIndex, 'simplified') as string;

	const client = await getFhirClient.call(this, itemIndex);
	const caps = await client.capabilities();
	checkInteraction(caps, type, 'read');
	const resource = (await client.read(type, id)) as FhirResource;
	const encounterSource = sourceLabel('Encounter', await client.isEcw());
	return toItems([output === 'raw' ? resource : simplifyResource(resource, { zone: this.getTimezone(), encounterSource })], itemIndex);
}
