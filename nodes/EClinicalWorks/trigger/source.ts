import { DateTime } from 'luxon';

import { buildVisitQuery, chooseSource, matchesFilter, statusCodes } from '../fhir/appointments';
import type { VisitFilter } from '../fhir/appointments';
import { supportsInclude } from '../fhir/capabilitySummary';
import type { CapabilityStatement } from '../fhir/capabilitySummary';
import { idFromReference } from '../fhir/ids';
import { EVENT_PATIENT } from './description';

/** What the trigger watches on one practice: the resource type, the search filters, local checks. */
export interface WatchedSource {
	type: string;
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
}

export interface SourceOptions {
	event: string;
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
 * Chooses the watched resource for a practice. Visits come from the same capability-aware choice as
 * Get Appointments: Appointment where the server serves it, else Encounter (eCW visits).
 */
export function watchedSource(caps: CapabilityStatement | undefined, options: SourceOptions): WatchedSource {
	if (options.event === EVENT_PATIENT) {
		return { type: 'Patient', query: [], followUp: [], bounded: false, matches: () => true };
	}
	const chosen = chooseSource(caps, 'auto');
	const locationId = optionalId(options.location, 'Location', 'Location ID');
	const practitionerId = optionalId(options.practitioner, 'Practitioner', 'Practitioner ID');
	const statuses = statusCodes(options.statuses ?? [], chosen.type);
	const days = Math.floor(Number(options.daysAhead ?? 0));

	if (days > 0) {
		const today = DateTime.now().setZone(options.zone).startOf('day');
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
			query: built.query,
			followUp: options.simple ? built.followUp : [],
			statuses,
			bounded: true,
			matches: (resource) => matchesFilter(resource as never, filter),
		};
	}

	const query: Array<[string, string]> = [];
	if (practitionerId) query.push(['practitioner', practitionerId]);
	if (locationId) query.push(['location', locationId]);
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
		query,
		followUp: options.simple ? ['Patient', 'Practitioner', 'Location'] : [],
		statuses,
		bounded: false,
		matches: () => true,
	};
}
