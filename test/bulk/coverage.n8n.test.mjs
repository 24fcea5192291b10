// Types an export leaves out because the token's scopes do not cover them (issue 19): SMART's reference
// server drops them without a word (the smart sandbox's scopeFilteredExport quirk), so the node says so
// before kick-off, on the node and in n8n's log, and in Start's output. With the default scopes on a
// server that declares more types than they cover, the hint says why the node asks for no more.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

import './_logLevelInfo.mjs';
import { runNode, shutdown } from '../helpers/n8n.mjs';
import { sandboxStarter } from '../helpers/sandboxes.mjs';
import { credentialFor } from '../transport/_support.mjs';

const sandbox = sandboxStarter({ patients: 10, seed: 5, bulkDelayMs: 100, fastBulk: true, pollRetryAfterSeconds: 0 });
after(shutdown);

/** `scopes` undefined: the credential's default scopes. */
function credentials(sb, scopes) {
	const extra = { tokenUrl: sb.tokenUrl };
	if (scopes !== undefined) extra[sb.profile === 'ecw' ? 'scopes' : 'customScopes'] = scopes;
	return { eClinicalWorksApi: credentialFor(sb, sb.client('sandbox-rs384'), extra) };
}

async function run(sb, operation, extra = {}, scopes) {
	const ecw = sb.profile === 'ecw';
	return await runNode({
		parameters: {
			resource: 'bulkExport',
			operation,
			serverRules: ecw ? 'ecw' : 'generic',
			level: ecw ? 'group' : 'system',
			groupId: { __rl: true, mode: 'id', value: 'grp-1' },
			pollFloorSeconds: 0,
			maxWaitMinutes: 1,
			outputMode: 'records',
			recordLimit: 0,
			...extra,
		},
		credentials: credentials(sb, scopes),
	});
}

const text = (result) => (result.error ? `${result.error.message} ${result.error.description ?? ''}` : '');
const hintsOf = (result) => result.data.data.resultData.runData.Node[0].hints ?? [];
const typesOf = (result) => [...new Set(result.outputOf('Node').map((r) => r.resourceType))].sort();

/** n8n's own logger, watched while `fn` runs. */
async function watchLog(fn) {
	const coreRequire = createRequire(createRequire(import.meta.url).resolve('n8n-core'));
	const { Container } = coreRequire('@n8n/di');
	const { Logger } = coreRequire('@n8n/backend-common');
	const logger = Container.get(Logger);
	const lines = [];
	const original = logger.info;
	logger.info = (message) => void lines.push(String(message));
	try {
		return { result: await fn(), lines };
	} finally {
		logger.info = original;
	}
}

test('SMART reference behaviour: Resource Types the scopes do not cover are named before kick-off, in the log and in Start\'s output', async () => {
	const sb = await sandbox({ profile: 'smart', quirks: { scopeFilteredExport: true } });
	const scopes = 'system/Patient.read system/Group.read';
	const { result, lines } = await watchLog(() => run(sb, 'export', { resourceTypes: ['Patient', 'Encounter'] }, scopes));
	assert.equal(result.error, undefined, text(result));
	assert.deepEqual(typesOf(result), ['Patient'], 'the server left Encounter out without a word');
	const hint = hintsOf(result).find((h) => /do not cover/.test(h.message));
	assert.ok(hint, JSON.stringify(hintsOf(result)));
	assert.equal(hint.type, 'warning');
	assert.match(hint.message, /The credential's scopes do not cover Encounter: the server will refuse the export or leave it out without a word/);
	assert.match(hint.message, /system\/\*\.read \(every type; this server offers it\) or a read scope per type, e\.g\. system\/Encounter\.read/);
	assert.match(hint.message, /or take it out of Resource Types/);
	const logged = lines.findIndex((l) => /scopes leave out of this export: Encounter/.test(l));
	assert.ok(logged >= 0, 'said in n8n\'s log');

	const started = await run(sb, 'start', { resourceTypes: ['Patient', 'Encounter'] }, scopes);
	assert.deepEqual(started.outputOf('Node')[0].typesLeftOut, ['Encounter']);
	const covered = await run(sb, 'start', { resourceTypes: ['Patient'] }, scopes);
	assert.equal(covered.outputOf('Node')[0].typesLeftOut, undefined);
	assert.deepEqual(hintsOf(covered), [], 'no hint when every type asked for is covered');
});

test('default scopes on a server that declares more types than they cover: the hint names them and says why the node asks for no more', async () => {
	const sb = await sandbox({ profile: 'smart', quirks: { scopeFilteredExport: true, moreTypes: true } });
	const result = await run(sb, 'export', { resourceTypes: [] });
	assert.equal(result.error, undefined, text(result));
	assert.ok(!typesOf(result).includes('Medication'), 'the export holds no Medication');
	const hint = hintsOf(result).find((h) => /types the scopes cover/.test(h.message));
	assert.ok(hint, JSON.stringify(hintsOf(result)));
	assert.equal(hint.type, 'info');
	assert.match(hint.message, /they leave out 1 of the 9 types this server declares \(Medication\)/);
	assert.match(hint.message, /The credential uses the default scopes, which ask only for the types this node reads/);
	assert.match(hint.message, /add system\/\*\.read \(every type; this server offers it\) or a read scope per type, e\.g\. system\/Medication\.read, to the credential's Scopes/);

	// with the scope the hint names, the export holds Medication and the hint is gone
	const wide = await run(sb, 'start', { resourceTypes: [] }, 'system/*.read');
	assert.equal(wide.error, undefined, text(wide));
	assert.equal(wide.outputOf('Node')[0].typesLeftOut, undefined);
	const all = await run(sb, 'export', { resourceTypes: [] }, 'system/*.read');
	assert.ok(typesOf(all).includes('Medication'));
	assert.ok(!hintsOf(all).some((h) => /scopes/.test(h.message)));
});

test('eCW with its default scopes and no Resource Types: the declared types they leave out, and why', async () => {
	const sb = await sandbox({ profile: 'ecw' });
	const started = await run(sb, 'start', { resourceTypes: [] });
	assert.equal(started.error, undefined, text(started));
	const left = started.outputOf('Node')[0].typesLeftOut;
	assert.ok(left.includes('AllergyIntolerance') && left.includes('Observation'), JSON.stringify(left));
	for (const covered of ['Patient', 'Encounter', 'Coverage', 'Group', 'OperationDefinition']) assert.ok(!left.includes(covered), covered);
	const hint = hintsOf(started).find((h) => /types the scopes cover/.test(h.message));
	assert.ok(hint, JSON.stringify(hintsOf(started)));
	assert.match(hint.message, new RegExp(`they leave out ${left.length} of the ${left.length + 7} types this server declares \\(AllergyIntolerance, `));
	assert.match(hint.message, /and \d+ more\)/);
	assert.match(hint.message, /These are the default eClinicalWorks scopes \(the types this node reads\): eCW grants only scopes registered for the app/);
	assert.match(hint.message, /system\/\*\.r \(every type; this server offers it\)/);
});
