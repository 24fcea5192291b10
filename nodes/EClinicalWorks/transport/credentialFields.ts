import type { INodeProperties } from 'n8n-workflow';

/** Credential fields both credentials carry (the backend-service and the user-login one). */

/** Queue mode: each n8n process keeps to the rate limit divided by this (docs/queue-mode.md). */
export const rateLimitProcessesField: INodeProperties = {
	displayName: 'Processes Sharing This Limit',
	name: 'rateLimitProcesses',
	type: 'number',
	default: 1,
	typeOptions: { minValue: 1 },
	description:
		'How many n8n processes use this credential at the same time. 1 for a single n8n. In queue mode: the number of workers, plus 1 when the main process runs triggers for these practices. Each process keeps to Rate Limit divided by this number, so together they stay within the limit.',
};
