import { readText } from '../responseBody';
import type { CapabilityStatement } from '../types';
import type { Check, CheckResult, ReadinessContext, ReadinessState } from './types';
import { describeFailure, isLoopbackUrl, oauthMethodName } from './util';

/**
 * Discovery and SMART configuration: the endpoints the server publishes, the token endpoint over
 * HTTPS, and the authentication methods and algorithms it offers against the credential's.
 */

const CHECK = 'Discovery and SMART configuration';

function strings(value: unknown): string[] | undefined {
	return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
}

async function readJson(ctx: ReadinessContext, path: string): Promise<{ status: number; json?: Record<string, unknown> }> {
	const response = await ctx.client.send({ method: 'GET', path, withToken: false, acceptStatus: [400, 401, 403, 404, 405] });
	const text = await readText(response.body, 2_000_000);
	if (response.status < 200 || response.status >= 300) return { status: response.status };
	try {
		const json = JSON.parse(text) as unknown;
		return { status: response.status, json: json && typeof json === 'object' ? (json as Record<string, unknown>) : undefined };
	} catch {
		return { status: response.status };
	}
}

/** https, or http on this machine (a local test server); anything else fails. */
function transportVerdict(url: string): 'https' | 'loopback' | 'plain' {
	if (/^https:/i.test(url)) return 'https';
	return isLoopbackUrl(url) ? 'loopback' : 'plain';
}

