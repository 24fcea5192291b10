import { ECW_ADMIN_MENU } from '../ecw';
import { FhirError, InputError, quoteValue } from '../errors';
import type { HttpResponse } from '../http';
import { parseErrorBody } from '../operationOutcome';
import { parseScopes } from '../scopes';
import type { BulkClient } from './types';
import { errorFromResponse, header, parseRetryAfter, readText, requestLabel, settle } from './util';

export type BulkLevel = 'group' | 'patient' | 'system';

export interface KickoffOptions {
	level: BulkLevel;
	groupId?: string;
	/** `_type`: resource types. */
	types?: string[];
	/** `_since`: a FHIR instant with a time zone. */
	since?: string;
	/** `_typeFilter`: one search query per entry, e.g. `Observation?category=laboratory`. */
	typeFilter?: string[];
	/** `_elements`: `Patient.name` or `id`. */
	elements?: string[];
	/** `_outputFormat`. */
	outputFormat?: string;
	/** `patient` references (POST only), e.g. `Patient/123`. */
	patients?: string[];
	includeAssociatedData?: string[];
	/** GET (query) or POST (Parameters body). POST is required for `patient`. */
	method?: 'GET' | 'POST';
	/** eClinicalWorks: Group level, GET, `_type`/`_since`/`_outputFormat` only. */
	ecw?: boolean;
}

export interface KickoffRequest {
	method: 'GET' | 'POST';
	path: string;
	query?: Array<[string, string]>;
	body?: string;
	headers: Record<string, string>;
}

export interface KickoffResult {
	/** Content-Location: the status (poll) URL. */
	statusUrl: string;
	/** Retry-After of the kick-off answer, if any. */
	retryAfterMs?: number;
	/** The kick-off path, for display. */
	requestPath: string;
}

export const OUTPUT_FORMATS = ['application/fhir+ndjson', 'application/ndjson', 'ndjson'];

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const RESOURCE_TYPE = /^[A-Z][A-Za-z]{1,63}$/;
const INSTANT =
	/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** eCW's error-code guide, bulk export statuses: "401: Access token invalid or expired, OR the group id is invalid/unauthorized". */
export const ECW_HINT_401 =
	'The token was rejected, or this Group is unknown or not authorised for the app (eCW answers 401 for all three, not 404 for a wrong Group ID): ' +
	'check the Group ID is one the practice built in the EMR registry, ' +
	`that the Group is enabled for the app in ${ECW_ADMIN_MENU}, ` +
	'and that the app is allowed system/Group.read.';

function cleanList(values: string[] | undefined): string[] {
	return (values ?? []).map((v) => v.trim()).filter((v) => v !== '');
}

/** Checks the options and throws an InputError naming the field and the fix. */
export function validateKickoff(options: KickoffOptions): void {
	const { level } = options;
	if (!['group', 'patient', 'system'].includes(level)) {
		throw new InputError('Level', `"${String(level)}" is not a bulk export level`, 'Choose Group, Patient or System.');
	}
	if (level === 'group') {
		const id = (options.groupId ?? '').trim();
		if (id === '') throw new InputError('Group ID', 'is empty', 'Choose a Group from the list or type its id.');
		if (!FHIR_ID.test(id)) {
			throw new InputError(
				'Group ID',
				'is not a valid FHIR id',
				'Use only the id (letters, digits, "-" and ".", up to 64 characters), not a URL or "Group/..." reference.',
			);
		}
	}
	for (const type of cleanList(options.types)) {
		if (!RESOURCE_TYPE.test(type)) {
			throw new InputError('Resource Types', `"${type.slice(0, 40)}" is not a FHIR resource type`, 'Use resource type names such as Patient or Observation.');
		}
	}
	if (options.since !== undefined && options.since !== '') {
		if (!INSTANT.test(options.since) || Number.isNaN(Date.parse(options.since))) {
			throw new InputError('Since', 'is not a date-time with a time zone', 'Pick a date and time, e.g. 2025-01-06T00:00:00Z.');
		}
	}
	if (options.outputFormat && !OUTPUT_FORMATS.includes(options.outputFormat)) {
		throw new InputError('Output Format', `"${options.outputFormat.slice(0, 40)}" is not supported`, `Use one of ${OUTPUT_FORMATS.join(', ')}.`);
	}
	for (const filter of cleanList(options.typeFilter)) {
		if (!/^[A-Z][A-Za-z]+\?.+/.test(filter)) {
			throw new InputError('Type Filter', 'each entry must look like ResourceType?search-parameters', 'For example Observation?category=laboratory.');
		}
	}
	const patients = cleanList(options.patients);
	for (const patient of patients) {
		if (!/^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(patient)) {
			throw new InputError('Patients', `${quoteValue(patient)} is not a Patient reference`, 'Use Patient/ followed by the patient\'s FHIR id, e.g. Patient/pt-1.');
		}
	}
	if (patients.length > 0 && level === 'system') {
		throw new InputError('Patients', 'cannot be used with a System level export', 'Use the Patient or Group level.');
	}

	if (options.ecw) {
		if (level !== 'group') {
			throw new InputError(
				'Level',
				'eClinicalWorks only offers Group level bulk export',
				'Choose Level "Group" and the Group the practice enabled for the app.',
			);
		}
		const unsupported: string[] = [];
		if (cleanList(options.typeFilter).length > 0) unsupported.push('Type Filter (_typeFilter)');
		if (cleanList(options.elements).length > 0) unsupported.push('Elements (_elements)');
		if (patients.length > 0) unsupported.push('Patients (patient)');
		if (cleanList(options.includeAssociatedData).length > 0) unsupported.push('Include Associated Data');
		if (unsupported.length > 0) {
			throw new InputError(
				unsupported[0].split(' (')[0],
				`eClinicalWorks bulk export does not support ${unsupported.join(', ')}`,
				'eClinicalWorks accepts only Resource Types (_type), Since (_since) and Output Format (_outputFormat): clear the other fields.',
			);
		}
		if (options.method === 'POST') {
			throw new InputError('Method', 'eClinicalWorks documents only GET kick-off requests', 'Use GET.');
		}
	} else if (patients.length > 0 && options.method !== 'POST') {
		throw new InputError('Patients', 'the patient parameter is only allowed with a POST kick-off', 'Set Method to POST.');
	}
}

