import { updateDisplayOptions } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { STATUS_GROUPS, buildVisitQuery, chooseSource, matchesFilter, missingReferences, splitBundle, statusCodes } from '../../fhir/appointments';
import type { IncludeWish, VisitFilter } from '../../fhir/appointments';
import { describeRange, resolveRange, resolveTimeZone } from '../../fhir/dates';
import { idFromReference } from '../../fhir/ids';
import { resolveLimit } from '../../fhir/patientSearch';
import { simplifyAppointment, simplifyEncounter } from '../../fhir/simplify';
import { RANGE_PAGE_SIZE, readVisitPages } from '../../fhir/visitPages';
import { getFhirClient } from '../../transport';
import { toNodeError } from '../../transport/errors';
import { limitField, outputField, returnAllField, timeZoneField } from '../common/fields';
import { addHint, addHintOnce, addLimitHint, referenceCache, toItems } from '../common/helpers';
import { fetchReferences, makeLookup } from '../common/references';

const properties: INodeProperties[] = [
	{
		displayName: 'Date Range',
		name: 'dateRange',
		type: 'options',
		options: [
			{ name: 'Today', value: 'today', description: 'From 00:00 today to 00:00 tomorrow' },
			{ name: 'Tomorrow', value: 'tomorrow', description: 'From 00:00 tomorrow to 00:00 the day after' },
			{ name: 'Next 7 Days', value: 'next7Days', description: 'Today and the 6 following days' },
			{ name: 'Custom', value: 'custom', description: 'Choose the first and last day (or exact times)' },
		],
		default: 'tomorrow',
		description: 'Which appointments to get, by start time, in the chosen time zone',
	},
	{
		displayName: 'From',
		name: 'from',
		type: 'dateTime',
		required: true,
		default: '',
		description: 'Start of the range (included). A date without a time starts at 00:00.',
		displayOptions: { show: { dateRange: ['custom'] } },
	},
	{
		displayName: 'To',
		name: 'to',
		type: 'dateTime',
		required: true,
		default: '',
		description:
			'End of the range. A date without a time (or at 00:00) includes that whole day; a time of day is excluded (appointments starting before it are returned).',
		displayOptions: { show: { dateRange: ['custom'] } },
	},
	timeZoneField,
	{
		displayName: 'Source',
		name: 'source',
		type: 'options',
		options: [
			{
				name: 'Auto (Recommended)',
				value: 'auto',
				description:
					'Appointment where the server serves it; otherwise Encounter (eClinicalWorks FHIR R4 has no Appointment resource)',
			},
			{
				name: 'Appointment',
				value: 'appointment',
				description: 'FHIR Appointment (Epic, Oracle Health, athena and most FHIR servers; not eClinicalWorks)',
			},
			{
				name: 'Encounter (eCW Visits)',
				value: 'encounter',
				description: 'FHIR Encounter: how eClinicalWorks exposes scheduled and past visits',
			},
		],
		default: 'auto',
		description: 'Where appointments are read from. Each output item says which source was used.',
	},
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		description: 'Narrow the list to one patient, practitioner or location, or to some statuses',
		options: [
			{
				displayName: 'Location ID',
				name: 'locationId',
				type: 'string',
				default: '',
				description: 'Only appointments at this location (FHIR Location ID)',
			},
			{
				displayName: 'Patient ID',
				name: 'patientId',
				type: 'string',
				default: '',
				description: 'Only appointments of this patient (FHIR Patient ID from Search Patients, not the MRN)',
			},
			{
				displayName: 'Practitioner ID',
				name: 'practitionerId',
				type: 'string',
				default: '',
				description: 'Only appointments with this practitioner (FHIR Practitioner ID)',
			},
			{
				displayName: 'Status',
				name: 'status',
				type: 'multiOptions',
				options: Object.entries(STATUS_GROUPS).map(([value, group]) => ({ name: group.label, value, ...(group.description ? { description: group.description } : {}) })),
				default: [],
				description: 'Only appointments with one of these statuses. Empty: any status.',
			},
		],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		description: 'Which related details to add to each appointment (all on by default)',
		options: [
			{
				displayName: 'Include Location Details',
				name: 'includeLocation',
				type: 'boolean',
				default: true,
				description: 'Whether to add the location name to each appointment (read with the appointments)',
			},
			{
				displayName: 'Include Patient Details',
				name: 'includePatient',
				type: 'boolean',
				default: true,
				description:
					'Whether to add the patient\'s name, birth date, MRN, phone and address to each appointment (read with the appointments)',
			},
			{
				displayName: 'Include Practitioner Details',
				name: 'includePractitioner',
				type: 'boolean',
				default: true,
				description: 'Whether to add the practitioner\'s name to each appointment (read with the appointments)',
			},
		],
	},
	returnAllField,
	limitField(),
	outputField(
		'One flat item per appointment: start/end in the chosen time zone, status, patient, practitioner, location, type, reason, comment and transport needs',
	),
];

