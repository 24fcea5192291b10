import { FhirError, InputError } from '../errors';
import { readText } from '../responseBody';
import type { CredentialSummary, Probe, ReadinessContext, ReadinessState } from './types';

/** Small helpers the checks share. */

/** localhost, 127.0.0.0/8 and ::1: a test server on the same machine. */
export function isLoopbackHost(hostname: string): boolean {
	const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
	return host === 'localhost' || host.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(host) || host === '::1';
}

export function isLoopbackUrl(url: string): boolean {
	try {
		return isLoopbackHost(new URL(url).hostname);
	} catch {
		return false;
	}
}

/** What a failure said, in the package's own words (its message and advice, never the server's free text). */
export function describeFailure(error: unknown): { message: string; hint?: string; status?: number } {
	if (error instanceof InputError) return { message: error.message, hint: error.fix };
	if (error instanceof FhirError) return { message: error.message, hint: error.hint, status: error.status };
	const text = error instanceof Error ? error.message : String(error);
	return { message: text.replace(/\?\S*/g, '').slice(0, 300) };
}

/** A duration for people: "85 ms", "2.1 s", "120 s". */
export function seconds(ms: number): string {
	if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
	return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

export function plural(count: number, one: string, many = `${one}s`): string {
	return `${count} ${count === 1 ? one : many}`;
}

/** The cheap authenticated read (see Probe). */
export function probeRequest(state: ReadinessState): Probe {
	return state.probe ?? { path: 'Organization', query: [['_count', '1']], expect: 200, label: 'GET Organization?_count=1' };
}

/** Sends the probe read; answers how many entries the page held (their content is dropped). */
export async function sendProbe(ctx: ReadinessContext, state: ReadinessState, client = ctx.client): Promise<number> {
	const { path, query, expect } = probeRequest(state);
	const response = await client.send({ method: 'GET', path, query, acceptStatus: expect === 404 ? [404] : undefined });
	const text = await readText(response.body);
	if (response.status !== expect) throw new Error(`${probeRequest(state).label} answered ${response.status}, not ${expect}`);
	try {
		const bundle = JSON.parse(text) as { entry?: unknown[] };
		return Array.isArray(bundle.entry) ? bundle.entry.length : 0;
	} catch {
		return 0;
	}
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A promise that never rejects: its failure is returned (handled at once, so never an unhandled rejection). */
export async function settled<T>(promise: Promise<T>): Promise<Settled<T>> {
	return await promise.then(
		(value) => ({ ok: true as const, value }),
		(error: unknown) => ({ ok: false as const, error }),
	);
}

/** The practice: the credential's practice code, or on eClinicalWorks the end of the FHIR base URL (where the code is). */
export function practiceOf(credential: CredentialSummary): { code?: string; fromBaseUrl: boolean } {
	if (credential.practiceCode) return { code: credential.practiceCode, fromBaseUrl: false };
	const last = new URL(credential.baseUrl).pathname.split('/').filter(Boolean).pop();
	return credential.isEcw && last ? { code: decodeURIComponent(last), fromBaseUrl: true } : { fromBaseUrl: false };
}

/** The OAuth name of the credential's authentication method. */
export function oauthMethodName(method: string): string {
	return (
		{
			privateKeyJwt: 'private_key_jwt',
			clientSecretBasic: 'client_secret_basic',
			clientSecretPost: 'client_secret_post',
			authorizationCode: 'authorization code with PKCE',
		}[method] ?? method
	);
}

/** A result for a check that needs the authenticated read, when that read failed. */
export function notRunWithoutAccess(check: string, state: ReadinessState) {
	return {
		check,
		status: 'fail' as const,
		evidence: `Not run: the authenticated read for this practice failed (${state.access?.reason ?? 'no token'}).`,
		whatToDo: 'Fix the authenticated read first (see that check), then run this report again.',
	};
}
