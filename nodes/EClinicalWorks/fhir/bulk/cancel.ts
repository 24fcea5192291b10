import type { BulkClient } from './types';
import { destroyStream, errorFromResponse } from './util';

export interface CancelResult {
	/** The server accepted the cancellation. */
	cancelled: boolean;
	/** The job was already gone (404/410): finished and cleaned up, cancelled before, or unknown. */
	alreadyGone: boolean;
	httpStatus: number;
}

/** DELETE on the status URL (Bulk Data: 202 Accepted; polling afterwards answers 404). */
export async function cancelExport(client: BulkClient, statusUrl: string): Promise<CancelResult> {
	const response = await client.send({
		method: 'DELETE',
		url: statusUrl,
		headers: { Accept: 'application/fhir+json' },
		acceptStatus: [200, 202, 204, 404, 410],
	});
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
