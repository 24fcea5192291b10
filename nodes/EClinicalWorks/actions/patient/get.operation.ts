import { updateDisplayOptions } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { simplifyPatient } from '../../fhir/simplify';
import type { FhirResource } from '../../fhir/simplify';
import { getFhirClient } from '../../transport';
import { outputField } from '../common/fields';
import { readId, toItems } from '../common/helpers';

export const patientIdField: INodeProperties = {
	displayName: 'Patient ID',
	name: 'patientId',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'e.g. 8a7c3b1e',
	description: 'The FHIR ID of the patient (the ID field of a Search Patients result), not the MRN',
};

const properties: INodeProperties[] = [
	patientIdField,
	outputField('One flat item: ID, MRN, name, birth date, gender, phone, email and a one-line address'),
];

const displayOptions = { show: { resource: ['patient'], operation: ['get'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const id = readId(this.getNodeParameter('patientId', itemIndex), 'Patient ID', 'Patient');
	const output = this.getNodeParameter('output', itemIndex, 'simplified') as string;
	const client = await getFhirClient.call(this, itemIndex);
	const patient = (await client.read('Patient', id)) as FhirResource;
	return toItems([output === 'raw' ? patient : simplifyPatient(patient)], itemIndex);
}
