// Measures one Bulk Export run on a queue-mode worker: the worker's peak RSS above its idle RSS and
// what PostgreSQL grew by (binary data in the database). Used by the queue suite (1 GB, default
// parts) and `npm run measure:queue-bulk` (1 GB without and with parts, one file and many).
import { rssBytes, sampleRss } from './cluster.mjs';

const MB = 1024 * 1024;
export const mib = (bytes) => `${(bytes / MB).toFixed(0)} MiB`;

/**
 * Calls the export workflow's webhook (response when the execution ends) and samples every
 * worker's RSS meanwhile. Returns the figures for the worker that ran it.
 */
export async function measureExportRun({ cluster, ex, pg, webhookPath, workflowId, settleMs = 3000 }) {
	await new Promise((r) => setTimeout(r, settleMs));
	const idle = Object.fromEntries(cluster.workers.map((w) => [w.name, rssBytes(w.pid)]));
	const samplers = Object.fromEntries(cluster.workers.map((w) => [w.name, sampleRss(w.pid, 100)]));
	const [dbBefore, tableBefore] = await Promise.all([pg.sizeBytes(), pg.query("select pg_total_relation_size('binary_data')").then(Number)]);
	const before = new Set((await ex.list(workflowId)).map((e) => e.id));
	const t0 = Date.now();
	const response = await cluster.webhook(webhookPath, {}, { timeoutMs: 1800000 });
	const seconds = (Date.now() - t0) / 1000;
	const peaks = Object.fromEntries(Object.entries(samplers).map(([name, s]) => [name, s.stop()]));
	const list = await ex.waitFinished(workflowId, before.size + 1);
	const run = list.find((e) => !before.has(e.id));
	const worker = cluster.workerOf(run.id);
	const data = await ex.runData(run.id);
	const [dbAfter, tableAfter, stored] = await Promise.all([
		pg.sizeBytes(),
		pg.query("select pg_total_relation_size('binary_data')").then(Number),
		pg.query(`select count(*) || ' ' || coalesce(sum("fileSize"), 0) from binary_data where "sourceId" = '${run.id}'`),
	]);
	const [binaryRows, binaryBytes] = stored.split(' ').map(Number);
	return {
		executionId: run.id,
		status: run.status,
		error: data?.resultData?.error?.message,
		response,
		worker,
		seconds,
		idleRss: idle[worker] ?? 0,
		peakRss: peaks[worker] ?? 0,
		aboveIdle: (peaks[worker] ?? 0) - (idle[worker] ?? 0),
		dbGrowth: dbAfter - dbBefore,
		binaryTableGrowth: tableAfter - tableBefore,
		binaryRows,
		binaryBytes,
		data,
	};
}
