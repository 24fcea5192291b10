// Generate Key Pair puts a private key in its output: as an AI agent's tool it would hand that key to
// the model, so it refuses there (issue 19 item 5). Both ways n8n-core runs a tool are exercised in
// process with real WorkflowExecute: an agent that asks for its tools (getInputConnectionData: the
// tool runs in a SupplyDataContext), and an agent that returns an engine request (n8n 2.x agents:
// the tool node runs as a node of the workflow). The tool node is this package's node converted the
// way n8n converts `usableAsTool` nodes (type name + "Tool", no inputs, an ai_tool output).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { loadPackageNodeTypes, n8nWorkflow, runWorkflow } from '../helpers/n8n.mjs';

const { NodeConnectionTypes } = n8nWorkflow;
const BASE = 'n8n-nodes-eclinicalworks.eClinicalWorks';
const TOOL = `${BASE}Tool`;

/** n8n's convertNodeToAiTool (packages/cli/src/tool-generation): the tool variant of a usableAsTool node. */
function asTool(nodeType) {
	const d = nodeType.description;
	assert.equal(d.usableAsTool, true);
	const description = { ...d, name: `${d.name}Tool`, displayName: `${d.displayName} Tool`, inputs: [], outputs: [NodeConnectionTypes.AiTool] };
	delete description.usableAsTool;
	return Object.create(nodeType, { description: { value: description } });
}

/** An agent that asks n8n-core for its tools and calls each once (n8n 1.x agents, tools as sub-nodes). */
class SupplyDataAgent {
	description = {
		displayName: 'Test Agent',
		name: 'testSupplyDataAgent',
		group: ['transform'],
		version: 1,
		description: 'Calls every connected tool once',
		defaults: { name: 'Agent' },
		inputs: [NodeConnectionTypes.Main, { type: NodeConnectionTypes.AiTool, displayName: 'Tools' }],
		outputs: [NodeConnectionTypes.Main],
		properties: [],
	};

	async execute() {
		const tools = [await this.getInputConnectionData(NodeConnectionTypes.AiTool, 0)].flat();
		const out = [];
		for (const tool of tools) {
			let answer;
			try {
				answer = { response: await tool.invoke({}) };
			} catch (error) {
				answer = { error: error.message, description: error.description ?? '' };
			}
			out.push({ json: { tool: tool.name, ...answer } });
		}
		return [out];
	}
}

/** An agent that returns an engine request for its tool, then outputs what came back (n8n 2.x agents). */
class EngineRequestAgent {
	description = {
		...new SupplyDataAgent().description,
		name: 'testEngineRequestAgent',
	};

	async execute(response) {
		if (!response?.actionResponses?.length && !this.getExecuteData()?.metadata?.nodeWasResumed) {
			return { actions: [{ actionType: 'ExecutionNodeAction', nodeName: 'Key pair tool', input: {}, type: NodeConnectionTypes.AiTool, id: 'call-1', metadata: { itemIndex: 0 } }], metadata: {} };
		}
		return [(response?.actionResponses ?? []).map((r) => ({ json: { runData: r.data } }))];
	}
}

function workflow(agentType) {
	const toolParameters = { resource: 'utility', operation: 'generateKeyPair', keyServer: 'ecw', keyId: '', toolDescription: 'Makes a key pair' };
	return {
		nodes: [
			{ name: 'Manual Trigger', type: 'n8n-nodes-base.manualTrigger', parameters: {} },
			{ name: 'Agent', type: agentType, parameters: {} },
			{ name: 'Key pair tool', type: TOOL, parameters: toolParameters },
		],
		connections: {
			'Manual Trigger': { main: [[{ node: 'Agent', type: 'main', index: 0 }]] },
			'Key pair tool': { [NodeConnectionTypes.AiTool]: [[{ node: 'Agent', type: NodeConnectionTypes.AiTool, index: 0 }]] },
		},
		nodeTypes: {
			'test.supplyDataAgent': SupplyDataAgent,
			'test.engineRequestAgent': EngineRequestAgent,
			[TOOL]: asTool(loadPackageNodeTypes()[BASE]),
		},
	};
}

const REFUSAL = /^Operation: Generate Key Pair does not run as an AI agent tool/;
const noKey = (value) => assert.doesNotMatch(JSON.stringify(value), /PRIVATE KEY|privateKeyPem/, 'no private key anywhere in the run');

test('as a tool of an agent that asks n8n for its tools (SupplyDataContext): refused, says where to run it, no key made', async () => {
	const result = await runWorkflow({ ...workflow('test.supplyDataAgent'), inputItems: [{}] });
	assert.equal(result.error, undefined, result.error?.message);
	const [answer] = result.outputOf('Agent');
	assert.match(answer.error, REFUSAL);
	assert.match(`${answer.error} ${answer.description}`, /workflow of its own.*Generate Key Pair.*openssl/s);
	noKey(result.data);
});

test('as a tool run through an engine request (n8n 2.x agents): refused, no key made', async () => {
	const result = await runWorkflow({ ...workflow('test.engineRequestAgent'), inputItems: [{}] });
	const toolRun = result.data.data.resultData.runData['Key pair tool'];
	assert.ok(toolRun?.length, 'the tool node ran');
	const error = toolRun.at(-1).error;
	assert.ok(error, 'the tool run failed');
	assert.match(error.message, REFUSAL);
	noKey(result.data);
});

test('the same operation as a plain node still makes the key pair', async () => {
	const result = await runWorkflow({
		nodes: [
			{ name: 'Manual Trigger', type: 'n8n-nodes-base.manualTrigger', parameters: {} },
			{ name: 'Key pair', type: BASE, parameters: { resource: 'utility', operation: 'generateKeyPair', keyServer: 'ecw', keyId: '' } },
		],
		connections: { 'Manual Trigger': { main: [[{ node: 'Key pair', type: 'main', index: 0 }]] } },
		inputItems: [{}],
	});
	assert.equal(result.error, undefined, result.error?.message);
	assert.match(result.outputOf('Key pair')[0].privateKeyPem, /BEGIN PRIVATE KEY/);
});
