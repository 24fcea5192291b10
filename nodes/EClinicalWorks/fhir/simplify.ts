import { toZoned } from './dates';

/**
 * Flat, dispatcher-friendly views of FHIR R4 resources. Pure functions: no n8n, no HTTP.
 * Every simplified item keeps `resourceType` and `id`; fields that the record does not carry are
 * empty strings (or null for booleans/lists that cannot be known), so columns line up in n8n tables.
 */

/** A JSON object from a FHIR server, read defensively: any field may be missing or of another type. */
export type FhirElement = { [key: string]: unknown };
export type FhirResource = { resourceType: string; id?: string; [key: string]: unknown };

export type SimpleItem = Record<string, string | number | boolean | null | string[]>;

/** Looks up a referenced resource (`Patient/123`) among included or fetched resources. */
export type ReferenceLookup = (reference: string) => FhirResource | undefined;

export const SOURCE_APPOINTMENT = 'Appointment';
export const SOURCE_ENCOUNTER = 'Encounter';
/** eClinicalWorks serves its visits as Encounters (it has no Appointment resource). */
export const SOURCE_ECW_VISIT = 'Encounter (eCW visit)';

function str(value: unknown): string {
	return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

function arr(value: unknown): FhirElement[] {
	return Array.isArray(value) ? value : [];
}

function obj(value: unknown): FhirElement {
	return value !== null && typeof value === 'object' ? (value as FhirElement) : {};
}

/**
 * The best entry of a FHIR list with `use` and `period`: a current one (no period end) before an
 * ended one, then by `uses` order, then any but `old`, then the first. One pass, no copies.
 */
function pickByUse(list: FhirElement[], uses: string[]): FhirElement | undefined {
	if (list.length <= 1) return list[0];
	let best: FhirElement | undefined;
	let bestScore = Number.POSITIVE_INFINITY;
	for (const entry of list) {
		const use = entry?.use;
		const at = typeof use === 'string' ? uses.indexOf(use) : -1;
		const rank = at >= 0 ? at : use === 'old' ? uses.length + 1 : uses.length;
		const score = (obj(entry?.period).end ? 1000 : 0) + rank;
		if (score < bestScore) {
			best = entry;
			bestScore = score;
		}
	}
	return best;
}

const NAME_USES = ['official', 'usual'];
const ADDRESS_USES = ['home', 'temp'];

/** `{ text }` or given + family of the best HumanName (official, usual, then any). */
export function formatHumanName(names: unknown): { name: string; family: string; given: string } {
	const best = pickByUse(arr(names), NAME_USES);
	if (!best) return { name: '', family: '', given: '' };
	const family = str(best.family);
	const given = arr(best.given).map(str).filter(Boolean).join(' ');
	const built = [arr(best.prefix).map(str).join(' '), given, family].filter(Boolean).join(' ');
	const suffix = arr(best.suffix).map(str).filter(Boolean).join(', ');
	const name = str(best.text) || (suffix ? `${built}, ${suffix}` : built);
	return { name, family, given };
}

/** One line: `12 Main St, Apt 2, Boston, MA 02118`. */
export function formatAddress(addresses: unknown): {
	address: string;
	city: string;
	state: string;
	postalCode: string;
} {
	const best = pickByUse(arr(addresses), ADDRESS_USES);
	if (!best) return { address: '', city: '', state: '', postalCode: '' };
	const city = str(best.city);
	const state = str(best.state);
	const postalCode = str(best.postalCode);
	const lines = arr(best.line).map(str).filter(Boolean);
	const cityLine = [city, [state, postalCode].filter(Boolean).join(' ')].filter(Boolean).join(', ');
	const address = str(best.text) || [...lines, cityLine].filter(Boolean).join(', ');
	return { address, city, state, postalCode };
}

const PHONE_USES = ['mobile', 'home', 'work'];
const EMAIL_USES = ['home', 'work'];

function telecom(resource: FhirResource, system: string): string {
	const all = arr(resource.telecom);
	const list = [];
	for (const t of all) if (t?.system === system && typeof t.value === 'string' && t.value !== '') list.push(t);
	const best = pickByUse(list, system === 'phone' ? PHONE_USES : EMAIL_USES);
	return best ? str(best.value) : '';
}

function codingText(value: unknown): string {
	if (!value) return '';
	const concept = obj(value);
	if (str(concept.text)) return str(concept.text);
	const coding = arr(concept.coding).find((c) => str(c?.display)) ?? arr(concept.coding)[0];
	return coding ? str(coding.display) || str(coding.code) : '';
}

function conceptsText(concepts: unknown): string {
	return arr(concepts).map(codingText).filter(Boolean).join('; ');
}

/** The medical record number: identifier typed MR (v2-0203), else one whose type/system says MRN, else the first. */
function isMr(identifier: FhirElement): boolean {
	return arr(obj(identifier?.type).coding).some((c) => c?.code === 'MR');
}

function looksMr(identifier: FhirElement): boolean {
	return /\b(mrn|medical record)/i.test(`${codingText(identifier?.type)} ${str(identifier?.system)}`);
}

export function findMrn(identifiers: unknown): string {
	let typed: FhirElement | undefined;
	let named: FhirElement | undefined;
	let usual: FhirElement | undefined;
	let first: FhirElement | undefined;
	for (const identifier of arr(identifiers)) {
		if (typeof identifier?.value !== 'string' || identifier.value === '') continue;
		if (isMr(identifier)) {
			typed = identifier;
			break;
		}
		first ??= identifier;
		if (!named && looksMr(identifier)) named = identifier;
		if (!usual && identifier.use === 'usual') usual = identifier;
	}
	const found = typed ?? named ?? usual ?? first;
	return found ? str(found.value) : '';
}

export function simplifyPatient(patient: FhirResource): SimpleItem {
	const { name, family, given } = formatHumanName(patient.name);
	const { address, city, state, postalCode } = formatAddress(patient.address);
	return {
		resourceType: 'Patient',
		id: str(patient.id),
		mrn: findMrn(patient.identifier),
		name,
		family,
		given,
		birthDate: str(patient.birthDate),
		gender: str(patient.gender),
		phone: telecom(patient, 'phone'),
		email: telecom(patient, 'email'),
		address,
		city,
		state,
		postalCode,
		lastUpdated: str(obj(patient.meta).lastUpdated),
	};
}

export function simplifyPractitioner(practitioner: FhirResource): SimpleItem {
	const { name, family, given } = formatHumanName(practitioner.name);
	const npi = arr(practitioner.identifier).find((i) => /npi/i.test(str(i?.system)));
	return {
		resourceType: 'Practitioner',
		id: str(practitioner.id),
		name,
		family,
		given,
		npi: npi ? str(npi.value) : '',
		phone: telecom(practitioner, 'phone'),
		email: telecom(practitioner, 'email'),
		specialty: arr(practitioner.qualification).map((q) => codingText(q?.code)).filter(Boolean).join('; '),
		active: typeof practitioner.active === 'boolean' ? practitioner.active : null,
		lastUpdated: str(obj(practitioner.meta).lastUpdated),
	};
}

export function simplifyLocation(location: FhirResource): SimpleItem {
	const { address, city, state, postalCode } = formatAddress(location.address ? [location.address] : []);
	return {
		resourceType: 'Location',
		id: str(location.id),
		name: str(location.name),
		status: str(location.status),
		phone: telecom(location, 'phone'),
		address,
		city,
		state,
		postalCode,
		lastUpdated: str(obj(location.meta).lastUpdated),
	};
}

/** Words in a comment or reason that mean the patient needs help getting to the visit. */
const NEED_PATTERNS: Array<[string, RegExp]> = [
	['wheelchair', /\bwheel\s?chair/i],
	['stretcher', /\bstretcher|\bgurney/i],
	['ambulance', /\bambulan(ce|t)|\bambulette/i],
	['transport', /\btransport|\bride\b|\bpick\s?-?up\b|\bnemt\b/i],
	['interpreter', /\binterpret|\btranslat/i],
	['oxygen', /\boxygen\b|\bO2\b/],
];
const TRANSPORT_NEEDS = new Set(['wheelchair', 'stretcher', 'ambulance', 'transport']);
const NEGATED = /\bno\s+(transport|ride|wheelchair|stretcher)\b|\b(transport|ride)\s+(is\s+)?not\s+(needed|required)\b/i;

/** Needs mentioned in free text (comments, reasons, instructions). */
export function detectNeeds(texts: string[]): { needs: string[]; transportNeeded: boolean } {
	const text = texts.filter(Boolean).join(' \n ');
	if (text === '') return { needs: [], transportNeeded: false };
	const needs = NEED_PATTERNS.filter(([, pattern]) => pattern.test(text)).map(([need]) => need);
	const negated = NEGATED.test(text);
	const filtered = negated ? needs.filter((n) => !TRANSPORT_NEEDS.has(n)) : needs;
	return { needs: filtered, transportNeeded: filtered.some((n) => TRANSPORT_NEEDS.has(n)) };
}

function referenceOf(ref: unknown, type: string): string {
	const reference = str(obj(ref).reference);
	if (!reference) return '';
	const parts = reference.split('/');
	// absolute URLs and `Type/id/_history/v` both end with (or contain) Type/id
	const at = parts.lastIndexOf(type);
	if (at >= 0 && parts[at + 1]) return parts[at + 1];
	return '';
}

interface Party {
	id: string;
	ref: unknown;
}

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

function firstParty(refs: unknown[], type: string): Party | undefined {
	for (const ref of refs) {
		const id = referenceOf(ref, type);
		if (id) return { id, ref };
	}
	return undefined;
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

/** References a visit points at (for follow-up reads): `Patient/1`, `Practitioner/2`, `Location/3`. */
export function visitReferences(resource: FhirResource): string[] {
	const refs: unknown[] =
		resource.resourceType === 'Appointment'
			? arr(resource.participant).map((p) => p?.actor)
			: [
					resource.subject,
					...arr(resource.participant).map((p) => p?.individual),
					...arr(resource.location).map((l) => l?.location),
				];
	const out = new Set<string>();
	for (const type of ['Patient', 'Practitioner', 'Location']) {
		const party = firstParty(refs, type);
		if (party) out.add(`${type}/${party.id}`);
	}
	return [...out];
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
	const actors = arr(appointment.participant).map((p) => p?.actor);
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
		...patientFields(firstParty(actors, 'Patient'), lookup),
		...practitionerFields(firstParty(actors, 'Practitioner'), lookup),
		...locationFields(firstParty(actors, 'Location'), lookup),
		type: codingText(appointment.appointmentType) || conceptsText(appointment.serviceType),
		reason,
		description: str(appointment.description),
		comment,
		transportNeeded: detected.transportNeeded,
		needs: detected.needs,
		lastUpdated: str(obj(appointment.meta).lastUpdated),
	});
}

