import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

/**
 * An API key of this n8n instance, for Bulk Export's state in an n8n Data Table: the node reads and
 * writes its rows through n8n's public API (n8n does not let community nodes use Data Tables
 * directly). The key is sent only to the n8n URL set here.
 */
export class EClinicalWorksN8nApi implements ICredentialType {
	name = 'eClinicalWorksN8nApi';

	displayName = 'eClinicalWorks Export State API';

	icon: Icon = { light: 'file:eclinicalworks.svg', dark: 'file:eclinicalworks.dark.svg' };

	documentationUrl = 'https://github.com/n8n-nodes-eclinicalworks/n8n-nodes-eclinicalworks/blob/main/docs/bulk-export.md#where-the-export-state-is-kept';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: 'An API key of this n8n (Settings > n8n API > Create an API key). If n8n lets you pick scopes, give it the Data Table scopes.',
		},
		{
			displayName: 'n8n URL',
			name: 'baseUrl',
			type: 'string',
			default: 'http://localhost:5678',
			required: true,
			placeholder: 'e.g. http://localhost:5678',
			description: "Where every n8n process can reach this n8n's API (without /api/v1). In queue mode the workers call it: use the main process's address as the workers see it.",
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { 'X-N8N-API-KEY': '={{ $credentials.apiKey }}' } },
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{ ($credentials.baseUrl || "").trim().replace(/\\/+$/, "").replace(/\\/api\\/v1$/, "") }}',
			url: '/api/v1/data-tables',
			qs: { limit: 1 },
		},
	};
}
