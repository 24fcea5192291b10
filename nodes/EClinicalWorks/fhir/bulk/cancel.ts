import { isElsewhere, isOriginRefusal, statusElsewhereError } from './origin';
import type { AbandonOutcome } from './origin';
import type { BulkClient } from './types';
import { destroyStream, errorFromResponse, settle } from './util';

export interface CancelResult {
	/** The server accepted the cancellation. */
	cancelled: boolean;
	/** The job was already gone (404/410): finished and cleaned up, cancelled before, or unknown. */
	alreadyGone: boolean;
	httpStatus: number;
}

/** DELETE on the status URL (Bulk Data: 202 Accepted; polling afterwards answers 404). */
export async function cancelExport(client: BulkClient, statusUrl: string): Promise<CancelResult> {
	const sent = await settle(
		client.send({
			method: 'DELETE',
			url: statusUrl,
			headers: { Accept: 'application/fhir+json' },
			acceptStatus: [200, 202, 204, 404, 410],
		}),
	);
	if (!sent.ok) {
		// a status URL on another host that wants the token: it never gets it
		if (isOriginRefusal(sent.error) && isElsewhere(client, statusUrl)) {
			throw statusElsewhereError(client, statusUrl, sent.error.status, 'still-running', 'DELETE');
		}
		throw sent.error;
	}
	const response = sent.value;
	const { status } = response;
	if (status >= 200 && status < 300) {
		destroyStream(response.body);
		return { cancelled: true, alreadyGone: false, httpStatus: status };
	}
	if (status === 404 || status === 410) {
		destroyStream(response.body);
		return { cancelled: false, alreadyGone: true, httpStatus: status };
	}
	throw await errorFromResponse(response, 'Could not cancel the bulk export', 'DELETE', statusUrl);
}

/**
 * Best-effort cancellation of an export whose status URL is on another host: DELETE without the
 * token (the client never sends it across origins). Few servers accept that; the caller says what
 * the user must do when it fails.
 */
export async function tryCancelElsewhere(client: BulkClient, statusUrl: string): Promise<AbandonOutcome> {
	const tried = await settle(cancelExport(client, statusUrl));
	return tried.ok && (tried.value.cancelled || tried.value.alreadyGone) ? 'cancelled' : 'still-running';
}
