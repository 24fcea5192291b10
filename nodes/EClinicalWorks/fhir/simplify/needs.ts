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
