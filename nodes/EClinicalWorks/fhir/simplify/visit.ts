import { toZoned } from '../dates';
import { formatAddress, formatHumanName } from './contact';
import { arr, codingText, conceptsText, obj, str } from './elements';
import type { FhirResource, SimpleItem } from './elements';
import { detectNeeds } from './needs';
import { simplifyPatient } from './patient';
import { visitParties } from './references';
import type { Party, ReferenceLookup } from './references';

/**
 * A visit (Appointment, or Encounter on servers without Appointment, such as eClinicalWorks) as one
 * flat item: when, who, where, with whom, and what the patient needs to get there.
 */

export const SOURCE_APPOINTMENT = 'Appointment';
export const SOURCE_ENCOUNTER = 'Encounter';
/** eClinicalWorks serves its visits as Encounters (it has no Appointment resource). */
export const SOURCE_ECW_VISIT = 'Encounter (eCW visit)';

function patientFields(party: Party | undefined, lookup: ReferenceLookup): SimpleItem {
	const resource = party?.id ? lookup(`Patient/${party.id}`) : undefined;
	const simple = resource ? simplifyPatient(resource) : undefined;
	return {
		patientId: party?.id ?? '',
		patientName: simple?.name || str(obj(party?.ref).display),
		patientBirthDate: simple?.birthDate ?? '',
		patientGender: simple?.gender ?? '',
		patientMrn: simple?.mrn ?? '',
		patientPhone: simple?.phone ?? '',
		patientAddress: simple?.address ?? '',
	};
}

function practitionerFields(party: Party | undefined, lookup: ReferenceLookup): SimpleItem {
	const resource = party?.id ? lookup(`Practitioner/${party.id}`) : undefined;
	return {
		practitionerId: party?.id ?? '',
		practitionerName: (resource ? formatHumanName(resource.name).name : '') || str(obj(party?.ref).display),
	};
}

function locationFields(party: Party | undefined, lookup: ReferenceLookup): SimpleItem {
	const resource = party?.id ? lookup(`Location/${party.id}`) : undefined;
	return {
		locationId: party?.id ?? '',
		locationName: (resource ? str(resource.name) : '') || str(obj(party?.ref).display),
		locationAddress: resource ? formatAddress(resource.address ? [resource.address] : []).address : '',
	};
}

function extensionTexts(resource: FhirResource): string[] {
	return arr(resource.extension)
		.map((e) => str(e?.valueString) || codingText(e?.valueCodeableConcept))
		.filter(Boolean);
}

function timing(start: string, end: string, zone: string): SimpleItem {
	const s = toZoned(start, zone);
	const e = toZoned(end, zone);
	return { start: s.iso, end: e.iso, date: s.date, time: s.time, timeZone: zone };
}

/** Length in minutes from start and end, or null when either is missing or unreadable. */
function minutesBetween(start: string, end: string): number | null {
	if (!start || !end) return null;
	const diff = Date.parse(end) - Date.parse(start);
	return Number.isFinite(diff) ? Math.round(diff / 60000) : null;
}

/**
 * The column order of a simplified visit: what a dispatcher reads first (who, phone, pick-up
 * address, when, where, with whom), ids and source last. n8n's table view shows keys in this order.
 * Keys not listed keep their place after these.
 */
const VISIT_FIELD_ORDER = [
	'patientName',
	'patientPhone',
	'patientAddress',
	'date',
	'time',
	'locationName',
	'locationAddress',
	'practitionerName',
	'status',
	'transportNeeded',
	'levelOfService',
	'needs',
	'reason',
	'comment',
	'type',
	'description',
	'start',
	'end',
	'minutes',
	'timeZone',
	'patientMrn',
	'patientBirthDate',
	'patientGender',
	'patientId',
	'practitionerId',
	'locationId',
	'id',
	'source',
	'lastUpdated',
];

function inVisitOrder(item: SimpleItem): SimpleItem {
	const ordered: SimpleItem = {};
	for (const key of VISIT_FIELD_ORDER) if (key in item) ordered[key] = item[key];
	for (const key of Object.keys(item)) if (!(key in ordered)) ordered[key] = item[key];
	return ordered;
}

export function simplifyAppointment(appointment: FhirResource, lookup: ReferenceLookup, zone: string): SimpleItem {
	const parties = visitParties(appointment);
	const reason = conceptsText(appointment.reasonCode);
	const comment = [str(appointment.comment), str(appointment.patientInstruction)]
		.filter((text, index, all) => text && all.indexOf(text) === index)
		.join(' | ');
	const detected = detectNeeds([comment, reason, str(appointment.description), ...extensionTexts(appointment)]);
	return inVisitOrder({
		id: str(appointment.id),
		source: SOURCE_APPOINTMENT,
		status: str(appointment.status),
		...timing(str(appointment.start), str(appointment.end), zone),
		minutes: typeof appointment.minutesDuration === 'number' ? appointment.minutesDuration : minutesBetween(str(appointment.start), str(appointment.end)),
		...patientFields(parties.patient, lookup),
		...practitionerFields(parties.practitioner, lookup),
		...locationFields(parties.location, lookup),
		type: codingText(appointment.appointmentType) || conceptsText(appointment.serviceType),
		reason,
		description: str(appointment.description),
		comment,
		transportNeeded: detected.transportNeeded,
		levelOfService: detected.levelOfService,
		needs: detected.needs.join(', '),
		lastUpdated: str(obj(appointment.meta).lastUpdated),
	});
}

/** `source` is the label items carry: `Encounter`, or `Encounter (eCW visit)` on eClinicalWorks. */
export function simplifyEncounter(encounter: FhirResource, lookup: ReferenceLookup, zone: string, source = SOURCE_ENCOUNTER): SimpleItem {
	const start = str(obj(encounter.period).start);
	const end = str(obj(encounter.period).end);
	const reasons = arr(encounter.reasonCode).map(codingText).filter(Boolean);
	const extensions = extensionTexts(encounter);
	const comment = extensions.join(' | ');
	const detected = detectNeeds([...reasons, comment]);
	const parties = visitParties(encounter);
	return inVisitOrder({
		id: str(encounter.id),
		source,
		status: str(encounter.status),
		...timing(start, end, zone),
		minutes: minutesBetween(start, end),
		...patientFields(parties.patient, lookup),
		...practitionerFields(parties.practitioner, lookup),
		...locationFields(parties.location, lookup),
		type: conceptsText(encounter.type) || codingText(encounter.serviceType),
		reason: reasons.join('; '),
		description: '',
		comment,
		transportNeeded: detected.transportNeeded,
		levelOfService: detected.levelOfService,
		needs: detected.needs.join(', '),
		lastUpdated: str(obj(encounter.meta).lastUpdated),
	});
}
