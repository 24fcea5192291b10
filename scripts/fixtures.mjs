// Credentials and workflow variants for the e2e tests and the demo, built from a running sandbox.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib.mjs';

export const NODE_TYPE = 'n8n-nodes-eclinicalworks.eClinicalWorks';
export const TRIGGER_TYPE = 'n8n-nodes-eclinicalworks.eClinicalWorksTrigger';
export const CREDENTIAL_TYPE = 'eClinicalWorksApi';
/** The folder the example workflows write to (n8n 2.x's default allowed folder in Docker). */
export const EXAMPLES_FILES_DIR = '/home/node/.n8n-files/eclinicalworks';
/** The credential id the example workflows reference. */
export const EXAMPLE_CREDENTIAL_ID = 'ecwSandboxRS384';

/** The folders the examples write to (n8n's Read/Write Files node does not create folders). */
export const EXAMPLE_FOLDERS = ['dispatch', 'bulk'];
export function prepareFilesDir(dir) {
	for (const f of EXAMPLE_FOLDERS) mkdirSync(path.join(dir, f), { recursive: true });
	return dir;
}

export const EXAMPLES = ['tomorrows-appointments-to-dispatch-sheet', 'new-patient-intake-email', 'nightly-incremental-bulk-export', 'many-practices-dispatch-sheet', 'production-readiness-report'];

/** Practices the demo and the e2e tests serve for the many-practices example; "closed" has not enabled the app. */
export const DEMO_PRACTICES = ['north', 'south', 'closed'];

/**
 * The many-practices example's credential: one app, `{practiceCode}` in the base URL, token URL
 * discovered per practice, and no default practice: every item names its own (as the docs tell users).
 */
export function practiceTemplateCredential(sandbox, { id = 'ecwSandboxManyPractices', name = 'eClinicalWorks sandbox (practice code template)', defaultPractice = '' } = {}) {
	const client = sandbox.clients.find((c) => c.alg === 'RS384' && c.scopes.includes('Group'));
	const data = credentialData(sandbox, client, { baseUrl: `${sandbox.origin}/fhir/r4/{practiceCode}`, practiceCode: defaultPractice });
	return { key: 'template', id, name, type: CREDENTIAL_TYPE, data };
}

/** The practice sheet the many-practices example reads. */
export function writePracticeSheet(dir, practices = DEMO_PRACTICES) {
	mkdirSync(dir, { recursive: true });
	const rows = practices.map((p) => `${p},${p[0].toUpperCase()}${p.slice(1)} Clinic`);
	writeFileSync(path.join(dir, 'practices.csv'), `practiceCode,practiceName\n${rows.join('\n')}\n`);
}

export function loadExample(name) {
	return JSON.parse(readFileSync(path.join(ROOT, 'examples', `${name}.json`), 'utf8'));
}

const METHOD = { private_key_jwt: 'privateKeyJwt', client_secret_basic: 'clientSecretBasic', client_secret_post: 'clientSecretPost' };

/**
 * n8n credential `data` for one sandbox client (eClinicalWorksApi fields), filled in the way a user
 * does: on the ecw profile the "eClinicalWorks Sandbox" environment with its default scopes, elsewhere
 * "Other SMART on FHIR Server" with empty (fitted) scopes; the token URL is discovered.
 */
export function credentialData(sandbox, client, overrides = {}) {
	const method = overrides.authMethod ?? METHOD[client.authMethod];
	const data = {
		environment: sandbox.profile === 'ecw' ? 'ecwSandbox' : 'custom',
		baseUrl: sandbox.baseUrl,
		clientId: client.clientId,
		authMethod: method,
	};
	if (method === 'privateKeyJwt') {
		Object.assign(data, { privateKey: client.privateKeyPem, algorithm: client.alg, keyId: client.kid, jwksUrl: client.jwksUrl ?? '' });
	} else {
		data.clientSecret = client.clientSecret;
	}
	return { ...data, ...overrides };
}

/**
 * One credential per auth method for a sandbox: RS384 signed JWT, and on the smart profile ES384 and
 * client secret basic and post (eCW documents RS384 and key-only backend services: its profile has
 * neither); plus, with `broken`, an RS384 credential whose key id the server does not know.
 * Ids: the tag followed by the method (the examples reference `ecwSandboxRS384`).
 */
