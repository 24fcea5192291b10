import { formatAddress, formatHumanName, telecom } from './contact';
import { arr, codingText, obj, str } from './elements';
import type { FhirResource, SimpleItem } from './elements';

/** Practitioners and locations: who sees the patient, and where. */

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
