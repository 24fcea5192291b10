import type { IDataObject, IExecuteFunctions, IHttpRequestOptions, INodeExecutionData } from 'n8n-workflow';

import { recordCompleted } from '../../fhir/bulk/claim';
import type { Holder } from '../../fhir/bulk/claim';
import { DEFAULT_TABLE_NAME, DataTableRows } from '../../fhir/bulk/dataTableRows';
import type { N8nApi, TableRef } from '../../fhir/bulk/dataTableRows';
import type { ExportStateRow, StateRows } from '../../fhir/bulk/state';
import { StaticDataRows } from '../../fhir/bulk/staticDataRows';
import { InputError } from '../../fhir/errors';
import { addHint, logLongWait } from './setup';
import type { BulkSetup } from './setup';

/** The n8n side of the export state: which store the node's settings pick, who holds a claim, what the node says. */

export const N8N_API_CREDENTIAL = 'eClinicalWorksN8nApi';

export interface ExportState {
	rows: StateRows;
	holder: Holder;
	/** "Automatic" without an n8n API credential: static data, and the node says what that means. */
	fellBack: boolean;
}

/** The credential id of the node's FHIR credential: part of the state key (two apps keep two states). */
export function fhirCredentialId(ctx: IExecuteFunctions): string {
	const credentials = ctx.getNode().credentials ?? {};
	return credentials.eClinicalWorksApi?.id ?? credentials.eClinicalWorksOAuth2Api?.id ?? '';
}

function executionId(ctx: IExecuteFunctions): string {
	const id = typeof ctx.getExecutionId === 'function' ? ctx.getExecutionId() : undefined;
	return id ? String(id) : `unsaved-${Math.random().toString(36).slice(2, 10)}`;
}

function tableRef(ctx: IExecuteFunctions, itemIndex: number): TableRef {
	const raw = ctx.getNodeParameter('stateTable', itemIndex, { mode: 'name', value: DEFAULT_TABLE_NAME }) as { mode?: string; value?: unknown } | string;
	const mode = typeof raw === 'object' && raw?.mode === 'id' ? 'id' : 'name';
	const value = String(typeof raw === 'object' ? (raw?.value ?? '') : raw).trim();
	if (value === '') throw new InputError('Data Table', 'is empty', `Enter a table name (e.g. ${DEFAULT_TABLE_NAME}: created on first use) or the ID of an existing table.`);
	if (mode === 'id' && !/^[A-Za-z0-9]{1,36}$/.test(value)) {
		throw new InputError('Data Table', `"${value.slice(0, 40)}" is not a Data Table ID`, 'Copy the ID from the table\'s URL in n8n (letters and digits), or choose "By Name".');
	}
	return { mode, value };
}

async function n8nApi(ctx: IExecuteFunctions, itemIndex: number): Promise<{ api: N8nApi; label: string }> {
	const credentials = await ctx.getCredentials(N8N_API_CREDENTIAL, itemIndex).catch(() => undefined);
	if (!credentials) {
		throw new InputError(
			'Credential for eClinicalWorks Export State API',
			'is not set: Keep Export State In is "Data Table", which the node reaches through n8n\'s API',
			'Create an API key (Settings > n8n API) and an "eClinicalWorks Export State API" credential with it, or set Keep Export State In to "Workflow Static Data" (one n8n process only).',
		);
	}
	const base = String(credentials.baseUrl ?? '').trim().replace(/\/+$/, '').replace(/\/api\/v1$/, '');
	if (!/^https?:\/\/[^/]+/i.test(base)) {
		throw new InputError('n8n URL', `"${base.slice(0, 60)}" is not an http(s) URL`, 'Set the n8n URL in the credential, e.g. http://localhost:5678.');
	}
	const api: N8nApi = async (request) => {
		const options: IHttpRequestOptions = {
			method: request.method,
			url: `${base}/api/v1${request.path}`,
			qs: request.qs,
			body: request.body as IDataObject | undefined,
			json: true,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			timeout: 30000,
		};
		const raw = (await ctx.helpers.httpRequestWithAuthentication.call(ctx, N8N_API_CREDENTIAL, options)) as { statusCode?: number; body?: unknown };
		return { status: Number(raw.statusCode ?? 0), body: raw.body };
	};
	return { api, label: base };
}

/** Rows an older version of the node kept in its own static data (key without the credential). */
function legacyRows(ctx: IExecuteFunctions, credentialId: string): (key: string) => Partial<ExportStateRow> | undefined {
	return (key) => {
		const old = (ctx.getWorkflowStaticData('node').bulkExport as { exports?: Record<string, IDataObject> } | undefined)?.exports;
		const prefix = `${credentialId}|`;
		const entry = old?.[credentialId && key.startsWith(prefix) ? key.slice(prefix.length) : key];
		if (!entry) return undefined;
		const inFlight = entry.inFlight as { statusUrl?: string; startedAt?: string; since?: string } | undefined;
		return {
			lastTransactionTime: String(entry.lastTransactionTime ?? ''),
			lastCompletedAt: String(entry.lastCompletedAt ?? ''),
			...(inFlight?.statusUrl ? { phase: 'running' as const, statusUrl: inFlight.statusUrl, startedAt: inFlight.startedAt ?? '', since: inFlight.since ?? '' } : {}),
		};
	};
}

