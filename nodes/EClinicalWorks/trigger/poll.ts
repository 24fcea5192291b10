import { NodeOperationError } from 'n8n-workflow';
import type { IDataObject, INodeExecutionData, IPollFunctions } from 'n8n-workflow';

import { toMillis } from '../fhir/changes';
import { resolveTimeZone } from '../fhir/dates';
import type { Change } from '../fhir/changes';
import { getFhirClient } from '../transport';
import { toNodeError } from '../transport/errors';
import { EVENT_PATIENT } from './description';
import { toItems } from './output';
import { pollPractice } from './strategies';
import type { PracticePollResult } from './strategies';
import { watchedSource, watchedType } from './source';
import { loadState, saveState, strategyOf } from './state';
import { pickStrategy } from './strategies/strategy';

/** Pages read per poll when the server sorts by `_lastUpdated` (the next poll goes on from there). */
const MAX_PAGES_PER_POLL = 50;

/**
 * `ABC, DEF` -> ['ABC', 'DEF']; empty -> [''] (the credential's practice). Each code is checked when
 * its client is built, so a malformed code fails only its own practice.
 */
export function parsePracticeCodes(value: unknown): string[] {
	const codes = (typeof value === 'string' ? value : '')
		.split(/[\s,;]+/)
		.map((code) => code.trim())
		.filter(Boolean);
	const unique = [...new Set(codes)];
	return unique.length > 0 ? unique : [''];
}

interface PracticeOutcome {
	code: string;
	result?: PracticePollResult;
	items?: INodeExecutionData[];
	error?: unknown;
}

function describeFailure(this: IPollFunctions, code: string, error: unknown) {
	const nodeError = toNodeError(this.getNode(), error, 0);
	if (code) nodeError.message = `Practice ${code}: ${nodeError.message}`;
	return nodeError;
}

/**
 * The trigger's poll: every practice in turn, each with its own cursor (keyed by resolved base URL).
 * A practice that fails keeps its position and is tried again at the next poll; the poll only fails
 * when nothing could be emitted at all.
 */
export async function pollTrigger(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
	const event = this.getNodeParameter('event', '') as string;
	const simple = (this.getNodeParameter('output', 'simplified') as string) !== 'raw';
	const options = (this.getNodeParameter(event === EVENT_PATIENT ? 'patientOptions' : 'options', {}) ?? {}) as IDataObject;
	const manual = this.getMode() === 'manual';
	let zone: string;
	try {
		zone = resolveTimeZone(options.timeZone, this.getTimezone());
	} catch (error) {
		throw toNodeError(this.getNode(), error, 0);
	}
	const staticData = this.getWorkflowStaticData('node');
	const pageSize = Math.max(1, Math.min(1000, Math.floor(Number(options.pageSize ?? 100)) || 100));

	const codes = parsePracticeCodes(this.getNodeParameter('practiceCodes', ''));

	const outcomes: PracticeOutcome[] = [];
	for (const code of codes) {
		const outcome: PracticeOutcome = { code };
		outcomes.push(outcome);
		try {
			const client = await getFhirClient.call(this, 0, code ? { practiceCode: code } : undefined);
			const caps = await client.capabilities();
			const type = watchedType(caps, event);
			const state = loadState(staticData, client.baseUrl, type);
			// The strategy is picked from the CapabilityStatement at activation and kept in the state.
			const strategy = state ? strategyOf(state) : pickStrategy(caps, type);
			const source = watchedSource(caps, {
				event,
				strategy,
				zone,
				simple,
				daysAhead: options.daysAhead as number | undefined,
				location: options.location as string | undefined,
				practitioner: options.practitioner as string | undefined,
				statuses: options.statuses as string[] | undefined,
			});
			const result = await pollPractice({
				client,
				source,
				state,
				mode: manual ? 'manual' : 'trigger',
				pageSize,
				maxPages: MAX_PAGES_PER_POLL,
			});
			outcome.result = result;
			if (!manual && result.state) saveState(staticData, client.baseUrl, source.type, result.state);
			const changes: Change[] = result.changes;
			outcome.items = await toItems(client, changes, {
				simple,
				zone,
				practiceCode: code,
				caps,
				included: result.included,
				followUp: source.followUp,
				ecw: await client.isEcw(),
			});
			if (result.interrupted) outcome.error = result.interrupted;
		} catch (error) {
			outcome.error = error;
		}
	}

	const failed = outcomes.filter((outcome) => outcome.error !== undefined && !(outcome.items?.length ?? 0));
	if (manual) {
		// One item: the most recent record among the practices.
		let best: { item: INodeExecutionData; ms: number } | undefined;
		for (const outcome of outcomes) {
			const change = outcome.result?.changes[0];
			const item = outcome.items?.[0];
			if (!change || !item) continue;
			const ms = toMillis(change.lastUpdated) ?? 0;
			if (!best || ms > best.ms) best = { item, ms };
		}
		if (best) return [[best.item]];
		if (failed.length > 0) throw describeFailure.call(this, failed[0].code, failed[0].error);
		throw new NodeOperationError(this.getNode(), 'No record found to use as a test event', {
			description:
				event === EVENT_PATIENT
					? 'The server returned no patients.'
					: 'The server returned no visits matching the options (status, location, practitioner, Visits Within (Days), which is 14 days when 0 on servers without _lastUpdated such as eClinicalWorks). Loosen the options or create a visit, then fetch again.',
		});
	}

	const items = outcomes.flatMap((outcome) => outcome.items ?? []);
	if (items.length > 0) return [items];
	if (failed.length > 0) throw describeFailure.call(this, failed[0].code, failed[0].error);
	return null;
}
