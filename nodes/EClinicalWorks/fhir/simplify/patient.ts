import { formatAddress, formatHumanName, telecom } from './contact';
import { arr, codingText, obj, str } from './elements';
import type { FhirElement, FhirResource, SimpleItem } from './elements';

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
