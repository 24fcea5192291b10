// Bulk Export against the smart sandbox's switches for what two real servers did (issue 13), in a
// real n8n execution (test/helpers/n8n.mjs): a kick-off answered 401 "Token expired", a status URL on
// another origin, epoch Retry-After values, pre-signed URLs in outputs, an export that needs extra scopes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

import './_logLevelInfo.mjs';
import { runNode, shutdown } from '../helpers/n8n.mjs';
import { sandboxStarter } from '../helpers/sandboxes.mjs';
import { credentialFor } from '../transport/_support.mjs';

const sandbox = sandboxStarter({ profile: 'smart', patients: 20, seed: 7, bulkDelayMs: 300, pollRetryAfterSeconds: 0 });
after(shutdown);

function credentials(sb, scopes) {
	const c = sb.client('sandbox-rs384');
	return { eClinicalWorksApi: credentialFor(sb, c, { tokenUrl: sb.tokenUrl, customScopes: scopes ?? c.scopes }) };
}

async function run(sb, operation, extra = {}, options = {}) {
	return await runNode({
		parameters: { resource: 'bulkExport', operation, serverRules: 'generic', level: 'system', resourceTypes: ['Patient'], pollFloorSeconds: 0, maxWaitMinutes: 1, outputMode: 'records', recordLimit: 0, ...extra },
		credentials: credentials(sb, options.scopes),
		staticData: options.staticData,
	});
}

const text = (result) => (result.error ? `${result.error.message} ${result.error.description ?? ''}` : '');
const hintsOf = (result) => result.data.data.resultData.runData.Node[0].hints ?? [];
const kickoffs = (sb) => sb.stats.log.filter((e) => /\$export$/.test(e.path));

/** n8n's own logger (the one `this.logger` returns in a node), watched while `fn` runs. */
async function watchLog(fn) {
	const coreRequire = createRequire(createRequire(import.meta.url).resolve('n8n-core'));
	const { Container } = coreRequire('@n8n/di');
	const { Logger } = coreRequire('@n8n/backend-common');
	const logger = Container.get(Logger);
	const lines = [];
	const original = { info: logger.info, warn: logger.warn };
	for (const level of Object.keys(original)) {
		// captured, not printed: the test output stays readable
		logger[level] = (message) => void lines.push({ level, message: String(message) });
	}
	try {
		return { result: await fn(), lines };
	} finally {
		Object.assign(logger, original);
	}
}

test('a kick-off answered 401 "Token expired" is tried again once with a fresh token', async () => {
	const sb = await sandbox({ quirks: ['kickoffTokenExpired'] });
	const result = await run(sb, 'export');
	assert.equal(result.error, undefined, text(result));
	assert.equal(result.outputOf('Node').length, 20);
	assert.deepEqual(kickoffs(sb).map((e) => e.status), [401, 202], 'refused, then accepted with a fresh token');
	assert.ok(sb.stats.tokenRequests >= 2);

	// refused twice: the server's own reason is in the message
	const twice = await sandbox({ quirks: { kickoffTokenExpired: 2 } });
	const refused = await run(twice, 'start');
	assert.match(refused.error?.message ?? '', /refused \(HTTP 401: Token expired\), also with a freshly issued token/);
	assert.match(text(refused), /check the credential/);
	assert.deepEqual(kickoffs(twice).map((e) => e.status), [401, 401]);
});

