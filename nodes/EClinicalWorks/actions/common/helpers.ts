import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import type { CapabilityStatement } from '../../fhir/capabilitySummary';
import { offeringInteraction, resourceCapability, resourceTypes } from '../../fhir/capabilitySummary';
import { FhirError, InputError } from '../../fhir/errors';
import { idFromReference, validateId } from '../../fhir/ids';
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

/**
 * The type must be one the server declares, with the interaction asked for (`search-type`, `read`):
 * eCW, for one, lists Binary, Claim and OperationDefinition for read only and Group for search only.
 */
export function checkInteraction(caps: CapabilityStatement, type: string, interaction: 'search-type' | 'read', field = 'Resource Type'): void {
	const verb = interaction === 'read' ? 'read by ID' : 'searched';
	const offering = offeringInteraction(caps, interaction);
	const list = `${offering.slice(0, 40).join(', ')}${offering.length > 40 ? ', ...' : ''}`;
	if (!resourceTypes(caps).includes(type)) {
		throw new InputError(field, `"${type}" is not served by this FHIR server (not in its CapabilityStatement)`, `Choose one of: ${list}`);
	}
	if (!offering.includes(type)) {
		const declared = resourceCapability(caps, type)?.interactions ?? [];
		throw new InputError(
			field,
			`"${type}" cannot be ${verb} on this server (its CapabilityStatement declares only: ${declared.join(', ')})`,
			`${interaction === 'read' ? 'Use FHIR Resource > Search for it' : 'Use FHIR Resource > Get with its ID'}, or choose one of: ${list}`,
		);
	}
}

/** An id field: the bare id, or (when the field names its type) a reference such as `Patient/123`. */
export function readId(value: unknown, field: string, resourceType?: string): string {
	return resourceType ? idFromReference(value, resourceType, field) : validateId(value, field);
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

/**
 * When Limit cut a result short, a notice with how many more there were (or that there were more)
 * and how to get them: a sheet built from a Limit is never cut short without a sign.
 */
export function addLimitHint(
	ctx: IExecuteFunctions,
	limit: number | undefined,
	leftOut: number | true,
	what: { one: string; many: string; where: string },
): void {
	if (limit === undefined || leftOut === 0) return;
	const more = leftOut === true ? `there are more ${what.many} ${what.where}` : `${leftOut} more ${leftOut === 1 ? what.one : what.many} ${what.where} ${leftOut === 1 ? 'was' : 'were'} left out`;
	const message = `Limit ${limit} reached: ${more}. Raise Limit, or turn on Return All, to get them all.`;
	addHintOnce(ctx, `limit|${message}`, message, 'warning');
}
