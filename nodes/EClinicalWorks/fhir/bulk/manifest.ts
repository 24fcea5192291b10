import { FhirError } from '../errors';
import type { BulkClient } from './types';
import { errorFromResponse, readText, requestLabel } from './util';

export interface ManifestFile {
	type: string;
	url: string;
	count?: number;
	/** From the manifest page that listed the file. */
	requiresAccessToken: boolean;
}

export interface Manifest {
	transactionTime: string;
	request: string;
	requiresAccessToken: boolean;
	output: ManifestFile[];
	error: ManifestFile[];
	deleted: ManifestFile[];
	/** `link` with relation `next` (paged manifests), resolved to an absolute URL. */
	next?: string;
	/** Number of manifest pages merged into this one. */
	pages: number;
}

const MAX_PAGES = 10000;

function invalid(problem: string, request?: string): FhirError {
	return new FhirError(`The bulk export manifest is not valid: ${problem}`, { kind: 'protocol', request });
}

function readFiles(raw: unknown, field: string, baseUrl: string | undefined, requiresAccessToken: boolean): ManifestFile[] {
	if (raw === undefined || raw === null) return [];
	if (!Array.isArray(raw)) throw invalid(`"${field}" is not an array`);
	return raw.map((entry, index) => {
		if (typeof entry !== 'object' || entry === null) throw invalid(`${field}[${index}] is not an object`);
		const file = entry as Record<string, unknown>;
		if (typeof file.url !== 'string' || file.url === '') throw invalid(`${field}[${index}] has no url`);
		let url: string;
		try {
			url = new URL(file.url, baseUrl).toString();
		} catch {
			throw invalid(`${field}[${index}] has an unreadable url`);
		}
		const type = typeof file.type === 'string' && file.type !== '' ? file.type : field === 'error' ? 'OperationOutcome' : 'Unknown';
		const count = typeof file.count === 'number' && Number.isFinite(file.count) ? file.count : undefined;
		return { type, url, count, requiresAccessToken };
	});
}

/**
 * Validates and normalises a completion manifest (the 200 body of the status URL).
 * `baseUrl` resolves relative file URLs (the status URL).
 */
export function parseManifest(body: unknown, baseUrl?: string): Manifest {
	let json: unknown = body;
	if (typeof body === 'string') {
		json = undefined;
		try {
			json = JSON.parse(body);
		} catch {
			// reported below
		}
		if (json === undefined) throw invalid('it is not JSON', baseUrl ? requestLabel('GET', baseUrl) : undefined);
	}
	const where = baseUrl ? requestLabel('GET', baseUrl) : undefined;
	if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid('it is not a JSON object', where);
	const raw = json as Record<string, unknown>;
	if (raw.resourceType === 'OperationOutcome') throw invalid('the server sent an OperationOutcome instead', where);

	const transactionTime = typeof raw.transactionTime === 'string' ? raw.transactionTime : '';
	if (transactionTime === '' || Number.isNaN(Date.parse(transactionTime))) throw invalid('"transactionTime" is missing or not a date-time', where);
	if (raw.output === undefined) throw invalid('"output" is missing', where);

	let next: string | undefined;
	if (Array.isArray(raw.link)) {
		for (const link of raw.link as Array<Record<string, unknown>>) {
			if (link && link.relation === 'next' && typeof link.url === 'string' && link.url !== '') {
				next = new URL(link.url, baseUrl).toString();
			}
		}
	}

	const requiresAccessToken = raw.requiresAccessToken === true;
	return {
		transactionTime,
		request: typeof raw.request === 'string' ? raw.request : '',
		requiresAccessToken,
		output: readFiles(raw.output, 'output', baseUrl, requiresAccessToken),
		error: readFiles(raw.error, 'error', baseUrl, requiresAccessToken),
		deleted: readFiles(raw.deleted, 'deleted', baseUrl, requiresAccessToken),
		next,
		pages: 1,
	};
}

/** Fetches one manifest page from a `link` next URL. */
export async function fetchManifestPage(client: BulkClient, url: string): Promise<Manifest> {
	const response = await client.send({ method: 'GET', url, headers: { Accept: 'application/json' }, acceptStatus: [200] });
	if (response.status !== 200) throw await errorFromResponse(response, 'Could not read the next manifest page', 'GET', url);
	return parseManifest(await readText(response.body), url);
}

/**
 * Follows `link` next pages and merges them into one manifest (output, error and deleted
 * concatenated; transactionTime and requiresAccessToken of the first page).
 */
export async function collectManifest(client: BulkClient, first: Manifest): Promise<Manifest> {
	const merged: Manifest = { ...first, output: [...first.output], error: [...first.error], deleted: [...first.deleted] };
	const seen = new Set<string>();
	let next = first.next;
	while (next) {
		if (seen.has(next)) throw new FhirError('The manifest pages link back to a page already read', { kind: 'protocol' });
		if (seen.size >= MAX_PAGES) throw new FhirError(`The manifest has more than ${MAX_PAGES} pages`, { kind: 'protocol' });
		seen.add(next);
		const page = await fetchManifestPage(client, next);
		merged.output.push(...page.output);
		merged.error.push(...page.error);
		merged.deleted.push(...page.deleted);
		merged.requiresAccessToken = merged.requiresAccessToken || page.requiresAccessToken;
		merged.pages += 1;
		next = page.next;
	}
	merged.next = undefined;
	return merged;
}
