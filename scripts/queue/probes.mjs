// Probe workflows for the export-state suite (scripts/e2e/queue-state.test.mjs): where n8n keeps
// workflow static data for each way an execution starts. Each probe reads a counter from static
// data, adds 1 and outputs what it read; run twice, the second run shows whether the first one's
// write was saved and read back.
import assert from 'node:assert/strict';
import { info } from '../lib.mjs';
import { itemsOf } from './cluster.mjs';
import { nodeId, webhookNode } from './workflows.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The probe: reads a counter from the workflow's static data, adds 1, outputs what it read. */
function probeNode(name = 'Probe', position = [300, 0]) {
	return {
		id: nodeId(),
		name,
		type: 'n8n-nodes-base.code',
		typeVersion: 2,
		position,
		parameters: {
			jsCode: "const data = $getWorkflowStaticData('global');\nconst seen = data.probe ?? 0;\ndata.probe = seen + 1;\nreturn [{ json: { seen, mode: $execution.mode } }];",
		},
	};
}

const chain = (...names) => Object.fromEntries(names.slice(0, -1).map((n, i) => [n, { main: [[{ node: names[i + 1], type: 'main', index: 0 }]] }]));
const workflow = (id, name, nodes, connections) => ({ id, name, active: false, settings: { executionOrder: 'v1', saveManualExecutions: true }, nodes, connections });

/**
 * Probe workflows, one per way of starting (each its own static data). `kind`:
 * webhook | schedule (every 20 s) | manual | retry (fails on its first run unless `pass`) | parent + child
 * (sub-workflow call) | wait (probe, Wait 66 s, probe again).
 */
export function probeWorkflow(kind, { id, path, childId }) {
	const name = `probe: static data (${kind})`;
	if (kind === 'webhook') {
		const hook = webhookNode(path, { responseData: 'firstEntryJson' });
		return workflow(id, name, [hook, probeNode()], chain(hook.name, 'Probe'));
	}
	if (kind === 'schedule') {
		const schedule = { id: nodeId(), name: 'Every 20 seconds', type: 'n8n-nodes-base.scheduleTrigger', typeVersion: 1.2, position: [0, 0], parameters: { rule: { interval: [{ field: 'seconds', secondsInterval: 20 }] } } };
		return workflow(id, name, [schedule, probeNode()], chain(schedule.name, 'Probe'));
	}
	if (kind === 'manual') {
		// the webhook saves first (a production run); the editor's run starts from Manual
		const manual = { id: nodeId(), name: 'Manual', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} };
		const hook = webhookNode(path, { responseData: 'firstEntryJson', position: [0, 200] });
		return workflow(id, name, [manual, hook, probeNode()], { ...chain(manual.name, 'Probe'), ...chain(hook.name, 'Probe') });
	}
	if (kind === 'retry') {
		const hook = webhookNode(path, { responseMode: 'onReceived' });
		const gate = {
			id: nodeId(),
			name: 'Fail unless retried',
			type: 'n8n-nodes-base.code',
			typeVersion: 2,
			position: [250, 0],
			// fails when run within 4 s of the request (the first run), passes on a Retry made later
			parameters: { jsCode: "const body = $input.first().json.body ?? {};\nif (!body.pass && Date.now() - body.sentAt < 4000) throw new Error('probe: failing so that it can be retried');\nreturn $input.all();" },
		};
		return workflow(id, name, [hook, gate, probeNode('Probe', [500, 0])], chain(hook.name, gate.name, 'Probe'));
	}
	if (kind === 'child') {
		const start = { id: nodeId(), name: 'Called', type: 'n8n-nodes-base.executeWorkflowTrigger', typeVersion: 1, position: [0, 0], parameters: {} };
		return workflow(id, name, [start, probeNode()], chain(start.name, 'Probe'));
	}
	if (kind === 'parent') {
		const hook = webhookNode(path, { responseData: 'firstEntryJson' });
		const call = { id: nodeId(), name: 'Call the probe', type: 'n8n-nodes-base.executeWorkflow', typeVersion: 1, position: [300, 0], parameters: { source: 'database', workflowId: childId, options: {} } };
		return workflow(id, 'probe: static data (sub-workflow caller)', [hook, call], chain(hook.name, call.name));
	}
	if (kind === 'wait') {
		const hook = webhookNode(path, { responseMode: 'onReceived' });
		const wait = { id: nodeId(), name: 'Wait', type: 'n8n-nodes-base.wait', typeVersion: 1.1, position: [500, 0], webhookId: nodeId(), parameters: { resume: 'timeInterval', amount: 66, unit: 'seconds' } };
		return workflow(id, name, [hook, probeNode('Probe', [250, 0]), wait, probeNode('Probe after the Wait', [750, 0])], chain(hook.name, 'Probe', wait.name, 'Probe after the Wait'));
	}
	throw new Error(`no probe of kind ${kind}`);
}

