import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { adoptExport, claimExport } from '../../fhir/bulk/claim';
import type { HeldExport } from '../../fhir/bulk/claim';
import { kickoff } from '../../fhir/bulk/kickoff';
import type { KickoffResult } from '../../fhir/bulk/kickoff';
import { settle } from '../../fhir/bulk/util';
import { FhirError } from '../../fhir/errors';
import { intentFor } from './request';
import type { ExportRequest } from './request';
import type { BulkSetup } from './setup';
import { elsewhereItem, interruptedError, noteFirstExport } from './state';
import type { ExportState } from './state';

/**
 * How Export and Start begin: claim the state key, then start an export (intent recorded first),
 * take over the one this key left running, or stop because another live execution has it.
 */

export type Begun =
	| { kind: 'started'; held: HeldExport; kick: KickoffResult }
	| { kind: 'resumed'; held: HeldExport }
	| { kind: 'elsewhere'; item: INodeExecutionData };

/**
 * Sends the kick-off for a held intent and records the status URL. An error answer from the server
 * means it started nothing: the key is freed. No answer at all (the connection failed) may mean it
 * did: the intent stays, and the next run says so instead of starting another.
 */
export async function kickoffHeld(setup: BulkSetup, request: ExportRequest, held: HeldExport): Promise<KickoffResult> {
	const sent = await settle(kickoff(setup.client, request.options));
	if (!sent.ok) {
		const unanswered = sent.error instanceof FhirError && sent.error.kind === 'network';
		if (!unanswered) await held.notStarted();
		throw sent.error;
	}
	await held.started(sent.value.statusUrl, setup.client.baseUrl);
	return sent.value;
}

export async function beginExport(
	ctx: IExecuteFunctions,
	itemIndex: number,
	setup: BulkSetup,
	request: ExportRequest,
	state: ExportState,
): Promise<Begun> {
	const restartInterrupted = ctx.getNodeParameter('restartInterrupted', itemIndex, false) as boolean;
	const claim = await claimExport(state.rows, request.key, state.holder, intentFor(request), restartInterrupted);
	if (claim.kind === 'elsewhere') return { kind: 'elsewhere', item: elsewhereItem(claim.row, claim.done, claim.by, itemIndex) };
	if (claim.kind === 'interrupted') throw interruptedError(claim.row, state.rows);
	if (claim.kind === 'resume') {
		if (request.sinceMode === 'lastSuccess') request.options.since = claim.held.row.since || undefined;
		return { kind: 'resumed', held: claim.held };
	}
	if (request.sinceMode === 'lastSuccess' && !request.options.since) noteFirstExport(ctx, state);
	const kick = await kickoffHeld(setup, request, claim.held);
	return { kind: 'started', held: claim.held, kick };
}

/** Resume From Status URL: the export the user named becomes this key's export, held by this run. */
export async function adoptNamedExport(setup: BulkSetup, request: ExportRequest, state: ExportState, statusUrl: string): Promise<HeldExport> {
	return await adoptExport(state.rows, request.key, state.holder, statusUrl, setup.client.baseUrl);
}
