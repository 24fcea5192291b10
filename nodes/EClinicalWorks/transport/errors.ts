import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import type { INode, JsonObject } from 'n8n-workflow';

import { FhirError, InputError } from '../fhir/errors';
import { redact } from '../fhir/redact';

/** A sentence for n8n's error view, which runs lines together: it ends with a full stop. */
export function sentence(text: string): string {
	const trimmed = text.trim();
	return trimmed === '' || /[.!?…]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/** What the server said, as the user reads it (or why it is not shown). */
function serverWords(error: FhirError): string | undefined {
	const outcome = error.outcome;
	if (!outcome) return undefined;
	if (outcome.textLeftOut) {
		const codes = outcome.summary ? ` (${outcome.summary})` : '';
		return `The server's own words are left out${codes}: the credential's Server Text in Errors is set to Leave Out`;
	}
	return outcome.summary ? `Server said: ${outcome.summary}` : undefined;
}

/**
 * Turns any error from an operation into the n8n error the user sees, for one item. Everything in it
 * is redacted once more (the transport already took the secrets it knows out of the server's text).
 */
export function toNodeError(node: INode, error: unknown, itemIndex: number): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;

	if (error instanceof InputError) {
		return new NodeOperationError(node, redact(error.message), { itemIndex, description: sentence(redact(error.fix)) });
	}

	if (error instanceof FhirError) {
		// the server's own words first, then what to do about them, then the request
		const words = serverWords(error);
		const description = [words, error.hint, error.request ? `Request: ${error.request}` : undefined]
			.filter((part): part is string => !!part && part.trim() !== '')
			.map((part) => sentence(redact(part)))
			.join('\n');
		const message = redact(error.message);
		if (error.status !== undefined) {
			return new NodeApiError(node, { message } as JsonObject, {
				itemIndex,
				httpCode: String(error.status),
				message,
				description: description || undefined,
			});
		}
		return new NodeOperationError(node, message, { itemIndex, description: description || undefined });
	}

	const message = redact(error instanceof Error ? error.message : String(error));
	return new NodeOperationError(node, message, { itemIndex });
}
