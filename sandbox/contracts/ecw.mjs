// The `ecw` profile: eClinicalWorks' published contract. Its /metadata and smart-configuration are
// eCW's own documents (./ecw/, see ./ecw/SOURCE.md) with the URLs rewritten to the sandbox, and what
// the sandbox accepts is derived from them: the declared types, interactions, search parameters and
// _include values, and the scopes in scopes_supported. Rules that are not in those two documents come
// from eCW's published notes (RS384 only; backend services key-only; expired or malformed assertions
// 400 invalid_grant; 250 requests per minute per practice, token calls included; one token URL for
// every practice; bulk export at Group level with Retry-After 120) and are marked as such below.
import { readFileSync } from 'node:fs';
import { declaredTypes } from './declared.mjs';

const fixture = (name) => JSON.parse(readFileSync(new URL(`./ecw/${name}`, import.meta.url), 'utf8'));

/** eCW's CapabilityStatement and SMART configuration, exactly as published. */
export const ECW_CAPABILITY_STATEMENT = fixture('eclinicalworks-fhir-capabilitystatement.json');
export const ECW_SMART_CONFIGURATION = fixture('eclinicalworks-smart-configuration.json');

const OAUTH = 'https://oauthserver.eclinicalworks.com/oauth/oauth2';
const FHIR_PRACTICE = /https?:\/\/fhir4\.eclinicalworks\.com\/fhir\/r4\/[A-Za-z0-9]+/g;
const FHIR_ROOT = 'https://fhir4.eclinicalworks.com/fhir/r4';

/** eCW's token URL: one for every practice (its discovery documents all name the same one). */
export function ecwTokenUrl(origin) {
	return `${origin}/oauth/oauth2/token`;
}

/** eCW's document with its URLs pointing at this sandbox and this practice. */
function rewrite(document, { origin, base, tokenUrl }) {
	const text = JSON.stringify(document)
		.split(`${OAUTH}/token`).join(tokenUrl ?? ecwTokenUrl(origin))
		.split(`${OAUTH}/authorize`).join(`${origin}/oauth/oauth2/authorize`)
		.split(`${OAUTH}/jwks`).join(`${origin}/oauth/oauth2/jwks`)
		.replace(FHIR_PRACTICE, base)
		.split(FHIR_ROOT).join(`${origin}/fhir/r4`);
	return JSON.parse(text);
}

/** Scopes the sandbox's eCW backend clients are registered for: what the package's defaults ask for. */
const BACKEND_SCOPES = 'system/Patient.read system/Encounter.read system/Practitioner.read system/Location.read system/Organization.read system/Coverage.r system/Group.read';
const USER_SCOPES = 'launch/patient openid fhirUser offline_access user/Patient.read user/Encounter.read user/Practitioner.read user/Location.read user/Organization.read user/Coverage.r patient/*.r user/*.r';

export function ecwContract() {
	const declared = declaredTypes(ECW_CAPABILITY_STATEMENT);
	const scopesSupported = new Set(ECW_SMART_CONFIGURATION.scopes_supported);
	return {
		name: 'ecw',
		/** Types the sandbox has data for; every other declared type answers an empty search. */
		dataTypes: ['Patient', 'Encounter', 'Practitioner', 'Location', 'Organization', 'Coverage', 'Group'],
		bulkTypes: ['Patient', 'Encounter', 'Coverage', 'Practitioner', 'Location', 'Organization'],
		declared,
		tokenLifetimeSeconds: 300,
		userTokenLifetimeSeconds: 3600,
		rateLimitPerMinute: 250,
		defaultCount: 50,
		maxCount: 1000,
		/** Undeclared search parameters are refused (400), as are undeclared _include values. */
		strictSearch: true,
		/**
		 * Result parameters eCW accepts although no type declares them: `_count` (its published
		 * conventions) and `_format` (its CapabilityStatement's own `url` ends `metadata?_format=json`;
		 * `format` lists xml and json, the sandbox answers JSON only).
		 */
		resultParameters: ['_count', '_format'],
		/** Paging links carry eCW's declared `page` parameter (an opaque cursor: links are followed, never built). */
		pageParameter: 'page',
		/**
		 * A next link is a cursor to use exactly as given: one with a parameter added or changed is
		 * refused (eCW's conventions: "Follow Bundle.link entries rather than constructing offsets").
		 */
		opaqueNextLinks: true,
		/** Not in the published documents: eCW is reported to refuse it (docs/sandbox.md, "what it cannot know"). */
		patientSearchNeedsCriteria: true,
		scopes: {
			supported: scopesSupported,
			/** A scope eCW does not list is refused with invalid_grant (eCW's error code for it). */
			refuseUnsupported: true,
			refusalError: 'invalid_grant',
			/** eCW offers some types only as `.r` (Coverage) while declaring their search: `.r` is read as read+search. */
			readImpliesSearch: true,
		},
		signingAlgorithms: ['RS384'],
		/**
		 * eCW's backend services sign in with a key only (authentication notes: "smart-backend-services ...
		 * client_assertion signed RS384"): no client-secret backend client, and no ES384 one.
		 */
		clientScopes: { backend: BACKEND_SCOPES, user: USER_SCOPES, es384Client: false, secretClient: false },
		/**
		 * eCW's error codes: "invalid_grant 400: ... (or the client_assertion is expired/malformed)";
		 * every other assertion failure stays 401 invalid_client (docs/sandbox.md lists which are assumptions).
		 */
		assertionExpiredOrMalformed: { status: 400, error: 'invalid_grant' },
		/**
		 * 250 a minute per practice, /token included; eCW's token URL names no practice, so a token
		 * request is charged to the practice that first uses the token (docs/sandbox.md, assumptions).
		 */
		tokenCountsInPractice: true,
		bulk: { levels: ['group'], methods: ['GET'], parameters: ['_type', '_since', '_outputFormat'], retryAfterSeconds: 120 },
		capabilityStatement: (ctx) => rewrite(ECW_CAPABILITY_STATEMENT, ctx),
		smartConfiguration: (ctx) => rewrite(ECW_SMART_CONFIGURATION, ctx),
		tokenUrlFor: (origin) => ecwTokenUrl(origin),
	};
}
