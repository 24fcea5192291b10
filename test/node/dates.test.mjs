import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DateTime } from 'luxon';
import {
	resolveRange,
	rangeToSearchParams,
	isInRange,
	toZoned,
	resolveTimeZone,
	parseCalendarDate,
	describeRange,
} from '../../nodes/EClinicalWorks/fhir/dates.ts';

const zone = 'America/New_York';
const now = DateTime.fromISO('2025-01-06T15:20:00', { zone });

test('today in New York: explicit offsets, end exclusive', () => {
	const range = resolveRange({ preset: 'today', zone, now });
	assert.deepEqual(rangeToSearchParams(range), [
		['date', 'ge2025-01-06T00:00:00-05:00'],
		['date', 'lt2025-01-07T00:00:00-05:00'],
	]);
});

test('tomorrow and next 7 days', () => {
	assert.deepEqual(rangeToSearchParams(resolveRange({ preset: 'tomorrow', zone, now })), [
		['date', 'ge2025-01-07T00:00:00-05:00'],
		['date', 'lt2025-01-08T00:00:00-05:00'],
	]);
	assert.deepEqual(rangeToSearchParams(resolveRange({ preset: 'next7Days', zone, now })), [
		['date', 'ge2025-01-06T00:00:00-05:00'],
		['date', 'lt2025-01-13T00:00:00-05:00'],
	]);
});

test('23:30 on the last day is in, 00:00 the next day is out', () => {
	const range = resolveRange({ preset: 'today', zone, now });
	assert.equal(isInRange('2025-01-06T23:30:00-05:00', range), true);
	assert.equal(isInRange('2025-01-07T04:30:00Z', range), true); // 23:30 New York in UTC
	assert.equal(isInRange('2025-01-07T00:00:00-05:00', range), false);
	assert.equal(isInRange('2025-01-06T00:00:00-05:00', range), true);
	assert.equal(isInRange('2025-01-05T23:59:59-05:00', range), false);
	assert.equal(isInRange(undefined, range), false);
	assert.equal(isInRange('garbage', range), false);
});

test('DST: a day with 23 hours keeps calendar boundaries', () => {
	const march = DateTime.fromISO('2025-03-09T10:00:00', { zone });
	const range = resolveRange({ preset: 'today', zone, now: march });
	assert.deepEqual(rangeToSearchParams(range), [
		['date', 'ge2025-03-09T00:00:00-05:00'],
		['date', 'lt2025-03-10T00:00:00-04:00'],
	]);
	assert.equal(range.end.diff(range.start, 'hours').hours, 23);
});

test('custom: To without time includes that whole day; with a time it is exclusive', () => {
	const whole = resolveRange({ preset: 'custom', from: '2025-01-06', to: '2025-01-08', zone });
	assert.deepEqual(rangeToSearchParams(whole), [
		['date', 'ge2025-01-06T00:00:00-05:00'],
		['date', 'lt2025-01-09T00:00:00-05:00'],
	]);
	const picker = resolveRange({ preset: 'custom', from: '2025-01-06T00:00:00', to: '2025-01-06T00:00:00', zone });
	assert.equal(rangeToSearchParams(picker)[1][1], 'lt2025-01-07T00:00:00-05:00');
	const timed = resolveRange({ preset: 'custom', from: '2025-01-06T08:00:00', to: '2025-01-06T12:00:00', zone });
	assert.equal(rangeToSearchParams(timed)[1][1], 'lt2025-01-06T12:00:00-05:00');
	const offset = resolveRange({ preset: 'custom', from: '2025-01-06T13:00:00Z', to: '2025-01-06T17:00:00Z', zone });
	assert.equal(rangeToSearchParams(offset)[0][1], 'ge2025-01-06T08:00:00-05:00');
	const luxon = resolveRange({ preset: 'custom', from: DateTime.fromISO('2025-01-06', { zone }), to: DateTime.fromISO('2025-01-06', { zone }), zone });
	assert.equal(rangeToSearchParams(luxon)[1][1], 'lt2025-01-07T00:00:00-05:00');
});

test('custom: malformed, missing and reversed dates are InputErrors naming the field', () => {
	assert.throws(() => resolveRange({ preset: 'custom', from: 'next tuesday', to: '2025-01-06', zone }), { name: 'InputError', field: 'From' });
	assert.throws(() => resolveRange({ preset: 'custom', from: '2025-01-06', to: '2025-13-45', zone }), { name: 'InputError', field: 'To' });
	assert.throws(() => resolveRange({ preset: 'custom', from: '', to: '2025-01-06', zone }), { name: 'InputError', field: 'From' });
	assert.throws(() => resolveRange({ preset: 'custom', from: '2025-01-06', to: '', zone }), { name: 'InputError', field: 'To' });
	assert.throws(() => resolveRange({ preset: 'custom', from: '2025-01-08', to: '2025-01-06T10:00:00', zone }), { name: 'InputError', field: 'To' });
	assert.throws(() => resolveRange({ preset: 'yesterday', zone }), { name: 'InputError', field: 'Date Range' });
});

test('time zone: empty uses the fallback, unknown is an InputError', () => {
	assert.equal(resolveTimeZone('', 'Europe/Berlin'), 'Europe/Berlin');
	assert.equal(resolveTimeZone(' America/Chicago ', 'Europe/Berlin'), 'America/Chicago');
	assert.throws(() => resolveTimeZone('Mars/Olympus', 'UTC'), { name: 'InputError', field: 'Time Zone' });
});

test('toZoned shows an instant in the chosen zone', () => {
	assert.deepEqual(toZoned('2025-01-07T04:30:00Z', zone), { iso: '2025-01-06T23:30:00-05:00', date: '2025-01-06', time: '23:30' });
	assert.deepEqual(toZoned(undefined, zone), { iso: '', date: '', time: '' });
	assert.deepEqual(toZoned('2025-01-06', zone), { iso: '2025-01-06', date: '2025-01-06', time: '' });
	assert.match(describeRange(resolveRange({ preset: 'today', zone, now })), /2025-01-06 00:00 to 2025-01-07 00:00 \(America\/New_York/);
});

test('calendar dates are taken as written', () => {
	assert.equal(parseCalendarDate('1980-05-01T00:00:00', 'Birth Date'), '1980-05-01');
	assert.equal(parseCalendarDate('1980-05-01T23:00:00-05:00', 'Birth Date'), '1980-05-01');
	assert.equal(parseCalendarDate(DateTime.fromISO('1980-05-01'), 'Birth Date'), '1980-05-01');
	assert.throws(() => parseCalendarDate('01/05/1980', 'Birth Date'), { name: 'InputError', field: 'Birth Date' });
	assert.throws(() => parseCalendarDate('1980-02-31', 'Birth Date'), { name: 'InputError' });
});
