import { updateDisplayOptions } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { hasOperation } from '../../fhir/capabilitySummary';
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

const MAX_PAGES = 1000;

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const id = readId(this.getNodeParameter('patientId', itemIndex), 'Patient ID');
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

	const client = await getFhirClient.call(this, itemIndex);
	const caps = await client.capabilities();
	if (!hasOperation(caps, 'Patient', 'everything')) {
		throw new FhirError("This FHIR server does not offer a patient's full record (Patient $everything is not in its CapabilityStatement)", {
			kind: 'protocol',
			hint: 'Use Patient > Get for the patient, and FHIR Resource > Search with the parameter patient=<Patient ID> for each record type you need.',
		});
	}

	const records: FhirResource[] = [];
	const seen = new Set<string>();
	const links = new Set<string>();
	let bundle = (await client.getJson(`Patient/${encodeURIComponent(id)}/$everything`, query)) as FhirResource;
	for (let page = 1; ; page++) {
		if (bundle?.resourceType !== 'Bundle') {
			throw new FhirError('The server answered $everything with something that is not a Bundle', { kind: 'protocol', request: 'GET Patient/$everything' });
		}
		const split = splitBundle(bundle, '');
		for (const resource of [...split.matches, ...split.included]) {
			const key = `${resource.resourceType}/${resource.id ?? records.length}`;
			if (seen.has(key)) continue;
			seen.add(key);
			records.push(resource);
		}
		if (limit !== undefined && records.length >= limit) break;
		if (!split.next) break;
		if (links.has(split.next)) {
			throw new FhirError('The server sent the same next-page link twice; stopped to avoid an endless loop', { kind: 'protocol' });
		}
		links.add(split.next);
		if (page >= MAX_PAGES) {
			throw new FhirError(`The full record has more than ${MAX_PAGES} pages; stopped`, { kind: 'protocol', hint: 'Use a Limit or Record Types.' });
		}
		bundle = (await client.getJson(split.next)) as FhirResource;
	}
	const selected = limit === undefined ? records : records.slice(0, limit);
	const zone = this.getTimezone();
	return toItems(output === 'raw' ? selected : selected.map((r) => simplifyResource(r, { zone })), itemIndex);
}
