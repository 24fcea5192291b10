import type { FhirClient } from '../client';
import type { CapabilityStatement } from '../types';
import type { RequestLog } from './recorder';

/** What the production readiness check works with and returns (no n8n import: testable on its own). */

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'not-checkable';

/** One line of the report: what was checked, how it went, the evidence, and what to do. */
export interface CheckResult {
	check: string;
	status: CheckStatus;
	evidence: string;
	whatToDo: string;
}

/** What the user's workflows do with the node: the scopes they need follow from it. */
export type WorkflowUse = 'patient' | 'fullRecord' | 'appointments' | 'fhirResource' | 'bulkExport' | 'trigger';

export const WORKFLOW_USES: WorkflowUse[] = ['patient', 'fullRecord', 'appointments', 'fhirResource', 'bulkExport', 'trigger'];

/** The credential as the report shows it: never a secret, a key or a token. */
export interface CredentialSummary {
	kind: 'backendService' | 'userLogin';
	environment: 'ecwProduction' | 'ecwSandbox' | 'custom';
	baseUrl: string;
	practiceCode?: string;
	clientId: string;
	/** privateKeyJwt, clientSecretBasic, clientSecretPost; authorizationCode for User Login. */
	authMethod: string;
	algorithm?: string;
	/** The Token URL typed in the credential ('' = discovered). */
	tokenUrl: string;
	jwksUrl?: string;
	/** The scopes asked for ('' with `fitScopes`: the defaults fitted to the server). */
	scopes: string;
	fitScopes: boolean;
	isEcw: boolean;
	/** The credential's Rate Limit (requests per minute, 0 = no pacing) and how many processes share it. */
	rateLimitPerMinute: number;
	processes: number;
	/** This process's pace: the limit divided among the processes. */
	pacePerMinute: number;
}

/** The package's token cache for this credential (backend service only; n8n keeps User Login tokens). */
export interface TokenControl {
	/** The cached token's times and granted scope (never the token). */
	current(): { obtainedAt: number; expiresAt: number; scope?: string } | undefined;
	/** Renew at the next request, as near the end of the token's lifetime. */
	forceRenewal(): void;
	/** Token requests made so far for this credential, practice and scopes. */
	mints(): number;
}

export interface ReadinessOptions {
	uses: WorkflowUse[];
	/** Types the FHIR Resource operations read, besides those the other uses imply. */
	extraTypes: string[];
	/** Concurrent reads across the forced token renewal. */
	renewalBurst: number;
	/** Opt-in: spend part of the practice's budget to measure the pacing. */
	measureRateLimit: boolean;
	/** Requests in the measured burst (0 = the pace plus 10). */
	rateLimitBurst: number;
	/** Opt-in: kick off, poll and cancel a small export. */
	tryBulkExport: boolean;
	bulkGroupId: string;
	/** The Bulk Export operation's floor: never poll more often. */
	bulkPollFloorMs: number;
	/** The longest the bulk check waits for its one status poll. */
	bulkMaxWaitMs: number;
}

/** Everything the checks need; built by the n8n adapter or, in tests, from fetch. */
export interface ReadinessContext {
	client: FhirClient;
	/** The client with the bulk token (eCW: system/Group.read). */
	bulkClient?: () => Promise<FhirClient>;
	credential: CredentialSummary;
	tokens?: TokenControl;
	/** User Login: what n8n stored after the login (never the tokens themselves). */
	userLogin?: { grantedScope?: string; hasRefreshToken: boolean };
	/** User Login: the OAuth redirect URI n8n uses (from the instance's base URL). */
	redirectUri?: string;
	log: RequestLog;
	now: () => number;
	sleep: (ms: number) => Promise<void>;
	options: ReadinessOptions;
	/** Progress for the person watching (n8n's log): long steps are never silent. */
	onProgress?: (message: string) => void;
}

/**
 * The authenticated read: a page of one entry of a type without patient data, or, when the scopes
 * cover only patient data, a read of a Patient id that does not exist (404 after the token is
 * accepted: no patient is read).
 */
export interface Probe {
	/** Relative to the base URL: `Organization` or `Patient/{id}`. */
	path: string;
	query: Array<[string, string]>;
	/** The status that means the server accepted the token here. */
	expect: 200 | 404;
	/** How the report names it, e.g. `GET Organization?_count=1`. */
	label: string;
}

/** What earlier checks learnt, for the later ones. */
export interface ReadinessState {
	smartConfiguration?: Record<string, unknown>;
	metadata?: CapabilityStatement;
	/** The cheap authenticated read every later check repeats. */
	probe?: Probe;
	access?: { ok: boolean; reason?: string };
}

export type Check = (ctx: ReadinessContext, state: ReadinessState) => Promise<CheckResult>;
