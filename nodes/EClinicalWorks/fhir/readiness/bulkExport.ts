import { cancelExport } from '../bulk/cancel';
import { kickoff } from '../bulk/kickoff';
import type { BulkLevel } from '../bulk/kickoff';
import { pollUntilDone } from '../bulk/status';
import type { StatusResult } from '../bulk/status';
import type { BulkRuntime } from '../bulk/types';
import type { FhirClient } from '../client';
import type { Check, CheckResult, ReadinessContext } from './types';
import { describeFailure, notRunWithoutAccess, plural, seconds } from './util';

/**
 * Bulk export readiness, opt-in: kick off a small export (Patient only), wait as the node would,
 * check its status once, and cancel it. The evidence is the Retry-After the server sent and the poll
 * interval the node kept. No file is downloaded.
 */

const CHECK = 'Bulk export';

function retryAfterText(ms: number | undefined): string {
	return ms === undefined ? 'no Retry-After' : `Retry-After ${seconds(ms)}`;
}

/** eCW exports Groups only; the first Group the app may list when none is given. */
async function groupToExport(client: FhirClient, ctx: ReadinessContext): Promise<string | undefined> {
	const given = ctx.options.bulkGroupId.trim();
	if (given) return given;
	if (!ctx.credential.isEcw) return undefined;
	const found = await client.search('Group', [], { limit: 1, pageSize: 1 });
	const id = found.matches[0]?.id;
	return typeof id === 'string' ? id : undefined;
}

export const checkBulkExport: Check = async (ctx, state): Promise<CheckResult> => {
	if (!ctx.options.uses.includes('bulkExport')) {
		return { check: CHECK, status: 'pass', evidence: 'Your workflows do not export in bulk (Bulk Export is not ticked).', whatToDo: 'Nothing to do.' };
	}
	if (!ctx.options.tryBulkExport || !ctx.bulkClient) {
		return {
			check: CHECK,
			status: 'warn',
			evidence: 'Not tried: a bulk export check starts a real export on the server, so it runs only when you opt in.',
			whatToDo: 'Turn on Options > Try a Bulk Export (it starts a small Patient export, checks its status once and cancels it; eCW: give the Group ID the practice enabled).',
		};
	}
	if (!state.access?.ok) return notRunWithoutAccess(CHECK, state);
	const client = await ctx.bulkClient();
	const ecw = ctx.credential.isEcw;
	const steps: string[] = [];
	let statusUrl: string | undefined;
	try {
		const groupId = await groupToExport(client, ctx);
		if (ecw && !groupId) {
			return { check: CHECK, status: 'fail', evidence: 'No Group to export: the app may list none.', whatToDo: 'Enter the Group ID the practice enabled for the app under Options > Bulk Export Group ID.' };
		}
		const level: BulkLevel = groupId ? 'group' : 'system';
		const started = await kickoff(client, { level, groupId, types: ['Patient'], ecw });
		statusUrl = started.statusUrl;
		steps.push(`Kick-off GET ${level === 'group' ? `Group/${groupId}/` : ''}$export?_type=Patient: 202 Accepted with ${retryAfterText(started.retryAfterMs)}.`);

		const floor = ctx.options.bulkPollFloorMs;
		const firstWait = Math.max(floor, started.retryAfterMs ?? floor);
		const waits: number[] = [];
		const polls: StatusResult[] = [];
		const runtime: BulkRuntime = {
			sleep: async (ms) => {
				waits.push(ms);
				if (ms >= 10_000) ctx.onProgress?.(`bulk export check: waiting ${seconds(ms)} before its status poll, as the server and the node's floor ask`);
				await ctx.sleep(ms);
			},
			now: ctx.now,
		};
		if (firstWait > ctx.options.bulkMaxWaitMs) {
			steps.push(`The node would wait ${seconds(firstWait)} before its first status poll (the server's Retry-After, at least its ${seconds(floor)} floor): longer than this check's Max Wait (${seconds(ctx.options.bulkMaxWaitMs)}), so it did not poll.`);
		} else {
			// the node's own poll loop, allowed the first wait plus half the floor (the clock moves while it
			// starts): it polls once and stops before the next wait, which is never shorter than the floor
			const result = await pollUntilDone(client, statusUrl, runtime, { floorMs: floor, initialWaitMs: started.retryAfterMs ?? floor, maxTotalWaitMs: firstWait + Math.floor(floor / 2), ecw, onPoll: (r) => polls.push(r) });
			const poll = polls[0];
			steps.push(`The node waited ${seconds(waits[0] ?? 0)} (the server asked ${started.retryAfterMs === undefined ? 'nothing' : seconds(started.retryAfterMs)}; its floor is ${seconds(floor)}), then polled: ${poll ? `${poll.httpStatus}${poll.progress ? ` (${poll.progress})` : ''} with ${retryAfterText(poll.retryAfterMs)}` : 'no poll'}.`);
			if (result.timedOut && result.nextWaitMs !== undefined) steps.push(`Its next poll would come ${seconds(result.nextWaitMs)} later.`);
			else if (result.state === 'complete') steps.push(`The export was already complete (${plural(result.manifest?.output.length ?? 0, 'file')}, not downloaded).`);
			else if (result.state === 'failed') throw new Error(result.error ?? `the export failed (HTTP ${result.httpStatus})`);
		}
		const cancelled = await cancelExport(client, statusUrl);
		statusUrl = undefined;
		steps.push(`Cancelled: DELETE answered ${cancelled.httpStatus}${cancelled.alreadyGone ? ' (the job was already gone)' : ''}.`);
		const keptRetryAfter = started.retryAfterMs === undefined || waits.length === 0 || waits[0] >= started.retryAfterMs;
		return {
			check: CHECK,
			status: keptRetryAfter ? 'pass' : 'fail',
			evidence: steps.join(' '),
			whatToDo: keptRetryAfter ? 'Nothing to do. Keep the Bulk Export operation\'s Poll Floor at 30 s or more on eClinicalWorks, which asks not to be polled more often.' : 'The node polled before the server\'s Retry-After: report it with this page.',
		};
	} catch (error) {
		const failure = describeFailure(error);
		if (statusUrl) {
			try {
				const cancelled = await cancelExport(client, statusUrl);
				steps.push(`Cancelled after the failure: DELETE answered ${cancelled.httpStatus}.`);
			} catch {
				steps.push('Cancelling after the failure did not work either: cancel the export with the Bulk Export > Cancel operation.');
			}
		}
		return {
			check: CHECK,
			status: 'fail',
			evidence: `${steps.join(' ')} Failed: ${failure.message}.`.trim(),
			whatToDo: failure.hint ?? 'Check the Group ID and that the app may export it, then run this report again.',
		};
	}
};
