import { DateTime } from 'luxon';
import { updateDisplayOptions } from 'n8n-workflow';
import type { IBinaryKeyData, IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { InputError } from '../../fhir/errors';
import { RequestLog } from '../../fhir/readiness/recorder';
import { oauthRedirectUri } from '../../fhir/readiness/redirect';
import { overallCounts, reportData, reportFileBase } from '../../fhir/readiness/report';
import { renderHtml } from '../../fhir/readiness/reportHtml';
import { renderMarkdown } from '../../fhir/readiness/reportMarkdown';
import { requestBound, runReadiness } from '../../fhir/readiness/runner';
import { PACKAGE_VERSION } from '../../fhir/readiness/testEvidence';
import { WORKFLOW_USES } from '../../fhir/readiness/types';
import type { ReadinessContext, ReadinessOptions, WorkflowUse } from '../../fhir/readiness/types';
import { readinessConnection } from '../../transport/readiness';
import { logInfo } from '../../transport/report';
import { checkResourceTypeShape } from '../common/helpers';
import { readinessProperties } from './readinessFields';

/**
 * Server > Check Production Readiness: the evidence eClinicalWorks' production review asks for, from
 * this credential against this practice. The checks live in fhir/readiness/; this file reads the
 * fields, runs them, and returns one item per check plus the report (HTML and Markdown) as files.
 */

const displayOptions = { show: { resource: ['server'], operation: ['checkReadiness'] } };

export const description: INodeProperties[] = updateDisplayOptions(displayOptions, readinessProperties);

function wholeNumber(value: unknown, field: string, min: number, max: number, fallback: number): number {
	if (value === undefined || value === null || value === '') return fallback;
	const n = Number(value);
	if (!Number.isInteger(n) || n < min || n > max) {
		throw new InputError(field, `"${String(value).slice(0, 20)}" is not a whole number from ${min} to ${max}`, `Enter a whole number from ${min} to ${max}.`);
	}
	return n;
}

function readOptions(ctx: IExecuteFunctions, itemIndex: number): { options: ReadinessOptions; extra: IDataObject } {
	const extra = ctx.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const uses = (ctx.getNodeParameter('workflowUses', itemIndex, WORKFLOW_USES) as WorkflowUse[]).filter((u) => WORKFLOW_USES.includes(u));
	const types = String(extra.resourceTypes ?? '')
		.split(/[\s,]+/)
		.filter(Boolean)
		.map((t) => checkResourceTypeShape(t, 'Other Resource Types'));
	const options: ReadinessOptions = {
		uses,
		extraTypes: types,
		renewalBurst: wholeNumber(extra.renewalBurst, 'Reads Across the Token Renewal', 2, 50, 10),
		measureRateLimit: extra.measureRateLimit === true,
		rateLimitBurst: wholeNumber(extra.rateLimitBurst, 'Rate Limit Burst Size', 0, 600, 0),
		tryBulkExport: extra.tryBulkExport === true,
		bulkGroupId: String(extra.bulkGroupId ?? '').trim(),
		bulkPollFloorMs: wholeNumber(extra.bulkPollFloorSeconds, 'Bulk Poll Floor (Seconds)', 1, 600, 30) * 1000,
		bulkMaxWaitMs: wholeNumber(extra.bulkMaxWaitMinutes, 'Bulk Max Wait (Minutes)', 1, 30, 3) * 60_000,
	};
	return { options, extra };
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const { options, extra } = readOptions(this, itemIndex);
	const log = new RequestLog();
	const connection = await readinessConnection(this, itemIndex, log.observe);
	const redirectUri = connection.credential.kind === 'userLogin' ? oauthRedirectUri(this.getInstanceBaseUrl(), this.getRestApiUrl()) : undefined;
	const ctx: ReadinessContext = {
		...connection,
		redirectUri,
		log,
		now: () => Date.now(),
		sleep: async (ms) => await connection.client.transport.sleep(ms),
		options,
		onProgress: (message) => logInfo(this, `Check Production Readiness: ${message}`),
	};
	const run = await runReadiness(ctx);

	const timeZone = this.getTimezone();
	const optIns = [options.measureRateLimit ? 'measured rate-limit burst' : '', options.tryBulkExport ? 'bulk export kick-off and cancel' : ''].filter(Boolean);
	const data = reportData(
		{
			packageVersion: PACKAGE_VERSION,
			n8nVersion: String(extra.n8nVersion ?? '').trim() || undefined,
			credential: connection.credential,
			generatedAt: DateTime.fromMillis(run.startedAt, { zone: timeZone }).toFormat('yyyy-MM-dd HH:mm:ss ZZ'),
			timeZone,
			optIns,
			requestBound: requestBound(options.renewalBurst),
		},
		run,
	);

	const format = String(extra.reportFormat ?? 'both');
	const property = String(extra.binaryPropertyName ?? 'report').trim() || 'report';
	const fileBase = reportFileBase(data.meta);
	const binary: IBinaryKeyData = {};
	if (format !== 'markdown') binary[property] = await this.helpers.prepareBinaryData(Buffer.from(renderHtml(data), 'utf8'), `${fileBase}.html`, 'text/html');
	if (format !== 'html') {
		const name = format === 'markdown' ? property : `${property}Markdown`;
		binary[name] = await this.helpers.prepareBinaryData(Buffer.from(renderMarkdown(data), 'utf8'), `${fileBase}.md`, 'text/markdown');
	}

	const { summary } = data;
	const summaryItem: INodeExecutionData = {
		json: {
			check: 'Summary',
			status: summary.overall,
			evidence: `${overallCounts(data)}; ${run.requests.filter((r) => r.kind !== 'sandbox').length} requests to the server.`,
			whatToDo: summary.overall === 'pass' ? 'Confirm the items marked to confirm, then attach the report to the production request.' : 'Fix what the failed and warning checks say, then run this report again.',
			reportFile: `${fileBase}.${format === 'markdown' ? 'md' : 'html'}`,
		},
		binary,
		pairedItem: { item: itemIndex },
	};
	return [summaryItem, ...run.results.map((result) => ({ json: { ...result } as IDataObject, pairedItem: { item: itemIndex } }))];
}
