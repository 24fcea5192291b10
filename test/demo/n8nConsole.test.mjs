// The demo's console shows n8n's own lines without its known-harmless noise (scripts/n8n-console.mjs);
// the log file keeps everything. Lines below are what n8n 2.40.7 printed on this machine (no internet).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { n8nConsoleFilter } from '../../scripts/n8n-console.mjs';

const N8N_START = `Initializing n8n process
n8n ready on 127.0.0.1, port 5690
n8n Task Broker ready on 127.0.0.1, port 35997
Failed to start Python task runner in internal mode. because its virtual environment is missing from this system.
There are deprecations related to your n8n setup. Please take the recommended actions to update your configuration:
 - N8N_UNVERIFIED_PACKAGES_ENABLED -> The default for this variable will change to \`false\` in a future version.
 - N8N_RUNNERS_TASK_TIMEOUT -> The default for this variable will be reduced from 300 (5 minutes) to 60 (1 minute) in a future version.
[license SDK] Skipping renewal on init: license cert is not initialized
Registered runner "JS Task Runner" (VZg932csQOQMPNDaN2oQO)
getaddrinfo ENOTFOUND api.n8n.io
Error: getaddrinfo ENOTFOUND api.n8n.io
    at AxiosError.from (/x/node_modules/axios/dist/node/axios.cjs:1355:24)
    at McpRegistryApiClient.fetchAllServers (/x/mcp-registry-api.client.ts:31:19)
Error fetching from Strapi API (https://api.n8n.io/api/mcp-servers): getaddrinfo ENOTFOUND api.n8n.io
A system task run failed
Editor is now accessible via:
http://localhost:5690
Owner was set up successfully`;

const shown = (text, filter = n8nConsoleFilter()) => text.split('\n').filter((l) => !filter.isNoise(l));

test('n8n start-up: the console keeps what a person needs and hides the known-harmless noise', () => {
	const filter = n8nConsoleFilter();
	assert.deepEqual(shown(N8N_START, filter), [
		'Initializing n8n process',
		'n8n ready on 127.0.0.1, port 5690',
		'n8n Task Broker ready on 127.0.0.1, port 35997',
		'Registered runner "JS Task Runner" (VZg932csQOQMPNDaN2oQO)',
		'Editor is now accessible via:',
		'http://localhost:5690',
		'Owner was set up successfully',
	]);
	assert.equal(filter.hidden, 11, 'the hidden lines are counted (the banner says how many are only in the log)');
});

test('an unknown error, and a failed call to a host that is not n8n, stay on the console', () => {
	const lines = ['Error: SQLITE_CANTOPEN: unable to open database file', 'getaddrinfo ENOTFOUND fhir4.eclinicalworks.com', ' - not a deprecation line'];
	assert.deepEqual(shown(lines.join('\n')), lines);
});

test('the deprecation notice ends at the first line that is not one of its items', () => {
	const text = 'There are deprecations related to your n8n setup. Please take the recommended actions:\n - N8N_RUNNERS_MODE -> deprecated\nVersion: 2.40.7';
	assert.deepEqual(shown(text), ['Version: 2.40.7']);
});
