import { updateDisplayOptions } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { tryCancelElsewhere } from '../../fhir/bulk/cancel';
import { kickoff } from '../../fhir/bulk/kickoff';
import { isElsewhere, isOriginRefusal, statusElsewhereError } from '../../fhir/bulk/origin';
import { pollUntilDone } from '../../fhir/bulk/status';
import type { PollResult } from '../../fhir/bulk/status';
import { clearInFlight, readState, recordStarted } from '../../fhir/bulk/state';
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
import { downloadManifest, readDownloadSettings, summaryItem } from './output';
import { applySince, ecwTypeNotes, readExportRequest, scopeCoverageNotes } from './request';
import { addHint, bulkSetup, cancelOnAbort, logLongWait, reportLongWaits } from './setup';

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
			'Continue an export that is already running (the status URL a timed-out run returned) instead of starting a new one. Empty: resume the unfinished export this workflow started with the same settings, if any, else start one.',
	},
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
	const staticData = this.getWorkflowStaticData('node');

	let statusUrl: string | undefined;
	const stopWatching = cancelOnAbort(this, setup, () => statusUrl);
	try {

		const start = async (): Promise<{ url: string; initialWaitMs: number }> => {
			applySince(this, request);
			const started = await kickoff(setup.client, request.options);
			recordStarted(staticData, request.key, started.statusUrl, new Date(), request.options.since);
			return { url: started.statusUrl, initialWaitMs: started.retryAfterMs ?? floorMs };
		};

		let autoResumed = false;
		let startedHere = false;
		let initialWaitMs = 0;
		if (explicitResume !== '') {
			statusUrl = explicitResume;
		} else {
			const inFlight = readState(staticData, request.key).inFlight;
			if (inFlight) {
				statusUrl = inFlight.statusUrl;
				autoResumed = true;
			} else {
				const started = await start();
				statusUrl = started.url;
				startedHere = true;
				initialWaitMs = started.initialWaitMs;
			}
		}

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
				clearInFlight(staticData, request.key, url);
				const outcome = startedHere ? await tryCancelElsewhere(setup.client, url) : 'not-tried';
				throw statusElsewhereError(setup.client, url, error.status, outcome);
			}
			throw error;
		};

		let result = await poll(statusUrl, initialWaitMs);
		if (result.state === 'failed' && result.gone && autoResumed) {
			// the export this workflow left running is gone (expired or cancelled): start a fresh one
			clearInFlight(staticData, request.key, statusUrl);
			const started = await start();
			statusUrl = started.url;
			startedHere = true;
			result = await poll(statusUrl, started.initialWaitMs);
		}

		if (result.state === 'failed') {
			clearInFlight(staticData, request.key, statusUrl);
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
			if (explicitResume !== '') recordStarted(staticData, request.key, statusUrl, new Date(), request.options.since);
			const next = result.nextWaitMs;
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
						message:
							'The export is still running. Run this node again to resume it (it remembers the status URL), or use Check Status / Download with this status URL. Do not start another export: eClinicalWorks rejects a duplicate while one runs.',
					},
					pairedItem: { item: itemIndex },
				},
			];
		}

		const manifest = result.manifest;
		// make sure a completed download is recorded even when the status URL came from elsewhere
		recordStarted(staticData, request.key, statusUrl, new Date(), request.options.since);
		const outcome = await downloadManifest(this, itemIndex, setup, manifest, settings, statusUrl);
		reportLongWaits(this, setup);
		if (outcome.items.length === 0) return [summaryItem(itemIndex, manifest, outcome, statusUrl, typesLeftOut)];
		return outcome.items;
	} finally {
		// done waiting and downloading: stopping the workflow later must not delete the export
		stopWatching();
	}
}
