import { InputError } from './errors';

/**
 * Checks on values that end up in a FHIR URL path. They are caught before any request is sent,
 * so a typo never turns into a request to another endpoint (`Patient/123/_history`, `../metadata`).
 */

const RESOURCE_TYPE = /^[A-Z][A-Za-z]{1,63}$/;

/** A FHIR logical id: no slash, no whitespace, no query or fragment characters. */
export function validateId(id: unknown, field = 'ID'): string {
	const value = typeof id === 'number' ? String(id) : typeof id === 'string' ? id.trim() : '';
	if (value === '') {
		throw new InputError(field, 'is empty', 'Enter the resource ID, e.g. the "id" of a Patient from a search.');
	}
	if (/[\s/?#%\\]/.test(value) || value === '.' || value === '..') {
		throw new InputError(
			field,
			'is not a FHIR resource ID (it contains a slash, a space, "?", "#" or "%")',
			'Enter the bare ID only (the part after "Patient/"), not a URL or a reference.',
		);
	}
	if (value.length > 256) {
		throw new InputError(field, 'is longer than 256 characters', 'Enter the bare resource ID.');
	}
	return value;
}

/** A FHIR resource type name such as `Patient` or `DocumentReference`. */
export function validateResourceType(type: unknown, field = 'Resource Type'): string {
	const value = typeof type === 'string' ? type.trim() : '';
	if (!RESOURCE_TYPE.test(value)) {
		throw new InputError(
			field,
			value === '' ? 'is empty' : 'is not a FHIR resource type name',
			'Use the exact FHIR name with a capital first letter, e.g. Patient, Encounter, Observation.',
		);
	}
	return value;
}

/** Accepts `123` or `Patient/123` (a reference) and returns the bare id. */
export function idFromReference(value: unknown, resourceType: string, field = 'ID'): string {
	if (typeof value === 'string') {
		const trimmed = value.trim();
		const prefix = `${resourceType}/`;
		if (trimmed.startsWith(prefix)) return validateId(trimmed.slice(prefix.length), field);
	}
	return validateId(value, field);
}