/** Runs one probe twice (or as its kind needs) and says what the second run saw and where it ran. */
async function probe(d, kind) {
	const { cluster, ex, workflows } = d;
	const wf = workflows[kind];
	const seenOf = async (id, node = 'Probe') => itemsOf(await ex.runData(id), node)?.[0]?.seen;
	const where = (id) => cluster.workerOf(id) ?? (d.mode === 'queue' ? 'main' : 'the process');
	const stored = async () => (await ex.staticData(wf.id))?.global?.probe ?? 0;
	if (kind === 'webhook' || kind === 'parent') {
		const runs = [];
		for (let i = 0; i < 2; i++) {
			const res = await cluster.webhook(`${d.p}s-probe-${kind}`, {}, { timeoutMs: 120000 });
			assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
			runs.push(res.body.seen);
		}
		const list = await ex.waitFinished(wf.id, 2);
		const target = kind === 'parent' ? workflows.child.id : wf.id;
		return { seen: runs, ranOn: where(list.at(-1).id), saved: (await ex.staticData(target))?.global?.probe ?? 0 };
	}
	if (kind === 'schedule') {
		await cluster.activate(wf.id);
		const list = await ex.waitFinished(wf.id, 2, { timeoutMs: 90000 });
		await cluster.deactivate(wf.id);
		const done = list.filter((e) => e.status === 'success').slice(0, 2);
		return { seen: [await seenOf(done[0].id), await seenOf(done[1].id)], ranOn: where(done[1].id), saved: await stored() };
	}
	if (kind === 'manual') {
		// a production run (its webhook) saves first: does the editor's run read it?
		assert.equal((await cluster.webhook(`${d.p}s-probe-manual`, {}, { timeoutMs: 120000 })).status, 200);
		await ex.waitFinished(wf.id, 1);
		const seen = [];
		let last;
		for (let i = 0; i < 2; i++) {
			const run = await cluster.rest('POST', `/workflows/${wf.id}/run`, { triggerToStartFrom: { name: 'Manual' } });
			last = run.executionId;
			await ex.waitFinished(wf.id, i + 2);
			seen.push(await seenOf(last));
		}
		return { seen, ranOn: where(last), saved: await stored() };
	}
	if (kind === 'retried') {
		assert.equal((await cluster.webhook(`${d.p}s-probe-retry`, { pass: true })).status, 200);
		await ex.waitFinished(wf.id, 1);
		assert.equal((await cluster.webhook(`${d.p}s-probe-retry`, { sentAt: Date.now() })).status, 200);
		const [, failed] = await ex.waitFinished(wf.id, 2);
		assert.equal(failed.status, 'error');
		await sleep(5000);
		// n8n's public API, with an API key: POST /api/v1/executions/{id}/retry
		const res = await fetch(`${cluster.baseUrl}/api/v1/executions/${failed.id}/retry`, { method: 'POST', headers: { 'X-N8N-API-KEY': d.probeKey, 'content-type': 'application/json' }, body: '{}' });
		const answer = await res.text();
		assert.equal(res.status, 200, answer);
		const retried = JSON.parse(answer).id;
		const all = await ex.waitFinished(wf.id, 3);
		const again = all.find((e) => String(e.id) === String(retried));
		const run = await ex.runData(retried);
		if (again?.status !== 'success') info(`retried probe: execution ${retried} ${again?.status} (${run?.resultData?.error?.message ?? ''}); modes ${all.map((e) => `${e.id}:${e.mode}:${e.status}`).join(' ')}`);
		return { seen: [await seenOf(all[0].id), await seenOf(retried)], ranOn: where(retried), saved: await stored() };
	}
	if (kind === 'wait') {
		assert.equal((await cluster.webhook(`${d.p}s-probe-wait`)).status, 200);
		const [run] = await ex.waitFinished(wf.id, 1, { timeoutMs: 240000 });
		return { seen: [await seenOf(run.id), await seenOf(run.id, 'Probe after the Wait')], ranOn: where(run.id), saved: await stored() };
	}
	throw new Error(kind);
}

const PROBES = [
	['webhook', 'production webhook'],
	['schedule', 'Schedule Trigger'],
	['manual', 'the editor (manual run)'],
	['retried', 'Retry through the public API'],
	['parent', 'sub-workflow (Execute Workflow)'],
	['wait', 'resumed after a Wait of 66 s'],
];

export async function probeTable(d) {
	const wanted = process.env.QS_PROBES?.split(',');
	const settled = await Promise.allSettled(PROBES.filter(([kind]) => !wanted || wanted.includes(kind)).map(async ([kind, label]) => ({ kind, label, ...(await probe(d, kind)) })));
	const failed = settled.map((s) => (s.status === 'rejected' ? String(s.reason?.stack ?? s.reason) : null)).filter(Boolean);
	const rows = settled.filter((s) => s.status === 'fulfilled').map((s) => s.value);
	for (const r of rows) {
		const read = r.seen[1] >= 1 ? 'yes' : 'no';
		info(`${d.mode} | ${r.label} | runs on ${r.ranOn} | ${r.kind === 'wait' ? 'sees what it wrote before the Wait' : 'reads what earlier runs saved'}: ${read} (seen ${r.seen.join(', ')}) | saved in the database: ${r.saved > 0 ? 'yes' : 'no'} (${r.saved})`);
	}
	if (failed.length) {
		info(`probes failed:\n${failed.join('\n')}`);
		throw new Error(`probes failed:\n${failed.join('\n')}`);
	}
	return Object.fromEntries(rows.map((r) => [r.kind, r]));
}