test('a status URL on another origin: the origin message, no token sent there, a cancellation tried, the status URL given', async () => {
	const sb = await sandbox({ quirks: ['otherOriginStatus'] });
	const result = await run(sb, 'export');
	const message = text(result);
	assert.match(message, /status URL is on another host \(127\.0\.0\.1:\d+\) than the FHIR server/);
	assert.doesNotMatch(message, /token was rejected/i);
	assert.match(message, /could not be cancelled without the token/);
	const statusUrl = sb.stats.log.find((e) => e.origin === 'other' && /^\/bulkstatus\//.test(e.path));
	assert.ok(statusUrl, 'the node polled the status URL (without the token)');
	assert.ok(message.includes(`${sb.otherOrigin}${statusUrl.path}`), 'names the status URL to cancel');
	assert.ok(sb.stats.log.some((e) => e.origin === 'other' && e.method === 'DELETE'), 'tried to cancel it');
	assert.equal(sb.stats.authHeaderSeenOnOtherOrigin, 0, 'never sent the token there');

	// the run does not leave a status URL it cannot reach for the next run to resume
	const again = await run(sb, 'export', {}, { staticData: result.staticDataAfterRun });
	assert.match(text(again), /another host/);
	assert.equal(kickoffs(sb).length, 2, 'a new export, not a resume of the unreachable one');

	// Start warns; Check Status and Cancel explain the same way
	const started = await run(sb, 'start');
	assert.equal(started.error, undefined, text(started));
	const url = started.outputOf('Node')[0].statusUrl;
	assert.ok(hintsOf(started).some((h) => /status URL on another host/.test(h.message)), JSON.stringify(hintsOf(started)));
	for (const operation of ['checkStatus', 'cancel']) {
		const other = await runNode({ parameters: { resource: 'bulkExport', operation, statusUrl: url }, credentials: credentials(sb) });
		assert.match(text(other), /status URL is on another host/, operation);
		assert.ok(text(other).includes(url), operation);
	}
	assert.equal(sb.stats.authHeaderSeenOnOtherOrigin, 0);
});

test('epoch Retry-After on status polls (ms and s) is a point in time: Check Status says 6 min, Export stops waiting and says why, in the hints and the log', async () => {
	for (const unit of ['ms', 's']) {
		const sb = await sandbox({ quirks: { epochRetryAfter: unit }, bulkDelayMs: 60_000, pollRetryAfterSeconds: 360 });
		const started = await run(sb, 'start');
		const status = await runNode({ parameters: { resource: 'bulkExport', operation: 'checkStatus', statusUrl: started.outputOf('Node')[0].statusUrl }, credentials: credentials(sb) });
		const s = status.outputOf('Node')[0];
		assert.ok(Math.abs(s.retryAfterSeconds - 360) <= 5, `${unit}: ${s.retryAfterSeconds}`);
		assert.ok(hintsOf(status).some((h) => /check again in 6 min/.test(h.message)), JSON.stringify(hintsOf(status)));

		const { result, lines } = await watchLog(() => run(sb, 'export', { resourceTypes: ['Encounter'] }));
		assert.equal(result.error, undefined, text(result));
		const out = result.outputOf('Node')[0];
		assert.equal(out.timedOut, true);
		assert.ok(Math.abs(out.nextCheckInSeconds - 360) <= 5, `${unit}: ${out.nextCheckInSeconds}`);
		assert.ok(hintsOf(result).some((h) => /next status check is due in (5 min 5\d s|6 min)/.test(h.message)), JSON.stringify(hintsOf(result)));
		const logged = lines.filter((l) => /eClinicalWorks \(node "[^"]+"\): Bulk Export: /.test(l.message));
		assert.ok(logged.some((l) => /next status check is due in (5 min 5\d s|6 min)/.test(l.message)), JSON.stringify(lines));
		assert.ok(logged.every((l) => !/https?:|Bearer/.test(l.message)), 'no URL or token in the log');
	}
});

test('a 429 on a status poll with an epoch Retry-After: the wait is read as a point in time and reported', async () => {
	const sb = await sandbox({ quirks: { epochRetryAfter: 'ms' }, bulkDelayMs: 60_000 });
	sb.inject({ kind: '429', path: 'bulkstatus', retryAfter: 360, count: 5 });
	const result = await run(sb, 'export');
	assert.equal(result.error, undefined, text(result));
	const out = result.outputOf('Node')[0];
	assert.ok(Math.abs(out.nextCheckInSeconds - 360) <= 5, String(out.nextCheckInSeconds));
	assert.ok(hintsOf(result).some((h) => /after a 429/.test(h.message)), JSON.stringify(hintsOf(result)));
});

test('outputs carry origin and path of file URLs, never their query string; a stripped manifest sends Download to the status URL', async () => {
	const sb = await sandbox({ fileOrigin: 'other', maxResourcesPerFile: 8 });
	const started = await run(sb, 'start');
	const { statusUrl } = started.outputOf('Node')[0];
	await new Promise((r) => setTimeout(r, 400));
	const status = await runNode({ parameters: { resource: 'bulkExport', operation: 'checkStatus', statusUrl }, credentials: credentials(sb) });
	const s = status.outputOf('Node')[0];
	assert.equal(s.state, 'complete');
	assert.ok(s.manifest.output.length >= 3);
	for (const f of s.manifest.output) {
		assert.doesNotMatch(f.url, /\?|Signature/, 'no signature in the output');
		assert.ok(f.url.startsWith(`${sb.otherOrigin}/files/`), f.url);
	}
	assert.equal(s.manifest.fileUrlSignaturesRemoved, true);
	const fromManifest = await runNode({ parameters: { resource: 'bulkExport', operation: 'download', source: 'manifest', manifest: s.manifest }, credentials: credentials(sb) });
	assert.match(text(fromManifest), /Manifest: its file URLs are pre-signed/);
	assert.match(text(fromManifest), /Source to "Status URL"/);

	const files = await runNode({ parameters: { resource: 'bulkExport', operation: 'download', source: 'statusUrl', statusUrl, outputMode: 'files' }, credentials: credentials(sb) });
	assert.equal(files.error, undefined, text(files));
	for (const item of files.itemsOf('Node')) {
		assert.ok(item.json.url.startsWith(`${sb.otherOrigin}/files/`), item.json.url);
		assert.doesNotMatch(item.json.url, /\?/);
	}

	// files on the FHIR origin: the origin is there too
	const home = await sandbox({});
	const exported = await run(home, 'export', { outputMode: 'files' });
	assert.equal(exported.error, undefined, text(exported));
	assert.ok(exported.itemsOf('Node')[0].json.url.startsWith(`${home.baseUrl}/bulkfiles/`), exported.itemsOf('Node')[0].json.url);
});

test('an export that needs more scopes than reading: the 403 hint quotes the server and names what to add; with them it runs', async () => {
	const sb = await sandbox({ quirks: ['exportExtraScopes'] });
	const refused = await run(sb, 'export');
	assert.match(refused.error?.message ?? '', /refused \(HTTP 403\): the app needs system\/AsyncJob\.\*, system\/Binary\.\*, system\/BulkDataExport\.\*/);
	const description = refused.error?.description ?? '';
	assert.match(description, /The server said: ".*Insufficient scope: a bulk export needs system\/AsyncJob\.\*/);
	assert.match(description, /Add system\/AsyncJob\.\* system\/Binary\.\* system\/BulkDataExport\.\* to the credential's Scopes/);
	assert.equal(description.split('Insufficient scope').length, 2, 'the server\'s text is shown once');

	const scopes = `${sb.client('sandbox-rs384').scopes} system/AsyncJob.* system/Binary.* system/BulkDataExport.*`;
	const ok = await run(sb, 'export', {}, { scopes });
	assert.equal(ok.error, undefined, text(ok));
	assert.equal(ok.outputOf('Node').length, 20);
});

test('Parallel Downloads defaults to 5, the figure npm run bench:parallel chose', async () => {
	const { EClinicalWorks } = await import('../../nodes/EClinicalWorks/EClinicalWorks.node.ts');
	const fields = new EClinicalWorks().description.properties.filter((p) => p.name === 'parallelDownloads');
	assert.ok(fields.length >= 2, 'Export and Download show it');
	for (const field of fields) assert.equal(field.default, 5);
});
