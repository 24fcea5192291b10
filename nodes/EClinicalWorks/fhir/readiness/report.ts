import type { RequestRecord } from './recorder';
import type { ReadinessRun, ReadinessSummary } from './runner';
import { summarize } from './runner';
import type { CheckStatus, CredentialSummary } from './types';
import { plural, practiceOf } from './util';

/** What the report says about itself, shared by the HTML and Markdown renderers. */

export interface ReportMeta {
	packageVersion: string;
	/** n8n does not tell nodes its version: given by the user, else undefined. */
	n8nVersion?: string;
	credential: CredentialSummary;
	/** When the report was made, already formatted in the workflow's time zone. */
	generatedAt: string;
	/** The workflow's time zone. */
	timeZone: string;
	/** What the options turned on (the opt-in checks). */
	optIns: string[];
	/** The request bound of a run without opt-ins. */
	requestBound: number;
}

export interface ReportData {
	meta: ReportMeta;
	run: ReadinessRun;
	summary: ReadinessSummary;
}

export function reportData(meta: ReportMeta, run: ReadinessRun): ReportData {
	return { meta, run, summary: summarize(run) };
}

export const STATUS_LABEL: Record<CheckStatus, string> = { pass: 'Pass', warn: 'Warning', fail: 'Fail', 'not-checkable': 'To confirm' };

const ENVIRONMENT_LABEL: Record<CredentialSummary['environment'], string> = {
	ecwProduction: 'eClinicalWorks Production',
	ecwSandbox: 'eClinicalWorks Sandbox (Staging)',
	custom: 'Other SMART on FHIR server',
};

const METHOD_LABEL: Record<string, string> = {
	privateKeyJwt: 'Private Key JWT',
	clientSecretBasic: 'Client Secret (HTTP Basic)',
	clientSecretPost: 'Client Secret (in the body)',
	authorizationCode: 'User Login (authorization code with PKCE)',
};

function practiceLine(c: CredentialSummary): string {
	const { code, fromBaseUrl } = practiceOf(c);
	if (!code) return '(none: the FHIR base URL names no practice)';
	return fromBaseUrl ? `${code} (the end of the FHIR base URL)` : code;
}

/** The header fields, as label and value pairs (no secret: the client id is public). */
export function headerFields(meta: ReportMeta): Array<[string, string]> {
	const c = meta.credential;
	return [
		['Package', `n8n-nodes-eclinicalworks ${meta.packageVersion}`],
		['n8n', meta.n8nVersion || 'not stated (n8n does not tell nodes its version: enter it under Options > N8n Version)'],
		['Environment', `${ENVIRONMENT_LABEL[c.environment]}${c.environment === 'custom' && c.isEcw ? ' (an eClinicalWorks host)' : ''}`],
		['FHIR base URL', c.baseUrl],
		['Practice code', practiceLine(c)],
		['Client ID', c.clientId || '(empty)'],
		['Sign-in', `${METHOD_LABEL[c.authMethod] ?? c.authMethod}${c.algorithm && c.authMethod === 'privateKeyJwt' ? `, ${c.algorithm}` : ''}`],
		['Date', `${meta.generatedAt} (${meta.timeZone})`],
		['Opt-in checks', meta.optIns.length ? meta.optIns.join(', ') : `none (at most ${meta.requestBound} requests)`],
	];
}

export function requestCounts(data: ReportData): string {
	const by = data.summary.requestsByKind;
	const server = data.run.requests.filter((r) => r.kind !== 'sandbox').length;
	const parts = [`${by.fhir ?? 0} FHIR`, `${by.token ?? 0} token`, `${by.discovery ?? 0} discovery`];
	const sandbox = by.sandbox ? `, plus ${by.sandbox} to the sandbox's fault switches` : '';
	return `${server} requests to the server (${parts.join(', ')})${sandbox}, in ${Math.max(1, Math.round((data.run.finishedAt - data.run.startedAt) / 1000))} s.`;
}

export function kindLabel(record: RequestRecord): string {
	return { discovery: 'discovery', token: 'token', fhir: 'FHIR', sandbox: 'sandbox fault switch' }[record.kind];
}

/** "8 passed, 1 warning, 0 failed, 2 to confirm by hand". */
export function overallCounts(data: ReportData): string {
	const { counts } = data.summary;
	return `${counts.pass} passed, ${plural(counts.warn, 'warning')}, ${counts.fail} failed, ${counts['not-checkable']} to confirm by hand`;
}

export function overallLine(data: ReportData): string {
	const { overall } = data.summary;
	const verdict =
		overall === 'pass'
			? 'Every check the node can run passed.'
			: overall === 'warn'
				? 'No check failed; some need a look.'
				: 'Some checks failed: fix them before the production request.';
	return `${verdict} ${overallCounts(data)}.`;
}

export function reportFileBase(meta: ReportMeta): string {
	const who = (practiceOf(meta.credential).code ?? new URL(meta.credential.baseUrl).hostname).replace(/[^A-Za-z0-9_-]+/g, '-');
	const day = /^\d{4}-\d{2}-\d{2}/.exec(meta.generatedAt)?.[0] ?? 'report';
	return `production-readiness-${who}-${day}`;
}
