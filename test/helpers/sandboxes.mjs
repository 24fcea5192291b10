// Sandboxes a test file starts, every one stopped when the file's tests have run.
import { after } from 'node:test';

import { startSandbox } from '../../sandbox/index.mjs';

/** `sandbox(options)`: a sandbox on a free port with this file's defaults under `options`; `sandbox.started` lists them. */
export function sandboxStarter(defaults = {}) {
	const started = [];
	after(async () => {
		for (const sb of started) await sb.stop();
	});
	const sandbox = async (options = {}) => {
		const sb = await startSandbox({ port: 0, ...defaults, ...options });
		started.push(sb);
		return sb;
	};
	sandbox.started = started;
	return sandbox;
}
