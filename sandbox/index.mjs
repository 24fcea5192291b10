// Embedded FHIR R4 sandbox server (development tooling, not published). node:http + node:crypto only.
// What the server promises and refuses is its contract (contracts/): `ecw` is eClinicalWorks'
// published CapabilityStatement and SMART configuration, enforced; `smart` is a standard SMART /
// Bulk Data 2.0 server with switchable quirks. See docs/sandbox.md.
import { Sandbox } from './server.mjs';

export { signAssertion } from './jwt.mjs';
export { QUIRKS } from './contracts/smart.mjs';

/**
 * @typedef {object} SandboxOptions
 * @property {number} [port=0]
 * @property {string} [host='127.0.0.1']
 * @property {'ecw'|'smart'} [profile='ecw']
 * @property {object|string[]} [quirks] smart profile only: see contracts/smart.mjs QUIRKS
 * @property {number} [patients=50]
 * @property {number} [seed=1]
 * @property {boolean} [rangeEdgeVisits=false] two fixed visits at the edges of a day (23:30 today, 00:00 tomorrow) for tests; off: in working hours
 * @property {string} [timeZone='America/New_York']
 * @property {string[]} [practices=['demo']]
 * @property {string[]} [rejectedPractices=[]] practices that have not enabled the app: their FHIR calls answer 401
 * @property {boolean} [readScopeAllowsSearch] ecw: whether a `.r` scope allows search (default true, the sandbox's
 *   reading of a point eCW's documents leave open; false = SMART v2's reading, `.r` is read without search)
 * @property {string} [tokenEndpoint] the token URL discovery names instead of the sandbox's own (`{port}` is
 *   filled in), e.g. on another host name; the token endpoint accepts it as the assertion's `aud`
 * @property {number} [tokenLifetimeSeconds] ecw 300, smart 3600
 * @property {number} [userTokenLifetimeSeconds] 3600 (or tokenLifetimeSeconds when that is given)
 * @property {number|null} [rateLimitPerMinute] ecw 250 per practice, smart null (off)
 * @property {boolean} [admin=false] HTTP admin endpoints under /admin (loopback callers only)
 * @property {boolean} [adminRemote=false] the admin endpoints also answer callers that are not on loopback
 * @property {() => number} [now=Date.now]
 * @property {number} [bulkDelayMs=1500]
 * @property {boolean} [fastBulk=false] ecw: Retry-After 1 s on bulk kick-off and status instead of eCW's 120 s (tests, demo)
 * @property {number} [pollRetryAfterSeconds] overrides the bulk Retry-After (ecw 120, or 1 with fastBulk; smart 1)
 * @property {'same'|'other'} [fileOrigin='same']
 * @property {'same'|'other'} [nextLinkOrigin='same']
 * @property {number} [maxResourcesPerFile=10000]
 * @property {number} [maxPageSize] search pages hold at most this many matches whatever `_count` asks (servers may cap it); default the contract's 1,000
 * @property {boolean} [bulkErrors=false]
 * @property {number} [bulkRepeat=1]
 * @property {number} [bulkPaddingBytes=0]
 * @property {number} [manifestPageSize] paged manifest (link next) with this many outputs per page
 * @property {number} [bulkFileLatencyMs=0] wait before a bulk file's first byte (benchmarks: a real server's latency)
 * @property {number} [bulkFileBytesPerSecond=0] per-download throughput cap, 0 = none (benchmarks)
 * @property {number} [bulkServerBytesPerSecond=0] throughput cap shared by all file downloads, 0 = none (benchmarks)
 * @property {string[]} [redirectUris=[]]
 * @property {object[]} [faults=[]] faults injected at start
 * @property {(entry: object) => void} [onRequest] called as each request arrives, with its log entry
 *   (`t`, `method`, `path`, `query`, `remotePort`: the client's port, to tell which process sent it)
 */

/**
 * Start a sandbox FHIR server. Returns `{ origin, otherOrigin, profile, practices, baseUrl, baseUrlFor,
 * tokenUrl, tokenUrlFor, authorizeUrl, timeZone, now, clients, client, stats, inject, clearFaults,
 * faults, admin, contract, stop }`.
 * @param {SandboxOptions} [options]
 */
export async function startSandbox(options = {}) {
	const s = new Sandbox(options);
	await s.listen();
	return s.api;
}
