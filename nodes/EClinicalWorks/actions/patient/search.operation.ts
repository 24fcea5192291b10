import { updateDisplayOptions } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { buildPatientQuery, hasCriteria, noCriteriaError, resolveLimit } from '../../fhir/patientSearch';
import type { PatientCriteria } from '../../fhir/patientSearch';
import { currentMrnIfFormer, simplifyPatient } from '../../fhir/simplify';
import type { FhirResource } from '../../fhir/simplify';
import { getFhirClient } from '../../transport';
import { limitField, outputField, returnAllField } from '../common/fields';
import { addHint, addLimitHint, toItems } from '../common/helpers';

const properties: INodeProperties[] = [
	{
		displayName: 'Search Criteria',
		name: 'criteria',
		type: 'collection',
		placeholder: 'Add Criterion',
		default: {},
		description:
			'What to search by. At least one criterion is required: eClinicalWorks rejects searches for all patients. Criteria are combined with AND.',
		options: [
			{
				displayName: 'Birth Date',
				name: 'birthDate',
				type: 'dateTime',
				default: '',
				description: 'Exact date of birth (only the date part is used, no time zone shift)',
			},
			{
				displayName: 'Born On or After',
				name: 'bornOnOrAfter',
				type: 'dateTime',
				default: '',
				description: 'Patients born on this date or later. Combine with Born On or Before for a range.',
			},
			{
				displayName: 'Born On or Before',
				name: 'bornOnOrBefore',
				type: 'dateTime',
				default: '',
				description: 'Patients born on this date or earlier. Combine with Born On or After for a range.',
			},
			{
				displayName: 'Family Name',
				name: 'family',
				type: 'string',
				default: '',
				placeholder: 'Smith',
				description: 'Last name (surname); matches names that start with this text',
			},
			{
				displayName: 'Gender',
				name: 'gender',
				type: 'options',
				options: [
					{ name: 'Female', value: 'female' },
					{ name: 'Male', value: 'male' },
					{ name: 'Other', value: 'other' },
					{ name: 'Unknown', value: 'unknown' },
				],
				default: 'female',
				description: 'Administrative gender as recorded in the chart',
			},
			{
				displayName: 'Given Name',
				name: 'given',
				type: 'string',
				default: '',
				placeholder: 'Maria',
				description: 'First or middle name; matches names that start with this text',
			},
			{
				displayName: 'Identifier System',
				name: 'identifierSystem',
				type: 'string',
				default: '',
				placeholder: 'urn:oid:2.16.840.1.113883.3.564.1',
				description: 'Optional namespace (system URI) of the MRN / Identifier, to match only identifiers from that system',
			},
			{
				displayName: 'MRN / Identifier',
				name: 'identifier',
				type: 'string',
				default: '',
				placeholder: '1234567',
				description: 'Medical record number (MRN) or another patient identifier, exact match',
			},
			{
				displayName: 'Name',
				name: 'name',
				type: 'string',
				default: '',
				placeholder: 'Maria Garcia',
				description: 'Any part of the patient\'s name (first, middle or last); matches names that start with this text',
			},
			{
				displayName: 'Patient ID',
				name: 'id',
				type: 'string',
				default: '',
				description: 'The FHIR ID of the patient (the ID field of a previous result), not the MRN',
			},
			{
				displayName: 'Phone',
				name: 'phone',
				type: 'string',
				default: '',
				placeholder: '617-555-0134',
				description: 'Phone number of the patient',
			},
		],
	},
	returnAllField,
	limitField(),
	outputField('One flat item per patient: ID, MRN, name, birth date, gender, phone, email and a one-line address'),
];

const displayOptions = { show: { resource: ['patient'], operation: ['search'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const criteria = this.getNodeParameter('criteria', itemIndex, {}) as PatientCriteria;
	const returnAll = this.getNodeParameter('returnAll', itemIndex, false);
	const limit = resolveLimit(returnAll, returnAll ? 1 : this.getNodeParameter('limit', itemIndex, 50));
	const output = this.getNodeParameter('output', itemIndex, 'simplified') as string;
	const query = buildPatientQuery(criteria);

	const client = await getFhirClient.call(this, itemIndex);
	if (!hasCriteria(criteria) && (await client.isEcw())) throw noCriteriaError();
	const result = await client.search('Patient', query, { limit, pageSize: limit === undefined ? 100 : Math.min(limit, 100) });
	const patients = result.matches as FhirResource[];
	addLimitHint(this, limit, result.leftOut, { one: 'patient', many: 'patients', where: 'matching the search' });
	const searched = typeof criteria.identifier === 'string' ? criteria.identifier.trim() : '';
	for (const patient of searched ? patients : []) {
		const current = currentMrnIfFormer(patient, searched);
		if (current) addHint(this, `Patient ${String(patient.id)} was found by a former MRN (${searched.slice(0, 40)}); the MRN in use is ${current}.`);
	}
	return toItems(output === 'raw' ? patients : patients.map(simplifyPatient), itemIndex);
}
