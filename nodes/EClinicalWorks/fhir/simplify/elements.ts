/**
 * Reading FHIR JSON defensively (any field may be missing or of another type), and the shared types of
 * the simplified views. Pure functions: no n8n, no HTTP.
 */

/** A JSON object from a FHIR server, read defensively: any field may be missing or of another type. */
export type FhirElement = { [key: string]: unknown };
export type FhirResource = { resourceType: string; id?: string; [key: string]: unknown };

export type SimpleItem = Record<string, string | number | boolean | null | string[]>;

export function str(value: unknown): string {
	return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

export function arr(value: unknown): FhirElement[] {
	return Array.isArray(value) ? value : [];
}

export function obj(value: unknown): FhirElement {
	return value !== null && typeof value === 'object' ? (value as FhirElement) : {};
}

/**
 * The best entry of a FHIR list with `use` and `period`: a current one (no period end) before an
 * ended one, then by `uses` order, then any but `old`, then the first. One pass, no copies.
 */
export function pickByUse(list: FhirElement[], uses: string[]): FhirElement | undefined {
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

/** The text of a CodeableConcept: its `text`, else a coding's display, else a code. */
export function codingText(value: unknown): string {
	if (!value) return '';
	const concept = obj(value);
	if (str(concept.text)) return str(concept.text);
	const coding = arr(concept.coding).find((c) => str(c?.display)) ?? arr(concept.coding)[0];
	return coding ? str(coding.display) || str(coding.code) : '';
}

export function conceptsText(concepts: unknown): string {
	return arr(concepts).map(codingText).filter(Boolean).join('; ');
}
