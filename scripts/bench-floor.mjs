// The floor the benchmarks measure the node against: the least any n8n node does for the same work,
// through n8n's own helpers, run by the same in-process n8n (test/helpers/n8n.mjs) in the same run.
// Two minimal node types, registered with runNode({ nodeTypes }):
//
//   bench.floorDownload  each URL through n8n's `httpRequest` helper as a stream, into n8n's binary
//                        data storage with `prepareBinaryData`, N at a time: what n8n's HTTP Request
//                        node does for a file, with no checks, parts or retries.
//   bench.floorRecords   the same streams read line by line, each line JSON.parse'd into an item: what
//                        reading records costs any node, with no checks, bounds or retries.
//   bench.floorSearch    a search's pages through n8n's `httpRequestWithAuthentication` with the
//                        package's credential (its token, as any node using the credential gets it),
//                        n8n parsing the JSON, following `next` links, one item per resource.

export const FLOOR_DOWNLOAD = 'bench.floorDownload';
export const FLOOR_RECORDS = 'bench.floorRecords';
export const FLOOR_SEARCH = 'bench.floorSearch';

const base = (name, displayName, properties, credentials) => ({
	displayName,
	name,
	group: ['transform'],
	version: 1,
	description: displayName,
	defaults: { name: displayName },
	inputs: ['main'],
	outputs: ['main'],
	...(credentials ? { credentials } : {}),
	properties,
});

const downloadFields = [
	{ displayName: 'URLs', name: 'urls', type: 'json', default: '[]' },
	{ displayName: 'Bearer', name: 'bearer', type: 'string', default: '' },
	{ displayName: 'Parallel', name: 'parallel', type: 'number', default: 3 },
];

/** GET every URL as a stream, `parallel` at a time, the way a plain node would; `read(body, i)` per file, results in URL order. */
async function downloadEach(ctx, read) {
	const urls = JSON.parse(ctx.getNodeParameter('urls', 0));
	const bearer = ctx.getNodeParameter('bearer', 0);
	const parallel = ctx.getNodeParameter('parallel', 0);
	const results = new Array(urls.length);
	let next = 0;
	await Promise.all(
		Array.from({ length: parallel }, async () => {
			while (next < urls.length) {
				const i = next++;
				const response = await ctx.helpers.httpRequest({
					method: 'GET',
					url: urls[i],
					headers: { authorization: `Bearer ${bearer}`, accept: 'application/fhir+ndjson' },
					encoding: 'stream',
					returnFullResponse: true,
					json: false,
					disableFollowRedirect: true,
				});
				results[i] = await read(response.body, i);
			}
		}),
	);
	return results;
}

export class FloorDownload {
	description = base('floorDownload', 'Floor: download', downloadFields);

	async execute() {
		const items = await downloadEach(this, async (body, i) => {
			const binary = await this.helpers.prepareBinaryData(body, `file-${i + 1}.ndjson`, 'application/fhir+ndjson');
			return { json: { bytes: binary.bytes }, binary: { data: binary }, pairedItem: { item: 0 } };
		});
		return [items];
	}
}

export class FloorRecords {
	description = base('floorRecords', 'Floor: records', downloadFields);

	async execute() {
		const perFile = await downloadEach(this, async (body) => {
			const items = [];
			let rest = '';
			for await (const chunk of body) {
				const lines = (rest + chunk.toString('utf8')).split('\n');
				rest = lines.pop();
				for (const line of lines) if (line.trim() !== '') items.push({ json: JSON.parse(line), pairedItem: { item: 0 } });
			}
			if (rest.trim() !== '') items.push({ json: JSON.parse(rest), pairedItem: { item: 0 } });
			return items;
		});
		return [perFile.flat()];
	}
}

export class FloorSearch {
	description = base(
		'floorSearch',
		'Floor: search',
		[
			{ displayName: 'URL', name: 'url', type: 'string', default: '' },
			{ displayName: 'First Page Only', name: 'firstPageOnly', type: 'boolean', default: false },
		],
		[{ name: 'eClinicalWorksApi', required: true }],
	);

	async execute() {
		let url = this.getNodeParameter('url', 0);
		const firstPageOnly = this.getNodeParameter('firstPageOnly', 0);
		const out = [];
		while (url) {
			const bundle = await this.helpers.httpRequestWithAuthentication.call(this, 'eClinicalWorksApi', { method: 'GET', url, headers: { accept: 'application/fhir+json' }, json: true });
			for (const e of bundle.entry ?? []) if (e.search?.mode !== 'include') out.push({ json: e.resource, pairedItem: { item: 0 } });
			url = firstPageOnly ? undefined : bundle.link?.find((l) => l.relation === 'next')?.url;
		}
		return [out];
	}
}

export const floorNodeTypes = { [FLOOR_DOWNLOAD]: FloorDownload, [FLOOR_RECORDS]: FloorRecords, [FLOOR_SEARCH]: FloorSearch };
