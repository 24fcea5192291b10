import type { INodeProperties } from 'n8n-workflow';

import { DEFAULT_TABLE_NAME } from '../../fhir/bulk/dataTableRows';

/** Where Bulk Export keeps its state (docs/bulk-export.md#where-the-export-state-is-kept). */

export const stateStoreFields: INodeProperties[] = [
	{
		displayName: 'Keep Export State In',
		name: 'stateStore',
		type: 'options',
		options: [
			{
				name: 'Automatic',
				value: 'auto',
				description:
					'An n8n Data Table when an "eClinicalWorks Export State API" credential is chosen below, else the workflow\'s static data',
			},
			{
				name: 'Data Table',
				value: 'dataTable',
				description:
					"In n8n's database, through n8n's API: every n8n process sees it (queue-mode workers too), manual runs included. Needs an n8n API key (n8n 2.7 or later).",
			},
			{
				name: 'Workflow Static Data',
				value: 'staticData',
				description:
					'Nothing to set up, but one n8n process only: saved when the run ends, production runs only, and not read back on queue-mode workers of n8n 2.40 and later',
			},
		],
		default: 'auto',
		description:
			'Where the last successful export time and the export in flight are kept: what makes "Since Last Successful Export", resuming and one export at a time work. On several n8n processes (queue mode), use a Data Table.',
	},
	{
		displayName: 'Data Table',
		name: 'stateTable',
		type: 'resourceLocator',
		default: { mode: 'name', value: DEFAULT_TABLE_NAME },
		description: 'The table that holds the state, one row per export. By name, it is created on first use.',
		displayOptions: { show: { stateStore: ['auto', 'dataTable'] } },
		modes: [
			{ displayName: 'By Name', name: 'name', type: 'string', placeholder: `e.g. ${DEFAULT_TABLE_NAME}` },
			{ displayName: 'By ID', name: 'id', type: 'string', placeholder: 'e.g. aB3dE5gH7jK9mN1p' },
		],
	},
];

export const restartInterruptedField: INodeProperties = {
	displayName: 'Start Again After an Interrupted Kick-Off',
	name: 'restartInterrupted',
	type: 'boolean',
	default: false,
	description:
		'Whether to start a new export when an earlier run stopped between sending the kick-off and recording its status URL. Off: the run stops and says so, because the server may be running that export (eClinicalWorks refuses a duplicate while one runs). Turn on once you know it is not.',
};
