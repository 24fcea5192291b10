import { FhirError } from '../errors';
import type { BulkClient } from './types';
import { originOf, publicUrl, requestLabel, sameOrigin } from './util';

/**
 * A status URL on another host than the FHIR server: the package never sends the access token
 * there (it would leak to whoever runs that host), so a status endpoint there that wants the token
 * cannot be polled or cancelled by this node.
 */

/** What happened to the export when its status URL turned out to be out of reach. */
export type AbandonOutcome = 'cancelled' | 'still-running' | 'not-tried';

function hostOf(url: string): string {
	try {
		return new URL(url).host;
	} catch {
		return originOf(url) ?? 'another host';
	}
}

/** True when a FhirError is the client's refusal to send the token to another origin (or that origin's 401/403 without it). */
export function isOriginRefusal(error: unknown): error is FhirError {
	return error instanceof FhirError && error.kind === 'origin';
}

export function isElsewhere(client: BulkClient, statusUrl: string): boolean {
	return !sameOrigin(statusUrl, client.baseUrl);
}

/** The clear error for a status URL on another host that refused us without the token. */
export function statusElsewhereError(client: BulkClient, statusUrl: string, status: number | undefined, outcome: AbandonOutcome, method = 'GET'): FhirError {
	const there = hostOf(statusUrl);
	const home = hostOf(client.baseUrl);
	const answered = status ? `, and ${there} answered ${status} without it` : '';
	const message =
		`The export's status URL is on another host (${there}) than the FHIR server (${home}). ` +
		`The access token is only ever sent to the FHIR server's own host${answered}`;
	const fix = `Ask the server operator to serve bulk status URLs on ${home}, the host of the FHIR Base URL.`;
	let hint: string;
	if (outcome === 'cancelled') {
		hint = `The export was cancelled (the server accepted the cancellation without the token), so nothing is left running. ${fix}`;
	} else {
		const state = outcome === 'still-running' ? 'The export could not be cancelled without the token: it keeps running on the server until the server expires it.' : 'The export may still be running on the server.';
		hint =
			`${state} Its status URL is ${publicUrl(statusUrl)} (its query, which may work like a password, is left out here: Check Status and the saved state still have it). To stop it, ask the server operator to cancel that export, ` +
			`or cancel it (Bulk Data: DELETE on the status URL) with a tool you trust to send this app's token to ${there}. ${fix}`;
	}
	return new FhirError(message, { kind: 'origin', status, hint, request: requestLabel(method, statusUrl) });
}
