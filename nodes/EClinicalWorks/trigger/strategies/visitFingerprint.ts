import { createHash } from 'node:crypto';

/**
 * A short fingerprint of what a dispatcher cares about in a visit (Appointment or Encounter), so the
 * date-window strategy can tell a changed visit from an unchanged one without keeping the visit:
 * status, start and end, the patient, practitioner and location references, class, type, service
 * type, reasons, comments and instructions (transport needs), extensions and the cancellation reason.
 * Server bookkeeping (`meta`, `text`, display names of references) is left out, so a server that
 * re-renders a record does not make it look changed.
 */

type Element = Record<string, unknown>;
type Visit = Element;

function el(value: unknown): Element {
	return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Element) : {};
}

function list(value: unknown): unknown[] {
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

function concept(value: unknown): string[] {
	const codings = list(el(value).coding).map((c) => `${text(el(c).system)}|${text(el(c).code)}`);
	return [text(el(value).text), ...codings.sort()];
}

function concepts(value: unknown): string[][] {
	return list(value).map(concept);
}

function reference(value: unknown): string {
	return text(el(value).reference);
}

function extensions(visit: Visit): string[] {
	return list(visit.extension)
		.map((e) => `${text(el(e).url)}=${text(el(e).valueString)}${concept(el(e).valueCodeableConcept).join(',')}`)
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
			list(visit.participant).map((p) => `${reference(el(p).actor)}:${text(el(p).status)}`).sort(),
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
		instant(el(visit.period).start),
		instant(el(visit.period).end),
		reference(visit.subject),
		list(visit.participant).map((p) => reference(el(p).individual)).sort(),
		list(visit.location).map((l) => reference(el(l).location)).sort(),
		`${text(el(visit.class).system)}|${text(el(visit.class).code)}`,
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
	const value = visit.resourceType === 'Appointment' ? visit.start : el(visit.period).start;
	const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
	return Number.isNaN(ms) ? undefined : ms;
}
