/**
 * What a patient needs to get to a visit, in a dispatcher's words, read from free text (comments,
 * reasons, instructions, extensions). Dispatchers book by level of service, the vehicle and crew a
 * ride needs: ambulatory (a car or van; the patient walks), wheelchair (a wheelchair van, which is
 * what an "ambulette" is), stretcher (a stretcher van) or ambulance (medical crew).
 */

export type LevelOfService = 'ambulatory' | 'wheelchair' | 'stretcher' | 'ambulance' | '';

/** Each need and the words that mean it. An ambulette is a wheelchair van, not an ambulance. */
const NEED_PATTERNS: Array<[string, RegExp]> = [
	['wheelchair', /\bwheel\s?-?chairs?\b|\bambulettes?\b|\bw\/c\b/i],
	['stretcher', /\bstretchers?\b|\bgurneys?\b|\bbed\s?-?(bound|confined)\b/i],
	['ambulance', /\bambulances?\b/i],
	['transport', /\btransport|\brides?\b|\bpick\s?-?up\b|\bnemt\b/i],
	['interpreter', /\binterpret|\btranslat/i],
	['oxygen', /\boxygen\b|\bO2\b/],
];

/** Needs that mean a ride, from the most to the least equipped vehicle. */
const VEHICLES: LevelOfService[] = ['ambulance', 'stretcher', 'wheelchair'];
const TRANSPORT_NEEDS = new Set(['wheelchair', 'stretcher', 'ambulance', 'transport']);
const NEGATED = /\bno\s+(transport|ride|wheelchair|stretcher)\b|\b(transport|ride)\s+(is\s+)?not\s+(needed|required)\b/i;

export interface DetectedNeeds {
	/** The needs found, without a generic `transport` beside a vehicle (`wheelchair`, `stretcher`, `ambulance`). */
	needs: string[];
	transportNeeded: boolean;
	/** The vehicle the ride needs: the most equipped one named, `ambulatory` for a ride without one, '' for no ride. */
	levelOfService: LevelOfService;
}

/** Needs mentioned in free text (comments, reasons, instructions). */
export function detectNeeds(texts: string[]): DetectedNeeds {
	const text = texts.filter(Boolean).join(' \n ');
	if (text === '') return { needs: [], transportNeeded: false, levelOfService: '' };
	const found = NEED_PATTERNS.filter(([, pattern]) => pattern.test(text)).map(([need]) => need);
	const wanted = NEGATED.test(text) ? found.filter((n) => !TRANSPORT_NEEDS.has(n)) : found;
	const vehicle = VEHICLES.find((level) => wanted.includes(level));
	const needs = vehicle ? wanted.filter((n) => n !== 'transport') : wanted;
	const transportNeeded = needs.some((n) => TRANSPORT_NEEDS.has(n));
	return { needs, transportNeeded, levelOfService: vehicle ?? (transportNeeded ? 'ambulatory' : '') };
}
