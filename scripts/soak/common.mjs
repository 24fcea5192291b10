// Shared by the soak's lanes: a sandbox with its fault armer, the node's credential for it, a token
// of the soak's own (for reading the ground truth straight from the server), and one run's outcome.
import { startSandbox } from '../../sandbox/index.mjs';
import { hash32 } from '../../sandbox/util.mjs';
import { token } from '../../test/sandbox/helpers.mjs';
import { credentialFor } from '../../test/transport/_support.mjs';
import { classifyFailure } from './failures.mjs';
import { Armer } from './plan.mjs';

export const RESPONSE_TIME_LIMIT_SECONDS = 10;

/**
 * A sandbox for one episode of a lane, its per-minute rate limit off (429s come from the fault
 * plan), with an Armer on its request hook; its one practice is `sb.practices[0]`. `onRequest` (optional) sees every request after the armer.
 */
export async function laneSandbox(ctx, lane, episode, options, onRequest) {
	let armer;
	const sb = await startSandbox({
		seed: hash32(ctx.seed, lane, episode) % 100_000,
		// a base URL of its own per episode: the node's caches (CapabilityStatement, discovery, token) are
		// per base URL, and a later sandbox may get the same port with another profile
		practices: [`${lane.replace(/[^A-Za-z0-9]/g, '')}-e${episode}`],
		rateLimitPerMinute: null,
		admin: true,
		...options,
		onRequest: (request) => {
			armer?.onRequest(request);
			onRequest?.(request);
		},
	});
	armer = new Armer(sb);
	// a dripping answer stops at the Response Time Limit: 10 s here instead of the default 120 s
	const credential = credentialFor(sb, sb.client('sandbox-rs384'), { responseOptions: true, responseTimeLimitSeconds: RESPONSE_TIME_LIMIT_SECONDS });
	return { sb, armer, credentials: { eClinicalWorksApi: credential } };
}

/** A token of the soak's own, to read what the server holds. */
export async function truthToken(sb) {
	return await token(sb, 'sandbox-rs384');
}

/** The error of a node run (runNode), classified; null when it succeeded. */
export function runFailure(ctx, result) {
	const error = result.nodeError('Node') ?? result.error;
	return error ? classifyFailure(error, ctx.classes) : null;
}

/** One node run with the faults `armer` has armed: tallied and traced; returns the result and its failure (or null). */
export async function armedRun(ctx, { lane, where, work, armer }, runArgs) {
	const result = await ctx.harness.runNode(runArgs);
	const landed = armer.armed.map((a) => a.name);
	const failure = runFailure(ctx, result);
	ctx.tally.run(work, { failure, faults: armer.served(), where });
	ctx.trace(lane, `${where.slice(lane.length + 1)}${landed.length ? ` faults [${landed.join(', ')}]` : ''}: ${failure ? `failed: ${failure.message}` : `${(result.itemsOf('Node') ?? []).length} items`}`);
	return { result, failure };
}

/** Runs `fn` for one unit of work; a crash of the soak itself is recorded, never swallowed. */
export async function guarded(ctx, where, fn) {
	try {
		await fn();
	} catch (error) {
		ctx.tally.crash(where, error);
	}
}
