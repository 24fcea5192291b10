// Credentials and workflows for the queue-mode suite and benchmark. Executions reach the workers
// the way production ones do: a webhook or the trigger on the main process enqueues them.
import { CREDENTIAL_TYPE, NODE_TYPE, TRIGGER_TYPE } from '../fixtures.mjs';

let nodeSeq = 0;
export const nodeId = () => `q${String(++nodeSeq).padStart(7, '0')}-0000-4000-8000-000000000000`;

/**
 * An eClinicalWorks Production credential pointed at a sandbox practice, filled in the way the
 * README says for eCW: token URL discovered (eCW's one token URL; a token request counts in
 * the budget of the practice that uses the token), RS384 key, the 250/minute limit shared by `processes` n8n processes.
 */
export function ecwCredential(sandbox, { id, name, practiceCode, processes = 2, rateLimitPerMinute = 250 }) {
	const client = sandbox.clients.find((c) => c.alg === 'RS384' && c.scopes.includes('Group'));
	return {
		id,
		name,
		type: CREDENTIAL_TYPE,
		data: {
			environment: 'ecwProduction',
			baseUrl: `${sandbox.origin}/fhir/r4/{practiceCode}`,
			practiceCode,
			tokenUrl: '',
			clientId: client.clientId,
			authMethod: 'privateKeyJwt',
			privateKey: client.privateKeyPem,
			algorithm: 'RS384',
			keyId: client.kid,
			jwksUrl: '',
			scopes: client.scopes,
			rateLimitPerMinute,
			rateLimitProcesses: processes,
		},
	};
}

export const credentialRef = (c) => ({ [CREDENTIAL_TYPE]: { id: c.id, name: c.name } });

export function webhookNode(path, { responseMode = 'lastNode', responseData = 'allEntries', position = [0, 0] } = {}) {
	return {
		id: nodeId(),
		name: 'Webhook',
		type: 'n8n-nodes-base.webhook',
		typeVersion: 2,
		position,
		webhookId: nodeId(),
		parameters: { httpMethod: 'POST', path, responseMode, ...(responseMode === 'lastNode' ? { responseData } : {}), options: {} },
	};
}

/** An example workflow with a production webhook added beside its schedule trigger (same first node). */
export function withWebhook(workflow, path) {
	const wf = JSON.parse(JSON.stringify(workflow));
	const schedule = wf.nodes.find((n) => n.type === 'n8n-nodes-base.scheduleTrigger');
	if (!schedule) throw new Error(`${wf.name}: no schedule trigger to run beside`);
	const hook = webhookNode(path, { responseMode: 'lastNode', responseData: 'firstEntryJson', position: [schedule.position[0], schedule.position[1] + 200] });
	hook.name = 'Run from the queue suite';
	wf.nodes.push(hook);
	wf.connections[hook.name] = JSON.parse(JSON.stringify(wf.connections[schedule.name]));
	return wf;
}

/**
 * Webhook (body `{ days: ["2026-01-05", ...] }`) -> one item per day -> Get Appointments (Return All)
 * for that day in the credential's practice; answers with every visit of every day.
 */
export function appointmentsWorkflow({ id, name, path, credential }) {
	const hook = webhookNode(path);
	const days = {
		id: nodeId(),
		name: 'One item per day',
		type: 'n8n-nodes-base.splitOut',
		typeVersion: 1,
		position: [250, 0],
		parameters: { fieldToSplitOut: 'body.days', include: 'noOtherFields', options: { destinationFieldName: 'day' } },
	};
	const get = {
		id: nodeId(),
		name: 'Get appointments',
		type: NODE_TYPE,
		typeVersion: 1,
		position: [500, 0],
		credentials: credentialRef(credential),
		parameters: { authentication: 'backendService', resource: 'appointment', operation: 'getMany', dateRange: 'custom', from: '={{ $json.day }}', to: '={{ $json.day }}', source: 'auto', returnAll: true, filters: {}, options: {} },
	};
	return {
		id,
		name,
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [hook, days, get],
		connections: { Webhook: { main: [[{ node: days.name, type: 'main', index: 0 }]] }, [days.name]: { main: [[{ node: get.name, type: 'main', index: 0 }]] } },
	};
}