/** Length in minutes from start and end, or null when either is missing or unreadable. */
function minutesBetween(start: string, end: string): number | null {
	if (!start || !end) return null;
	const diff = Date.parse(end) - Date.parse(start);
	return Number.isFinite(diff) ? Math.round(diff / 60000) : null;
}

/** `source` is the label items carry: `Encounter`, or `Encounter (eCW visit)` on eClinicalWorks. */
export function simplifyEncounter(encounter: FhirResource, lookup: ReferenceLookup, zone: string, source = SOURCE_ENCOUNTER): SimpleItem {
	const start = str(obj(encounter.period).start);
	const end = str(obj(encounter.period).end);
	const reasons = arr(encounter.reasonCode).map(codingText).filter(Boolean);
	const extensions = extensionTexts(encounter);
	const comment = extensions.join(' | ');
	const detected = detectNeeds([...reasons, comment]);
	return inVisitOrder({
		id: str(encounter.id),
		source,
		status: str(encounter.status),
		...timing(start, end, zone),
		minutes: minutesBetween(start, end),
		...patientFields(firstParty([encounter.subject], 'Patient'), lookup),
		...practitionerFields(firstParty(arr(encounter.participant).map((p) => p?.individual), 'Practitioner'), lookup),
		...locationFields(firstParty(arr(encounter.location).map((l) => l?.location), 'Location'), lookup),
		type: conceptsText(encounter.type) || codingText(encounter.serviceType),
		reason: reasons.join('; '),
		description: '',
		comment,
		transportNeeded: detected.transportNeeded,
		needs: detected.needs,
		lastUpdated: str(obj(encounter.meta).lastUpdated),
	});
}

