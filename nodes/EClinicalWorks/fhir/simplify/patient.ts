import { formatAddress, formatHumanName, telecom } from './contact';
import { arr, codingText, obj, str } from './elements';
import type { FhirElement, FhirResource, SimpleItem } from './elements';

function isMr(identifier: FhirElement): boolean {
	return arr(obj(identifier?.type).coding).some((c) => c?.code === 'MR');
}

function looksMr(identifier: FhirElement): boolean {
	return /\b(mrn|medical record)/i.test(`${codingText(identifier?.type)} ${str(identifier?.system)}`);
}

/** 0: in use as `usual` or `official`; 1: in use otherwise; 2: `old`, or its period has ended. */
function staleness(identifier: FhirElement, now: number): number {
	const end = Date.parse(str(obj(identifier?.period).end));
	if (identifier?.use === 'old' || (Number.isFinite(end) && end <= now)) return 2;
	return identifier?.use === 'usual' || identifier?.use === 'official' ? 0 : 1;
}

/**
 * The medical record number in use. Candidates are the identifiers typed MR (v2-0203) or whose
 * type or system says MRN (else every identifier); among them the current one wins: `usual` or
 * `official` with no ended period, then any other in use, never an `old` or ended one while another
 * exists; then typed before named, then the server's order.
 */
export function findMrn(identifiers: unknown, now = Date.now()): string {
	const usable = arr(identifiers).filter((i) => typeof i?.value === 'string' && i.value !== '');
	const mrLike = usable.filter((i) => isMr(i) || looksMr(i));
	let best: FhirElement | undefined;
	let bestScore = Number.POSITIVE_INFINITY;
	for (const identifier of mrLike.length > 0 ? mrLike : usable) {
		const score = staleness(identifier, now) * 2 + (isMr(identifier) ? 0 : 1);
		if (score < bestScore) {
			best = identifier;
			bestScore = score;
		}
	}
	return best ? str(best.value) : '';
}

/**
 * When `searched` is a former identifier of the patient (`old`, or its period has ended) and not its
 * MRN in use: the MRN in use, so the search can say the patient was found by a former one.
 */
export function currentMrnIfFormer(patient: FhirResource, searched: string, now = Date.now()): string | undefined {
	const value = searched.includes('|') ? searched.slice(searched.lastIndexOf('|') + 1) : searched;
	if (!value) return undefined;
	const current = findMrn(patient.identifier, now);
	if (current === value) return undefined;
	const former = arr(patient.identifier).some((i) => str(i?.value) === value && staleness(i, now) === 2);
	return former && current ? current : undefined;
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
