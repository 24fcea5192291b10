import { updateDisplayOptions } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { sourceLabel } from '../../fhir/appointments';
import { InputError } from '../../fhir/errors';
import { checkSearchParameters } from '../../fhir/searchParameters';
import { resolveLimit } from '../../fhir/patientSearch';
import { buildLookup, simplifyResource } from '../../fhir/simplify';
import type { FhirResource } from '../../fhir/simplify';
import { getFhirClient } from '../../transport';
import { limitField, outputField, resourceTypeField, returnAllField } from '../common/fields';
import { addHintOnce, addLimitHint, checkInteraction, checkResourceTypeShape, toItems } from '../common/helpers';

const properties: INodeProperties[] = [
	resourceTypeField('search-type'),
	{
		displayName: 'Search Parameters',
		name: 'parameters',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add Parameter',
		default: {},
		description:
			'FHIR search parameters, combined with AND, e.g. patient = Patient/123, date = ge2025-01-06. Use the parameters the server declares for the type (Server > Get Capabilities lists them; eClinicalWorks refuses others). No parameters: every record of the type (use a Limit).',
		options: [
			{
				displayName: 'Parameter',
				name: 'parameter',
				values: [
					{
						displayName: 'Name',
						name: 'name',
						type: 'string',
						default: '',
						placeholder: 'patient',
						description: 'Search parameter name as listed by Server > Get Capabilities, e.g. patient, date, name, _id',
					},
					{
						displayName: 'Value',
						name: 'value',
						type: 'string',
						default: '',
						placeholder: '123',
						description: 'Value in FHIR search syntax (date prefixes such as ge/lt, system|code for tokens)',
					},
				],
			},
		],
	},
	returnAllField,
	limitField(),
	outputField(
		'Flat fields for Patient, Appointment, Encounter, Practitioner and Location; other types as returned by the server',
	),
];

const displayOptions = { show: { resource: ['fhirResource'], operation: ['search'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export function readSearchParameters(raw: unknown): Array<[string, string]> {
	const list = ((raw as { parameter?: Array<{ name?: unknown; value?: unknown }> })?.parameter ?? []) as Array<{
		name?: unknown;
		value?: unknown;
	}>;
	const query: Array<[string, string]> = [];
	list.forEach((entry, index) => {
		const name = typeof entry?.name === 'string' ? entry.name.trim() : '';
		const value = entry?.value === undefined || entry?.value === null ? '' : String(entry.value);
		if (name === '' && value.trim() === '') return;
		if (name === '') {
			throw new InputError(`Search Parameters (row ${index + 1})`, 'has a value but no name', 'Enter the parameter name, e.g. patient');
		}
		if (!/^[A-Za-z_][A-Za-z0-9_\-.:]*$/.test(name)) {
			throw new InputError(
				`Search Parameters (row ${index + 1})`,
				'has a name that is not a FHIR search parameter name',
				'Use the bare name (e.g. date, patient, _lastUpdated, subject:Patient), without "?", "=" or "&"',
			);
		}
		query.push([name, value]);
	});
	return query;
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const type = checkResourceTypeShape(this.getNodeParameter('resourceType', itemIndex));
	const query = readSearchParameters(this.getNodeParameter('parameters', itemIndex, {}));
	const returnAll = this.getNodeParameter('returnAll', itemIndex, false);
	const limit = resolveLimit(returnAll, returnAll ? 1 : this.getNodeParameter('limit', itemIndex, 50));
	const output = this.getNodeParameter('output', itemIndex, 'simplified') as string;

	const client = await getFhirClient.call(this, itemIndex);
	const caps = await client.capabilities();
	checkInteraction(caps, type, 'search-type');
	const ecw = await client.isEcw();
	// eClinicalWorks refuses undeclared parameters: stop here; elsewhere say so and send them
	const { hints } = checkSearchParameters(caps, type, query, { strict: ecw });
	for (const hint of hints) addHintOnce(this, `param:${hint}`, hint, 'warning');
	const result = await client.search(type, query, { limit, pageSize: limit === undefined ? 100 : Math.min(limit, 100) });
	const matches = result.matches as FhirResource[];
	addLimitHint(this, limit, result.leftOut, { one: `${type} record`, many: `${type} records`, where: 'matching the search' });
	if (output === 'raw') return toItems(matches, itemIndex);
	const lookup = buildLookup(result.included as FhirResource[]);
	const zone = this.getTimezone();
	const encounterSource = sourceLabel('Encounter', ecw);
	return toItems(
		matches.map((r) => simplifyResource(r, { zone, lookup: (ref) => lookup.get(ref), encounterSource })),
		itemIndex,
	);
}