export function sandboxCredentials(sandbox, { tag, label, broken = false }) {
	const rs = sandbox.clients.find((c) => c.alg === 'RS384' && c.scopes.includes('Group'));
	const es = sandbox.clients.find((c) => c.alg === 'ES384');
	const secret = sandbox.clients.find((c) => c.clientSecret);
	const id = (s) => `${tag}${s}`;
	const list = [
		{ key: 'rs384', id: id('RS384'), name: `${label} (RS384 key)`, data: credentialData(sandbox, rs) },
		// eCW documents RS384 only: its profile has no ES384 client
		...(es ? [{ key: 'es384', id: id('ES384'), name: `${label} (ES384 key)`, data: credentialData(sandbox, es) }] : []),
		...(secret
			? [
					{ key: 'basic', id: id('Basic'), name: `${label} (client secret, basic)`, data: credentialData(sandbox, secret, { authMethod: 'clientSecretBasic' }) },
					{ key: 'post', id: id('Post'), name: `${label} (client secret, post)`, data: credentialData(sandbox, secret, { authMethod: 'clientSecretPost' }) },
				]
			: []),
	];
	if (broken) list.push({ key: 'broken', id: id('Broken'), name: `${label} (wrong key id)`, data: credentialData(sandbox, rs, { keyId: 'not-a-registered-kid' }) });
	return list.map((c) => ({ ...c, type: CREDENTIAL_TYPE }));
}

/** What `n8n import:credentials` takes: data as a plain object is encrypted on import (`updatedAt` is kept when given). */
export function toImport(creds) {
	return creds.map(({ id, name, type, data, updatedAt }) => ({ id, name, type, data, isManaged: false, ...(updatedAt ? { updatedAt } : {}) }));
}

/**
 * A copy of a workflow for a test or the demo: new id/name, every eClinicalWorks node pointed at
 * `credential`, files written under `filesDir` instead of the examples' Docker folder, node
 * parameters patched by name.
 */
export function variant(workflow, { id, name, credential, filesDir, params = {}, nodes } = {}) {
	const wf = JSON.parse(JSON.stringify(workflow));
	if (id) wf.id = id;
	if (name) wf.name = name;
	for (const node of wf.nodes) {
		if (node.type === NODE_TYPE && credential) node.credentials = { [CREDENTIAL_TYPE]: { id: credential.id, name: credential.name } };
		for (const field of ['fileName', 'fileSelector']) {
			if (filesDir && typeof node.parameters?.[field] === 'string') node.parameters[field] = node.parameters[field].replaceAll(EXAMPLES_FILES_DIR, filesDir);
		}
		if (params[node.name]) Object.assign(node.parameters, params[node.name]);
	}
	if (nodes) nodes(wf);
	return wf;
}

/** The intake example's *Sample intake form* (what *Run now* sends) for a patient's MRN. */
export function sampleIntakeForm(mrn) {
	return { 'Sample intake form': { jsonOutput: JSON.stringify({ body: { mrn } }, null, 2) } };
}

/**
 * The intake example's sample intake for a patient's MRN, in both places it lives: *Sample intake
 * form* (what *Run now* sends) and the data pinned on its Webhook (what the big Execute workflow
 * button uses, so it runs without waiting for a call). Use as `variant(wf, sampleIntake(mrn))`.
 */
export function sampleIntake(mrn) {
	return {
		params: sampleIntakeForm(mrn),
		nodes: (wf) => {
			wf.pinData = { ...(wf.pinData ?? {}), Webhook: [{ json: { headers: { 'content-type': 'application/json' }, params: {}, query: {}, body: { mrn } } }] };
		},
	};
}

/** A patient's MRN as the sandbox holds it (the identifier typed MR). */
export function mrnOf(patient) {
	const ids = patient.identifier ?? [];
	const mr = ids.filter((i) => i.type?.coding?.some((c) => c.code === 'MR'));
	// the MRN in use: some patients list a former one (use old) first
	return (mr.find((i) => i.use !== 'old') ?? mr[0] ?? ids[0])?.value;
}
