import { updateDisplayOptions } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { kickoff } from '../../fhir/bulk/kickoff';
import { isElsewhere } from '../../fhir/bulk/origin';
import { recordStarted } from '../../fhir/bulk/state';
import { advancedParametersField, groupField, levelField, resourceTypesField, serverRulesField, sinceFields } from './fields';
import { applySince, ecwTypeNotes, readExportRequest, scopeCoverageNotes } from './request';
import { addHint, bulkSetup } from './setup';

const properties: INodeProperties[] = [
	levelField,
	groupField,
	resourceTypesField,
	...sinceFields,
	advancedParametersField,
	serverRulesField,
];

const displayOptions = { show: { resource: ['bulkExport'], operation: ['start'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const setup = await bulkSetup(this, itemIndex);
	const request = readExportRequest(this, itemIndex, setup);
	ecwTypeNotes(this, setup, request);
	const typesLeftOut = await scopeCoverageNotes(this, setup, request);
	applySince(this, request);
	const started = await kickoff(setup.client, request.options);
	const now = new Date();
	recordStarted(this.getWorkflowStaticData('node'), request.key, started.statusUrl, now, request.options.since);
	if (isElsewhere(setup.client, started.statusUrl)) {
		addHint(
			this,
			`The server put the status URL on another host (${new URL(started.statusUrl).host}): Check Status and Download send no access token there, so they work only if that host needs none.`,
			'warning',
		);
	}
	return [
		{
			json: {
				state: 'in-progress',
				statusUrl: started.statusUrl,
				startedAt: now.toISOString(),
				since: request.options.since ?? null,
				retryAfterSeconds: started.retryAfterMs === undefined ? undefined : Math.round(started.retryAfterMs / 1000),
				kickOff: started.requestPath,
				...(typesLeftOut ? { typesLeftOut } : {}),
			},
			pairedItem: { item: itemIndex },
		},
	];
}
