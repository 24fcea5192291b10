// What of n8n's own output the demo shows on the console. Everything n8n prints goes to the log
// file; the console gets only the lines a person needs, without n8n's known-harmless noise:
//   - stack traces and errors of n8n's calls home, which fail on a machine without internet
//     (its MCP server registry, its version and template look-ups: api.n8n.io and the like),
//   - n8n's deprecation notice (defaults n8n will change; the demo sets none of those variables),
//   - the Python task runner it cannot start (the demo has no Code node in Python),
//   - license and telemetry chatter.
// Unknown lines are shown: an error the demo does not know must not be hidden.

const NOISE = [
	/^\s+at\s/, // stack frames
	/\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH)\b.*\b(n8n\.io|n8n\.cloud|npmjs\.(org|com))\b/i,
	/^Error fetching from .*\bn8n\.io\b/,
	/^A system task run failed\b/,
	/^Failed to start Python task runner\b/,
	/^\[license SDK\]/,
	/^There are deprecations related to your n8n setup\b/,
];

/**
 * A line filter with state (a deprecation notice is one header line and its " - VARIABLE -> ..."
 * lines). `isNoise(line)` is true for lines that belong in the log file only.
 */
export function n8nConsoleFilter() {
	let inDeprecations = false;
	let hidden = 0;
	return {
		isNoise(line) {
			const text = line.replace(/\s+$/, '');
			if (inDeprecations) {
				if (/^\s+- [A-Z0-9_]+ ->/.test(text)) {
					hidden++;
					return true;
				}
				inDeprecations = false;
			}
			if (/^There are deprecations related to your n8n setup\b/.test(text)) inDeprecations = true;
			if (NOISE.some((re) => re.test(text))) {
				hidden++;
				return true;
			}
			return false;
		},
		/** How many lines went to the log file only. */
		get hidden() {
			return hidden;
		},
	};
}
