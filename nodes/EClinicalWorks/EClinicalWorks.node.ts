import { NodeConnectionTypes } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';

import { authenticationField } from './actions/common/fields';
import { resources } from './actions/resources';
import { router } from './actions/router';
import { methods } from './methods';
import { practiceCodeField } from './transport/practiceCode';

export class EClinicalWorks implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'eClinicalWorks',
		name: 'eClinicalWorks',
		icon: { light: 'file:eclinicalworks.svg', dark: 'file:eclinicalworks.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description:
			'Read patients, appointments (eCW visits), any FHIR resource and bulk exports from eClinicalWorks or another SMART on FHIR R4 server',
		defaults: { name: 'eClinicalWorks' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'eClinicalWorksApi',
				required: true,
				displayOptions: { show: { authentication: ['backendService'] }, hide: { operation: ['generateKeyPair'] } },
			},
			{
				name: 'eClinicalWorksOAuth2Api',
				required: true,
				displayOptions: { show: { authentication: ['userLogin'] }, hide: { operation: ['generateKeyPair'] } },
			},
			{
				// Bulk Export's state in an n8n Data Table (actions/bulkExport/stateFields.ts). Only `hide`:
				// n8n's editor takes every field a credential's `show` names for an authentication field and
				// hides the fields those depend on (here Resource and Operation) from the panel.
				name: 'eClinicalWorksN8nApi',
				displayName: 'Export State Credential (n8n API Key, Optional)',
				required: false,
				displayOptions: {
					hide: {
						resource: resources.map((r) => r.value).filter((r) => r !== 'bulkExport'),
						operation: ['download'],
						stateStore: ['staticData'],
					},
				},
			},
		],
		properties: [
			authenticationField,
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: resources.map((r) => ({ name: r.displayName, value: r.value, description: r.description })),
				default: 'patient',
			},
			...resources.flatMap((r) => r.properties),
			practiceCodeField,
		],
	};

	methods = methods;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
