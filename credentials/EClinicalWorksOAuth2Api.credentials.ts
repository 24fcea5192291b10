import type { ICredentialTestRequest, ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

import { ECW_BASE_URL_TEMPLATES, ECW_RATE_LIMIT_PER_MINUTE, ENVIRONMENT_OPTIONS } from '../nodes/EClinicalWorks/fhir/auth/backend';
import { DEFAULT_USER_SCOPES } from '../nodes/EClinicalWorks/fhir/scopes';
import { rateLimitProcessesField, responseOptionFields } from '../nodes/EClinicalWorks/transport/credentialFields';
import { USER_PROBE_RULES, probeUrlExpression } from '../nodes/EClinicalWorks/transport/credentialTest';

const ECW_OAUTH = {
	ecwProduction: 'https://oauthserver.eclinicalworks.com/oauth/oauth2',
	ecwSandbox: 'https://staging-oauthserver.ecwcloud.com/oauth/oauth2',
};

/** The resolved FHIR base URL, as an n8n expression body over `source` ($self or $credentials). */
function baseUrlExpression(source: string): string {
	return (
		`((${source}.baseUrl || "").trim() || (${source}.environment === "ecwSandbox" ? "${ECW_BASE_URL_TEMPLATES.ecwSandbox}" : "${ECW_BASE_URL_TEMPLATES.ecwProduction}"))` +
		`.replace("{practiceCode}", (${source}.practiceCode || "").trim()).replace(/\\/+$/, "")`
	);
}

function endpointExpression(path: 'authorize' | 'token', customField: string): string {
	return `={{ $self.environment === "custom" ? $self.${customField} : ($self.environment === "ecwSandbox" ? "${ECW_OAUTH.ecwSandbox}/${path}" : "${ECW_OAUTH.ecwProduction}/${path}") }}`;
}

const custom = { show: { environment: ['custom'] } };

export class EClinicalWorksOAuth2Api implements ICredentialType {
	name = 'eClinicalWorksOAuth2Api';

	extends = ['oAuth2Api'];

	displayName = 'eClinicalWorks (User Login) OAuth2 API';

	icon: Icon = { light: 'file:eclinicalworks.svg', dark: 'file:eclinicalworks.dark.svg' };

	documentationUrl = 'https://github.com/n8n-nodes-eclinicalworks/n8n-nodes-eclinicalworks#credentials';

	properties: INodeProperties[] = [
		{
			displayName: 'Grant Type',
			name: 'grantType',
			type: 'hidden',
			default: 'pkce',
		},
		{
			displayName: 'Environment',
			name: 'environment',
			type: 'options',
			options: ENVIRONMENT_OPTIONS,
			default: 'ecwProduction',
		},
		{
			displayName: 'FHIR Base URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://fhir4.eclinicalworks.com/fhir/r4/{practiceCode}',
			description:
				'FHIR R4 base URL; sent as "aud" when you log in. For eClinicalWorks leave empty and set the Practice Code.',
		},
		{
			displayName: 'Practice Code',
			name: 'practiceCode',
			type: 'string',
			default: '',
			description: 'eClinicalWorks practice code: it fills {practiceCode} in the FHIR base URL',
		},
		{
			displayName: 'Authorization URL',
			name: 'customAuthUrl',
			type: 'string',
			default: '',
			placeholder: 'https://ehr.example.com/oauth2/authorize',
			description: 'The server\'s authorization_endpoint (see {base}/.well-known/smart-configuration)',
			displayOptions: custom,
		},
		{
			displayName: 'Access Token URL',
			name: 'customAccessTokenUrl',
			type: 'string',
			default: '',
			placeholder: 'https://ehr.example.com/oauth2/token',
			description: 'The server\'s token_endpoint (see {base}/.well-known/smart-configuration)',
			displayOptions: custom,
		},
		{
			displayName: 'Authorization URL',
			name: 'authUrl',
			type: 'hidden',
			default: endpointExpression('authorize', 'customAuthUrl'),
		},
		{
			displayName: 'Access Token URL',
			name: 'accessTokenUrl',
			type: 'hidden',
			default: endpointExpression('token', 'customAccessTokenUrl'),
		},
		{
			displayName: 'Scope',
			name: 'scope',
			type: 'string',
			default: DEFAULT_USER_SCOPES,
			description:
				'Space-separated. offline_access keeps the login alive (eCW refresh tokens last 90 days and are single use; n8n stores each new one).',
		},
		{
			displayName: 'Auth URI Query Parameters',
			name: 'authQueryParameters',
			type: 'hidden',
			default: `={{ "aud=" + encodeURIComponent(${baseUrlExpression('$self')}) }}`,
		},
		{
			displayName: 'Authentication',
			name: 'authentication',
			type: 'hidden',
			default: 'header',
		},
		{
			displayName: 'Rate Limit (Requests per Minute)',
			name: 'rateLimitPerMinute',
			type: 'number',
			default: ECW_RATE_LIMIT_PER_MINUTE,
			typeOptions: { minValue: 0 },
			description: 'Client-side pacing per practice (eClinicalWorks allows 250 per minute). 0 = no pacing.',
		},
		rateLimitProcessesField,
		...responseOptionFields,
	];

	/** One search with the login's token that proves this user and practice let this app read (credentialTest.ts). */
	test: ICredentialTestRequest = {
		request: {
			method: 'GET',
			url: probeUrlExpression(baseUrlExpression('$credentials'), '$credentials.scope'),
			headers: { Accept: 'application/fhir+json' },
		},
		rules: USER_PROBE_RULES,
	};
}
