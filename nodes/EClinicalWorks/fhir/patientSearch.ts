import { parseCalendarDate } from './dates';
import type { DateInput } from './dates';
import { InputError } from './errors';
import { validateId } from './ids';

/** What the user can search patients by (all optional; at least one is required). */
export interface PatientCriteria {
	name?: string;
	family?: string;
	given?: string;
	birthDate?: DateInput;
	bornOnOrAfter?: DateInput;
	bornOnOrBefore?: DateInput;
	gender?: string;
	phone?: string;
	identifier?: string;
	identifierSystem?: string;
	id?: string;
}

/** Field labels as shown in the node, used in error messages. */
export const CRITERIA_LABELS: Record<keyof PatientCriteria, string> = {
	name: 'Name',
	family: 'Family Name',
	given: 'Given Name',
	birthDate: 'Birth Date',
	bornOnOrAfter: 'Born On or After',
	bornOnOrBefore: 'Born On or Before',
	gender: 'Gender',
	phone: 'Phone',
	identifier: 'MRN / Identifier',
	identifierSystem: 'Identifier System',
	id: 'Patient ID',
};

const GENDERS = ['male', 'female', 'other', 'unknown'];

/** Escapes FHIR search special characters in a string value (`\`, `,`, `$`, `|`). */
export function escapeSearchValue(value: string): string {
	return value.replace(/[\\,$|]/g, (c) => `\\${c}`);
}

function text(value: unknown): string {
	if (typeof value === 'number') return String(value);
	return typeof value === 'string' ? value.trim() : '';
}

function hasDate(value: DateInput): boolean {
	return !(value === undefined || value === null || (typeof value === 'string' && value.trim() === ''));
}

/** Whether any search criterion is filled in (Identifier System alone does not count). */
export function hasCriteria(criteria: PatientCriteria): boolean {
	return [criteria.name, criteria.family, criteria.given, criteria.phone, criteria.identifier, criteria.gender, criteria.id].some((v) => text(v) !== '') ||
		hasDate(criteria.birthDate) || hasDate(criteria.bornOnOrAfter) || hasDate(criteria.bornOnOrBefore);
}

/** The refusal of a search for all patients, where the server is known to reject one (eClinicalWorks). */
export function noCriteriaError(): InputError {
	const labels = (Object.keys(CRITERIA_LABELS) as Array<keyof PatientCriteria>).filter((k) => k !== 'identifierSystem').map((k) => CRITERIA_LABELS[k]);
	return new InputError('Search Criteria', 'no search criterion given (eClinicalWorks rejects a search for all patients)', `Add at least one of: ${labels.join(', ')}`);
}

/**
 * Turns the criteria into FHIR Patient search parameters. Throws an InputError before any request when
 * a value is malformed. No criterion at all is a search for every patient: the caller refuses it where
 * the server is known to (eCW).
 */
export function buildPatientQuery(criteria: PatientCriteria): Array<[string, string]> {
	const query: Array<[string, string]> = [];
	const name = text(criteria.name);
	const family = text(criteria.family);
	const given = text(criteria.given);
	const phone = text(criteria.phone);
	const identifier = text(criteria.identifier);
	const system = text(criteria.identifierSystem);
	const gender = text(criteria.gender).toLowerCase();
	const id = text(criteria.id);

	if (system && !identifier) {
		throw new InputError(CRITERIA_LABELS.identifierSystem, 'is set without an identifier value', 'Fill MRN / Identifier too, or clear Identifier System');
	}

	if (id) query.push(['_id', validateId(id, CRITERIA_LABELS.id, 'Patient')]);
	if (name) query.push(['name', escapeSearchValue(name)]);
	if (family) query.push(['family', escapeSearchValue(family)]);
	if (given) query.push(['given', escapeSearchValue(given)]);
	if (hasDate(criteria.birthDate)) {
		if (hasDate(criteria.bornOnOrAfter) || hasDate(criteria.bornOnOrBefore)) {
			throw new InputError(
				CRITERIA_LABELS.birthDate,
				'is combined with a birth date range',
				'Use either Birth Date (exact) or Born On or After / Born On or Before, not both',
			);
		}
		query.push(['birthdate', `eq${parseCalendarDate(criteria.birthDate, CRITERIA_LABELS.birthDate)}`]);
	}
	let after: string | undefined;
	if (hasDate(criteria.bornOnOrAfter)) {
		after = parseCalendarDate(criteria.bornOnOrAfter, CRITERIA_LABELS.bornOnOrAfter);
		query.push(['birthdate', `ge${after}`]);
	}
	if (hasDate(criteria.bornOnOrBefore)) {
		const before = parseCalendarDate(criteria.bornOnOrBefore, CRITERIA_LABELS.bornOnOrBefore);
		if (after && before < after) {
			throw new InputError(CRITERIA_LABELS.bornOnOrBefore, 'is earlier than Born On or After', 'Swap the two dates');
		}
		query.push(['birthdate', `le${before}`]);
	}
	if (gender) {
		if (!GENDERS.includes(gender)) {
			throw new InputError(CRITERIA_LABELS.gender, `"${gender}" is not a FHIR gender`, `Use one of: ${GENDERS.join(', ')}`);
		}
		query.push(['gender', gender]);
	}
	if (phone) {
		if (!/\d/.test(phone)) throw new InputError(CRITERIA_LABELS.phone, 'contains no digits', 'Enter a phone number, e.g. 617-555-0134');
		query.push(['phone', escapeSearchValue(phone)]);
	}
	if (identifier) {
		query.push(['identifier', system ? `${escapeSearchValue(system)}|${escapeSearchValue(identifier)}` : escapeSearchValue(identifier)]);
	}
	return query;
}

/** Return All / Limit, validated (expressions can bypass the UI's minimum). `undefined` = all. */
export function resolveLimit(returnAll: unknown, limit: unknown): number | undefined {
	if (returnAll === true || returnAll === 'true') return undefined;
	const n = typeof limit === 'string' && limit.trim() !== '' ? Number(limit) : limit;
	if (typeof n !== 'number' || !Number.isFinite(n) || !Number.isInteger(n) || n < 1) {
		throw new InputError('Limit', `must be a whole number of at least 1 (got ${String(limit)})`, 'Enter 1 or more, or turn on Return All');
	}
	return n;
}
