import { InputError, quoteValue } from './errors';

/**
 * Checks on values that end up in a FHIR URL path or reference. They are caught before any request is
 * sent, so a typo never turns into a request to another endpoint (`Patient/123/_history`, `../metadata`).
 */

const RESOURCE_TYPE = /^[A-Z][A-Za-z]{1,63}$/;
/** FHIR R4 id: 1 to 64 of A-Z a-z 0-9 - . */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** `Practitioner ID` -> `Practitioner`: the resource type a field's name says it holds. */
function typeOfField(field: string): string | undefined {
	const m = /^([A-Z][A-Za-z]+) ID$/.exec(field);
	return m && m[1] !== 'Resource' ? m[1] : undefined;
}

/** A FHIR logical id. `resourceType` (or the field's name) words the hint for a reference typed in by mistake. */
export function validateId(value: unknown, field = 'ID', resourceType = typeOfField(field)): string {
	const id = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
	const example = resourceType ? `"${resourceType}/"` : 'the type and slash, as in "Practitioner/123"';
	if (id === '') throw new InputError(field, 'is empty', `Enter the ${resourceType ?? 'resource'} id, e.g. from a previous search`);
	if (/\s/.test(id)) throw new InputError(field, `${quoteValue(id)} contains whitespace`, 'Enter only the id, without spaces or line breaks');
	if (id.includes('/')) {
		throw new InputError(field, `${quoteValue(id)} contains a slash`, `Enter only the id (the part after ${example} in a reference), not a path or URL`);
	}
	if (!FHIR_ID.test(id) || id === '.' || id === '..') {
		throw new InputError(field, `${quoteValue(id)} is not a valid FHIR id`, 'Use 1 to 64 letters, digits, "-" or "."');
	}
	return id;
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

/** Accepts `123` or the reference `Practitioner/123` and returns the bare id; a reference to another type is refused. */
export function idFromReference(value: unknown, resourceType: string, field = 'ID'): string {
	if (typeof value === 'string') {
		const m = /^([A-Z][A-Za-z]+)\/([^/]+)$/.exec(value.trim());
		if (m) {
			if (m[1] !== resourceType) {
				throw new InputError(field, `${quoteValue(value)} is a reference to a ${m[1]}, not a ${resourceType}`, `Enter a ${resourceType} id, or a reference such as ${resourceType}/123`);
			}
			return validateId(m[2], field, resourceType);
		}
	}
	return validateId(value, field, resourceType);
}
