import { arr, pickByUse, str } from './elements';
import type { FhirResource } from './elements';

/** Names, addresses, phones and emails: the best entry of each list as one line. */

const NAME_USES = ['official', 'usual'];
const ADDRESS_USES = ['home', 'temp'];
const PHONE_USES = ['mobile', 'home', 'work'];
const EMAIL_USES = ['home', 'work'];

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

/** The best phone (`system` phone: mobile, home, work) or email (home, work) of a resource. */
export function telecom(resource: FhirResource, system: string): string {
	const all = arr(resource.telecom);
	const list = [];
	for (const t of all) if (t?.system === system && typeof t.value === 'string' && t.value !== '') list.push(t);
	const best = pickByUse(list, system === 'phone' ? PHONE_USES : EMAIL_USES);
	return best ? str(best.value) : '';
}
