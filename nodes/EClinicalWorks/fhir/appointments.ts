import { hasResource, resourceCapability, supportsInclude, supportsSearchParam } from './capabilitySummary';
import type { CapabilityStatement } from './capabilitySummary';
import { isInRange, rangeToSearchParams } from './dates';
import type { DateRange } from './dates';
import { InputError } from './errors';
import { SOURCE_APPOINTMENT, SOURCE_ECW_VISIT, SOURCE_ENCOUNTER, visitReferences } from './simplify';
import type { FhirElement, FhirResource } from './simplify';

/**
 * "Get appointments" without assuming the server has an Appointment resource.
 *
 * Real eClinicalWorks FHIR R4 serves no Appointment (scheduling lives in healow's separate API);
 * its visits are Encounters with `date`, `patient`, `practitioner` and `location` search. Other FHIR
 * servers serve Appointment. The source is chosen from the server's CapabilityStatement.
 */

export type SourceChoice = 'auto' | 'appointment' | 'encounter';
export type VisitSource = 'Appointment' | 'Encounter';

export interface ChosenSource {
	type: VisitSource;
	/** Label put on every output item: `Appointment` or `Encounter (eCW visit)`. */
	label: string;
	/** Why this source was used (shown in hints and empty-result notices). */
	reason: string;
}

/** The label on every item: eClinicalWorks' Encounters are its visits; elsewhere an Encounter is an Encounter. */
export function sourceLabel(type: VisitSource, ecw = false): string {
	return type === 'Appointment' ? SOURCE_APPOINTMENT : ecw ? SOURCE_ECW_VISIT : SOURCE_ENCOUNTER;
}

function searchable(caps: CapabilityStatement | undefined, type: string): boolean {
	const capability = resourceCapability(caps, type);
	if (!capability) return false;
	// A resource listed without interactions is taken as searchable; one listing interactions must list search-type.
	return capability.interactions.length === 0 || capability.interactions.includes('search-type');
}

export function chooseSource(caps: CapabilityStatement | undefined, requested: SourceChoice | string, options: { ecw?: boolean } = {}): ChosenSource {
	const appointment = searchable(caps, 'Appointment');
	const encounter = searchable(caps, 'Encounter');
	const encounterLabel = sourceLabel('Encounter', options.ecw);
	switch (requested) {
		case 'appointment':
			if (!appointment) {
				throw new InputError(
					'Source',
					hasResource(caps, 'Appointment')
						? 'this server lists Appointment but not its search interaction'
						: "this server's CapabilityStatement has no Appointment resource (eClinicalWorks FHIR R4 serves visits as Encounters, not Appointments)",
					'Set Source to Auto or to Encounter (eCW Visits)',
				);
			}
			return { type: 'Appointment', label: SOURCE_APPOINTMENT, reason: 'Source set to Appointment' };
		case 'encounter':
			if (!encounter) {
				throw new InputError(
					'Source',
					"this server's CapabilityStatement has no searchable Encounter resource",
					'Set Source to Auto or to Appointment',
				);
			}
			return { type: 'Encounter', label: encounterLabel, reason: 'Source set to Encounter (eCW visits)' };
		case 'auto':
		case '':
		case undefined:
			if (appointment) {
				return { type: 'Appointment', label: SOURCE_APPOINTMENT, reason: 'the server serves Appointment' };
			}
			if (encounter) {
				return {
					type: 'Encounter',
					label: encounterLabel,
					reason: options.ecw
						? 'eClinicalWorks has no Appointment resource, so its visits (Encounters) were used'
						: 'the server has no Appointment resource, so its Encounters were used',
				};
			}
			throw new InputError(
				'Source',
				"this server's CapabilityStatement lists neither Appointment nor Encounter search",
				'Check the Base URL points at the practice FHIR endpoint and the app has Encounter scopes',
			);
		default:
			throw new InputError('Source', `"${String(requested)}" is not a known source`, 'Use auto, appointment or encounter');
	}
}

/** User-facing status groups, mapped to each source's status codes. */
export const STATUS_GROUPS: Record<string, { label: string; Appointment: string[]; Encounter: string[]; description?: string }> = {
	booked: {
		label: 'Booked / Planned',
		Appointment: ['booked'],
		Encounter: ['planned'],
		description:
			'Appointment "booked", Encounter "planned". eClinicalWorks is expected to report booked future visits as planned Encounters; no public eCW source confirms it: check on a first run',
	},
	pending: { label: 'Pending / Proposed / Waitlist', Appointment: ['proposed', 'pending', 'waitlist'], Encounter: ['planned'] },
	arrived: { label: 'Arrived / Checked In', Appointment: ['arrived', 'checked-in'], Encounter: ['arrived', 'triaged'] },
	inProgress: { label: 'In Progress', Appointment: [], Encounter: ['in-progress', 'onleave'] },
	finished: { label: 'Fulfilled / Finished', Appointment: ['fulfilled'], Encounter: ['finished'] },
	cancelled: { label: 'Cancelled', Appointment: ['cancelled'], Encounter: ['cancelled'] },
	noshow: { label: 'No-Show', Appointment: ['noshow'], Encounter: [] },
	enteredInError: { label: 'Entered in Error', Appointment: ['entered-in-error'], Encounter: ['entered-in-error'] },
};

