import type { IExecuteFunctions } from 'n8n-workflow';

import { backendSettings, environmentOf, sharingProcesses, ECW_RATE_LIMIT_PER_MINUTE } from '../fhir/auth/backend';
import { isEcwHost } from '../fhir/auth/discovery';
import { tokenCache } from '../fhir/auth/tokenCache';
import type { FhirClient } from '../fhir/client';
import { shareOfLimit } from '../fhir/pacer';
import type { RequestObserver } from '../fhir/readiness/recorder';
import type { CredentialSummary, ReadinessContext } from '../fhir/readiness/types';
import { responseOptionsOf } from './credentialFields';
import { authenticationOf, backendClient, practiceCodeParameter, userLoginClient, BACKEND_CREDENTIAL, USER_LOGIN_CREDENTIAL } from './index';

/**
 * The n8n side of the readiness check: the node's credential turned into the clients, the
 * credential summary the report shows (never a secret) and, for Backend Service credentials, the
 * package's token cache entry the renewal check drives.
 */

export type ReadinessConnection = Pick<ReadinessContext, 'client' | 'bulkClient' | 'credential' | 'tokens' | 'userLogin'>;

function text(value: unknown): string {
	return typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
}

/** The Rate Limit the user set, as the clients read it (the pacer keeps this process's share of it). */
function configuredRate(raw: unknown, fallback: number): number {
	const rate = Number(raw ?? fallback);
	return Number.isFinite(rate) && rate > 0 ? Math.floor(rate) : 0;
}

async function backendConnection(ctx: IExecuteFunctions, itemIndex: number, observe: RequestObserver): Promise<ReadinessConnection> {
	const data = (await ctx.getCredentials(BACKEND_CREDENTIAL, itemIndex)) as Record<string, unknown>;
	const practiceCode = practiceCodeParameter(ctx, itemIndex) || undefined;
	const settings = backendSettings(data, { practiceCode });
	const response = responseOptionsOf(data);
	const client = backendClient(ctx, settings, { response, observe });
	const custom = settings.environment === 'custom';
	const rate = custom ? configuredRate(data.customRateLimitPerMinute ?? data.rateLimitPerMinute, 0) : configuredRate(data.rateLimitPerMinute, ECW_RATE_LIMIT_PER_MINUTE);
	const processes = sharingProcesses(data.rateLimitProcesses);
	const credential: CredentialSummary = {
		kind: 'backendService',
		environment: settings.environment,
		baseUrl: settings.baseUrl,
		practiceCode: settings.practiceCode,
		clientId: settings.clientId,
		authMethod: settings.authMethod,
		algorithm: settings.authMethod === 'privateKeyJwt' ? settings.algorithm : undefined,
		tokenUrl: settings.tokenUrl,
		jwksUrl: settings.authMethod === 'privateKeyJwt' ? settings.jwksUrl : undefined,
		scopes: settings.scopes,
		fitScopes: settings.fitScopes,
		isEcw: settings.isEcw,
		rateLimitPerMinute: rate,
		processes,
		pacePerMinute: settings.rateLimitPerMinute,
	};
	const key = settings.cacheKey;
	return {
		client,
		bulkClient: async () => backendClient(ctx, backendSettings(data, { practiceCode, bulk: true }), { response, observe }),
		credential,
		tokens: {
			current: () => {
				const token = tokenCache.peek(key);
				return token ? { obtainedAt: token.obtainedAt, expiresAt: token.expiresAt, scope: token.scope } : undefined;
			},
			forceRenewal: () => {
				tokenCache.forceRenewal(key);
			},
			mints: () => tokenCache.mints.get(key) ?? 0,
		},
	};
}

async function userLoginConnection(ctx: IExecuteFunctions, itemIndex: number, observe: RequestObserver): Promise<ReadinessConnection> {
	const data = (await ctx.getCredentials(USER_LOGIN_CREDENTIAL, itemIndex)) as Record<string, unknown>;
	const practiceCode = practiceCodeParameter(ctx, itemIndex) || undefined;
	const client: FhirClient = userLoginClient(ctx, data, { practiceCode, observe });
	const environment = environmentOf(data.environment);
	const isEcw = environment !== 'custom' || isEcwHost(client.baseUrl);
	const rate = configuredRate(data.rateLimitPerMinute, isEcw ? ECW_RATE_LIMIT_PER_MINUTE : 0);
	const processes = sharingProcesses(data.rateLimitProcesses);
	const tokenData = (data.oauthTokenData ?? {}) as Record<string, unknown>;
	return {
		client,
		bulkClient: async () => client,
		credential: {
			kind: 'userLogin',
			environment,
			baseUrl: client.baseUrl,
			practiceCode: client.practiceCode,
			clientId: text(data.clientId),
			authMethod: 'authorizationCode',
			tokenUrl: text(data.accessTokenUrl),
			scopes: text(data.scope),
			fitScopes: false,
			isEcw,
			rateLimitPerMinute: rate,
			processes,
			pacePerMinute: shareOfLimit(rate, processes),
		},
		userLogin: {
			grantedScope: typeof tokenData.scope === 'string' ? tokenData.scope : undefined,
			hasRefreshToken: typeof tokenData.refresh_token === 'string' && tokenData.refresh_token !== '',
		},
	};
}

/** The clients and credential summary for one item, with every request told to `observe`. */
export async function readinessConnection(ctx: IExecuteFunctions, itemIndex: number, observe: RequestObserver): Promise<ReadinessConnection> {
	return authenticationOf(ctx, itemIndex) === 'userLogin'
		? await userLoginConnection(ctx, itemIndex, observe)
		: await backendConnection(ctx, itemIndex, observe);
}
