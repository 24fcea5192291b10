import type { INodeProperties } from 'n8n-workflow';

import { InputError } from '../fhir/errors';
import { DEFAULT_RESPONSE_LIMITS, LIMITS_TOGGLE_SETTING, MAX_RESPONSE_SIZE_SETTING, MB, RESPONSE_TIME_LIMIT_SETTING } from '../fhir/responseBody';
import type { ResponseLimits } from '../fhir/responseBody';

/** Credential fields both credentials carry (the backend-service and the user-login one). */

/** Queue mode: each n8n process keeps to the rate limit divided by this (docs/queue-mode.md). */
export const rateLimitProcessesField: INodeProperties = {
	displayName: 'Processes Sharing This Limit',
	name: 'rateLimitProcesses',
	type: 'number',
	default: 1,
	typeOptions: { minValue: 1 },
	description:
		'How many n8n processes use this credential at the same time. 1 for a single n8n. In queue mode: the number of workers, plus 1 when the main process runs triggers for these practices. Each process keeps to Rate Limit divided by this number, so together they stay within the limit.',
};

const whenCustomised = { show: { responseOptions: [true] } };

/** Largest values the fields accept (the bounds exist to protect the n8n process). */
const MAX_RESPONSE_MB = 1024;
const MAX_RESPONSE_SECONDS = 3600;

/**
 * Bounds on what one server answer may cost, and whether the server's own words appear in errors:
 * behind one switch, so the credential stays short for everyone who keeps the defaults.
 */
export const responseOptionFields: INodeProperties[] = [
	{
		displayName: LIMITS_TOGGLE_SETTING,
		name: 'responseOptions',
		type: 'boolean',
		default: false,
		description: `Whether to change the defaults: one answer at most ${DEFAULT_RESPONSE_LIMITS.maxBytes / MB} MB and ${DEFAULT_RESPONSE_LIMITS.deadlineMs / 1000} s, and the server's own words (secrets removed, shortened) in errors`,
	},
	{
		displayName: MAX_RESPONSE_SIZE_SETTING,
		name: 'maxResponseMb',
		type: 'number',
		// literal for n8n's lint; equal to DEFAULT_RESPONSE_LIMITS (a test checks)
		default: 50,
		typeOptions: { minValue: 1, maxValue: MAX_RESPONSE_MB },
		description: 'The most one answer of the server (a search page, a bulk export manifest, a token) may hold, counted after decompression before it is read. A bigger answer stops with an error that names this setting. Bulk export files are not limited by this.',
		displayOptions: whenCustomised,
	},
	{
		displayName: RESPONSE_TIME_LIMIT_SETTING,
		name: 'responseTimeLimitSeconds',
		type: 'number',
		default: 120,
		typeOptions: { minValue: 5, maxValue: MAX_RESPONSE_SECONDS },
		description: 'The longest one answer may take, from the request to its last byte. A server that goes silent is stopped sooner, after 60 s without data. Bulk export files are not limited by this.',
		displayOptions: whenCustomised,
	},
	{
		displayName: 'Server Text in Errors',
		name: 'serverTextInErrors',
		type: 'options',
		options: [
			{
				name: 'Include (Secrets Removed, Shortened)',
				value: 'include',
				description: 'The server\'s diagnostics (OperationOutcome text) appear in errors: usually what tells you what to fix. They may name a patient.',
			},
			{
				name: 'Leave Out',
				value: 'leaveOut',
				description: 'Errors keep the status and the server\'s codes only. For workflows that send errors to chat or email.',
			},
		],
		default: 'include',
		displayOptions: whenCustomised,
	},
];

export interface ResponseOptions {
	limits: ResponseLimits;
	serverText: boolean;
}

function bounded(value: unknown, field: string, min: number, max: number, fallback: number): number {
	if (value === undefined || value === null || value === '') return fallback;
	const n = Number(value);
	if (!Number.isFinite(n) || n < min || n > max) {
		throw new InputError(field, `"${String(value).slice(0, 20)}" is not a number from ${min} to ${max}`, `Enter a number from ${min} to ${max} in the credential, or turn off ${LIMITS_TOGGLE_SETTING} to use the defaults.`);
	}
	return n;
}

/** The credential's response options (defaults unless the switch is on). */
export function responseOptionsOf(data: Record<string, unknown>): ResponseOptions {
	if (data.responseOptions !== true) return { limits: { ...DEFAULT_RESPONSE_LIMITS }, serverText: true };
	const mb = bounded(data.maxResponseMb, MAX_RESPONSE_SIZE_SETTING, 1, MAX_RESPONSE_MB, DEFAULT_RESPONSE_LIMITS.maxBytes / MB);
	const seconds = bounded(data.responseTimeLimitSeconds, RESPONSE_TIME_LIMIT_SETTING, 5, MAX_RESPONSE_SECONDS, DEFAULT_RESPONSE_LIMITS.deadlineMs / 1000);
	return { limits: { maxBytes: Math.round(mb * MB), deadlineMs: Math.round(seconds * 1000) }, serverText: data.serverTextInErrors !== 'leaveOut' };
}

/** The secrets a credential's data holds, to take out of any text (client secret, OAuth tokens). */
export function credentialSecrets(data: Record<string, unknown>): string[] {
	const token = (data.oauthTokenData ?? {}) as Record<string, unknown>;
	return [data.clientSecret, data.accessToken, token.access_token, token.refresh_token, token.id_token].filter((v): v is string => typeof v === 'string');
}