/** The store the node's "Keep Export State In" picks, and this execution as a holder. */
export async function openExportState(ctx: IExecuteFunctions, itemIndex: number, setup: BulkSetup): Promise<ExportState> {
	const choice = ctx.getNodeParameter('stateStore', itemIndex, 'auto') as string;
	const hasApi = Boolean(ctx.getNode().credentials?.[N8N_API_CREDENTIAL]?.id);
	const store = choice === 'auto' ? (hasApi ? 'dataTable' : 'staticData') : choice;
	const holder: Holder = {
		owner: executionId(ctx),
		now: () => setup.runtime.now(),
		sleep: async (ms, signal) => await setup.runtime.sleep(ms, signal ?? setup.runtime.signal),
		log: (message) => logLongWait(ctx, message),
	};
	if (store === 'dataTable') {
		const table = tableRef(ctx, itemIndex);
		const { api, label } = await n8nApi(ctx, itemIndex);
		const cacheKey = ctx.getNode().credentials?.[N8N_API_CREDENTIAL]?.id ?? label;
		return { rows: new DataTableRows(api, table, label, cacheKey), holder, fellBack: false };
	}
	const rows = new StaticDataRows({
		staticData: ctx.getWorkflowStaticData('global'),
		scope: ctx.getWorkflow().id ?? '',
		legacy: legacyRows(ctx, fhirCredentialId(ctx)),
	});
	return { rows, holder, fellBack: choice === 'auto' };
}

/**
 * "Automatic" chose static data and "Since Last Successful Export" found nothing: say why that can
 * be, at the moment it matters (the run exports everything).
 */
export function noteFirstExport(ctx: IExecuteFunctions, state: ExportState): void {
	if (!state.fellBack) return;
	addHint(
		ctx,
		"No earlier successful export is recorded in the workflow's static data, so this run exports everything. That is expected the first time. If an export ran before, this n8n process could not see it: static data is kept for production runs only, and queue-mode workers of n8n 2.40 and later do not read it back. Choose an n8n API credential in the node to keep the state in a Data Table.",
		'info',
	);
}
/**
 * After every file of an export was downloaded: its transactionTime becomes the next `_since`. A
 * failure to record it does not fail the run (the files are out; the next run exports more, never
 * less): it is said in a warning.
 */
export async function recordExportCompleted(ctx: IExecuteFunctions, itemIndex: number, setup: BulkSetup, statusUrl: string, transactionTime: string): Promise<void> {
	try {
		const state = await openExportState(ctx, itemIndex, setup);
		await recordCompleted(state.rows, statusUrl, transactionTime, setup.runtime.now());
	} catch (error) {
		stateWarning(ctx, 'record this export as the last successful one (the next "Since Last Successful Export" run exports from the one before)', error);
	}
}

/** A state write that failed after the files or the answer were out: a warning, not a failed run. */
export function stateWarning(ctx: IExecuteFunctions, what: string, error: unknown): void {
	const reason = error instanceof InputError ? `${error.message}. ${error.fix}` : error instanceof Error ? error.message : String(error);
	addHint(ctx, `Could not ${what}: ${reason}`, 'warning');
}

/** The one item of a run that found the export held by another live execution: it started nothing. */
export function elsewhereItem(row: ExportStateRow, done: boolean, by: string, itemIndex: number): INodeExecutionData {
	if (done) {
		return {
			json: {
				state: 'done-elsewhere',
				doneBy: by,
				transactionTime: row.lastTransactionTime || undefined,
				completedAt: row.lastCompletedAt || undefined,
				message: `Execution ${by} finished this export while this run waited for it; its files are in that execution. This run started nothing.`,
			},
			pairedItem: { item: itemIndex },
		};
	}
	return {
		json: {
			state: 'running-elsewhere',
			heldBy: row.owner,
			startedAt: row.startedAt || undefined,
			statusUrl: row.statusUrl || undefined,
			since: row.since || undefined,
			message: `Execution ${row.owner} is running this export (started ${row.startedAt || 'earlier'}); its files come out of that execution. This run started nothing, so that the server does not get the same export twice.`,
		},
		pairedItem: { item: itemIndex },
	};
}

/** A run that finds a kick-off whose status URL nobody recorded: says what happened and what to do. */
export function interruptedError(row: ExportStateRow, rows: StateRows): InputError {
	const who = `${row.owner ? `execution ${row.owner}` : 'an earlier run'}${row.startedAt ? ` (at ${row.startedAt})` : ''}`;
	if (row.phase === 'running') {
		return new InputError(
			'Resume From Status URL',
			`${who} started this export, and its status URL was not stored in ${rows.label} because it carries a signature or is on another host`,
			'Paste the statusUrl from that execution\'s output into Resume From Status URL to collect it. If you cannot, wait until the server has dropped it, then run once with "Start Again After an Interrupted Kick-Off" on.',
		);
	}
	return new InputError(
		'Start Again After an Interrupted Kick-Off',
		`${who} sent the kick-off of this export and stopped before it recorded the server's answer (the n8n process may have been killed): the server may be running that export now, with nobody to collect it`,
		'Nothing was started. If you know the export\'s status URL, paste it into Resume From Status URL. Otherwise wait until the server has finished or dropped it (eClinicalWorks refuses an identical export while one runs), then run once with "Start Again After an Interrupted Kick-Off" on.',
	);
}
