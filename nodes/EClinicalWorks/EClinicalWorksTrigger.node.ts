import { NodeConnectionTypes } from 'n8n-workflow';
import type { INodeExecutionData, INodeType, INodeTypeDescription, IPollFunctions } from 'n8n-workflow';

import { triggerProperties } from './trigger/description';
import { pollTrigger } from './trigger/poll';

export class EClinicalWorksTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'eClinicalWorks Trigger',
		name: 'eClinicalWorksTrigger',
		icon: { light: 'file:eclinicalworks.svg', dark: 'file:eclinicalworks.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ $parameter["event"] === "patientChanged" ? "Patient created or updated" : "Appointment created or changed" }}',
		// n8n's nodes panel merges this trigger and the eClinicalWorks node into one entry and shows THIS
		// description for it (in "What happens next?" and on its Node details page), also when a user
		// looks for an action such as Get Appointments: so it describes both nodes, actions first.
		description:
			'Get patients, appointments (eCW visits), any FHIR resource and bulk exports from eClinicalWorks or another SMART on FHIR R4 server, and start workflows when appointments or patients change',
		defaults: { name: 'eClinicalWorks Trigger' },
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'eClinicalWorksApi',
				required: true,
				displayOptions: { show: { authentication: ['backendService'] } },
			},
			{
				name: 'eClinicalWorksOAuth2Api',
				required: true,
				displayOptions: { show: { authentication: ['userLogin'] } },
			},
		],
		properties: triggerProperties,
	};

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		return await pollTrigger.call(this);
	}
}
