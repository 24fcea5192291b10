import { updateDisplayOptions } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { FhirError, quoteValue } from '../../fhir/errors';
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

/** Shaped like an MRN: all digits, as eClinicalWorks' MRNs (and the sandbox's) are; their FHIR ids are not. */
const MRN_SHAPE = /^\d{4,12}$/;

/** A 404 for an id that looks like an MRN: say so, and how to find a patient by MRN. */
function mrnHint(error: unknown, id: string): unknown {
	if (!(error instanceof FhirError) || error.status !== 404 || !MRN_SHAPE.test(id)) return error;
	return new FhirError(error.message, {
		kind: error.kind,
		status: error.status,
		outcome: error.outcome,
		request: error.request,
		hint:
			`${quoteValue(id)} looks like an MRN (medical record number), not a FHIR id. ` +
			'To find a patient by MRN, use Patient > Search with MRN / Identifier: its ID field is the FHIR id Patient > Get needs.',
	});
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const id = readId(this.getNodeParameter('patientId', itemIndex), 'Patient ID', 'Patient');
	const output = this.getNodeParameter('output', itemIndex, 'simplified') as string;
	const client = await getFhirClient.call(this, itemIndex);
	let patient: FhirResource;
	try {
		patient = (await client.read('Patient', id)) as FhirResource;
	} catch (error) {
		throw mrnHint(error, id);
	}
	return toItems([output === 'raw' ? patient : simplifyPatient(patient)], itemIndex);
}
