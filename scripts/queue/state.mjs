// Helpers for the export-state suite (scripts/e2e/queue-state.test.mjs): an n8n API key and the
// credential that carries it, and a recording proxy in front of n8n's API (counts the node's Data
// Table calls and times them). The static data probes are in probes.mjs.
import http from 'node:http';

/** The scopes docs/bulk-export.md names for the key; the suite creates its key with exactly these. */
export const DATA_TABLE_SCOPES = ['dataTable:list', 'dataTable:create', 'dataTable:read', 'dataTableRow:read', 'dataTableRow:create', 'dataTableRow:update', 'dataTableRow:delete'];

export const N8N_API_CREDENTIAL_TYPE = 'eClinicalWorksN8nApi';

/** An API key of the cluster's owner, created the way Settings > n8n API does; the raw key. */
export async function createApiKey(cluster, { label = 'export state', scopes = DATA_TABLE_SCOPES } = {}) {
	const created = await cluster.rest('POST', '/api-keys', { label, scopes, expiresAt: null });
	if (!created?.rawApiKey) throw new Error('n8n did not return the new API key');
	return created.rawApiKey;
}

/** Every scope the owner may give a key (for the probes that call the public API beyond Data Tables). */
export async function allScopes(cluster) {
	return await cluster.rest('GET', '/api-keys/scopes');
}

export function n8nApiCredential({ id, name, baseUrl, apiKey }) {
	return { id, name, type: N8N_API_CREDENTIAL_TYPE, data: { apiKey, baseUrl } };
}

/** Adds the export-state credential to every eClinicalWorks node of a workflow (what the docs tell users to do). */
export function withStateCredential(workflow, credential) {
	const wf = JSON.parse(JSON.stringify(workflow));
	for (const node of wf.nodes) {
		if (node.type?.endsWith('.eClinicalWorks') && node.parameters?.resource === 'bulkExport') {
			node.credentials = { ...(node.credentials ?? {}), [N8N_API_CREDENTIAL_TYPE]: { id: credential.id, name: credential.name } };
		}
	}
	return wf;
}

/**
 * A proxy in front of n8n's API on 127.0.0.1: forwards everything, records each call
 * ({ at, done, method, path, status, phase }) — `phase` of a row write, to time the write that
 * records a status URL. No body or key is printed.
 */
export async function startApiProxy(target) {
	const calls = [];
	const server = http.createServer((req, res) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', () => {
			const body = Buffer.concat(chunks);
			let phase;
			try {
				phase = JSON.parse(body.toString('utf8') || '{}')?.data?.phase;
			} catch {}
			const call = { at: Date.now(), method: req.method, path: req.url.split('?')[0], phase };
			calls.push(call);
			const url = new URL(req.url, target);
			const out = http.request(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (answer) => {
				call.status = answer.statusCode;
				res.writeHead(answer.statusCode, answer.headers);
				answer.pipe(res);
				answer.on('end', () => (call.done = Date.now()));
			});
			out.on('error', (e) => {
				call.status = 502;
				res.writeHead(502).end(String(e.code ?? e.message));
			});
			out.end(body);
		});
	});
	await new Promise((r) => server.listen(0, '127.0.0.1', r));
	return {
		url: `http://127.0.0.1:${server.address().port}`,
		calls,
		stop: () =>
			new Promise((r) => {
				server.close(r);
				server.closeAllConnections();
			}),
	};
}
