import type { HttpMethod, HttpResponse } from '../http';

/**
 * What the bulk modules need from the FHIR client (`../client.ts` FhirClient satisfies it).
 * Kept structural so the bulk modules can be tested against any client.
 */
export interface BulkSendRequest {
	method: HttpMethod;
	/** Relative to the base URL. */
	path?: string;
	/** Absolute URL (status URL, file URL, next link). */
	url?: string;
	query?: Array<[string, string]>;
	headers?: Record<string, string>;
	body?: string;
	stream?: boolean;
	/** Statuses returned to the caller instead of thrown as FhirError. */
	acceptStatus?: number[];
	/** `false`: send no Authorization header even to the FHIR server's own origin. */
	withToken?: boolean;
}

export interface BulkClient {
	readonly baseUrl: string;
	send(request: BulkSendRequest): Promise<HttpResponse>;
}

/** Timing and cancellation: n8n's `sleep` in the node, a timer in tests. */
export interface BulkRuntime {
	sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
	now: () => number;
	/** Set when the execution is cancelled: loops stop and streams are destroyed. */
	signal?: AbortSignal;
}

/** A stream as returned by the transport (`stream: true`): a Node.js Readable. */
export type BodyStream = NodeJS.ReadableStream & {
	destroy?: (error?: Error) => unknown;
	[Symbol.asyncIterator](): AsyncIterator<string | Uint8Array>;
};

export function isAborted(runtime: BulkRuntime): boolean {
	return runtime.signal?.aborted === true;
}
