import type { FhirRequest } from '../client';
import type { HttpResponse } from '../http';
import type { CapabilityStatement } from '../types';

/** The request shape of `FhirClient.send`, which the bulk modules use. */
export type BulkSendRequest = FhirRequest;

/**
 * What the bulk modules need from the FHIR client (`../client.ts` FhirClient satisfies it).
 * Kept structural so the bulk modules can be tested against any client.
 */
export interface BulkClient {
	readonly baseUrl: string;
	send(request: BulkSendRequest): Promise<HttpResponse>;
	/** Scopes configured on the credential: a 403 names only those still to add. */
	configuredScopes?: string;
	/** The scopes the token asks for, as minted (default scopes fitted to the server), and what the server offers. */
	scopesInUse?: () => Promise<{ scopes: string; supported?: string[]; defaults: boolean }>;
	/** The server's CapabilityStatement (cached): the types it declares. */
	capabilities?: () => Promise<CapabilityStatement>;
}

/** Timing and cancellation: n8n's `sleep` in the node, a timer in tests. */
export interface BulkRuntime {
	sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
	now: () => number;
	/** Set when the execution is cancelled: loops stop and streams are destroyed. */
	signal?: AbortSignal;
	/** Told of every wait of a minute or more (LONG_WAIT_MS), before it starts: nothing silent for minutes. */
	onLongWait?: (ms: number, reason: string) => void;
	/**
	 * A real-time timer for deadlines (a file's File Timeout), ended early through its signal. Apart
	 * from `sleep`, which tests may run on a fake clock. Without it no deadline is kept.
	 */
	timer?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** A stream as returned by the transport (`stream: true`): a Node.js Readable. */
export type BodyStream = NodeJS.ReadableStream & {
	destroy?: (error?: Error) => unknown;
	[Symbol.asyncIterator](): AsyncIterator<string | Uint8Array>;
};

export function isAborted(runtime: BulkRuntime): boolean {
	return runtime.signal?.aborted === true;
}
