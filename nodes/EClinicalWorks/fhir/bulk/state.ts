import { createHash } from 'crypto';

/**
 * What Bulk Export keeps between runs, per state key (credential, server and practice, level, group,
 * resource types): the last successful `transactionTime` and the export in flight. A row per key in
 * a store every run can read (`StateRows`): workflow static data (`staticDataRows.ts`) or an n8n Data
 * Table (`dataTableRows.ts`). `claim.ts` holds the rules that run on top of it (one export at a
 * time, the intent recorded before the kick-off). Plain code, testable without n8n.
 */

export interface ExportKeyParts {
	baseUrl: string;
	level: string;
	groupId?: string;
	types?: string[];
	/** The credential's id: two apps exporting the same Group keep separate states. */
	credentialId?: string;
}

/** '' = idle; 'starting' = the kick-off is being sent (no status URL yet); 'running' = the server has it. */
export type ExportPhase = '' | 'starting' | 'running';

export interface ExportStateRow {
	/** The row's id in its store. */
	id: string;
	key: string;
	/** Compare-and-set counter: every write adds 1. */
	version: number;
	/** `transactionTime` of the last export whose files were all downloaded (sent as the next `_since`). */
	lastTransactionTime: string;
	lastCompletedAt: string;
	phase: ExportPhase;
	/** The export's status URL, when it may be stored (see `storableStatusUrl`). */
	statusUrl: string;
	/** SHA-256 of the status URL, also when the URL itself is not stored: how Check Status and Download find the row. */
	statusHash: string;
	/** When the intent was recorded (ISO). */
	startedAt: string;
	/** The `_since` the export in flight was started with. */
	since: string;
	/** The kick-off as the server saw it (method and path with `_type`/`_since`), for people reading the row. */
	request: string;
	/** The execution that holds the export ('' = nobody). */
	owner: string;
	/** The holder is presumed alive until then (ISO); it renews this while it works. */
	leaseUntil: string;
}

export type StateChanges = Partial<Omit<ExportStateRow, 'id' | 'key' | 'version'>>;

/** A store of state rows with compare-and-set writes. */
export interface StateRows {
	/** Where the state lives, for messages ("the Data Table ...", "the workflow's static data"). */
	readonly label: string;
	/** The row of a key; a new empty one the first time. */
	read(key: string): Promise<ExportStateRow>;
	/** Writes `changes` if the row still has `row.version`; the new row, or undefined when another write came first. */
	write(row: ExportStateRow, changes: StateChanges): Promise<ExportStateRow | undefined>;
	/** The row whose in-flight export has this status URL. */
	findByStatusUrl(statusUrl: string): Promise<ExportStateRow | undefined>;
}

/** The fields a store keeps, in order (also the Data Table's columns, all of type string but `version`). */
export const STATE_FIELDS = [
	'key',
	'version',
	'lastTransactionTime',
	'lastCompletedAt',
	'phase',
	'statusUrl',
	'statusHash',
	'startedAt',
	'since',
	'request',
	'owner',
	'leaseUntil',
] as const;

export function emptyRow(key: string, id = ''): ExportStateRow {
	return {
		id,
		key,
		version: 0,
		lastTransactionTime: '',
		lastCompletedAt: '',
		phase: '',
		statusUrl: '',
		statusHash: '',
		startedAt: '',
		since: '',
		request: '',
		owner: '',
		leaseUntil: '',
	};
}

/** Fields a stored value may leave out or set to null read as empty. */
export function normalizeRow(raw: Record<string, unknown>, id: string): ExportStateRow {
	const text = (name: string) => (typeof raw[name] === 'string' ? (raw[name] as string) : '');
	const phase = text('phase');
	return {
		...emptyRow(text('key'), id),
		version: Number.isFinite(Number(raw.version)) ? Number(raw.version) : 0,
		lastTransactionTime: text('lastTransactionTime'),
		lastCompletedAt: text('lastCompletedAt'),
		phase: phase === 'starting' || phase === 'running' ? phase : '',
		statusUrl: text('statusUrl'),
		statusHash: text('statusHash'),
		startedAt: text('startedAt'),
		since: text('since'),
		request: text('request'),
		owner: text('owner'),
		leaseUntil: text('leaseUntil'),
	};
}

/**
 * Same export = same credential, base URL (the practice), level, group and set of resource types
 * (order and case of the types ignored).
 */
export function exportKey(parts: ExportKeyParts): string {
	const base = parts.baseUrl.trim().replace(/\/+$/, '');
	const types = [...new Set((parts.types ?? []).map((t) => t.trim()).filter((t) => t !== ''))].sort().join(',');
	const group = parts.level === 'group' ? (parts.groupId ?? '').trim() : '';
	const key = `${base}|${parts.level}|${group}|${types || '*'}`;
	return parts.credentialId ? `${parts.credentialId}|${key}` : key;
}

export function statusHashOf(statusUrl: string): string {
	return createHash('sha256').update(statusUrl).digest('hex');
}

/** Query parameters that make a URL work like a password (pre-signed URLs, SAS tokens, API keys). */
const SECRET_PARAM = /sig|signature|token|secret|key|credential|password|auth|policy|expires|^se$|^sp$|^sv$|^st$/i;

/**
 * The status URL as it may be stored, or '' when it must not be. A status URL on the FHIR server's
 * own origin whose query holds only identifiers (eClinicalWorks: `?job_id=...`) is stored: polling it
 * needs the app's access token as well, so it grants nothing on its own, and without it the next
 * run could not resume the export. A status URL on another host, or with a parameter that looks like
 * a signature or key, is not: it might be usable by whoever reads the state. The export can then only
 * be resumed by pasting the `statusUrl` of the run that started it into Resume From Status URL.
 */
export function storableStatusUrl(statusUrl: string, baseUrl: string): string {
	let url: URL;
	let base: URL;
	try {
		url = new URL(statusUrl);
		base = new URL(baseUrl);
	} catch {
		return '';
	}
	if (url.origin !== base.origin || url.username !== '' || url.password !== '') return '';
	for (const name of url.searchParams.keys()) if (SECRET_PARAM.test(name)) return '';
	return url.toString();
}