export const checkDiscovery: Check = async (ctx: ReadinessContext, state: ReadinessState): Promise<CheckResult> => {
	const cred = ctx.credential;
	const evidence: string[] = [];
	const problems: string[] = [];
	const warnings: string[] = [];
	const advice: string[] = [];

	let smart: Record<string, unknown> | undefined;
	try {
		const read = await readJson(ctx, '.well-known/smart-configuration');
		smart = read.json;
		if (!smart) evidence.push(`GET .well-known/smart-configuration answered ${read.status}: no SMART configuration.`);
	} catch (error) {
		evidence.push(`GET .well-known/smart-configuration failed: ${describeFailure(error).message}.`);
	}
	state.smartConfiguration = smart;

	const discoveredToken = typeof smart?.token_endpoint === 'string' ? smart.token_endpoint : '';
	const tokenUrl = cred.kind === 'backendService' ? cred.tokenUrl || discoveredToken : cred.tokenUrl;
	if (smart) {
		evidence.push(`SMART configuration found: token endpoint ${discoveredToken ? discoveredToken.replace(/\?.*$/, '') : '(none named)'}${typeof smart.authorization_endpoint === 'string' ? `, authorization endpoint ${smart.authorization_endpoint.replace(/\?.*$/, '')}` : ''}.`);
	}
	if (cred.kind === 'backendService' && cred.tokenUrl && discoveredToken && cred.tokenUrl !== discoveredToken) {
		(cred.isEcw ? problems : warnings).push(`the credential's Token URL (${cred.tokenUrl.replace(/\?.*$/, '')}) is not the one the server publishes`);
		advice.push('Clear the credential\'s Token URL so the node reads it from the SMART configuration (eClinicalWorks requires this).');
	}
	if (!tokenUrl) {
		problems.push('no token endpoint: the server publishes no SMART configuration and the credential names no Token URL');
		advice.push('Check the FHIR Base URL (for eCW it ends with the practice code), or enter the Token URL in the credential.');
	} else {
		const verdict = transportVerdict(tokenUrl);
		if (verdict === 'https') evidence.push('The token endpoint uses HTTPS.');
		else if (verdict === 'loopback') evidence.push('The token endpoint uses http on this machine (a local test server such as the package\'s sandbox); production servers use HTTPS.');
		else {
			problems.push(`the token endpoint ${tokenUrl.replace(/\?.*$/, '')} is not HTTPS: the client's credentials would travel unencrypted`);
			advice.push('Use the server\'s HTTPS token endpoint: clear the Token URL to discover it, or enter the https:// address the server documents.');
		}
	}

	const methods = strings(smart?.token_endpoint_auth_methods_supported);
	if (cred.kind === 'backendService') {
		const mine = oauthMethodName(cred.authMethod);
		if (methods?.length) {
			evidence.push(`Client authentication offered: ${methods.join(', ')}; the credential uses ${mine}.`);
			if (!methods.includes(mine)) {
				problems.push(`the server does not offer ${mine}`);
				advice.push(`Set the credential's Authentication Method to one the server offers (${methods.join(', ')}).`);
			}
		} else evidence.push(`The server lists no client authentication methods; the credential uses ${mine}.`);
		if (cred.authMethod === 'privateKeyJwt') {
			const algs = strings(smart?.token_endpoint_auth_signing_alg_values_supported);
			if (algs?.length) {
				evidence.push(`Signing algorithms offered: ${algs.join(', ')}; the credential signs with ${cred.algorithm}.`);
				if (cred.algorithm && !algs.includes(cred.algorithm)) {
					problems.push(`the server does not accept ${cred.algorithm}`);
					advice.push(`Make a key for an algorithm it offers (${algs.join(', ')}), register its JWKS, and set Algorithm.`);
				}
			} else {
				evidence.push(`The server lists no signing algorithms (eClinicalWorks documents RS384 only; SMART servers accept RS384); the credential signs with ${cred.algorithm}.`);
			}
		}
	} else {
		const pkce = strings(smart?.code_challenge_methods_supported);
		if (pkce) evidence.push(`PKCE methods offered: ${pkce.join(', ')}; n8n's login uses S256.`);
		if (pkce && !pkce.includes('S256')) {
			problems.push('the server does not offer PKCE S256');
			advice.push('Ask the server operator for PKCE S256, which SMART App Launch requires.');
		}
	}

	try {
		let metadata = await readJson(ctx, 'metadata');
		if ((metadata.status === 401 || metadata.status === 403) && !metadata.json) {
			// a server that wants a token even for its CapabilityStatement
			metadata = { status: 200, json: (await ctx.client.capabilities({ fresh: true })) as unknown as Record<string, unknown> };
		}
		const statement = metadata.json as CapabilityStatement | undefined;
		if (statement?.resourceType === 'CapabilityStatement') {
			state.metadata = statement;
			const server = (statement.rest ?? []).find((r) => r.mode === undefined || r.mode === 'server');
			const types = (server?.resource ?? []).length;
			const software = [statement.software?.name, statement.software?.version].filter(Boolean).join(' ');
			evidence.push(`CapabilityStatement: FHIR ${statement.fhirVersion ?? '(version not stated)'}${software ? `, ${software}` : ''}, ${types} resource types.`);
			if (statement.fhirVersion && !/^4\.0\./.test(statement.fhirVersion)) {
				warnings.push(`the server says FHIR ${statement.fhirVersion}; the node is written for FHIR R4 (4.0.x)`);
				advice.push('Check the FHIR Base URL points at the server\'s R4 endpoint.');
			}
		} else {
			problems.push(`GET metadata answered ${metadata.status} without a CapabilityStatement`);
			advice.push('Check the FHIR Base URL: {base}/metadata must answer the server\'s CapabilityStatement.');
		}
	} catch (error) {
		problems.push(`GET metadata failed: ${describeFailure(error).message}`);
		advice.push('Check the FHIR Base URL and that this n8n can reach it.');
	}

	const status = problems.length ? 'fail' : warnings.length ? 'warn' : 'pass';
	const said = [...problems, ...warnings];
	return {
		check: CHECK,
		status,
		evidence: [...evidence, ...(said.length ? [`Problems: ${said.join('; ')}.`] : [])].join(' '),
		whatToDo: advice.length ? advice.join(' ') : 'Nothing to do.',
	};
};
