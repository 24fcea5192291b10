import { DateTime, IANAZone } from 'luxon';

import { InputError, quoteValue } from './errors';

/**
 * Date ranges for FHIR date searches, computed with luxon in one IANA time zone.
 *
 * A range is half-open: `start` is included, `end` is excluded. It is sent to the server with
 * explicit offsets (`date=ge2025-01-06T00:00:00-05:00&date=lt2025-01-07T00:00:00-05:00`), because a
 * FHIR server reads a value without an offset in its own zone.
 */

export type DatePreset = 'today' | 'tomorrow' | 'next7Days' | 'custom';

export interface DateRange {
	/** Included. */
	start: DateTime;
	/** Excluded. */
	end: DateTime;
	zone: string;
}

/** A value from n8n's dateTime field: ISO text, a luxon DateTime, a JS Date, or empty. */
export type DateInput = string | Date | DateTime | { toISO?: () => string | null } | null | undefined;

export function resolveTimeZone(value: unknown, fallback: string, field = 'Time Zone'): string {
	const zone = typeof value === 'string' && value.trim() !== '' ? value.trim() : fallback;
	if (!zone || !IANAZone.isValidZone(zone)) {
		throw new InputError(
			field,
			`"${String(zone)}" is not a known time zone`,
			'Use an IANA time zone name such as America/New_York, or leave the field empty for the workflow time zone',
		);
	}
	return zone;
}

