import { resourceCapability } from './capabilitySummary';
import type { CapabilityStatement } from './capabilitySummary';
import { InputError } from './errors';

/**
 * Search parameters checked against what the server declares for a type. Undeclared ones get a hint
 * naming the declared ones; on a server known to refuse them (eClinicalWorks) they are an error before
 * any request. Paging is the node's job: it follows the server's next links, so `page` is never sent.
 */

/**
 * Result parameters FHIR defines for every type; eCW accepts `_count` (its conventions), `_format`
 * (its own CapabilityStatement URL uses `_format=json`), and `_include` / `_revinclude` as declared.
 */
const RESULT_PARAMETERS = ['_count', '_sort', '_include', '_revinclude', '_elements', '_summary', '_total', '_format', '_contained', '_containedType'];
const ECW_RESULT_PARAMETERS = ['_count', '_format'];
const PAGING_PARAMETERS = ['page', '_getpages', '_page'];

export interface ParameterCheck {
	/** Undeclared parameters (not an error on this server): say so in a hint. */
	hints: string[];
}

function declaredList(params: string[]): string {
	return params.filter((p) => !PAGING_PARAMETERS.includes(p)).sort().join(', ') || '(none)';
}

export function checkSearchParameters(
	caps: CapabilityStatement | undefined,
	type: string,
	query: Array<[string, string]>,
	options: { strict: boolean; field?: string },
): ParameterCheck {
	const field = options.field ?? 'Search Parameters';
	const capability = resourceCapability(caps, type);
	const declared = capability?.searchParams ?? [];
	const includes = capability?.searchInclude ?? [];
	const hints: string[] = [];
	for (const [rawName, value] of query) {
		const name = rawName.split(':')[0];
		if (PAGING_PARAMETERS.includes(name)) {
			throw new InputError(field, `"${rawName}" is a paging parameter`, 'Remove it: the node follows the server\'s own next-page links. Use Return All or Limit to choose how much to read.');
		}
		if (name === '_include' || name === '_revinclude') {
			const offered = name === '_include' ? includes : capability?.searchRevInclude ?? [];
			const ok = offered.includes(value) || (offered.includes('*') && value === '*');
			if (ok || !capability) continue;
			const text = `${name}=${value} is not declared for ${type}; it declares ${offered.length ? offered.join(', ') : `no ${name}`}`;
			if (options.strict) throw new InputError(field, text, `Use one of the declared values, or remove the ${name} row.`);
			hints.push(text);
			continue;
		}
		if (declared.includes(rawName) || declared.includes(name)) continue;
		const resultParameters = options.strict ? ECW_RESULT_PARAMETERS : RESULT_PARAMETERS;
		if (resultParameters.includes(name)) continue;
		if (!capability || declared.length === 0) continue;
		const text = `"${name}" is not a search parameter this server declares for ${type}; it declares: ${declaredList(declared)}`;
		if (options.strict) throw new InputError(field, text, 'Use one of the declared parameters (Server > Get Capabilities lists them per type).');
		hints.push(`${text}. The server may ignore it, which widens the result.`);
	}
	return { hints };
}
