import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

/** Runs one operation for one input item; the router adds pairedItem and handles continueOnFail. */
export type OperationExecute = (this: IExecuteFunctions, itemIndex: number) => Promise<INodeExecutionData[]>;

/** One resource of the node (Patient, Appointment, ...): its fields and its operations. */
export interface ResourceModule {
	/** Label in the Resource dropdown. */
	displayName: string;
	/** Value of the `resource` parameter. */
	value: string;
	description: string;
	/** The `operation` selector for this resource and every operation's fields, with displayOptions. */
	properties: INodeProperties[];
	operations: Record<string, OperationExecute>;
}
