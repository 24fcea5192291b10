import type { INodeProperties } from 'n8n-workflow';

import type { ResourceModule } from '../types';
import * as getMany from './getMany.operation';

const operationField: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['appointment'] } },
	options: [
		{
			name: 'Get Many',
			value: 'getMany',
			description:
				'List appointments in a date range (today, tomorrow, next 7 days or custom), optionally for one patient, practitioner or location. On eClinicalWorks these are the visits (Encounters).',
			action: 'Get appointments',
		},
	],
	default: 'getMany',
};

export const appointmentResource: ResourceModule = {
	displayName: 'Appointment',
	value: 'appointment',
	description: 'Scheduled visits with patient, practitioner and location details',
	properties: [operationField, ...getMany.description],
	operations: {
		getMany: getMany.execute,
	},
};