function kickoffPath(options: KickoffOptions): string {
	if (options.level === 'group') return `Group/${encodeURIComponent((options.groupId ?? '').trim())}/$export`;
	if (options.level === 'patient') return 'Patient/$export';
	return '$export';
}

/** The kick-off request, GET with a query or POST with a Parameters body. Validates first. */
export function buildKickoff(options: KickoffOptions): KickoffRequest {
	validateKickoff(options);
	const types = cleanList(options.types);
	const typeFilter = cleanList(options.typeFilter);
	const elements = cleanList(options.elements);
	const patients = cleanList(options.patients);
	const associated = cleanList(options.includeAssociatedData);
	const method = options.method ?? 'GET';
	const headers = { Accept: 'application/fhir+json', Prefer: 'respond-async' };
	const path = kickoffPath(options);

	if (method === 'GET') {
		const query: Array<[string, string]> = [];
		if (options.outputFormat) query.push(['_outputFormat', options.outputFormat]);
		if (options.since) query.push(['_since', options.since]);
		if (types.length > 0) query.push(['_type', types.join(',')]);
		if (elements.length > 0) query.push(['_elements', elements.join(',')]);
		for (const filter of typeFilter) query.push(['_typeFilter', filter]);
		if (associated.length > 0) query.push(['includeAssociatedData', associated.join(',')]);
		return { method, path, query, headers };
	}

	const parameter: Array<Record<string, unknown>> = [];
	if (options.outputFormat) parameter.push({ name: '_outputFormat', valueString: options.outputFormat });
	if (options.since) parameter.push({ name: '_since', valueInstant: options.since });
	for (const type of types) parameter.push({ name: '_type', valueString: type });
	for (const element of elements) parameter.push({ name: '_elements', valueString: element });
	for (const filter of typeFilter) parameter.push({ name: '_typeFilter', valueString: filter });
	for (const patient of patients) parameter.push({ name: 'patient', valueReference: { reference: patient } });
	for (const value of associated) parameter.push({ name: 'includeAssociatedData', valueCode: value });
	return {
		method,
		path,
		body: JSON.stringify({ resourceType: 'Parameters', parameter }),
		headers: { ...headers, 'Content-Type': 'application/fhir+json' },
	};
}

/** Scopes named in a server's message, e.g. `system/AsyncJob.*` or `system/Group.read`. */
function scopesNamed(text: string): string[] {
	return [...new Set(text.match(/\b(?:system|user|patient)\/[A-Za-z*]+\.[A-Za-z*]+/g) ?? [])];
}

/**
 * A 403 on kick-off: quote the server and name the scopes to add. Some servers want scopes for the
 * export job itself besides read access (SMART's reference server: system/AsyncJob.*,
 * system/Binary.*, system/BulkDataExport.*).
 */
