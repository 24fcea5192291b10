import type { IExecuteFunctions, ILoadOptionsFunctions, IPollFunctions } from 'n8n-workflow';

import { redact } from '../fhir/redact';
import { formatWait } from '../fhir/retry';

/** What a long-running node is doing, told to the person watching: n8n's log and the output hints. */

type Context = IExecuteFunctions | ILoadOptionsFunctions | IPollFunctions;

/** A line in n8n's log (never a token, a URL with its query, or a record). */
export function logInfo(ctx: Context, message: string): void {
	const logger = (ctx as { logger?: IExecuteFunctions['logger'] }).logger;
	if (logger && typeof logger.info === 'function') logger.info(`eClinicalWorks (node "${ctx.getNode().name}"): ${redact(message)}`);
}

/** Waits of a minute or more go to n8n's log and (in a node run) into an output hint: never silent. */
export function longWaitReporter(ctx: Context): (ms: number, reason: string) => void {
	return (ms, reason) => {
		logInfo(ctx, `waiting ${formatWait(ms)} for ${reason}`);
		const withHints = ctx as IExecuteFunctions & { addExecutionHints?: IExecuteFunctions['addExecutionHints'] };
		if (typeof withHints.addExecutionHints === 'function') {
			withHints.addExecutionHints({ message: `Waited ${formatWait(ms)} for ${reason}.`, type: 'info', location: 'outputPane' });
		}
	};
}
