import { sleep } from 'n8n-workflow';
import type { IExecuteFunctions } from 'n8n-workflow';

import { cancelExport } from '../../fhir/bulk/cancel';
import type { BulkClient, BulkRuntime } from '../../fhir/bulk/types';
import { formatWait } from '../../fhir/retry';
import { getFhirClient } from '../../transport';
import { logInfo } from '../../transport/report';

/** What every Bulk Export operation starts with: the bulk client, the runtime, hints and n8n's log. */

export interface LongWait {
	ms: number;
	reason: string;
}

export interface BulkSetup {
	client: BulkClient;
	runtime: BulkRuntime;
	ecw: boolean;
	/** Waits of a minute or more in this item, for the output hint (each is also logged as it starts). */
	longWaits: LongWait[];
}


/** The FHIR client with the bulk scope (eCW: system/Group.read), the runtime and the server rules. */
export async function bulkSetup(ctx: IExecuteFunctions, itemIndex: number): Promise<BulkSetup> {
	const fhirClient = await getFhirClient.call(ctx, itemIndex, { bulk: true });
	const client: BulkClient = fhirClient;
	const rules = ctx.getNodeParameter('serverRules', itemIndex, 'auto') as string;
	let ecw = rules === 'ecw';
	if (rules === 'auto') {
		// the credential's eCW environment or an eCW host (not the CapabilityStatement: eCW's lists more
		// export levels than eCW documents serving)
		ecw = fhirClient.knownEcw;
	}
	const signal = typeof ctx.getExecutionCancelSignal === 'function' ? ctx.getExecutionCancelSignal() : undefined;
	const longWaits: LongWait[] = [];
	const runtime: BulkRuntime = {
		sleep: async (ms, abortSignal) => await sleep(ms, abortSignal),
		timer: async (ms, abortSignal) => await sleep(ms, abortSignal),
		now: () => Date.now(),
		signal,
		onLongWait: (ms, reason) => {
			longWaits.push({ ms, reason });
			logLongWait(ctx, `waiting ${formatWait(ms)} for ${reason}`);
		},
	};
	return { client, runtime, ecw, longWaits };
}

/** n8n's log (never a token, a URL or a record): what a long-running bulk export is waiting for. */
export function logLongWait(ctx: IExecuteFunctions, message: string): void {
	logInfo(ctx, `Bulk Export: ${message}`);
}

/** One output hint for the waits of a minute or more in this item (they are in n8n's log too). */
export function reportLongWaits(ctx: IExecuteFunctions, setup: BulkSetup): void {
	const waits = setup.longWaits;
	if (waits.length === 0) return;
	const total = waits.reduce((sum, w) => sum + w.ms, 0);
	const longest = [...waits].sort((a, b) => b.ms - a.ms).slice(0, 3);
	const detail = longest.map((w) => `${formatWait(w.ms)} for ${w.reason}`).join('; ');
	addHint(
		ctx,
		`Waited longer than a minute ${waits.length === 1 ? 'once' : `${waits.length} times`} (${formatWait(total)} in all): ${detail}.`,
		'info',
	);
}

/**
 * Best-effort DELETE of the export when the execution is cancelled while this node waits for it or
 * downloads it (where n8n lets the node notice). Returns the function that ends that watch.
 */
export function cancelOnAbort(ctx: IExecuteFunctions, setup: BulkSetup, statusUrl: () => string | undefined): () => void {
	let watching = true;
	if (typeof ctx.onExecutionCancellation === 'function') {
		ctx.onExecutionCancellation(() => {
			const url = statusUrl();
			if (watching && url) void cancelExport(setup.client, url).catch(() => undefined);
		});
	}
	return () => {
		watching = false;
	};
}

export function addHint(ctx: IExecuteFunctions, message: string, type: 'info' | 'warning'): void {
	const withHints = ctx as IExecuteFunctions & { addExecutionHints?: IExecuteFunctions['addExecutionHints'] };
	if (typeof withHints.addExecutionHints === 'function') {
		withHints.addExecutionHints({ message, type, location: 'outputPane' });
	}
}
