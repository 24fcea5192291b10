/** FHIR shapes the transport reads (only the fields it needs). */

export interface FhirResource {
	resourceType: string;
	id?: string;
	[key: string]: unknown;
}

export interface BundleLink {
	relation: string;
	url: string;
}

export interface BundleEntry {
	fullUrl?: string;
	resource?: FhirResource;
	search?: { mode?: string; score?: number };
}

export interface Bundle extends FhirResource {
	resourceType: 'Bundle';
	type?: string;
	total?: number;
	link?: BundleLink[];
	entry?: BundleEntry[];
}

export interface CapabilityResource {
	type: string;
	interaction?: Array<{ code: string }>;
	searchParam?: Array<{ name: string; type?: string }>;
	searchInclude?: string[];
	operation?: Array<{ name: string; definition?: string }>;
}

export interface CapabilityStatement extends FhirResource {
	fhirVersion?: string;
	software?: { name?: string; version?: string };
	publisher?: string;
	rest?: Array<{ mode?: string; resource?: CapabilityResource[]; operation?: Array<{ name: string }>; searchParam?: Array<{ name: string }> }>;
}
