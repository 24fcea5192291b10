/**
 * Incremental exports: what the node keeps in workflow static data between runs.
 * Plain functions over the static data object, so they are testable without n8n.
 *
 * n8n persists static data only for production executions (an active workflow, e.g. a
 * Schedule Trigger), not for manual test runs.
 */

export interface ExportStateEntry {
	/** `transactionTime` of the last export whose files were all downloaded. */
	lastTransactionTime?: string;
	/** When that export finished (ISO). */
	lastCompletedAt?: string;
	/** A started export whose files were not downloaded yet: resume it instead of starting another. */
	inFlight?: { statusUrl: string; startedAt: string; since?: string };
}

export interface ExportKeyParts {
	baseUrl: string;
	level: string;
	groupId?: string;
	types?: string[];
}

interface BulkStateStore {
	exports: Record<string, ExportStateEntry>;
	/** status URL -> export key, so Check Status / Download can record completion. */
	statusIndex: Record<string, string>;
}

const ROOT = 'bulkExport';
const MAX_INDEX = 50;

/** Same export = same base URL, level, group and set of resource types (order and case of types ignored). */
export function exportKey(parts: ExportKeyParts): string {
	const base = parts.baseUrl.trim().replace(/\/+$/, '');
	const types = [...new Set((parts.types ?? []).map((t) => t.trim()).filter((t) => t !== ''))].sort().join(',');
	const group = parts.level === 'group' ? (parts.groupId ?? '').trim() : '';
	return `${base}|${parts.level}|${group}|${types || '*'}`;
}

function store(staticData: Record<string, unknown>): BulkStateStore {
	let root = staticData[ROOT] as BulkStateStore | undefined;
	if (!root || typeof root !== 'object') {
		root = { exports: {}, statusIndex: {} };
		staticData[ROOT] = root;
	}
	root.exports ??= {};
	root.statusIndex ??= {};
	return root;
}

export function readState(staticData: Record<string, unknown>, key: string): ExportStateEntry {
	const root = staticData[ROOT] as BulkStateStore | undefined;
	return { ...(root?.exports?.[key] ?? {}) };
}

export function keyForStatusUrl(staticData: Record<string, unknown>, statusUrl: string): string | undefined {
	const root = staticData[ROOT] as BulkStateStore | undefined;
	return root?.statusIndex?.[statusUrl];
}

export function recordStarted(
	staticData: Record<string, unknown>,
	key: string,
	statusUrl: string,
	now: Date,
	since?: string,
): void {
	const root = store(staticData);
	const entry = (root.exports[key] ??= {});
	entry.inFlight = { statusUrl, startedAt: now.toISOString(), since };
	root.statusIndex[statusUrl] = key;
	const urls = Object.keys(root.statusIndex);
	for (const old of urls.slice(0, Math.max(0, urls.length - MAX_INDEX))) delete root.statusIndex[old];
}

/** All files downloaded: the next "since last successful export" starts at `transactionTime`. */
export function recordCompleted(
	staticData: Record<string, unknown>,
	key: string,
	transactionTime: string,
	now: Date,
	statusUrl?: string,
): void {
	const root = store(staticData);
	const entry = (root.exports[key] ??= {});
	const previous = entry.lastTransactionTime ? Date.parse(entry.lastTransactionTime) : Number.NEGATIVE_INFINITY;
	if (!(Date.parse(transactionTime) < previous)) entry.lastTransactionTime = transactionTime;
	entry.lastCompletedAt = now.toISOString();
	if (!statusUrl || entry.inFlight?.statusUrl === statusUrl) delete entry.inFlight;
	if (statusUrl) delete root.statusIndex[statusUrl];
}

/** The export failed, was cancelled or is gone: forget the status URL, keep the last success. */
export function clearInFlight(staticData: Record<string, unknown>, key: string | undefined, statusUrl?: string): void {
	const root = store(staticData);
	if (key) {
		const entry = root.exports[key];
		if (entry?.inFlight && (!statusUrl || entry.inFlight.statusUrl === statusUrl)) delete entry.inFlight;
	}
	if (statusUrl) delete root.statusIndex[statusUrl];
}