const noLookup: ReferenceLookup = () => undefined;

/**
 * Simplifies any resource: Patient, Appointment, Encounter, Practitioner and Location get their flat
 * view; other types come back unchanged (they have no agreed flat shape).
 */
export function simplifyResource(
	resource: FhirResource,
	options: { lookup?: ReferenceLookup; zone?: string; encounterSource?: string } = {},
): Record<string, unknown> {
	const lookup = options.lookup ?? noLookup;
	const zone = options.zone ?? 'UTC';
	switch (resource?.resourceType) {
		case 'Patient':
			return simplifyPatient(resource);
		case 'Appointment':
			return { resourceType: 'Appointment', ...simplifyAppointment(resource, lookup, zone) };
		case 'Encounter':
			return { resourceType: 'Encounter', ...simplifyEncounter(resource, lookup, zone, options.encounterSource) };
		case 'Practitioner':
			return simplifyPractitioner(resource);
		case 'Location':
			return simplifyLocation(resource);
		default:
			return resource;
	}
}

/** Builds a lookup over resources keyed by `Type/id`. */
export function buildLookup(resources: Iterable<FhirResource>): Map<string, FhirResource> {
	const map = new Map<string, FhirResource>();
	for (const resource of resources) {
		if (resource?.resourceType && resource.id) map.set(`${resource.resourceType}/${resource.id}`, resource);
	}
	return map;
}
