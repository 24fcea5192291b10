import type { CheckResult } from './types';

/** What the node cannot check: the user confirms these before sending the production request. */

export function manualItems(): CheckResult[] {
	return [
		{
			check: 'Signed BAA',
			status: 'not-checkable',
			evidence: 'A Business Associate Agreement with eClinicalWorks is a signed document; nothing the node can read shows it.',
			whatToDo: 'Confirm a signed BAA with eClinicalWorks is on file before you submit the production request.',
		},
		{
			check: 'Production access request',
			status: 'not-checkable',
			evidence: 'eClinicalWorks reviews production requests by hand, from the developer portal.',
			whatToDo: 'Submit the request from the developer portal with the BAA, a description of your deployment scope, and this report as the evidence of end-to-end sandbox testing.',
		},
	];
}