/**
 * The status codes a filter stands for, for one source. Accepts the group keys above or raw FHIR
 * codes (so an expression can pass `checked-in`). Empty input = no status filter (undefined).
 */
export function statusCodes(statuses: unknown, source: VisitSource): string[] | undefined {
	const list = (Array.isArray(statuses) ? statuses : typeof statuses === 'string' && statuses.trim() ? statuses.split(',') : [])
		.map((s) => String(s).trim())
		.filter(Boolean);
	if (list.length === 0) return undefined;
	const codes = new Set<string>();
	const allCodes = new Set(Object.values(STATUS_GROUPS).flatMap((g) => [...g.Appointment, ...g.Encounter]));
	for (const status of list) {
		const group = STATUS_GROUPS[status];
		if (group) group[source].forEach((c) => codes.add(c));
		else if (allCodes.has(status)) codes.add(status);
		else {
			throw new InputError(
				'Status',
				`"${status}" is not a known status`,
				`Use ${Object.keys(STATUS_GROUPS).join(', ')} or a FHIR status code such as checked-in`,
			);
		}
	}
	return [...codes];
}

export interface VisitFilter {
	range: DateRange;
	patientId?: string;
	practitionerId?: string;
	locationId?: string;
	/** FHIR status codes of the chosen source; undefined = any. */
	statuses?: string[];
}

export interface IncludeWish {
	patient: boolean;
	practitioner: boolean;
	location: boolean;
}

const INCLUDE_TARGET: Record<keyof IncludeWish, string> = {
	patient: 'Patient',
	practitioner: 'Practitioner',
	location: 'Location',
};

export interface VisitQuery {
	query: Array<[string, string]>;
	/** Referenced types asked for with `_include`. */
	included: string[];
	/** Referenced types to read afterwards (wanted but not `_include`-able on this server). */
	followUp: string[];
	/** Whether the status filter went to the server (else it is applied here only). */
	statusOnServer: boolean;
	/** `_sort=date` was asked for (the server declares `_sort`): the first N matches are the N earliest. */
	sortedByDate: boolean;
	/** Every filter went to the server: each match it returns is kept (the local re-check only guards). */
	allFiltersOnServer: boolean;
}

/**
 * A reference search value in typed form (`Practitioner/7`): valid FHIR everywhere, and the only form
 * some servers match (those that index references typed).
 */
export function typedReference(type: string, id: string): string {
	return `${type}/${id}`;
}

/** Builds the search for the chosen source; every filter is also re-applied locally by `matchesFilter`. */
export function buildVisitQuery(
	caps: CapabilityStatement | undefined,
	source: VisitSource,
	filter: VisitFilter,
	include: IncludeWish,
	options: { sortByDate?: boolean } = {},
): VisitQuery {
	const query: Array<[string, string]> = [...rangeToSearchParams(filter.range, 'date')];
	// A filter the server does not declare is applied here only (some servers reject unknown parameters).
	const declared = resourceCapability(caps, source)?.searchParams ?? [];
	const send = (name: string) => declared.length === 0 || declared.includes(name);
	let allFiltersOnServer = true;
	for (const [value, name, type] of [
		[filter.patientId, 'patient', 'Patient'],
		[filter.practitionerId, 'practitioner', 'Practitioner'],
		[filter.locationId, 'location', 'Location'],
	] as const) {
		if (!value) continue;
		if (send(name)) query.push([name, typedReference(type, value)]);
		else allFiltersOnServer = false;
	}
	const sortedByDate = options.sortByDate === true && declared.includes('_sort');
	if (sortedByDate) query.push(['_sort', 'date']);
	let statusOnServer = false;
	if (filter.statuses && filter.statuses.length > 0 && supportsSearchParam(caps, source, 'status')) {
		query.push(['status', filter.statuses.join(',')]);
		statusOnServer = true;
	} else if (filter.statuses && filter.statuses.length > 0) {
		allFiltersOnServer = false;
	}
	const included: string[] = [];
	const followUp: string[] = [];
	for (const key of Object.keys(INCLUDE_TARGET) as Array<keyof IncludeWish>) {
		if (!include[key]) continue;
		const target = INCLUDE_TARGET[key];
		const spec = `${source}:${key}`;
		if (supportsInclude(caps, source, spec)) {
			query.push(['_include', spec]);
			included.push(target);
		}
		// Always allowed to follow up: eCW declares _include but does not always honour it.
		followUp.push(target);
	}
	return { query, included, followUp, statusOnServer, sortedByDate, allFiltersOnServer };
}

