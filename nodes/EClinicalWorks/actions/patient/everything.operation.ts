import { updateDisplayOptions } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { splitBundle } from '../../fhir/appointments';
import { formatFhirDateTime, parseUserDateTime } from '../../fhir/dates';
import { FhirError, InputError } from '../../fhir/errors';
import { resolveLimit } from '../../fhir/patientSearch';
import { simplifyResource } from '../../fhir/simplify';
import type { FhirResource } from '../../fhir/simplify';
import { getFhirClient } from '../../transport';
import { limitField, outputField, returnAllField } from '../common/fields';
import { readId, toItems } from '../common/helpers';
import { patientIdField } from './get.operation';

const properties: INodeProperties[] = [
	patientIdField,
	returnAllField,
	limitField(),
	outputField(
		'One item per record: patients, practitioners, locations and visits as flat fields, other record types (conditions, medications, ...) as returned',
	),
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		description: 'Narrow the full record by record type or change date',
		options: [
			{
				displayName: 'Changed Since',
				name: 'since',
				type: 'dateTime',
				default: '',
				description: 'Only records changed at or after this time (FHIR _since)',
			},
			{
				displayName: 'Record Types',
				name: 'types',
				type: 'string',
				default: '',
				placeholder: 'Encounter,Condition,MedicationRequest',
				description: 'Comma-separated FHIR resource types to return (FHIR _type). Empty: every type the server includes.',
			},
		],
	},
];

const displayOptions = { show: { resource: ['patient'], operation: ['everything'] } };

export const description = updateDisplayOptions(displayOptions, properties);

/** A 404, 400 or 501 carrying an OperationOutcome: the server says it does not do $everything (here). */
function notOffered(error: unknown): unknown {
	if (!(error instanceof FhirError) || ![400, 404, 501].includes(error.status ?? 0) || !error.outcome?.summary) return error;
	return new FhirError(`This FHIR server did not give the patient's full record (Patient $everything answered ${error.status})`, {
		kind: error.kind,
		status: error.status,
		outcome: error.outcome,
		request: error.request,
		hint: 'If the server does not offer $everything: use Patient > Get for the patient, and FHIR Resource > Search with the parameter patient set to the Patient ID for each record type you need. If it names a parameter, clear Record Types or Changed Since.',
	});
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const id = readId(this.getNodeParameter('patientId', itemIndex), 'Patient ID', 'Patient');
	const returnAll = this.getNodeParameter('returnAll', itemIndex, false);
	const limit = resolveLimit(returnAll, returnAll ? 1 : this.getNodeParameter('limit', itemIndex, 50));
	const output = this.getNodeParameter('output', itemIndex, 'simplified') as string;
	const options = this.getNodeParameter('options', itemIndex, {}) as { since?: string; types?: string };

	const query: Array<[string, string]> = [];
	if (options.types && options.types.trim() !== '') {
		const types = options.types.split(',').map((t) => t.trim()).filter(Boolean);
		const bad = types.find((t) => !/^[A-Z][A-Za-z]{1,63}$/.test(t));
		if (bad !== undefined) {
			throw new InputError('Record Types', `"${bad.slice(0, 40)}" is not a FHIR resource type name`, 'Use exact FHIR names separated by commas, e.g. Encounter,Condition');
		}
		query.push(['_type', types.join(',')]);
	}
	if (options.since) {
		query.push(['_since', formatFhirDateTime(parseUserDateTime(options.since, this.getTimezone(), 'Changed Since'))]);
	}
	query.push(['_count', String(limit === undefined ? 100 : Math.min(limit, 100))]);

	// Called whether or not the CapabilityStatement lists $everything: servers serve operations they
	// do not list. Only the server's own refusal is explained.
	const client = await getFhirClient.call(this, itemIndex);
	const records: FhirResource[] = [];
	const seen = new Set<string>();
	try {
		for await (const bundle of client.operationPages(`Patient/${encodeURIComponent(id)}/$everything`, query)) {
			const split = splitBundle(bundle, '');
			for (const resource of [...split.matches, ...split.included]) {
				const key = `${resource.resourceType}/${resource.id ?? records.length}`;
				if (seen.has(key)) continue;
				seen.add(key);
				records.push(resource);
			}
			if (limit !== undefined && records.length >= limit) break;
		}
	} catch (error) {
		throw notOffered(error);
	}
	const selected = limit === undefined ? records : records.slice(0, limit);
	const zone = this.getTimezone();
	return toItems(output === 'raw' ? selected : selected.map((r) => simplifyResource(r, { zone })), itemIndex);
}
