// The `smart` profile: a standard SMART on FHIR / Bulk Data 2.0 server, with switches ("quirks") for the
// behaviours seen on real servers nobody here wrote (a widely used open-source FHIR server and SMART's
// reference Bulk Data server). Off by default; tests switch them on one at a time.
import { declaredTypes } from './declared.mjs';
import { searchParams, SEARCH_PARAM_TYPES } from '../search.mjs';

export const QUIRKS = {
	/** Reference search parameters match only typed values (`practitioner=Practitioner/7`, not `practitioner=7`). */
	typedReferencesOnly: false,
	/** `meta.versionId` is a UUID, not a counter, and Appointments carry no `created`. */
	uuidVersionIds: false,
	/** `Patient/{id}/$everything` is served but not listed in the CapabilityStatement. */
	undeclaredEverything: false,
	/** Search results without `_sort` come in no particular order (not by date). */
	unsortedDefault: false,
	/** `_sort` is declared once for every type, in `rest.searchParam` (as a widely used open-source server does), not per type. */
	serverLevelSort: false,
	/** `_sort` is declared but not applied (and left out of the `self` link, as unused parameters are). */
	ignoresSort: false,
	/** A wrong client secret is answered 400 `invalid_request` instead of 401 `invalid_client`. */
	secretErrorInvalidRequest: false,
	/** A refused client assertion (signature, aud, issuer, unknown client) is answered 400 `invalid_request` with its reason, e.g. "Invalid client_assertion signature". */
	assertionErrorInvalidRequest: false,
	/** Each client's first bulk kick-off (a number N: first N) is answered 401 text/plain "Token expired" and expires that token; a fresh token works. */
	kickoffTokenExpired: false,
	/** Bulk status URLs (bearer token required there too) and pre-signed file URLs on the second origin. */
	otherOriginStatus: false,
	/** Retry-After given as an epoch time point: 'ms' (milliseconds) or 's' (seconds); false = delta seconds. */
	epochRetryAfter: false,
	/** A bulk kick-off needs system/AsyncJob.*, system/Binary.* and system/BulkDataExport.* besides the read scopes (403 naming them). */
	exportExtraScopes: false,
	/**
	 * A bulk kick-off leaves out, without a word, the types the token's scopes do not cover, also those
	 * named in `_type` (400 "Could not authorize access to any resources" when none is left), as SMART's
	 * reference Bulk Data server does (ExportManager.setResourceTypes). Without it, a `_type` the scopes
	 * do not cover is refused with 403.
	 */
	scopeFilteredExport: false,
	/** Manifest entries carry no `count` (it is optional in Bulk Data). */
	noFileCounts: false,
	/** The server also serves Medication, a type outside the package's default scopes (SMART's reference server serves 19 types). */
	moreTypes: false,
	/** Resource types this server does not have (their scopes are refused with invalid_scope). */
	omitTypes: [],
	/** `Patient/{id}/$everything` needs a read scope for every type in the record; its 403 names none. */
	everythingNeedsAllScopes: false,
};

/** Quirks from an object ({ typedReferencesOnly: true }) or a list of names; unknown names throw. */
export function parseQuirks(input) {
	const out = { ...QUIRKS, omitTypes: [] };
	if (!input) return out;
	const entries = Array.isArray(input) ? input.map((name) => [name, true]) : Object.entries(input);
	for (const [name, value] of entries) {
		if (!(name in QUIRKS)) throw new Error(`unknown quirk ${name}; one of ${Object.keys(QUIRKS).join(', ')}`);
		out[name] = name === 'omitTypes' ? [...(value ?? [])] : value;
	}
	return out;
}

const ALL_TYPES = ['Patient', 'Encounter', 'Appointment', 'Practitioner', 'Location', 'Organization', 'Coverage', 'Group'];
const BULK_TYPES = ['Patient', 'Encounter', 'Appointment', 'Coverage', 'Practitioner', 'Location', 'Organization'];
/** moreTypes: served (and exported) besides the types above. */
const MORE_TYPES = ['Medication'];
const INCLUDES = {
	Appointment: ['Appointment:patient', 'Appointment:practitioner', 'Appointment:location', 'Appointment:actor'],
	Encounter: ['Encounter:patient', 'Encounter:subject', 'Encounter:practitioner', 'Encounter:location'],
};
/** exportExtraScopes: what SMART's reference server wants for an export besides read access. */
export const EXPORT_EXTRA_SCOPES = ['system/AsyncJob.*', 'system/Binary.*', 'system/BulkDataExport.*'];
const SORTABLE = new Set(['Patient', 'Encounter', 'Appointment']);
const EXPORT_DEFS = {
	Group: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export',
	Patient: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export',
};