function startOf(resource: FhirResource): string | undefined {
	const start = resource.resourceType === 'Encounter' ? (resource.period as FhirElement | undefined)?.start : resource.start;
	return start as string | undefined;
}

/** Local re-check of every filter (servers may ignore unknown parameters or read prefixes loosely). */
export function matchesFilter(resource: FhirResource, filter: VisitFilter): boolean {
	const start = startOf(resource);
	if (!isInRange(start, filter.range)) return false;
	if (filter.statuses && filter.statuses.length > 0 && !filter.statuses.includes(resource.status as string)) return false;
	const refs = visitReferences(resource);
	const refsAll = allReferences(resource);
	if (filter.patientId && !refs.includes(`Patient/${filter.patientId}`) && !refsAll.includes(`Patient/${filter.patientId}`)) return false;
	if (filter.practitionerId && !refsAll.includes(`Practitioner/${filter.practitionerId}`)) return false;
	if (filter.locationId && !refsAll.includes(`Location/${filter.locationId}`)) return false;
	return true;
}

/** Every `Type/id` a visit refers to among its participants, subject and locations. */
function allReferences(resource: FhirResource): string[] {
	const list = (value: unknown) => (value ?? []) as FhirElement[];
	const refs = (
		resource.resourceType === 'Appointment'
			? list(resource.participant).map((p) => p?.actor)
			: [
					resource.subject,
					...list(resource.participant).map((p) => p?.individual),
					...list(resource.location).map((l) => l?.location),
				]
	) as Array<FhirElement | undefined>;
	const out: string[] = [];
	for (const ref of refs) {
		const text = typeof ref?.reference === 'string' ? ref.reference : '';
		const match = /([A-Z][A-Za-z]+)\/([^/]+?)(?:\/_history\/.*)?$/.exec(text);
		if (match) out.push(`${match[1]}/${match[2]}`);
	}
	return out;
}

/** Sort key: start instant, then id, so output order is stable across pages and servers. */
export function compareVisits(a: FhirResource, b: FhirResource): number {
	const sa = Date.parse(startOf(a) ?? '') || 0;
	const sb = Date.parse(startOf(b) ?? '') || 0;
	if (sa !== sb) return sa - sb;
	return String(a.id ?? '').localeCompare(String(b.id ?? ''));
}

/** References of the wanted types that are not in `known`, grouped by type, each id once. */
export function missingReferences(
	visits: FhirResource[],
	types: string[],
	known: (reference: string) => boolean,
): Map<string, string[]> {
	const out = new Map<string, string[]>();
	for (const visit of visits) {
		for (const ref of visitReferences(visit)) {
			const [type, id] = ref.split('/');
			if (!types.includes(type) || known(ref)) continue;
			const list = out.get(type) ?? [];
			if (!list.includes(id)) list.push(id);
			out.set(type, list);
		}
	}
	return out;
}

export interface SplitBundle {
	matches: FhirResource[];
	included: FhirResource[];
	outcomes: FhirResource[];
	next?: string;
}

/** Splits a searchset Bundle by `entry.search.mode` (match / include / outcome), not by type. */
export function splitBundle(value: unknown, type: string): SplitBundle {
	const bundle = value as { entry?: unknown; link?: unknown } | undefined;
	const result: SplitBundle = { matches: [], included: [], outcomes: [] };
	const entries = Array.isArray(bundle?.entry) ? bundle?.entry : [];
	for (const entry of entries as Array<{ resource?: FhirResource; search?: { mode?: string } }>) {
		const resource = entry?.resource;
		if (!resource) continue;
		const mode = entry.search?.mode;
		if (mode === 'include') result.included.push(resource);
		else if (mode === 'outcome' || (!mode && resource.resourceType === 'OperationOutcome')) result.outcomes.push(resource);
		else if (mode === 'match' || resource.resourceType === type) result.matches.push(resource);
		else result.included.push(resource);
	}
	const links = Array.isArray(bundle?.link) ? (bundle?.link as Array<{ relation?: string; url?: string }>) : [];
	result.next = links.find((l) => l?.relation === 'next')?.url;
	return result;
}
