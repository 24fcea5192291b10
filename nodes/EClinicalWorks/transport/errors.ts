import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import type { INode, JsonObject } from 'n8n-workflow';

import { FhirError, InputError } from '../fhir/errors';

/** Turns any error from an operation into the n8n error the user sees, for one item. */
export function toNodeError(node: INode, error: unknown, itemIndex: number): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;

	if (error instanceof InputError) {
		return new NodeOperationError(node, error.message, { itemIndex, description: error.fix });
	}

	if (error instanceof FhirError) {
		// the server's own words first, then what to do about them
		const details = error.outcome?.summary ? `Server said: ${error.outcome.summary}` : undefined;
		const description = [details, error.hint, error.request ? `Request: ${error.request}` : undefined]
			.filter(Boolean)
			.join('\n');
		if (error.status !== undefined) {
			const apiError = new NodeApiError(node, { message: error.message } as JsonObject, {
				itemIndex,
				httpCode: String(error.status),
				message: error.message,
				description: description || undefined,
			});
			return apiError;
		}
		return new NodeOperationError(node, error.message, { itemIndex, description: description || undefined });
	}

	const message = error instanceof Error ? error.message : String(error);
	return new NodeOperationError(node, message, { itemIndex });
}
