import { NodeOperationError } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { toNodeError } from '../transport/errors';
import { resources } from './resources';

/** The value n8n gives the "Custom API Call" option it adds to the Resource and Operation lists. */
const CUSTOM_API_CALL = '__CUSTOM_API_CALL__';

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const resourceName = this.getNodeParameter('resource', 0) as string;
	const operationName = resourceName === CUSTOM_API_CALL ? CUSTOM_API_CALL : (this.getNodeParameter('operation', 0) as string);

	if (operationName === CUSTOM_API_CALL) {
		throw new NodeOperationError(this.getNode(), "Custom API Call runs in n8n's HTTP Request node, not in this node", {
			description:
				'Add an HTTP Request node. Set Authentication to Predefined Credential Type, Credential Type to eClinicalWorks (Backend Service) API and your credential, and URL to the FHIR base URL and path (for example the base URL followed by /Patient?identifier=1234567). n8n adds the token (to requests to the FHIR server only) and paces the requests. Then delete this node, or choose another operation.',
		});
	}
	const resource = resources.find((r) => r.value === resourceName);
	const operation = resource?.operations[operationName];
	if (!operation) {
		throw new NodeOperationError(
			this.getNode(),
			`The operation "${operationName}" of resource "${resourceName}" is not supported`,
			{ description: 'Choose a resource and operation from the lists in the node.' },
		);
	}

	const output: INodeExecutionData[] = [];
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			const results = await operation.call(this, itemIndex);
			for (const result of results) {
				output.push({ ...result, pairedItem: result.pairedItem ?? { item: itemIndex } });
			}
		} catch (error) {
			const nodeError = toNodeError(this.getNode(), error, itemIndex);
			if (this.continueOnFail()) {
				// On Error: Continue (using error output): n8n moves an item to the error output only when
				// its fields are error, message or details, so the hint goes in `details` there.
				const description = nodeError.description ?? undefined;
				const toErrorOutput = this.getNode().onError === 'continueErrorOutput';
				output.push({
					json: toErrorOutput ? { error: nodeError.message, details: description } : { error: nodeError.message, description },
					pairedItem: { item: itemIndex },
				});
				continue;
			}
			throw nodeError;
		}
	}
	return [output];
}
