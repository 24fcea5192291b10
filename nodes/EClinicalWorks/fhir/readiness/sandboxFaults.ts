import { readText } from '../responseBody';
import type { ReadinessContext } from './types';
import { isLoopbackUrl } from './util';

/**
 * The package's sandbox, found only on this machine (a loopback FHIR base URL) and only when it runs
 * with its admin API: its fault switches provoke errors for the live drills. Never asked of any other
 * server.
 */

export interface SandboxFault {
	kind: '401' | '403' | '429' | '500';
	/** Regular expression the request path must match. */
	path: string;
	retryAfter?: number;
}

export function sandboxOrigin(ctx: ReadinessContext): string | undefined {
	const base = ctx.client.baseUrl;
	return isLoopbackUrl(base) ? new URL(base).origin : undefined;
}

/** True when the FHIR server is the package's sandbox with its admin API on. */
export async function hasSandboxAdmin(ctx: ReadinessContext): Promise<boolean> {
	const origin = sandboxOrigin(ctx);
	if (!origin) return false;
	try {
		const response = await ctx.client.transport.anonymous({ method: 'GET', url: `${origin}/admin`, headers: { accept: 'application/json' }, timeoutMs: 10_000 });
		const text = await readText(response.body);
		if (response.status !== 200) return false;
		const endpoints = (JSON.parse(text) as { endpoints?: unknown }).endpoints;
		return Array.isArray(endpoints) && endpoints.some((e) => typeof e === 'string' && e.includes('/admin/faults'));
	} catch {
		return false;
	}
}

/** Arms one fault for the next request on `path` (count 1), returns its id. The 401 is the sandbox revoking every token. */
export async function armFault(ctx: ReadinessContext, fault: SandboxFault): Promise<string> {
	const origin = sandboxOrigin(ctx);
	if (!origin) throw new Error('not the sandbox');
	const body: Record<string, unknown> = { kind: fault.kind === '401' ? 'revoke-tokens' : fault.kind, count: 1, path: fault.path };
	if (fault.retryAfter !== undefined) body.retryAfter = fault.retryAfter;
	const response = await ctx.client.transport.anonymous({
		method: 'POST',
		url: `${origin}/admin/faults`,
		headers: { 'content-type': 'application/json', accept: 'application/json' },
		body: JSON.stringify(body),
		timeoutMs: 10_000,
	});
	const text = await readText(response.body);
	if (response.status !== 201) throw new Error(`the sandbox did not arm the ${fault.kind} fault (HTTP ${response.status})`);
	return String((JSON.parse(text) as { id?: unknown }).id ?? '');
}

/** Whether an armed fault is still waiting (so it was not provoked). */
export async function isArmed(ctx: ReadinessContext, id: string): Promise<boolean> {
	const origin = sandboxOrigin(ctx);
	if (!origin) return false;
	const response = await ctx.client.transport.anonymous({ method: 'GET', url: `${origin}/admin/faults`, headers: { accept: 'application/json' }, timeoutMs: 10_000 });
	const faults = JSON.parse(await readText(response.body)) as Array<{ id?: unknown }>;
	return Array.isArray(faults) && faults.some((f) => f.id === id);
}

/** A regular expression matching exactly this URL's path. */
export function exactPath(url: string): string {
	return `^${new URL(url).pathname.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}
