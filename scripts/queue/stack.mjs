// A whole n8n deployment for the queue scripts (benchmark, bulk measurement): PostgreSQL, Redis in
// queue mode, the package installed into every process, credentials and workflows imported and
// published. The queue suite builds the same thing step by step in its `before`.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { info, step } from '../lib.mjs';
import { toImport } from '../fixtures.mjs';
import { Executions, QueueCluster } from './cluster.mjs';
import { ensureServices, startPostgres, startRedis } from './services.mjs';

/**
 * @param {{ n8nBin: string, node?: string, tgz: string, mode?: 'queue'|'regular', workers?: number,
 *   concurrency?: number, env?: Record<string,string>, credentials?: object[], workflows?: object[], label?: string }} o
 */
export async function startStack(o) {
	const mode = o.mode ?? 'queue';
	const label = o.label ?? (mode === 'queue' ? `queue mode, main + ${o.workers ?? 2} workers` : 'regular mode, one process');
	step(`n8n ${label} (PostgreSQL${mode === 'queue' ? ', Redis' : ''})`);
	await ensureServices();
	const pg = await startPostgres();
	const redis = mode === 'queue' ? await startRedis() : null;
	const work = mkdtempSync(path.join(os.tmpdir(), `ecw-${mode}-stack-`));
	const cluster = new QueueCluster({ n8nBin: o.n8nBin, node: o.node, work, tgz: o.tgz, pg, redis, mode, workers: o.workers ?? 2, concurrency: o.concurrency ?? 20, env: o.env ?? {} });
	const stop = async () => {
		await cluster.stopAll();
		await Promise.all([pg.stop(), redis?.stop()]);
		if (!process.env.E2E_KEEP) rmSync(work, { recursive: true, force: true });
	};
	try {
		await cluster.install();
		const cli = cluster.cli();
		if (o.credentials?.length) await cli.importCredentials(toImport(o.credentials), path.join(work, 'credentials.json'));
		if (o.workflows?.length) await cli.importWorkflows(o.workflows, path.join(work, 'workflows'));
		await cluster.start('main');
		await Promise.all(cluster.workers.map((w) => cluster.start(w.name)));
		for (const wf of o.workflows ?? []) await cluster.activate(wf.id);
		info(`${label}: ready, ${o.workflows?.length ?? 0} workflows published`);
	} catch (e) {
		await stop();
		throw e;
	}
	return { pg, redis, cluster, ex: new Executions(pg, o.n8nBin), work, stop };
}
