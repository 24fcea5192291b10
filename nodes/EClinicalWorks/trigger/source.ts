import { DateTime } from 'luxon';

import { buildVisitQuery, chooseSource, matchesFilter, statusCodes } from '../fhir/appointments';
import type { VisitFilter } from '../fhir/appointments';
import { supportsInclude } from '../fhir/capabilitySummary';
import type { CapabilityStatement } from '../fhir/capabilitySummary';
import { idFromReference } from '../fhir/ids';
import { EVENT_PATIENT } from './description';
import type { Strategy } from './strategies/strategy';
import type { WindowBounds } from './strategies/visitSnapshot';

/** Days the date-window strategy watches when Visits Within (Days) is 0: today and the next 13 days. */
export const DEFAULT_WINDOW_DAYS = 14;

/** What the trigger watches on one practice: the resource type, the search filters, local checks. */
export interface WatchedSource {
	type: string;
	strategy: Strategy;
	/** Search parameters other than `_lastUpdated`, `_sort` and `_count`. */
	query: Array<[string, string]>;
	/** Types to resolve for the simplified output (patient, practitioner, location of a visit). */
	followUp: string[];
	/** FHIR status codes to emit; undefined = all. */
	statuses?: string[];
	/** Whether the search is bounded without `_lastUpdated` (a date window). */
	bounded: boolean;
	/** Local re-check of the search filters (servers may ignore parameters). */
	matches: (resource: Record<string, unknown>) => boolean;
	/** The date window read each poll (date-window strategy only). */
	window?: WindowBounds;
}

export interface SourceOptions {
	event: string;
	/** Default `lastUpdated`. */
	strategy?: Strategy;
	/** "Now" for today's date window (tests); default the current time. */
	now?: DateTime;
	daysAhead?: number;
	location?: string;
	practitioner?: string;
	statuses?: string[];
	/** Workflow time zone: "today" for the date window. */
	zone: string;
	simple: boolean;
}

function optionalId(value: unknown, type: string, field: string): string | undefined {
	if (typeof value !== 'string' || value.trim() === '') return undefined;
	return idFromReference(value, type, field);
}

/**
 * The watched resource type: Patient, or for visits the same capability-aware choice as Get
 * Appointments: Appointment where the server serves it, else Encounter (eCW visits).
 */
export function watchedType(caps: CapabilityStatement | undefined, event: string): string {
	return event === EVENT_PATIENT ? 'Patient' : chooseSource(caps, 'auto').type;
}

/** The search and local checks for a practice, for the strategy chosen at activation. */
export function watchedSource(caps: CapabilityStatement | undefined, options: SourceOptions): WatchedSource {
	const strategy = options.strategy ?? 'lastUpdated';
	if (options.event === EVENT_PATIENT) {
		return { type: 'Patient', strategy, query: [], followUp: [], bounded: false, matches: () => true };
	}
	const chosen = chooseSource(caps, 'auto');
	const locationId = optionalId(options.location, 'Location', 'Location ID');
	const practitionerId = optionalId(options.practitioner, 'Practitioner', 'Practitioner ID');
	const statuses = statusCodes(options.statuses ?? [], chosen.type);
	const days = Math.floor(Number(options.daysAhead ?? 0));
	const today = (options.now ?? DateTime.now()).setZone(options.zone).startOf('day');

	if (strategy === 'window') {
		// Statuses are checked here, not by the server: the trigger must see a visit leave a status
		// (cancelled) to report it. No `_include`: every poll reads the whole window, and only the
		// changed visits need names (read afterwards, like Get Appointments does for what a server
		// leaves out).
		const range = { start: today, end: today.plus({ days: days > 0 ? days : DEFAULT_WINDOW_DAYS }), zone: options.zone };
		const filter: VisitFilter = { range, locationId, practitionerId };
		const built = buildVisitQuery(caps, chosen.type, filter, { patient: false, practitioner: false, location: false });
		return {
			type: chosen.type,
			strategy,
			query: built.query,
			followUp: options.simple ? ['Patient', 'Practitioner', 'Location'] : [],
			statuses,
			bounded: true,
			matches: (resource) => matchesFilter(resource as never, filter),
			window: {
				startMs: range.start.toMillis(),
				endMs: range.end.toMillis(),
				start: range.start.toUTC().toISO() as string,
				end: range.end.toUTC().toISO() as string,
				filters: `${locationId ?? ''}|${practitionerId ?? ''}`,
			},
		};
	}

	if (days > 0) {
		const filter: VisitFilter = { range: { start: today, end: today.plus({ days }), zone: options.zone }, locationId, practitionerId };
		// Statuses are checked here, not by the server: the trigger must see a visit leave a status
		// (cancelled) to report it.
		const built = buildVisitQuery(caps, chosen.type, filter, {
			patient: options.simple,
			practitioner: options.simple,
			location: options.simple,
		});
		return {
			type: chosen.type,
			strategy,
			query: built.query,
			followUp: options.simple ? built.followUp : [],
			statuses,
			bounded: true,
			matches: (resource) => matchesFilter(resource as never, filter),
		};
	}

	// Typed references (`Practitioner/7`): valid FHIR everywhere, and the only form some servers
	// match (they index references typed; a bare `7` then matches nothing).
	const query: Array<[string, string]> = [];
	if (practitionerId) query.push(['practitioner', `Practitioner/${practitionerId}`]);
	if (locationId) query.push(['location', `Location/${locationId}`]);
	if (options.simple) {
		// Like Get Appointments: `_include` where the server declares it; what it leaves out is read
		// afterwards (eCW declares `_include` but does not always honour it).
		for (const target of ['patient', 'practitioner', 'location']) {
			const spec = `${chosen.type}:${target}`;
			if (supportsInclude(caps, chosen.type, spec)) query.push(['_include', spec]);
		}
	}
	return {
		type: chosen.type,
		strategy,
		query,
		followUp: options.simple ? ['Patient', 'Practitioner', 'Location'] : [],
		statuses,
		bounded: false,
		matches: () => true,
	};
}
