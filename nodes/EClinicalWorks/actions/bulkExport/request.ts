import { DateTime } from 'luxon';
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { coverageHint, exportCoverage } from '../../fhir/bulk/coverage';
import type { Intent } from '../../fhir/bulk/claim';
import { buildKickoff } from '../../fhir/bulk/kickoff';
import type { BulkLevel, KickoffOptions } from '../../fhir/bulk/kickoff';
import { exportKey } from '../../fhir/bulk/state';
import type { ExportStateRow } from '../../fhir/bulk/state';
import { InputError } from '../../fhir/errors';
import { logInfo } from '../../transport/report';
import { addHint } from './setup';
import type { BulkSetup } from './setup';
import { fhirCredentialId } from './state';

/** The export's fields read into kick-off options, and what the node says about them before kick-off. */

function splitList(value: unknown): string[] {
	if (Array.isArray(value)) return value.map(String).map((v) => v.trim()).filter((v) => v !== '');
	if (typeof value === 'string') return value.split(',').map((v) => v.trim()).filter((v) => v !== '');
	return [];
}

function readGroupId(ctx: IExecuteFunctions, itemIndex: number): string {
	const raw = ctx.getNodeParameter('groupId', itemIndex, '', { extractValue: true }) as unknown;
	let id = typeof raw === 'string' ? raw.trim() : String(raw ?? '').trim();
	// accept "Group/123" or a full URL pasted by the user
	const match = /(?:^|\/)Group\/([^/?#]+)\/?(?:[?#].*)?$/.exec(id);
	if (match) id = match[1];
	return id;
}

export interface ExportRequest {
	options: KickoffOptions;
	key: string;
	sinceMode: string;
}

/** Reads the export fields into kick-off options (without _since for "last successful"). */
export function readExportRequest(ctx: IExecuteFunctions, itemIndex: number, setup: BulkSetup): ExportRequest {
	const level = ctx.getNodeParameter('level', itemIndex, 'group') as BulkLevel;
	const groupId = level === 'group' ? readGroupId(ctx, itemIndex) : undefined;
	const types = splitList(ctx.getNodeParameter('resourceTypes', itemIndex, []));
	const params = ctx.getNodeParameter('exportParameters', itemIndex, {}) as IDataObject;
	const sinceMode = ctx.getNodeParameter('sinceMode', itemIndex, 'none') as string;
	let since: string | undefined;
	if (sinceMode === 'date') {
		const raw = ctx.getNodeParameter('sinceDate', itemIndex, '') as unknown;
		since = toInstant(raw, ctx.getTimezone());
	}
	const options: KickoffOptions = {
		level,
		groupId,
		types,
		since,
		typeFilter: splitList(params.typeFilter),
		elements: splitList(params.elements),
		outputFormat: params.outputFormat === undefined ? 'application/fhir+ndjson' : (params.outputFormat as string) || undefined,
		method: (params.method as 'GET' | 'POST' | undefined) ?? 'GET',
		ecw: setup.ecw,
	};
	const key = exportKey({ baseUrl: setup.client.baseUrl, level, groupId, types, credentialId: fhirCredentialId(ctx) });
	return { options, key, sinceMode };
}

/** A date-time from the date picker (or an expression) as a FHIR instant with an offset. */
export function toInstant(raw: unknown, zone: string): string {
	let value: DateTime;
	if (raw instanceof Date) value = DateTime.fromJSDate(raw);
	else if (DateTime.isDateTime(raw)) value = raw;
	else if (typeof raw === 'string' && raw.trim() !== '') value = DateTime.fromISO(raw.trim(), { zone, setZone: true });
	else throw new InputError('Changed Since', 'is empty', 'Pick a date and time, or choose Since "Everything".');
	if (!value.isValid) throw new InputError('Changed Since', 'is not a valid date and time', 'Pick a date and time, e.g. 2025-01-06T00:00:00.');
	return value.toISO({ suppressMilliseconds: true }) as string;
}

/** eClinicalWorks notes about what some types export (shown as hints, never blocking). */
export function ecwTypeNotes(ctx: IExecuteFunctions, setup: BulkSetup, request: ExportRequest): void {
	if (!setup.ecw) return;
	const types = request.options.types ?? [];
	const all = types.length === 0;
	const notes: string[] = [];
	const wide = ['Practitioner', 'Location'].filter((t) => all || types.includes(t));
	if (wide.length > 0) {
		notes.push(`eClinicalWorks exports every ${wide.join(' and ')} in the EMR, not only those linked to the Group's patients`);
	}
	if (types.includes('DocumentReference')) notes.push('eClinicalWorks DocumentReference exports also pull the documents (Binary): expect large files');
	for (const note of notes) addHint(ctx, `${note}.`, 'info');
}

/**
 * The intent recorded before the kick-off, built from the state row as found: "Since Last Successful
 * Export" takes the row's last transactionTime as `_since` (none the first time: everything).
 */
export function intentFor(request: ExportRequest): (row: ExportStateRow) => Intent {
	return (row) => {
		if (request.sinceMode === 'lastSuccess') request.options.since = row.lastTransactionTime || undefined;
		return { since: request.options.since, request: describeKickoff(request.options) };
	};
}

/** Method, path and the `_type`/`_since` of a kick-off, for people reading the state (no host: the key has it). */
export function describeKickoff(options: KickoffOptions): string {
	try {
		const built = buildKickoff(options);
		const query = (built.query ?? []).filter(([name]) => name === '_type' || name === '_since').map(([name, value]) => `${name}=${value}`);
		return `${built.method} ${built.path}${query.length > 0 ? `?${query.join('&')}` : ''}`;
	} catch {
		return `${options.method ?? 'GET'} $export`;
	}
}

/**
 * Before kick-off: the types the scopes do not cover (those asked for, or with no Resource Types every
 * type the server declares), which the export will not hold. Said as a hint on the node and in n8n's
 * log at once; returned for the output. Never blocks the export (servers may grant more than asked).
 */
export async function scopeCoverageNotes(ctx: IExecuteFunctions, setup: BulkSetup, request: ExportRequest): Promise<string[] | undefined> {
	const coverage = await exportCoverage(setup.client, request.options.types ?? []);
	if (!coverage) return undefined;
	const hint = coverageHint(coverage, setup.ecw);
	addHint(ctx, hint, coverage.explicit ? 'warning' : 'info');
	logInfo(ctx, `Bulk Export: the scopes leave out of this export: ${coverage.leftOut.join(', ')}`);
	return coverage.leftOut;
}