async function refusedForScope(client: BulkClient, response: HttpResponse, options: KickoffOptions, method: string, url: string): Promise<FhirError> {
	let text = '';
	try {
		text = await readText(response.body);
	} catch {
		// unreadable body: keep the status
	}
	const said = parseErrorBody(text).summary;
	const configured = new Set(parseScopes(client.configuredScopes));
	const named = scopesNamed(said);
	const missing = named.filter((scope) => !configured.has(scope));
	const quoted = said ? `The server said: "${said}". ` : '';
	let hint: string;
	if (missing.length > 0) {
		hint = `${quoted}Add ${missing.join(' ')} to the credential's Scopes, and have the app registered for ${missing.length > 1 ? 'them' : 'it'} on the server, then run the export again.`;
	} else if (named.length > 0) {
		hint = `${quoted}The credential already asks for ${named.join(' ')}: the app's registration on the server must allow ${named.length > 1 ? 'them' : 'it'} too.`;
	} else {
		const generic =
			options.level === 'group'
				? 'The app lacks a scope for bulk export, e.g. system/Group.read (and read scopes for the exported types).'
				: 'The app lacks a scope for bulk export at this level.';
		hint = `${quoted}${generic} Some servers also want scopes for the export job itself (e.g. system/AsyncJob.*, system/Binary.*, system/BulkDataExport.*): add what the server names.`;
	}
	const what = missing.length > 0 ? `: the app needs ${missing.join(', ')}` : '';
	// the hint quotes the server, so the error carries no outcome (it would print the same text twice)
	return new FhirError(`Bulk export kick-off was refused (HTTP 403)${what}`, { kind: 'http', status: 403, hint, request: requestLabel(method, url) });
}

/** A 401 that a freshly minted token did not cure (the FHIR client re-mints once on 401). */
function refusedToken(error: FhirError, options: KickoffOptions): FhirError {
	const issues = error.outcome?.issues ?? [];
	const reason = issues.length > 0 ? issues[0].details ?? issues[0].diagnostics ?? error.outcome?.summary : error.outcome?.summary;
	const ecwGroup = options.ecw === true && options.level === 'group';
	const practice = /\s\(practice [^)]+\)$/.exec(error.message)?.[0] ?? '';
	return new FhirError(`Bulk export kick-off was refused (HTTP 401${reason ? `: ${reason}` : ''}), also with a freshly issued token${practice}`, {
		kind: 'http',
		status: 401,
		// one reason is in the message already; more than one stay in the outcome
		outcome: issues.length > 1 ? error.outcome : undefined,
		hint: ecwGroup
			? ECW_HINT_401
			: 'The server rejected the access token twice: check the credential (client ID, key or secret, scopes) and that the app may run bulk exports on this server.',
		request: error.request,
	});
}

/** Sends the kick-off request; returns the status URL from Content-Location. */
export async function kickoff(client: BulkClient, options: KickoffOptions): Promise<KickoffResult> {
	const request = buildKickoff(options);
	const url = `${client.baseUrl.replace(/\/+$/, '')}/${request.path}`;
	// 401 is not accepted here: the FHIR client then mints a fresh token and tries once more
	const sent = await settle(
		client.send({
			method: request.method,
			path: request.path,
			query: request.query,
			body: request.body,
			headers: request.headers,
			acceptStatus: [200, 202, 204, 400, 403, 404, 409, 422],
		}),
	);
	if (!sent.ok) {
		const error = sent.error;
		if (error instanceof FhirError && error.status === 401 && error.kind === 'http') throw refusedToken(error, options);
		throw error;
	}
	const response = sent.value;
	const { status } = response;
	if (status === 202) {
		const location = header(response, 'content-location');
		if (!location) {
			throw new FhirError('The server accepted the bulk export but sent no Content-Location (status URL)', {
				kind: 'protocol',
				status,
				request: requestLabel(request.method, url),
			});
		}
		return {
			statusUrl: new URL(location, url).toString(),
			retryAfterMs: parseRetryAfter(header(response, 'retry-after'), Date.now()),
			requestPath: `/${request.path}`,
		};
	}
	if (status >= 200 && status < 300) {
		throw new FhirError(`The server answered the bulk export kick-off with HTTP ${status} instead of 202 Accepted`, {
			kind: 'protocol',
			status,
			hint: 'The server may not support asynchronous bulk export at this level: check its CapabilityStatement.',
			request: requestLabel(request.method, url),
		});
	}
	if (status === 403) throw await refusedForScope(client, response, options, request.method, url);
	let hint: string | undefined;
	if (status === 404) {
		hint = options.level === 'group' ? 'The Group was not found, or the server does not offer bulk export at this level.' : 'The server does not offer bulk export at this level.';
	} else if (status === 409) {
		hint =
			'An identical export may already be running (eClinicalWorks rejects a duplicate while one is in progress): resume it from its status URL, or cancel it.';
	} else if (status === 400 || status === 422) {
		hint = 'The server rejected a parameter: check Resource Types, Since and the other fields.';
	}
	throw await errorFromResponse(response, 'Bulk export kick-off failed', request.method, url, hint);
}
