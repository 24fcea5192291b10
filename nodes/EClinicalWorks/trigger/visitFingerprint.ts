import { createHash } from 'node:crypto';

/**
 * A short fingerprint of what a dispatcher cares about in a visit (Appointment or Encounter), so the
 * date-window strategy can tell a changed visit from an unchanged one without keeping the visit:
 * status, start and end, the patient, practitioner and location references, class, type, service
 * type, reasons, comments and instructions (transport needs), extensions and the cancellation reason.
 * Server bookkeeping (`meta`, `text`, display names of references) is left out, so a server that
 * re-renders a record does not make it look changed.
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
type Visit = Record<string, any>;

function list(value: unknown): any[] {
	if (Array.isArray(value)) return value;
	return value === undefined || value === null ? [] : [value];
}

function text(value: unknown): string {
	return typeof value === 'string' ? value : '';
}

/** Instants compared as instants: `09:00-05:00` and `14:00Z` are the same start. */
function instant(value: unknown): string | number {
	const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
	return Number.isNaN(ms) ? text(value) : ms;
}

function concept(value: any): string[] {
	const codings = list(value?.coding).map((c) => `${text(c?.system)}|${text(c?.code)}`);
	return [text(value?.text), ...codings.sort()];
}

function concepts(value: unknown): string[][] {
	return list(value).map(concept);
}

function reference(value: any): string {
	return text(value?.reference);
}

function extensions(visit: Visit): string[] {
	return list(visit.extension)
		.map((e) => `${text(e?.url)}=${text(e?.valueString)}${concept(e?.valueCodeableConcept).join(',')}`)
		.sort();
}

/** The dispatcher-relevant fields, in a fixed order. */
function relevantFields(visit: Visit): unknown[] {
	if (visit.resourceType === 'Appointment') {
		return [
			'A',
			text(visit.status),
			instant(visit.start),
			instant(visit.end),
			visit.minutesDuration ?? null,
			list(visit.participant).map((p) => `${reference(p?.actor)}:${text(p?.status)}`).sort(),
			concept(visit.appointmentType),
			concepts(visit.serviceType),
			concepts(visit.reasonCode),
			list(visit.reasonReference).map(reference).sort(),
			text(visit.description),
			text(visit.comment),
			text(visit.patientInstruction),
			concept(visit.cancelationReason),
			extensions(visit),
		];
	}
	return [
		'E',
		text(visit.status),
		instant(visit.period?.start),
		instant(visit.period?.end),
		reference(visit.subject),
		list(visit.participant).map((p) => reference(p?.individual)).sort(),
		list(visit.location).map((l) => reference(l?.location)).sort(),
		`${text(visit.class?.system)}|${text(visit.class?.code)}`,
		concepts(visit.type),
		concepts(visit.serviceType),
		concepts(visit.reasonCode),
		list(visit.reasonReference).map(reference).sort(),
		list(visit.appointment).map(reference).sort(),
		extensions(visit),
	];
}

/** 10 characters (60 bits) of SHA-256 over the relevant fields. */
export function visitFingerprint(visit: Visit): string {
	return createHash('sha256').update(JSON.stringify(relevantFields(visit))).digest('base64url').slice(0, 10);
}

/** The visit's start (Appointment.start, Encounter.period.start) in ms, or undefined. */
export function visitStartMs(visit: Visit): number | undefined {
	const value = visit.resourceType === 'Appointment' ? visit.start : visit.period?.start;
	const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
	return Number.isNaN(ms) ? undefined : ms;
}