/** The trigger on visits (every minute) -> No Operation; its executions are read back from the database. */
export function triggerWorkflow({ id, name, credential, daysAhead = 7 }) {
	const trigger = {
		id: nodeId(),
		name: 'Visit booked or changed',
		type: TRIGGER_TYPE,
		typeVersion: 1,
		position: [0, 0],
		credentials: credentialRef(credential),
		parameters: { authentication: 'backendService', event: 'appointmentChanged', practiceCodes: '', pollTimes: { item: [{ mode: 'everyMinute' }] }, options: { daysAhead } },
	};
	const done = { id: nodeId(), name: 'Received', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [300, 0], parameters: {} };
	return { id, name, active: false, settings: { executionOrder: 'v1' }, nodes: [trigger, done], connections: { [trigger.name]: { main: [[{ node: done.name, type: 'main', index: 0 }]] } } };
}

/** Bulk Export > Export node (Group grp-1, Files) with the given extra parameters. */
export function exportNode(credential, parameters = {}, { name = 'Export', position = [300, 0] } = {}) {
	return {
		id: nodeId(),
		name,
		type: NODE_TYPE,
		typeVersion: 1,
		position,
		credentials: credentialRef(credential),
		parameters: {
			authentication: 'backendService',
			resource: 'bulkExport',
			operation: 'export',
			level: 'group',
			groupId: { __rl: true, mode: 'id', value: 'grp-1' },
			resourceTypes: ['Patient'],
			sinceMode: 'none',
			outputMode: 'files',
			binaryProperty: 'data',
			pollFloorSeconds: 1,
			maxWaitMinutes: 5,
			...parameters,
		},
	};
}

/** Webhook -> Export (Files); answers with the file items (binary data stays in n8n's store). */
export function exportWorkflow({ id, name, path, credential, parameters }) {
	const hook = webhookNode(path);
	const node = exportNode(credential, parameters);
	return { id, name, active: false, settings: { executionOrder: 'v1' }, nodes: [hook, node], connections: { Webhook: { main: [[{ node: node.name, type: 'main', index: 0 }]] } } };
}

/**
 * The crash-safe way to export on workers (docs/queue-mode.md): Export with Max Total Wait 0 starts
 * or resumes the export and returns at once; while it runs, a Wait of over 65 s hands the execution
 * back to the database (n8n saves it, and the status URL Export keeps in the workflow's static data),
 * then Export resumes it. A worker that dies loses one turn of the loop, never the status URL.
 */
export function checkpointedExportWorkflow({ id, name, path, credential, waitSeconds = 66, parameters = {} }) {
	const hook = webhookNode(path, { responseMode: 'onReceived' });
	const exp = exportNode(credential, { maxWaitMinutes: 0, sinceMode: 'lastSuccess', resumeStatusUrl: '={{ $json.state === "in-progress" ? $json.statusUrl : "" }}', ...parameters }, { name: 'Export (start or resume)' });
	const running = {
		id: nodeId(),
		name: 'Still running?',
		type: 'n8n-nodes-base.if',
		typeVersion: 2.2,
		position: [600, 0],
		parameters: {
			conditions: {
				options: { caseSensitive: true, leftValue: '', typeValidation: 'loose', version: 2 },
				combinator: 'and',
				conditions: [{ id: nodeId(), leftValue: '={{ $json.state }}', rightValue: 'in-progress', operator: { type: 'string', operation: 'equals' } }],
			},
			options: {},
		},
	};
	const wait = { id: nodeId(), name: 'Wait', type: 'n8n-nodes-base.wait', typeVersion: 1.1, position: [900, -150], webhookId: nodeId(), parameters: { resume: 'timeInterval', amount: waitSeconds, unit: 'seconds' } };
	const files = { id: nodeId(), name: 'Files', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [900, 150], parameters: {} };
	return {
		id,
		name,
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [hook, exp, running, wait, files],
		connections: {
			Webhook: { main: [[{ node: exp.name, type: 'main', index: 0 }]] },
			[exp.name]: { main: [[{ node: running.name, type: 'main', index: 0 }]] },
			[running.name]: { main: [[{ node: wait.name, type: 'main', index: 0 }], [{ node: files.name, type: 'main', index: 0 }]] },
			[wait.name]: { main: [[{ node: exp.name, type: 'main', index: 0 }]] },
		},
	};
}
