import { emptyRow, normalizeRow, statusHashOf } from './state';
import type { ExportStateRow, StateChanges, StateRows } from './state';

/**
 * Export state in the workflow's static data (`getWorkflowStaticData('global')`, one row per key
 * under `eClinicalWorksBulkExport.rows`).
 *
 * n8n gives each execution its own copy of the static data and saves it when the execution ends or
 * waits, for production executions only (docs/queue-mode.md has the table of where it persists). So
 * two executions running at once in one n8n process would not see each other's rows: this process
 * keeps the latest copy of every row it wrote (`processRows`), and reads prefer it. That makes one
 * export at a time hold within one n8n process; across processes (queue-mode workers) it cannot, and
 * a process killed mid-export saves nothing (use the Data Table store there).
 */

const ROOT = 'eClinicalWorksBulkExport';

/** The rows this n8n process wrote, by scope (the workflow) and key: shared by all its executions. */
const processRows = new Map<string, ExportStateRow>();

interface StoredRoot {
	rows?: Record<string, Record<string, unknown>>;
}

export interface StaticDataRowsOptions {
	/** The workflow's static data ('global' context). */
	staticData: Record<string, unknown>;
	/** What the process-wide copy is scoped to: the workflow id. */
	scope: string;
	/** A row kept by an older version of the node (its own static data, another key format), if any. */
	legacy?: (key: string) => Partial<ExportStateRow> | undefined;
}

export class StaticDataRows implements StateRows {
	readonly label = "the workflow's static data";

	constructor(private readonly options: StaticDataRowsOptions) {}

	private root(): StoredRoot {
		const data = this.options.staticData;
		let root = data[ROOT] as StoredRoot | undefined;
		if (!root || typeof root !== 'object') {
			root = { rows: {} };
			data[ROOT] = root;
		}
		root.rows ??= {};
		return root;
	}

	private current(key: string): ExportStateRow {
		const live = processRows.get(this.scoped(key));
		if (live) return { ...live };
		const stored = (this.options.staticData[ROOT] as StoredRoot | undefined)?.rows?.[key];
		if (stored) return normalizeRow({ ...stored, key }, key);
		const legacy = this.options.legacy?.(key);
		const row = emptyRow(key, key);
		if (!legacy) return row;
		const merged = { ...row, ...legacy, id: key, key, version: 0 };
		if (merged.statusUrl && !merged.statusHash) merged.statusHash = statusHashOf(merged.statusUrl);
		return merged;
	}

	private scoped(key: string): string {
		return `${this.options.scope}\u0000${key}`;
	}

	async read(key: string): Promise<ExportStateRow> {
		return this.current(key);
	}

	async write(row: ExportStateRow, changes: StateChanges): Promise<ExportStateRow | undefined> {
		const now = this.current(row.key);
		if (now.version !== row.version) return undefined;
		const next: ExportStateRow = { ...now, ...changes, id: row.key, key: row.key, version: now.version + 1 };
		processRows.set(this.scoped(row.key), next);
		const stored: Partial<ExportStateRow> = { ...next };
		delete stored.id;
		this.root().rows![row.key] = stored as Record<string, unknown>;
		return { ...next };
	}

	async findByStatusUrl(statusUrl: string): Promise<ExportStateRow | undefined> {
		const hash = statusHashOf(statusUrl);
		const prefix = `${this.options.scope}\u0000`;
		for (const [scoped, row] of processRows) {
			if (scoped.startsWith(prefix) && row.statusHash === hash) return { ...row };
		}
		const rows = (this.options.staticData[ROOT] as StoredRoot | undefined)?.rows ?? {};
		for (const key of Object.keys(rows)) {
			const row = this.current(key);
			if (row.statusHash === hash) return row;
		}
		return undefined;
	}
}