const displayOptions = { show: { resource: ['appointment'], operation: ['getMany'] } };

export const description = updateDisplayOptions(displayOptions, properties);

interface Filters {
	patientId?: string;
	practitionerId?: string;
	locationId?: string;
	status?: string[] | string;
}

interface Options {
	includePatient?: boolean;
	includePractitioner?: boolean;
	includeLocation?: boolean;
}

/** An optional filter: `123` or the reference `Practitioner/123`, as the bare id. */
function optionalId(value: unknown, resourceType: string, field: string): string | undefined {
	if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return undefined;
	return idFromReference(value, resourceType, field);
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	// Everything the user typed is checked before the first request.
	const preset = this.getNodeParameter('dateRange', itemIndex, 'today') as string;
	const zone = resolveTimeZone(this.getNodeParameter('timeZone', itemIndex, ''), this.getTimezone());
	const range = resolveRange({
		preset,
		from: preset === 'custom' ? (this.getNodeParameter('from', itemIndex, '') as string) : undefined,
		to: preset === 'custom' ? (this.getNodeParameter('to', itemIndex, '') as string) : undefined,
		zone,
	});
	const requested = this.getNodeParameter('source', itemIndex, 'auto') as string;
	const filters = this.getNodeParameter('filters', itemIndex, {}) as Filters;
	const options = this.getNodeParameter('options', itemIndex, {}) as Options;
	const returnAll = this.getNodeParameter('returnAll', itemIndex, false);
	const limit = resolveLimit(returnAll, returnAll ? 1 : this.getNodeParameter('limit', itemIndex, 50));
	const output = this.getNodeParameter('output', itemIndex, 'simplified') as string;
	const patientId = optionalId(filters.patientId, 'Patient', 'Patient ID');
	const practitionerId = optionalId(filters.practitionerId, 'Practitioner', 'Practitioner ID');
	const locationId = optionalId(filters.locationId, 'Location', 'Location ID');
	const simplified = output !== 'raw';
	const include: IncludeWish = {
		patient: simplified && options.includePatient !== false,
		practitioner: simplified && options.includePractitioner !== false,
		location: simplified && options.includeLocation !== false,
	};

	const client = await getFhirClient.call(this, itemIndex);
	const caps = await client.capabilities();
	const ecw = await client.isEcw();
	const source = chooseSource(caps, requested, { ecw });
	const filter: VisitFilter = {
		range,
		patientId,
		practitionerId,
		locationId,
		statuses: statusCodes(filters.status, source.type),
	};
	if (filter.statuses && filter.statuses.length === 0) {
		// e.g. only "No-Show" asked for on Encounters: that source has no such status.
		addHint(this, `None of the chosen statuses exists on ${source.label} records, so nothing can match.`, 'warning');
		return [];
	}
	// Limit N means the N earliest: the server sorts by date where it declares _sort; elsewhere the
	// whole range is read before cutting, at the range page size (fhir/visitPages.ts).
	const visitQuery = buildVisitQuery(caps, source.type, filter, include, { sortByDate: limit !== undefined });

	const read = await readVisitPages(
		(query, pageSize) => client.searchPages(source.type, query, { pageSize }),
		source.type,
		visitQuery,
		filter,
		limit,
	);
	const { visits: selected, included, statusesInRange } = read;

	if (requested === 'auto' && source.type === 'Encounter') {
		addHintOnce(this, 'source', `Read visits from ${source.label}: ${source.reason}.`);
	}
	if (selected.length === 0) {
		addHint(
			this,
			`No appointments found in ${source.label} for ${describeRange(range)}` +
				`${requested === 'auto' ? ` (source chosen automatically: ${source.reason})` : ''}.`,
		);
		if (filter.statuses) {
			const seen = visitQuery.statusOnServer ? await statusesWithoutFilter(client, source.type, visitQuery.query, filter) : statusesInRange;
			if (seen.size > 0) addHint(this, statusHint(filter.statuses, seen, source.type), 'warning');
		}
		return [];
	}

	addLimitHint(this, limit, read.leftOut, { one: 'appointment', many: 'appointments', where: 'in this range' });
	if (!simplified) return toItems(selected, itemIndex);

	const cache = referenceCache(this);
	const wanted = visitQuery.followUp;
	const known = (ref: string) => included.has(ref) || cache.has(`${client.baseUrl}|${ref}`);
	const missing = missingReferences(selected, wanted, known);
	if (missing.size > 0) {
		const report = await fetchReferences(client, caps, missing, cache, (error) =>
			toNodeError(this.getNode(), error, itemIndex),
		);
		if (report.unavailable.length > 0) {
			addHintOnce(
				this,
				`unavailable:${report.unavailable.join(',')}`,
				`Could not read ${report.unavailable.join(', ')} records (not allowed for this app or not found); names come from the appointment itself where it carries them.`,
				'warning',
			);
		}
	}
	const lookup = makeLookup(client.baseUrl, included, cache);
	return toItems(
		selected.map((visit) => (source.type === 'Appointment' ? simplifyAppointment(visit, lookup, zone) : simplifyEncounter(visit, lookup, zone, source.label))),
		itemIndex,
	);
}

