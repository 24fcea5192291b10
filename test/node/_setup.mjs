// Shared setup for the node's workflow tests: sandbox credentials and small helpers.
import { runNode } from '../helpers/n8n.mjs';
import { credentialFor } from '../transport/_support.mjs';

export const NODE_TYPE = 'n8n-nodes-eclinicalworks.eClinicalWorks';

/** Credential data for a sandbox backend client, as stored in n8n (field names of credentials/EClinicalWorksApi). */
export function backendCredential(sandbox, clientId = 'sandbox-rs384', extra = {}) {
	const client = sandbox.clients.find((c) => c.clientId === clientId);
	return { eClinicalWorksApi: credentialFor(sandbox, client, extra) };
}

/** Runs the node once against the sandbox and returns the harness result plus convenience fields. */
export async function run(sandbox, parameters, { inputItems, continueOnFail, timezone = sandbox.timeZone, clientId, credentialExtra } = {}) {
	const result = await runNode({
		type: NODE_TYPE,
		parameters: { authentication: 'backendService', ...parameters },
		credentials: backendCredential(sandbox, clientId, credentialExtra),
		inputItems,
		continueOnFail,
		timezone,
	});
	const task = result.data?.data?.resultData?.runData?.Node?.at(-1);
	return {
		result,
		items: result.itemsOf('Node') ?? [],
		json: result.outputOf('Node') ?? [],
		error: result.nodeError('Node') ?? result.error,
		hints: task?.hints ?? [],
	};
}

/** FHIR requests the sandbox saw since `from` (index into stats.log), without token and discovery calls. */
export function fhirRequests(sandbox, from = 0) {
	return sandbox.stats.log.slice(from).filter((e) => e.path.includes('/fhir/') && !e.path.endsWith('/.well-known/smart-configuration'));
}