function capabilityStatement({ base, tokenUrl, authorizeUrl, now, timeZone }, types, quirks) {
	const resource = types.map((type) => {
		const defs = searchParams(type, timeZone, 'smart');
		const r = {
			type,
			interaction: [{ code: 'read' }, { code: 'search-type' }],
			searchParam: [
				...Object.entries(defs).map(([name, d]) => ({ name, type: SEARCH_PARAM_TYPES[d.type] })),
				...(SORTABLE.has(type) && !quirks.serverLevelSort ? [{ name: '_sort', type: 'string' }] : []),
			],
		};
		if (INCLUDES[type]) r.searchInclude = INCLUDES[type];
		const ops = [];
		if (type === 'Patient' && !quirks.undeclaredEverything) ops.push({ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' });
		if (EXPORT_DEFS[type]) ops.push({ name: 'export', definition: EXPORT_DEFS[type] });
		if (ops.length) r.operation = ops;
		return r;
	});
	return {
		resourceType: 'CapabilityStatement',
		status: 'active',
		date: new Date(now).toISOString().slice(0, 10),
		publisher: 'n8n-nodes-eclinicalworks sandbox',
		kind: 'instance',
		software: { name: 'FHIR sandbox (smart profile)', version: '0.2.0' },
		implementation: { description: 'SMART on FHIR / Bulk Data 2.0 sandbox', url: base },
		fhirVersion: '4.0.1',
		format: ['json'],
		instantiates: ['http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data'],
		rest: [{
			mode: 'server',
			security: {
				extension: [{ url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris', extension: [{ url: 'token', valueUri: tokenUrl }, { url: 'authorize', valueUri: authorizeUrl }] }],
				service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
			},
			resource,
			...(quirks.serverLevelSort ? { searchParam: [{ name: '_sort', type: 'string', documentation: 'Sort order (every resource type)' }] } : {}),
			operation: [{ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' }],
		}],
	};
}

export function smartContract(quirksInput) {
	const quirks = parseQuirks(quirksInput);
	const types = [...ALL_TYPES, ...(quirks.moreTypes ? MORE_TYPES : [])].filter((t) => !quirks.omitTypes.includes(t));
	const contract = {
		name: 'smart',
		quirks,
		dataTypes: types,
		bulkTypes: [...BULK_TYPES, ...MORE_TYPES].filter((t) => types.includes(t)),
		tokenLifetimeSeconds: 3600,
		userTokenLifetimeSeconds: 3600,
		rateLimitPerMinute: null,
		defaultCount: 50,
		maxCount: 1000,
		strictSearch: false,
		resultParameters: [],
		pageParameter: '_getpages',
		patientSearchNeedsCriteria: false,
		scopes: { supported: null, refuseUnsupported: false, refusalError: 'invalid_scope', readImpliesSearch: false },
		signingAlgorithms: ['RS384', 'ES384'],
		clientScopes: {
			backend: types.map((t) => `system/${t}.read`).join(' '),
			user: `launch/patient openid fhirUser offline_access online_access ${types.map((t) => `user/${t}.read`).join(' ')} patient/*.read user/*.read`,
			es384Client: true,
			secretClient: true,
		},
		tokenCountsInPractice: false,
		bulk: {
			levels: ['system', 'patient', 'group'],
			methods: ['GET', 'POST'],
			parameters: ['_type', '_since', '_outputFormat', '_typeFilter', '_elements', 'includeAssociatedData', 'patient', '_until'],
			retryAfterSeconds: null,
			/** Scopes a kick-off needs besides read access (registered for the backend clients, offered in scopes_supported). */
			requiredScopes: quirks.exportExtraScopes ? [...EXPORT_EXTRA_SCOPES] : [],
		},
		includes: INCLUDES,
		sortable: SORTABLE,
		capabilityStatement: (ctx) => capabilityStatement(ctx, types, quirks),
		smartConfiguration: ({ tokenUrl, authorizeUrl, origin, clientScopes }) => ({
			issuer: `${origin}/oauth/oauth2`,
			token_endpoint: tokenUrl,
			authorization_endpoint: authorizeUrl,
			grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
			token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
			token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
			response_types_supported: ['code'],
			code_challenge_methods_supported: ['S256'],
			scopes_supported: [...new Set([...clientScopes, 'system/*.read', 'system/*.rs', ...(quirks.exportExtraScopes ? EXPORT_EXTRA_SCOPES : [])])],
			capabilities: ['launch-standalone', 'client-public', 'client-confidential-symmetric', 'client-confidential-asymmetric', 'context-standalone-patient', 'permission-offline', 'permission-patient', 'permission-user', 'permission-v1', 'permission-v2'],
		}),
		tokenUrlFor: (origin) => `${origin}/oauth/oauth2/token`,
	};
	contract.declared = declaredTypes(contract.capabilityStatement({ base: '', tokenUrl: '', authorizeUrl: '', now: 0, timeZone: 'UTC' }));
	return contract;
}
