/**
 * Reading a FHIR CapabilityStatement (`/metadata`): which resource types, search parameters,
 * `_include`s and operations the server declares. Pure functions, no n8n, no HTTP.
 */

export type CapabilityStatement = { resourceType?: string; [key: string]: unknown };

/** A JSON object of the statement, read defensively: any field may be missing or of another type. */
type Element = { [key: string]: unknown };

export interface ResourceCapability {
	type: string;
	interactions: string[];
	searchParams: string[];
	searchInclude: string[];
	searchRevInclude: string[];
	operations: string[];
	profile: string;
}

export interface CapabilitySummary {
	fhirVersion: string;
	software: string;
	softwareVersion: string;
	implementation: string;
	publisher: string;
	date: string;
	formats: string[];
	resourceCount: number;
	resourceTypes: string[];
	resources: ResourceCapability[];
	/** Operations on the whole server (`[base]/$export`), each once. */
	systemOperations: string[];
	/** Operations per resource type (`Group/[id]/$export`, `Patient/[id]/$everything`), each once. */
	typeOperations: Record<string, string[]>;
	security: string[];
}

function arr(value: unknown): Element[] {
	return Array.isArray(value) ? value : [];
}

function obj(value: unknown): Element {
	return value !== null && typeof value === 'object' ? (value as Element) : {};
}

function unique(values: string[]): string[] {
	return [...new Set(values)];
}

function str(value: unknown): string {
	return typeof value === 'string' ? value : '';
}

function serverRest(caps: CapabilityStatement | undefined): Element[] {
	const rest = arr(caps?.rest);
	const server = rest.filter((r) => r?.mode === 'server' || r?.mode === undefined);
	return server.length > 0 ? server : rest;
}

function operationName(op: Element): string {
	const name = str(op?.name) || str(op?.definition).split('/').pop() || '';
	return name.replace(/^\$/, '');
}

/**
 * Search parameters a type accepts: its own, and those the server declares for every type in
 * `rest.searchParam` ("search parameters for searching all resources"; an open-source FHIR server
 * declares `_sort` there only).
 */
function searchParamNames(rest: Element, resource: Element): string[] {
	return unique([...arr(resource.searchParam), ...arr(rest?.searchParam)].map((p) => str(p?.name)).filter(Boolean));
}

export function resourceCapability(caps: CapabilityStatement | undefined, type: string): ResourceCapability | undefined {
	for (const rest of serverRest(caps)) {
		const resource = arr(rest?.resource).find((r) => r?.type === type);
		if (resource) {
			return {
				type,
				interactions: arr(resource.interaction).map((i) => str(i?.code)).filter(Boolean),
				searchParams: searchParamNames(rest, resource),
				searchInclude: arr(resource.searchInclude).map(str).filter(Boolean),
				searchRevInclude: arr(resource.searchRevInclude).map(str).filter(Boolean),
				operations: unique(arr(resource.operation).map(operationName).filter(Boolean)),
				profile: str(resource.profile),
			};
		}
	}
	return undefined;
}

/** Resource types the server declares, sorted. */
export function resourceTypes(caps: CapabilityStatement | undefined): string[] {
	const types = new Set<string>();
	for (const rest of serverRest(caps)) {
		for (const resource of arr(rest?.resource)) if (str(resource?.type)) types.add(str(resource.type));
	}
	return [...types].sort();
}

/** Types that offer an interaction (`read`, `search-type`). A type listed without interactions counts. */
export function offeringInteraction(caps: CapabilityStatement | undefined, interaction: string): string[] {
	return resourceTypes(caps).filter((type) => {
		const interactions = resourceCapability(caps, type)?.interactions ?? [];
		return interactions.length === 0 || interactions.includes(interaction);
	});
}

export function hasResource(caps: CapabilityStatement | undefined, type: string): boolean {
	return resourceCapability(caps, type) !== undefined;
}

/** Whether the server declares `_include` of `include` (e.g. `Encounter:patient`) for `type`. `*` counts. */
export function supportsInclude(caps: CapabilityStatement | undefined, type: string, include: string): boolean {
	const declared = resourceCapability(caps, type)?.searchInclude ?? [];
	return declared.includes(include) || declared.includes('*') || declared.includes(`${type}:*`);
}

export function supportsSearchParam(caps: CapabilityStatement | undefined, type: string, param: string): boolean {
	return (resourceCapability(caps, type)?.searchParams ?? []).includes(param);
}

/** Whether the server declares an operation (name without `$`) on `type`, or at system level. */
export function hasOperation(caps: CapabilityStatement | undefined, type: string, name: string): boolean {
	if ((resourceCapability(caps, type)?.operations ?? []).includes(name)) return true;
	return serverRest(caps).some((rest) =>
		arr(rest?.operation).some((op) => operationName(op) === name && str(op?.definition).includes(`${type}-${name}`)),
	);
}

export function summarizeCapabilities(caps: CapabilityStatement): CapabilitySummary {
	const types = resourceTypes(caps);
	const rests = serverRest(caps);
	const resources = types.map((t) => resourceCapability(caps, t) as ResourceCapability);
	const security = rests.flatMap((rest) =>
		arr(obj(rest?.security).service).flatMap((s) => arr(s?.coding).map((c) => str(c?.code) || str(c?.display)).concat(str(s?.text))),
	).filter(Boolean);
	return {
		fhirVersion: str(caps.fhirVersion),
		software: str(obj(caps.software).name),
		softwareVersion: str(obj(caps.software).version),
		implementation: str(obj(caps.implementation).description) || str(obj(caps.implementation).url),
		publisher: str(caps.publisher),
		date: str(caps.date),
		formats: arr(caps.format).map(str).filter(Boolean),
		resourceCount: types.length,
		resourceTypes: types,
		resources,
		systemOperations: unique(rests.flatMap((rest) => arr(rest?.operation).map(operationName)).filter(Boolean)),
		typeOperations: Object.fromEntries(resources.filter((r) => r.operations.length > 0).map((r) => [r.type, r.operations])),
		security: [...new Set(security)],
	};
}
