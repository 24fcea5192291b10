import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import type { CapabilityStatement } from '../../fhir/capabilitySummary';
import { resourceTypes } from '../../fhir/capabilitySummary';
import { FhirError, InputError } from '../../fhir/errors';
import { validateId } from '../../fhir/patientSearch';
import type { FhirResource } from '../../fhir/simplify';

/** Wraps plain objects as n8n items for one input item. */
export function toItems(records: Array<Record<string, unknown>>, itemIndex: number): INodeExecutionData[] {
	return records.map((json) => ({ json: json as IDataObject, pairedItem: { item: itemIndex } }));
}

const RESOURCE_TYPE = /^[A-Z][A-Za-z]{1,63}$/;

/** Checks the resource type's shape before any request, then that the server serves it. */
export function checkResourceTypeShape(value: unknown, field = 'Resource Type'): string {
	const type = typeof value === 'string' ? value.trim() : '';
	if (!RESOURCE_TYPE.test(type)) {
		throw new InputError(
			field,
			type === '' ? 'is empty' : `"${type.slice(0, 40)}" is not a FHIR resource type name`,
			'Choose a type from the list (it is read from the server), or use the exact FHIR name such as Practitioner',
		);
	}
	return type;
}

export function checkServedType(caps: CapabilityStatement, type: string, field = 'Resource Type'): void {
	const served = resourceTypes(caps);
	if (!served.includes(type)) {
		throw new InputError(
			field,
			`"${type}" is not served by this FHIR server (not in its CapabilityStatement)`,
			`Choose one of: ${served.slice(0, 30).join(', ')}${served.length > 30 ? ', ...' : ''}`,
		);
	}
}

export function readId(value: unknown, field: string): string {
	return validateId(value, field);
}

/** A FhirError with a hint when a follow-up read is not allowed; lets callers degrade instead of failing. */
export function isSoftReadFailure(error: unknown): boolean {
	return error instanceof FhirError && (error.status === 403 || error.status === 404 || error.status === 410);
}

/** Adds an n8n execution hint where the running n8n offers them (a no-op elsewhere). */
export function addHint(ctx: IExecuteFunctions, message: string, type: 'info' | 'warning' = 'info'): void {
	const withHints = ctx as IExecuteFunctions & { addExecutionHints?: IExecuteFunctions['addExecutionHints'] };
	if (typeof withHints.addExecutionHints === 'function') {
		withHints.addExecutionHints({ message, type, location: 'outputPane' });
	}
}

/** Per-execution caches, keyed by the execution context (the same object for every item of one run). */
const executionCaches = new WeakMap<object, Map<string, FhirResource | null>>();

export function referenceCache(ctx: object): Map<string, FhirResource | null> {
	let cache = executionCaches.get(ctx);
	if (!cache) {
		cache = new Map();
		executionCaches.set(ctx, cache);
	}
	return cache;
}

const hintedContexts = new WeakMap<object, Set<string>>();

/** An execution hint given once per run (not once per item). */
export function addHintOnce(ctx: IExecuteFunctions, key: string, message: string, type: 'info' | 'warning' = 'info'): void {
	let seen = hintedContexts.get(ctx);
	if (!seen) {
		seen = new Set();
		hintedContexts.set(ctx, seen);
	}
	if (seen.has(key)) return;
	seen.add(key);
	addHint(ctx, message, type);
}
