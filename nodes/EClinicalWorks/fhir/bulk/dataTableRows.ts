import { InputError } from '../errors';
import { STATE_FIELDS, emptyRow, normalizeRow, statusHashOf } from './state';
import type { ExportStateRow, StateChanges, StateRows } from './state';

/**
 * Export state in an n8n Data Table, through n8n's public API (`/api/v1/data-tables`, n8n 2.7 and
 * later) with an API key: every n8n process (main, queue-mode workers) reads and writes the same rows
 * in n8n's database.
 *
 * Why the API and not `this.helpers.getDataTableProxy`: n8n hands that proxy to nodes, but its CLI
 * refuses every node type but its own Data Table and Evaluation nodes ("This proxy is only available
 * for Data table nodes": packages/cli/src/modules/data-table/data-table-proxy.service.ts, n8n 1.123 to
 * 2.41). Compare-and-set: an update filtered on the row's id and `version` changes the row only if no
 * other write came first; PostgreSQL runs it as one UPDATE ... RETURNING, and the returned row is
 * checked (on SQLite n8n reads the matching rows before it updates them).
 */

export interface N8nApiRequest {
	method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
	/** Below `/api/v1`, e.g. `/data-tables`. */
	path: string;
	qs?: Record<string, string>;
	body?: unknown;
}

export interface N8nApiResponse {
	status: number;
	body: unknown;
}

/** A request to n8n's public API with the API key; resolves with any HTTP status, rejects on network errors. */
export type N8nApi = (request: N8nApiRequest) => Promise<N8nApiResponse>;

export interface TableRef {
	mode: 'name' | 'id';
	value: string;
}

export const DEFAULT_TABLE_NAME = 'eclinicalworks_bulk_export_state';

/** Row fields and their columns (the key is `exportKey`: "key" is a reserved word in some SQL dialects). */
const column = (field: string) => (field === 'key' ? 'exportKey' : field);
const COLUMNS = STATE_FIELDS.map((field) => ({ name: column(field), type: field === 'version' ? 'number' : 'string' }));

/** Table ids found or created by this process, per API and table name. */
const tableIds = new Map<string, string>();

const FIELD = 'eClinicalWorks Export State API';
const SCOPES = 'dataTable:list, dataTable:create, dataTable:read, dataTableRow:read, dataTableRow:create, dataTableRow:update, dataTableRow:delete';

