import { updateDisplayOptions } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { isElsewhere } from '../../fhir/bulk/origin';
import { beginExport } from './begin';
import { advancedParametersField, groupField, levelField, resourceTypesField, serverRulesField, sinceFields } from './fields';
import { ecwTypeNotes, readExportRequest, scopeCoverageNotes } from './request';
import { addHint, bulkSetup } from './setup';
import { openExportState } from './state';
import { restartInterruptedField, stateStoreFields } from './stateFields';

const properties: INodeProperties[] = [
	levelField,
	groupField,
	resourceTypesField,
	...sinceFields,
	advancedParametersField,
	...stateStoreFields,
	restartInterruptedField,
	serverRulesField,
];

const displayOptions = { show: { resource: ['bulkExport'], operation: ['start'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const setup = await bulkSetup(this, itemIndex);
	const request = readExportRequest(this, itemIndex, setup);
	ecwTypeNotes(this, setup, request);
	const typesLeftOut = await scopeCoverageNotes(this, setup, request);
	const state = await openExportState(this, itemIndex, setup);
	const begun = await beginExport(this, itemIndex, setup, request, state);
	if (begun.kind === 'elsewhere') return [begun.item];
	const held = begun.held;
	// the loop that follows (Wait, Check Status) keeps it: Check Status renews the claim
	await held.park(begun.kind === 'started' ? (begun.kick.retryAfterMs ?? 0) : 0);
	const statusUrl = begun.kind === 'started' ? begun.kick.statusUrl : held.row.statusUrl;
	if (isElsewhere(setup.client, statusUrl)) {
		addHint(
			this,
			`The server put the status URL on another host (${new URL(statusUrl).host}): Check Status and Download send no access token there, so they work only if that host needs none.`,
			'warning',
		);
	}
	return [
		{
			json: {
				state: 'in-progress',
				statusUrl,
				startedAt: held.row.startedAt || new Date(setup.runtime.now()).toISOString(),
				since: request.options.since ?? null,
				retryAfterSeconds: begun.kind === 'started' && begun.kick.retryAfterMs !== undefined ? Math.round(begun.kick.retryAfterMs / 1000) : undefined,
				kickOff: begun.kind === 'started' ? begun.kick.requestPath : undefined,
				...(begun.kind === 'resumed' ? { resumed: true, message: 'An export with these settings was already running: this is its status URL. Nothing new was started.' } : {}),
				...(typesLeftOut ? { typesLeftOut } : {}),
			},
			pairedItem: { item: itemIndex },
		},
	];
}