/** The statuses of the visits in the range when the status filter went to the server (first page only). */
async function statusesWithoutFilter(
	client: Awaited<ReturnType<typeof getFhirClient>>,
	type: string,
	query: Array<[string, string]>,
	filter: VisitFilter,
): Promise<Map<string, number>> {
	const seen = new Map<string, number>();
	const unfiltered = query.filter(([name]) => name !== 'status' && name !== '_include');
	for await (const bundle of client.searchPages(type, unfiltered, { pageSize: RANGE_PAGE_SIZE })) {
		for (const match of splitBundle(bundle, type).matches) {
			if (!matchesFilter(match, { ...filter, statuses: undefined })) continue;
			const status = typeof match.status === 'string' ? match.status : '(none)';
			seen.set(status, (seen.get(status) ?? 0) + 1);
		}
		break;
	}
	return seen;
}

/**
 * An empty result with a status filter, while the range has visits: name what was there, so a wrong
 * assumption about the server's statuses shows (eCW is expected to report booked future visits as
 * `planned` Encounters, which no public eCW source confirms).
 */
function statusHint(asked: string[], seen: Map<string, number>, type: string): string {
	const there = [...seen.entries()].sort((a, b) => b[1] - a[1]).map(([status, n]) => `${status} (${n})`).join(', ');
	return `No visit in this range has the status asked for (${asked.join(', ')}); the ${type} records in the range have: ${there}. Check which statuses this server uses (Raw FHIR Resource output shows them), and adjust the Status filter.`;
}
