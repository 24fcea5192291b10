import type { CapabilityStatement } from '../../fhir/capabilitySummary';
import { supportsSearchParam } from '../../fhir/capabilitySummary';
import type { FhirResource } from '../../fhir/simplify';
import { isSoftReadFailure } from './helpers';

/** The parts of FhirClient this module uses (kept narrow so it is easy to test). */
export interface ReferenceReader {
	baseUrl: string;
	read(type: string, id: string): Promise<unknown>;
	search(
		type: string,
		query: Array<[string, string]>,
		options?: { limit?: number; pageSize?: number },
	): Promise<{ matches: unknown[] }>;
}

const BATCH = 50;
const PARALLEL_READS = 4;

export interface FetchReport {
	requested: number;
	found: number;
	/** Types the server did not let us read (403) or that were gone (404/410). */
	unavailable: string[];
}

/**
 * Reads referenced resources that a search did not `_include`: one `_id=a,b,c` search per type and
 * batch of 50 where the server declares `_id` search, else one read per id (4 at a time). Results
 * (also "not found") are stored in `cache` under `baseUrl|Type/id`, so each id is read once per run.
 */
export async function fetchReferences(
	client: ReferenceReader,
	caps: CapabilityStatement,
	missing: Map<string, string[]>,
	cache: Map<string, FhirResource | null>,
	/** Turns a hard failure into the node's error (NodeApiError / NodeOperationError). */
	toError: (error: unknown) => Error,
): Promise<FetchReport> {
	const report: FetchReport = { requested: 0, found: 0, unavailable: [] };
	const key = (type: string, id: string) => `${client.baseUrl}|${type}/${id}`;
	for (const [type, allIds] of missing) {
		const ids = allIds.filter((id) => !cache.has(key(type, id)));
		if (ids.length === 0) continue;
		report.requested += ids.length;
		try {
			if (supportsSearchParam(caps, type, '_id')) {
				for (let at = 0; at < ids.length; at += BATCH) {
					const batch = ids.slice(at, at + BATCH);
					const result = await client.search(type, [['_id', batch.join(',')]], { pageSize: batch.length });
					for (const resource of result.matches as FhirResource[]) {
						if (resource?.resourceType === type && resource.id) cache.set(key(type, resource.id), resource);
					}
					for (const id of batch) if (!cache.has(key(type, id))) cache.set(key(type, id), null);
				}
			} else {
				for (let at = 0; at < ids.length; at += PARALLEL_READS) {
					const batch = ids.slice(at, at + PARALLEL_READS);
					await Promise.all(
						batch.map(async (id) => {
							try {
								cache.set(key(type, id), (await client.read(type, id)) as FhirResource);
							} catch (error) {
								if (!isSoftReadFailure(error)) throw toError(error);
								cache.set(key(type, id), null);
							}
						}),
					);
				}
			}
		} catch (error) {
			if (!isSoftReadFailure(error)) throw toError(error);
			// Not allowed to read this type (missing scope): keep the names the references carry.
			report.unavailable.push(type);
			for (const id of ids) cache.set(key(type, id), null);
		}
		report.found += ids.filter((id) => cache.get(key(type, id))).length;
	}
	return report;
}

/** Lookup over included resources first, then the run's cache. */
export function makeLookup(
	baseUrl: string,
	included: Map<string, FhirResource>,
	cache: Map<string, FhirResource | null>,
): (reference: string) => FhirResource | undefined {
	return (reference) => included.get(reference) ?? cache.get(`${baseUrl}|${reference}`) ?? undefined;
}
