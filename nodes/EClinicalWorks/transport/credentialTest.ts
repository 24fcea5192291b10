import type { ICredentialTestRequest } from 'n8n-workflow';

import { ECW_ADMIN_MENU } from '../fhir/ecw';

/**
 * The credential Test: after the token, one authenticated search that can match nothing
 * (`{Type}?_id=n8n-credential-test`). The server checks the token, the practice and the scope before
 * it searches, so a 200 proves that this practice lets this app read. `/metadata` proves nothing:
 * eClinicalWorks serves it without a token, and its one token URL cannot refuse a practice that has
 * not enabled the app.
 *
 * The type is the first one the credential's scopes allow searching (eClinicalWorks' default:
 * Patient, which it declares with `_id`; it refuses a Patient search without criteria, hence `_id`).
 * Group is skipped (the bulk scope), and so are `.r` scopes: under SMART v2 `.r` is read without search.
 */

export const PROBE_ID = 'n8n-credential-test';

/** A scope that allows searching one resource type: `system/Patient.read`, `user/Encounter.rs`, ... */
const SEARCH_SCOPE = /(?:^|[\s,])(?:system|user|patient)\/((?!Group\.)[A-Z][A-Za-z]+)\.(?:read|\*|c?r?u?d?s)(?=[\s,]|$)/;

/** The type the Test searches for these scopes (what the expression below computes in n8n). */
export function probeResourceType(scopes: string): string {
	return SEARCH_SCOPE.exec(scopes)?.[1] ?? 'Patient';
}

/** The Test's URL as an n8n expression: `baseUrl` and `scopes` are expression bodies over $credentials. */
export function probeUrlExpression(baseUrl: string, scopes: string): string {
	return `={{ ${baseUrl} + "/" + ((${scopes} || "").match(${SEARCH_SCOPE.toString()}) || [0, "Patient"])[1] + "?_id=${PROBE_ID}" }}`;
}

const OBTAINED = 'Signed in, but the one-record search that proves this app may read was refused';

/** Rules for the backend-service credential (a token of its own). */
export const BACKEND_PROBE_RULES: ICredentialTestRequest['rules'] = [
	{
		type: 'responseCode',
		properties: {
			value: 401,
			message: `${OBTAINED} (401): the server does not accept this app's token for this FHIR base URL. On eClinicalWorks this means the practice has not enabled the app: ask it to enable the app in ${ECW_ADMIN_MENU}. Elsewhere: ask the organisation to authorise the app for this server`,
		},
	},
	{
		type: 'responseCode',
		properties: {
			value: 403,
			message: `${OBTAINED} (403): the token's scopes do not cover it (the search reads the first resource type in Scopes, Patient by default). Check that Scopes are the ones registered for the app and, on eClinicalWorks, that the practice granted them`,
		},
	},
	{
		type: 'responseCode',
		properties: {
			value: 400,
			message:
				'The FHIR server answered 400: the practice code is missing or wrong in the FHIR base URL. To test a credential whose FHIR Base URL has {practiceCode}, fill Practice Code here (workflows can still set it per item in the node)',
		},
	},
	{
		type: 'responseCode',
		properties: {
			value: 404,
			message: 'Signed in, but the one-record search was answered 404 (not found): check the FHIR Base URL and the practice code, and that the server serves the first resource type in Scopes',
		},
	},
];

/** Rules for the user-login credential (n8n holds the token from the login). */
export const USER_PROBE_RULES: ICredentialTestRequest['rules'] = [
	{
		type: 'responseCode',
		properties: {
			value: 401,
			message: `${OBTAINED} (401): the server does not accept the login's token for this FHIR base URL. Connect again (log in); on eClinicalWorks also check that the practice enabled the app in ${ECW_ADMIN_MENU}`,
		},
	},
	{
		type: 'responseCode',
		properties: {
			value: 403,
			message: `${OBTAINED} (403): the login's scopes do not cover it (the search reads the first resource type in Scope, Patient by default). Check Scope, then connect again`,
		},
	},
	{
		type: 'responseCode',
		properties: {
			value: 404,
			message: 'Signed in, but the one-record search was answered 404 (not found): check the FHIR Base URL and the practice code',
		},
	},
];
