import type { IExecuteFunctions } from 'n8n-workflow';

import { InputError } from '../../fhir/errors';

export function readStatusUrl(ctx: IExecuteFunctions, itemIndex: number, field = 'statusUrl'): string {
	const raw = ctx.getNodeParameter(field, itemIndex, '') as unknown;
	const text = typeof raw === 'string' ? raw.trim() : '';
	if (text === '') {
		throw new InputError('Status URL', 'is empty', 'Use the statusUrl returned by Start (or by a timed-out Export), e.g. {{ $json.statusUrl }}.');
	}
	let url: URL | undefined;
	try {
		url = new URL(text);
	} catch {
		url = undefined;
	}
	if (!url) throw new InputError('Status URL', 'is not a URL', 'Use the full statusUrl returned by Start.');
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		throw new InputError('Status URL', 'must be an http(s) URL', 'Use the full statusUrl returned by Start.');
	}
	return url.toString();
}
