import type { INodeProperties } from 'n8n-workflow';

import type { ResourceModule } from '../types';
import * as cancel from './cancel.operation';
import * as checkStatus from './checkStatus.operation';
import * as download from './download.operation';
import * as exportOperation from './export.operation';
import * as start from './start.operation';

const operationField: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['bulkExport'] } },
	options: [
		{
			name: 'Cancel',
			value: 'cancel',
			description: 'Cancel a running export (DELETE on its status URL)',
			action: 'Cancel a bulk export',
		},
		{
			name: 'Check Status',
			value: 'checkStatus',
			description: 'Check once whether an export is done: progress, done/failed and the manifest',
			action: 'Check the status of a bulk export',
		},
		{
			name: 'Download',
			value: 'download',
			description: 'Download the files of a completed export as binary files or records',
			action: 'Download a bulk export',
		},
		{
			name: 'Export',
			value: 'export',
			description: 'Start an export, wait for it and download its files, all in one step',
			action: 'Export data in bulk',
		},
		{
			name: 'Start',
			value: 'start',
			description: 'Start an export and return its status URL (for loops with a Wait node)',
			action: 'Start a bulk export',
		},
	],
	default: 'export',
};

export const bulkExportResource: ResourceModule = {
	displayName: 'Bulk Export',
	value: 'bulkExport',
	description: 'Export whole populations (FHIR Bulk Data $export): nightly, incremental, streamed to files',
	properties: [
		operationField,
		...exportOperation.description,
		...start.description,
		...checkStatus.description,
		...download.description,
		...cancel.description,
	],
	operations: {
		export: exportOperation.execute,
		start: start.execute,
		checkStatus: checkStatus.execute,
		download: download.execute,
		cancel: cancel.execute,
	},
};