function short(value: unknown): string {
	const text = typeof value === 'string' ? value : JSON.stringify(value ?? '');
	return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

function messageOf(body: unknown): string {
	if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
	return short(body);
}

export class DataTableRows implements StateRows {
	readonly label: string;

	/**
	 * @param apiLabel where the API is, for messages (the credential's n8n URL, never the key)
	 * @param cacheKey what identifies this API for the process-wide table id cache (credential id)
	 */
	constructor(
		private readonly api: N8nApi,
		private readonly table: TableRef,
		private readonly apiLabel: string,
		private readonly cacheKey: string,
	) {
		this.label = table.mode === 'id' ? `the Data Table with ID ${table.value}` : `the Data Table "${table.value}"`;
	}

	private async call(request: N8nApiRequest, what: string): Promise<N8nApiResponse> {
		const sent = await this.api(request).then(
			(value) => ({ ok: true as const, value }),
			(error: unknown) => ({ ok: false as const, error }),
		);
		if (!sent.ok) {
			const error = sent.error as { code?: string; cause?: { code?: string } };
			const code = error.code ?? error.cause?.code;
			throw new InputError(
				FIELD,
				`n8n's API at ${this.apiLabel} could not be reached to ${what}${code ? ` (${code})` : ''}`,
				'Set the n8n URL in the credential to an address every n8n process can reach (in queue mode the workers call it: e.g. the main process\'s internal address), and check that n8n\'s public API is on (N8N_PUBLIC_API_DISABLED not set).',
			);
		}
		const response = sent.value;
		const { status } = response;
		if (status === 401) {
			throw new InputError(FIELD, `n8n refused the API key (HTTP 401) while trying to ${what}`, 'Create an API key in n8n under Settings > n8n API and paste it into the credential.');
		}
		if (status === 403) {
			throw new InputError(FIELD, `the API key may not use Data Tables (HTTP 403: ${messageOf(response.body)}) while trying to ${what}`, `Use a key with these scopes: ${SCOPES}.`);
		}
		return response;
	}

	private failed(response: N8nApiResponse, what: string): InputError {
		return new InputError(FIELD, `n8n's API answered HTTP ${response.status} while trying to ${what}: ${messageOf(response.body)}`, `Check ${this.label} in n8n (Overview > Data Tables).`);
	}

	private async tableId(): Promise<string> {
		const cache = `${this.cacheKey}\u0000${this.table.mode}\u0000${this.table.value}`;
		const known = tableIds.get(cache);
		if (known) return known;
		const id = this.table.mode === 'id' ? await this.checkTable(this.table.value) : await this.findOrCreate(this.table.value);
		tableIds.set(cache, id);
		return id;
	}

	private noDataTables(status: number): InputError {
		return new InputError(
			FIELD,
			`this n8n has no Data Tables in its API (HTTP ${status} for /api/v1/data-tables; n8n 2.7 and later have them)`,
			'Upgrade n8n, or set Keep Export State In to "Workflow Static Data": it works on one n8n process, and on queue-mode workers of n8n 1.x and 2.0 to 2.39 (docs/queue-mode.md).',
		);
	}

	private async checkTable(id: string): Promise<string> {
		const response = await this.call({ method: 'GET', path: `/data-tables/${encodeURIComponent(id)}` }, 'read the Data Table');
		if (response.status === 404) {
			const list = await this.call({ method: 'GET', path: '/data-tables', qs: { limit: '1' } }, 'list Data Tables');
			if (list.status === 404) throw this.noDataTables(404);
			throw new InputError('Data Table', `no Data Table with ID "${short(id)}" is visible to the API key`, 'Copy the ID from the Data Table\'s URL in n8n, or choose "By Name" to let the node create its table.');
		}
		if (response.status >= 400) throw this.failed(response, 'read the Data Table');
		await this.addMissingColumns(id, (response.body as { columns?: Array<{ name: string }> }).columns ?? []);
		return id;
	}

	private async findOrCreate(name: string): Promise<string> {
		for (let attempt = 0; attempt < 3; attempt++) {
			const list = await this.call({ method: 'GET', path: '/data-tables', qs: { filter: JSON.stringify({ name }), limit: '100' } }, 'list Data Tables');
			if (list.status === 404) throw this.noDataTables(404);
			if (list.status >= 400) throw this.failed(list, 'list Data Tables');
			const tables = ((list.body as { data?: Array<{ id: string; name: string; columns?: Array<{ name: string }> }> }).data ?? []).filter((t) => t.name === name);
			if (tables.length > 1) {
				throw new InputError('Data Table', `${tables.length} Data Tables are named "${short(name)}" (in different projects)`, 'Choose the table "By ID" (the ID is in the table\'s URL in n8n).');
			}
			if (tables.length === 1) {
				await this.addMissingColumns(tables[0].id, tables[0].columns);
				return tables[0].id;
			}
			const created = await this.call({ method: 'POST', path: '/data-tables', body: { name, columns: COLUMNS } }, 'create the Data Table');
			if (created.status < 400) return (created.body as { id: string }).id;
			// another execution may have created it first (n8n answers 409, or 500 when both inserts raced): look again
			if (attempt === 2) throw this.failed(created, `create the Data Table "${short(name)}"`);
		}
		throw new InputError('Data Table', `the Data Table "${short(name)}" could not be found or created`, 'Create it in n8n (Overview > Data Tables) and choose it "By ID".');
	}

	/** A table the user made (or an older one): add the columns the state needs. */
	private async addMissingColumns(id: string, columns: Array<{ name: string }> | undefined): Promise<void> {
		if (!columns) {
			const got = await this.call({ method: 'GET', path: `/data-tables/${encodeURIComponent(id)}` }, 'read the Data Table');
			if (got.status >= 400) throw this.failed(got, 'read the Data Table');
			columns = (got.body as { columns?: Array<{ name: string }> }).columns ?? [];
		}
		const have = new Set(columns.map((c) => c.name));
		for (const wanted of COLUMNS.filter((c) => !have.has(c.name))) {
			const added = await this.call({ method: 'POST', path: `/data-tables/${encodeURIComponent(id)}/columns`, body: wanted }, `add the column "${wanted.name}"`);
			if (added.status >= 400) {
				const missing = COLUMNS.filter((c) => !have.has(c.name)).map((c) => `${c.name} (${c.type})`).join(', ');
				throw new InputError('Data Table', `${this.label} lacks the columns ${missing}, and they could not be added (HTTP ${added.status})`, 'Add them in n8n, or choose "By Name" with a new name: the node creates the table with its columns.');
			}
		}
	}

	private toRow(raw: Record<string, unknown>): ExportStateRow {
		return normalizeRow({ ...raw, key: raw.exportKey }, String(raw.id));
	}

	private toColumns(changes: StateChanges & { key?: string; version?: number }): Record<string, string | number> {
		const out: Record<string, string | number> = {};
		for (const [field, value] of Object.entries(changes)) if (value !== undefined) out[column(field)] = value as string | number;
		return out;
	}

	private async rowsWhere(table: string, columnName: string, value: string): Promise<ExportStateRow[]> {
		const filter = { type: 'and', filters: [{ columnName, condition: 'eq', value }] };
		const response = await this.call({ method: 'GET', path: `/data-tables/${table}/rows`, qs: { filter: JSON.stringify(filter), limit: '50' } }, 'read the export state');
		if (response.status >= 400) throw this.failed(response, 'read the export state');
		const rows = ((response.body as { data?: Array<Record<string, unknown>> }).data ?? []).map((r) => this.toRow(r));
		return rows.sort((a, b) => Number(a.id) - Number(b.id));
	}

	async read(key: string): Promise<ExportStateRow> {
		const table = await this.tableId();
		const found = await this.rowsWhere(table, 'exportKey', key);
		if (found.length > 0) return found[0];
		const fresh: Partial<ExportStateRow> = emptyRow(key);
		delete fresh.id;
		const inserted = await this.call({ method: 'POST', path: `/data-tables/${table}/rows`, body: { data: [this.toColumns(fresh)], returnType: 'id' } }, 'add the export state row');
		if (inserted.status >= 400) throw this.failed(inserted, 'add the export state row');
		// two executions may have added the first row of a key at once: the lowest id is the row, extras go
		const rows = await this.rowsWhere(table, 'exportKey', key);
		for (const extra of rows.slice(1).filter((r) => r.version === 0)) {
			const filter = { type: 'and', filters: [{ columnName: 'id', condition: 'eq', value: Number(extra.id) }, { columnName: 'version', condition: 'eq', value: 0 }] };
			await this.call({ method: 'DELETE', path: `/data-tables/${table}/rows/delete`, qs: { filter: JSON.stringify(filter) } }, 'remove a duplicate export state row');
		}
		return rows[0] ?? emptyRow(key);
	}

	async write(row: ExportStateRow, changes: StateChanges): Promise<ExportStateRow | undefined> {
		const table = await this.tableId();
		const data = this.toColumns({ ...changes, version: row.version + 1 });
		const filter = { type: 'and', filters: [{ columnName: 'id', condition: 'eq', value: Number(row.id) }, { columnName: 'version', condition: 'eq', value: row.version }] };
		const response = await this.call({ method: 'PATCH', path: `/data-tables/${table}/rows/update`, body: { filter, data, returnData: true } }, 'write the export state');
		if (response.status >= 400) throw this.failed(response, 'write the export state');
		const updated = Array.isArray(response.body) ? (response.body as Array<Record<string, unknown>>).map((r) => this.toRow(r)) : [];
		const mine = updated.find((r) => r.id === row.id);
		// the row as written must be this write's: same version and the values just set
		if (!mine || mine.version !== row.version + 1) return undefined;
		for (const [field, value] of Object.entries(changes)) {
			if (value !== undefined && (mine as unknown as Record<string, unknown>)[field] !== value) return undefined;
		}
		return mine;
	}

	async findByStatusUrl(statusUrl: string): Promise<ExportStateRow | undefined> {
		const table = await this.tableId();
		const rows = await this.rowsWhere(table, 'statusHash', statusHashOf(statusUrl));
		return rows[0];
	}
}