function isEmpty(value: DateInput): boolean {
	return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/**
 * Reads a date or date-time given by the user. A value without an offset is read in `zone`;
 * a value with an offset keeps that instant. Returns the time in `zone`.
 */
export function parseUserDateTime(value: DateInput, zone: string, field: string): DateTime {
	let parsed: DateTime | undefined;
	if (DateTime.isDateTime(value)) {
		parsed = value;
	} else if (value instanceof Date) {
		parsed = DateTime.fromJSDate(value);
	} else if (typeof value === 'string') {
		const text = value.trim();
		parsed = DateTime.fromISO(text, { zone, setZone: false });
		if (!parsed.isValid) parsed = DateTime.fromSQL(text, { zone });
		if (!parsed.isValid) parsed = DateTime.fromRFC2822(text, { zone });
		if (!parsed.isValid) parsed = undefined;
	} else if (value && typeof value === 'object' && typeof value.toISO === 'function') {
		const iso = value.toISO();
		if (iso) parsed = DateTime.fromISO(iso, { zone });
	}
	if (!parsed || !parsed.isValid) {
		throw new InputError(
			field,
			`${quoteValue(value)} is not a valid date`,
			'Pick a date with the date picker or enter it as YYYY-MM-DD or YYYY-MM-DDTHH:mm:ss (from an expression too).',
		);
	}
	return parsed.setZone(zone);
}

/** True when the user's value carries no time of day (date only, or exactly midnight). */
function isWholeDay(value: DateInput, parsed: DateTime): boolean {
	if (typeof value === 'string' && /^\s*\d{4}-\d{2}-\d{2}\s*$/.test(value)) return true;
	return parsed.hour === 0 && parsed.minute === 0 && parsed.second === 0 && parsed.millisecond === 0;
}

/**
 * Resolves a preset or a custom from/to into a half-open range in `zone`.
 *
 * - today: today 00:00 to tomorrow 00:00
 * - tomorrow: tomorrow 00:00 to the day after 00:00
 * - next7Days: today 00:00 to 00:00 seven days later (today and the 6 following days)
 * - custom: From (included) to To. A To without a time of day (or at midnight) includes that
 *   whole day; a To with a time of day is excluded.
 */
export function resolveRange(options: {
	preset: DatePreset | string;
	from?: DateInput;
	to?: DateInput;
	zone: string;
	now?: DateTime;
}): DateRange {
	const { zone } = options;
	const now = (options.now ?? DateTime.now()).setZone(zone);
	const today = now.startOf('day');
	switch (options.preset) {
		case 'today':
			return { start: today, end: today.plus({ days: 1 }), zone };
		case 'tomorrow':
			return { start: today.plus({ days: 1 }), end: today.plus({ days: 2 }), zone };
		case 'next7Days':
			return { start: today, end: today.plus({ days: 7 }), zone };
		case 'custom': {
			if (isEmpty(options.from)) {
				throw new InputError('From', 'is empty', 'Enter the first date of the range, or choose a preset such as Today');
			}
			if (isEmpty(options.to)) {
				throw new InputError('To', 'is empty', 'Enter the last date of the range (that whole day is included)');
			}
			const start = parseUserDateTime(options.from, zone, 'From');
			const toParsed = parseUserDateTime(options.to, zone, 'To');
			const end = isWholeDay(options.to, toParsed) ? toParsed.startOf('day').plus({ days: 1 }) : toParsed;
			if (end <= start) {
				throw new InputError('To', `${quoteValue(toParsed.toISO())} is before From ${quoteValue(start.toISO())}`, 'Enter a To date on or after the From date');
			}
			return { start, end, zone };
		}
		default:
			throw new InputError(
				'Date Range',
				`"${String(options.preset)}" is not a known range`,
				'Use one of: today, tomorrow, next7Days, custom',
			);
	}
}

/** `2025-01-06T00:00:00-05:00`: seconds precision with an explicit offset, as FHIR expects. */
export function formatFhirDateTime(value: DateTime): string {
	return value.toFormat("yyyy-MM-dd'T'HH:mm:ssZZ");
}

/** Search parameters for a range: `[[param, 'geSTART'], [param, 'ltEND']]`. */
export function rangeToSearchParams(range: DateRange, param = 'date'): Array<[string, string]> {
	return [
		[param, `ge${formatFhirDateTime(range.start)}`],
		[param, `lt${formatFhirDateTime(range.end)}`],
	];
}

/** Human text for a range, e.g. `2025-01-06 00:00 to 2025-01-07 00:00 (America/New_York)`. */
export function describeRange(range: DateRange): string {
	const f = "yyyy-MM-dd HH:mm";
	return `${range.start.toFormat(f)} to ${range.end.toFormat(f)} (${range.zone}, end excluded)`;
}

/** Whether an instant (FHIR dateTime text) falls inside the half-open range. Unparsable: false. */
export function isInRange(value: string | undefined, range: DateRange): boolean {
	if (!value) return false;
	const instant = DateTime.fromISO(value, { zone: range.zone });
	if (!instant.isValid) return false;
	return instant >= range.start && instant < range.end;
}

/** A FHIR instant shown in `zone`: full ISO text, date and time of day. Empty strings when absent. */
export function toZoned(value: string | undefined, zone: string): { iso: string; date: string; time: string } {
	if (!value) return { iso: '', date: '', time: '' };
	const dt = DateTime.fromISO(value, { setZone: true });
	if (!dt.isValid) return { iso: value, date: '', time: '' };
	// A date without a time (FHIR `date`) stays a calendar date.
	if (/^\d{4}(-\d{2}(-\d{2})?)?$/.test(value)) return { iso: value, date: value, time: '' };
	const zoned = dt.setZone(zone);
	return {
		iso: zoned.toISO({ suppressMilliseconds: true }) ?? value,
		date: zoned.toISODate() ?? '',
		time: zoned.toFormat('HH:mm'),
	};
}

/**
 * A calendar date (YYYY-MM-DD) from the user's input, for date-only FHIR fields such as birthDate.
 * The date is taken as written, never shifted by a time zone.
 */
export function parseCalendarDate(value: DateInput, field: string): string {
	if (typeof value === 'string') {
		const match = /^\s*(\d{4}-\d{2}-\d{2})/.exec(value);
		if (match && DateTime.fromISO(match[1]).isValid) return match[1];
		const parsed = DateTime.fromISO(value.trim(), { setZone: true });
		if (parsed.isValid) return parsed.toISODate() as string;
	} else if (DateTime.isDateTime(value) && value.isValid) {
		return value.toISODate() as string;
	} else if (value instanceof Date && !Number.isNaN(value.getTime())) {
		return DateTime.fromJSDate(value, { zone: 'utc' }).toISODate() as string;
	}
	throw new InputError(field, `${quoteValue(value)} is not a valid date`, 'Pick a date with the date picker or enter it as YYYY-MM-DD (from an expression too).');
}
