import { updateDisplayOptions } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { tryCancelElsewhere } from '../../fhir/bulk/cancel';
import type { HeldExport } from '../../fhir/bulk/claim';
import { isElsewhere, isOriginRefusal, statusElsewhereError } from '../../fhir/bulk/origin';
import { pollUntilDone } from '../../fhir/bulk/status';
import type { PollResult } from '../../fhir/bulk/status';
import { requestLabel, settle } from '../../fhir/bulk/util';
import { FhirError } from '../../fhir/errors';
import { LONG_WAIT_MS, formatWait } from '../../fhir/retry';
import {
	advancedParametersField,
	downloadFields,
	groupField,
	levelField,
	pollFields,
	resourceTypesField,
	serverRulesField,
	sinceFields,
} from './fields';
import { adoptNamedExport, beginExport, kickoffHeld } from './begin';
import { downloadManifest, readDownloadSettings, summaryItem } from './output';
import { ecwTypeNotes, intentFor, readExportRequest, scopeCoverageNotes } from './request';
import { addHint, bulkSetup, cancelOnAbort, logLongWait, reportLongWaits } from './setup';
import { openExportState } from './state';
import { restartInterruptedField, stateStoreFields } from './stateFields';

const properties: INodeProperties[] = [
	levelField,
	groupField,
	resourceTypesField,
	...sinceFields,
	advancedParametersField,
	...downloadFields,
	...pollFields,
	{
		displayName: 'Resume From Status URL',
		name: 'resumeStatusUrl',
		type: 'string',
		default: '',
		placeholder: 'e.g. {{ $json.statusUrl }}',
		description:
			'Continue an export that is already running (the status URL a timed-out run returned) instead of starting a new one. Empty: resume the unfinished export kept in the export state for the same settings, if any, else start one.',
	},
	...stateStoreFields,
	restartInterruptedField,
	serverRulesField,
];

const displayOptions = { show: { resource: ['bulkExport'], operation: ['export'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const setup = await bulkSetup(this, itemIndex);
	const request = readExportRequest(this, itemIndex, setup);
	ecwTypeNotes(this, setup, request);
	const settings = readDownloadSettings(this, itemIndex);
	const typesLeftOut = await scopeCoverageNotes(this, setup, request);
	const floorMs = Math.max(0, Number(this.getNodeParameter('pollFloorSeconds', itemIndex, 30))) * 1000;
	const maxTotalWaitMs = Math.max(0, Number(this.getNodeParameter('maxWaitMinutes', itemIndex, 60))) * 60000;
	const explicitResume = (this.getNodeParameter('resumeStatusUrl', itemIndex, '') as string).trim();
	const state = await openExportState(this, itemIndex, setup);

	let statusUrl: string | undefined;
	let held: HeldExport | undefined;
	let parked = false;
	const stopWatching = cancelOnAbort(this, setup, () => statusUrl);
	try {
		let autoResumed = false;
		let startedHere = false;
		let initialWaitMs = 0;
		if (explicitResume !== '') {
			statusUrl = explicitResume;
			held = await adoptNamedExport(setup, request, state, explicitResume);
		} else {
			const begun = await beginExport(this, itemIndex, setup, request, state);
			if (begun.kind === 'elsewhere') return [begun.item];
			held = begun.held;
			if (begun.kind === 'resumed') {
				statusUrl = held.row.statusUrl;
				autoResumed = true;
			} else {
				statusUrl = begun.kick.statusUrl;
				startedHere = true;
				initialWaitMs = begun.kick.retryAfterMs ?? floorMs;
			}
		}
		const holding = held;
		// while this run polls and downloads, it renews its claim: another run sees it alive
		holding.startHeartbeat();

		const poll = async (url: string, wait: number): Promise<PollResult> => {
			const polled = await settle(
				pollUntilDone(setup.client, url, setup.runtime, {
					floorMs,
					maxTotalWaitMs,
					initialWaitMs: wait,
					ecw: setup.ecw,
				}),
			);
			if (polled.ok) return polled.value;
			const error = polled.error;
			if (isOriginRefusal(error) && isElsewhere(setup.client, url)) {
				// the status URL is out of reach without sending the token elsewhere: forget it, stop what we started
				await holding.ended();
				const outcome = startedHere ? await tryCancelElsewhere(setup.client, url) : 'not-tried';
				throw statusElsewhereError(setup.client, url, error.status, outcome);
			}
			throw error;
		};

		let result = await poll(statusUrl, initialWaitMs);
		if (result.state === 'failed' && result.gone && autoResumed) {
			// the export this key left running is gone (expired or cancelled): start a fresh one
			await holding.restart(intentFor(request)(holding.row));
			const kick = await kickoffHeld(setup, request, holding);
			statusUrl = kick.statusUrl;
			startedHere = true;
			result = await poll(statusUrl, kick.retryAfterMs ?? floorMs);
		}

		if (result.state === 'failed') {
			await holding.ended();
			throw new FhirError(result.reason ?? 'The bulk export failed', {
				kind: 'http',
				status: result.httpStatus || undefined,
				outcome: result.outcome,
				hint: result.gone
					? 'Start a new export (clear Resume From Status URL).'
					: 'The server could not complete the export. Try again later or with fewer resource types.',
				request: requestLabel('GET', statusUrl),
			});
		}

		if (result.timedOut || result.state !== 'complete' || !result.manifest) {
			const next = result.nextWaitMs;
			// Max Total Wait 0 is the Wait-node loop (docs/queue-mode.md): this execution comes back to it, so
			// it keeps the export until the next check is due; otherwise the next run takes it over at once
			await holding.stopHeartbeat();
			if (maxTotalWaitMs === 0) {
				await holding.park(next ?? 0);
				parked = true;
			}
			if (next !== undefined && next >= LONG_WAIT_MS) {
				const said = `Stopped waiting: the next status check is due in ${formatWait(next)} (${result.nextWaitReason ?? 'the server\'s Retry-After'}), later than Max Wait allows. Run this node again later to resume the export.`;
				logLongWait(this, said);
				addHint(this, said, 'info');
			}
			reportLongWaits(this, setup);
			return [
				{
					json: {
						state: 'in-progress',
						timedOut: true,
						statusUrl,
						progress: result.progress,
						waitedSeconds: Math.round(result.waitedMs / 1000),
						nextCheckInSeconds: next === undefined ? undefined : Math.ceil(next / 1000),
						polls: result.polls,
						...(typesLeftOut ? { typesLeftOut } : {}),
						message: `The export is still running. Run this node again to resume it (the status URL is kept in ${state.rows.label}), or use Check Status / Download with this status URL. Do not start another export: eClinicalWorks rejects a duplicate while one runs.`,
					},
					pairedItem: { item: itemIndex },
				},
			];
		}

		const manifest = result.manifest;
		const outcome = await downloadManifest(this, itemIndex, setup, manifest, settings, statusUrl);
		reportLongWaits(this, setup);
		if (outcome.items.length === 0) return [summaryItem(itemIndex, manifest, outcome, statusUrl, typesLeftOut)];
		return outcome.items;
	} finally {
		// done waiting and downloading: stopping the workflow later must not delete the export
		stopWatching();
		await held?.stopHeartbeat();
		// this run ends: unless a Wait loop comes back to it, the export (if still running) is free to
		// be resumed by the next run at once; only a killed process leaves its claim to lapse
		if (held && !parked) await held.release().catch(() => undefined);
	}
}
