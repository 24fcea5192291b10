/**
 * In-process n8n test harness: runs REAL n8n workflows with n8n-core's `WorkflowExecute`.
 *
 * API (tests are .mjs; run with `npm test` = node 24 --import tsx --test):
 *   runWorkflow({ nodes, connections, credentials, staticData, timezone = 'America/New_York',
 *                 inputItems, settings, nodeTypes, credentialTypes, pinData, variables, mode,
 *                 instanceBaseUrl (the instance's public URL, as N8N_EDITOR_BASE_URL sets it; default
 *                 http://localhost:5678/) })
 *     credentials: { [credentialId]: { type, name?, data } } = the credential "database" (decrypted);
 *     a previous result's `credentialsStore` has the same shape: pass it back to see persisted tokens.
 *     inputItems: items the (first) manual trigger emits (fed as pinned data, like the editor).
 *     -> { data (IRun), status, error (n8n's serialized execution error, or undefined),
 *          outputOf(node, {output, runIndex}) -> json[], itemsOf(node, ...) -> items (binary, pairedItem),
 *          nodeError(node), nodeExecutionOrder, staticData (what n8n would persist: unchanged in
 *          'manual' mode), staticDataAfterRun, credentialsStore, storedCredential(typeOrId),
 *          credentialUpdates, preAuthenticationCalls [{ typeName, node, credentialsExpired, previousValue }],
 *          binary(nodeName, itemIndex = 0, property = 'data' | item | binaryData) -> Buffer }
 *   runNode({ type = 'n8n-nodes-eclinicalworks.eClinicalWorks', typeVersion (latest), parameters,
 *             credentials: { [credentialType]: data }, inputItems = [{ json: {} }],
 *             continueOnFail = false | true | 'continueErrorOutput', staticData, timezone, nodeTypes,
 *             credentialTypes, name = 'Node', settings })
 *     'Manual Trigger' -> node under test; credential ids are `${credentialType}-id`.
 *     -> same result as runWorkflow (+ `node`).
 *   runPoll({ type = 'n8n-nodes-eclinicalworks.eClinicalWorksTrigger', parameters, credentials,
 *             staticData, mode = 'trigger' | 'manual', timezone, throwOnError = true, ... })
 *     -> { items (poll()'s return: INodeExecutionData[][] | null), json (first output's json, [] if
 *          null), staticData (pass it to the next call), staticDataAfterCall, staticDataSaved,
 *          credentialsStore, storedCredential(type), credentialUpdates, preAuthenticationCalls, error }
 *     Throws the poll's error (error.pollResult = the result) unless throwOnError is false.
 *   testCredential({ type, data, id, name, nodeTypes, credentialTypes })  the editor's "Test" button
 *     -> { status: 'OK' | 'Error', message, storedCredential, credentialsStore, preAuthenticationCalls }
 *   createCredentialsStore({ [id]: { type, name?, data } }) -> a credential database that persists
 *     across calls: runWorkflow({ credentials: store }), runNode/runPoll({ credentialsStore: store })
 *     (their `credentials` then only seed it); store.snapshot() -> decrypted { [id]: { type, name, data } }.
 *   binaryItem(buffer, { fileName, mimeType, json, property }) -> input item with stored binary data
 *   readBinary(binaryData) -> Buffer; engine { binaryDataMode, binaryDataPath, expressionEngine,
 *   userFolder }; reportedErrors; loadErrors; n8nWorkflow / n8nCore (the CJS modules n8n-core uses);
 *   ManualTrigger, NoOp, OAuth2Api (built-in stand-ins); shutdown() (optional: disposes isolates).
 *
 * What is real (n8n-core 2.41.1 / n8n-workflow 2.41.0 from node_modules, never re-implemented):
 *   - WorkflowExecute (execution order v1, pairedItem, continueOnFail/onError, error items),
 *   - the execution contexts (ExecuteContext, PollContext, ...) and their helpers, including
 *     `httpRequest`, `httpRequestWithAuthentication` (n8n-core
 *     dist/execution-engine/node-execution-context/utils/request-helpers/authentication.js:
 *     preAuthentication -> authenticate -> request; on 401 preAuthentication(expired=true) and ONE
 *     retry, stream/multipart bodies not retried), requestOAuth2 for credentials extending
 *     oAuth2Api, `prepareBinaryData`, `getBinaryDataBuffer`, RoutingNode (declarative requests),
 *   - the expression engine (`={{ }}`), the same engine the CLI selects (N8N_EXPRESSION_ENGINE,
 *     default `vm` = isolated-vm, falling back to `legacy` if the isolate cannot start),
 *   - BinaryDataService (mode from N8N_DEFAULT_BINARY_DATA_MODE, default `filesystem`, under the
 *     temp N8N_USER_FOLDER), Credentials (AES with the temp instance's key, like the DB; the CLI's
 *     DB-backed encryption key provider is replaced by one legacy key), ErrorReporter (reports are
 *     collected in `reportedErrors` instead of logged; N8N_HARNESS_LOG_ERRORS=1 logs them),
 *   - PollContext + PollTriggerExecutor + TriggersAndPollers for polling triggers,
 *   - DirectoryLoader.applySpecialNodeParameters (polling nodes get `pollTimes`, declarative nodes
 *     get request options).
 *
 * What the n8n CLI normally provides, reproduced here (from n8n-io/n8n):
 *   - packages/cli/src/credentials-helper.ts, class CredentialsHelper:
 *       authenticate()            function-style `authenticate(credentials, requestOptions)` and generic
 *                                 `{ type: 'generic', properties: { headers|qs|body|auth } }`, keys and
 *                                 values resolved as expressions with `$credentials` (resolveValue()),
 *       preAuthentication()       only when the credential has a `hidden` property with
 *                                 `typeOptions.expirable: true`, and that property is '' or
 *                                 `credentialsExpired` is true (or a credential test: noOp node with
 *                                 `temp: ''`); `this` = { helpers: { httpRequest } } (wrapped by
 *                                 restrictToCredentialDomains()); output must contain the expirable
 *                                 property, else nothing is persisted; fields the user stored as
 *                                 expressions are not overwritten except the expirable one; persisted
 *                                 with updateCredentials() into the store (our "database"),
 *       runPreAuthentication(), getCredentials(), getDecrypted() (raw + applyDefaultsAndOverwrites()),
 *       applyDefaultsAndOverwrites() (NodeHelpers.getNodeParameters defaults, oauthTokenData kept,
 *                                 allowedHttpRequestDomains/allowedDomains kept, `={{ }}` in
 *                                 credential fields resolved on a mock workflow),
 *       updateCredentials(), updateCredentialsOauthTokenData(), getParentTypes(),
 *       getCredentialsProperties() (`extends` merged with NodeHelpers.mergeNodeProperties),
 *       isCredentialUsableByNode() (restrictToSupportedNodes).
 *     Not reproduced (enterprise / DB-only): dynamic credential resolvers, AI gateway, external secrets,
 *     policy enforcement, credential overwrites (none configured = identity), usageScope checks,
 *     OAuth pinned/DCR fields.
 *   - packages/cli/src/credential-types.ts: getParentTypes() (recursive `extends`), getSupportedNodes().
 *   - packages/cli/src/load-nodes-and-credentials.ts postProcessLoaders(): node types registered as
 *     `<package>.<description.name>`; credentials with `authenticate`/`genericAuth`/OAuth parents get
 *     the `allowedHttpRequestDomains` (default 'all') and `allowedDomains` fields
 *     (shouldAddDomainRestrictions()/injectDomainRestrictionFields()). n8n-core
 *     DirectoryLoader.loadClass(): the export named after the file (`Foo.node.js` -> class `Foo`).
 *   - packages/cli/src/services/credentials-tester.service.ts: CredentialsTester.testCredentials()
 *     and getCredentialTestFunction() (credential `test`, node `testedBy`, OAuth2 token check).
 *   - packages/cli/src/workflow-execute-additional-data.ts, getBase(): webhookBaseUrl,
 *     instanceBaseUrl, restApiUrl, formWaitingBaseUrl, webhookWaitingBaseUrl, webhookTestBaseUrl,
 *     variables, executionId, hooks (n8n-core ExecutionLifecycleHooks), userId.
 *   - Poll triggers: packages/cli/src/workflows/triggers/trigger-execution-context.factory.ts
 *     getExecutePollFunctions(): PollContext(mode 'trigger', activation) whose __emit saves static
 *     data (WorkflowStaticDataService.saveStaticData: only if `__dataChanged`) and starts the
 *     execution; run by n8n-core's PollTriggerExecutor. A manual "fetch test event" is
 *     WorkflowExecute.executePollNode(): PollContext(mode 'manual', activation 'manual').
 *   - Static data of executions: hookFunctionsSave (execution-lifecycle-hooks.ts) saves it only when
 *     the mode is not 'manual'.
 *   - n8n-nodes-base is not installed: 'n8n-nodes-base.manualTrigger' (same trigger() as the real
 *     ManualTrigger node), 'n8n-nodes-base.noOp' (pass-through) and a minimal `oAuth2Api`
 *     credential (the fields n8n-core's requestOAuth2 reads) are defined below.
 *
 * Quirks: n8n-workflow ships ESM + CJS builds. n8n-core, a real instance and this package's .ts
 * sources (CommonJS package under tsx) use the CJS one, so `import { NodeApiError } from
 * 'n8n-workflow'` in a .mjs test is a DIFFERENT class: use the re-exported `n8nWorkflow` (or
 * createRequire) for instanceof checks. n8n-core also has its own nested @n8n/di Container.
 * N8N_USER_FOLDER is set to a temp dir before n8n-core loads (removed at exit).
 */
import { mkdtempSync, readdirSync, existsSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const packageRoot = path.resolve(here, '..', '..');
const packageName = 'n8n-nodes-eclinicalworks';

// ---------------------------------------------------------------------------------------------
// Environment: must be set before n8n-core (and its @n8n/config) is loaded.
// ---------------------------------------------------------------------------------------------
const userFolder = mkdtempSync(path.join(tmpdir(), 'n8n-harness-'));
process.env.N8N_USER_FOLDER = userFolder;
process.env.N8N_DIAGNOSTICS_ENABLED ??= 'false';
process.env.N8N_VERSION_NOTIFICATIONS_ENABLED ??= 'false';
process.env.N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS ??= 'false';
process.env.N8N_LOG_LEVEL ??= 'warn';
process.on('exit', () => {
	try {
		rmSync(userFolder, { recursive: true, force: true });
	} catch {
		// best effort
	}
});

const require = createRequire(import.meta.url);
const coreRequire = createRequire(require.resolve('n8n-core'));
/** n8n-core (CJS build, the one a real instance loads). */
export const n8nCore = require('n8n-core');
/** n8n-workflow CJS build: the same module instance n8n-core and the package's .ts sources use. */
export const n8nWorkflow = require('n8n-workflow');
const { Container } = coreRequire('@n8n/di');

const {
	Credentials,
	WorkflowExecute,
	ExecutionLifecycleHooks,
	PollContext,
	PollTriggerExecutor,
	BinaryDataService,
	BinaryDataConfig,
	getAdditionalKeys,
	ExternalSecretsProxy,
} = n8nCore;
const {
	Workflow,
	NodeHelpers,
	ICredentialsHelper,
	UnexpectedError,
	UserError,
	isExpression,
	Expression,
	getCredentialOwnRequestAllowedDomains,
} = n8nWorkflow;

// ---------------------------------------------------------------------------------------------
// One-time engine start-up (binary data, expression engine).
// ---------------------------------------------------------------------------------------------
export const engine = {
	userFolder,
	binaryDataMode: undefined,
	binaryDataPath: undefined,
	expressionEngine: 'legacy',
	expressionEngineError: undefined,
};

{
	// The CLI registers a DB-backed encryption key provider. Here: one legacy ("no-prefix",
	// aes-256-cbc) key, the instance key of the temp N8N_USER_FOLDER, wrapped as the Cipher expects.
	const { Cipher, EncryptionKeyProxy } = n8nCore;
	const cipher = Container.get(Cipher);
	const instanceKey = Container.get(n8nCore.InstanceSettings).encryptionKey;
	const legacyKey = {
		id: 'legacy',
		value: cipher.encryptDEKWithInstanceKey(instanceKey),
		algorithm: 'aes-256-cbc',
		format: 'no-prefix',
	};
	Container.get(EncryptionKeyProxy).setProvider({
		getActiveKey: async () => legacyKey,
		getKeyById: async (id) => (id === legacyKey.id ? legacyKey : null),
		getLegacyKey: async () => legacyKey,
	});
}

/**
 * Errors n8n-core hands to its ErrorReporter (without Sentry a real instance logs them with their
 * stack at 'error' level). Collected here instead of printed; N8N_HARNESS_LOG_ERRORS=1 prints them.
 */
export const reportedErrors = [];
{
	const errorReporter = Container.get(n8nCore.ErrorReporter);
	const defaultReport = errorReporter.report.bind(errorReporter);
	errorReporter.report = (error, options) => {
		reportedErrors.push({ error, options });
		if (process.env.N8N_HARNESS_LOG_ERRORS === '1') defaultReport(error, options);
	};
}

const binaryDataService = Container.get(BinaryDataService);
{
	const config = Container.get(BinaryDataConfig);
	await binaryDataService.init();
	engine.binaryDataMode = config.mode;
	engine.binaryDataPath = config.localStoragePath;
}

{
	// packages/cli/src/commands/base-command.ts initialises the engine from ExpressionEngineConfig
	// (N8N_EXPRESSION_ENGINE, default 'vm').
	const wanted = process.env.N8N_EXPRESSION_ENGINE ?? 'vm';
	if (wanted !== 'legacy' && typeof Expression?.initExpressionEngine === 'function') {
		try {
			await Expression.initExpressionEngine({
				engine: wanted,
				poolSize: Number(process.env.N8N_EXPRESSION_ENGINE_POOL_SIZE ?? 1),
				maxCodeCacheSize: 1024,
				bridgeTimeout: 5000,
				bridgeMemoryLimit: 128,
			});
			engine.expressionEngine = Expression.getActiveImplementation();
		} catch (error) {
			engine.expressionEngineError = error;
			engine.expressionEngine = 'legacy';
			try {
				Expression.setExpressionEngine('legacy');
			} catch {
				// ignore
			}
		}
	}
}

/** Releases process-wide resources (expression isolates). Safe to call more than once. */
export async function shutdown() {
	try {
		// The last execution's release starts building a replacement isolate. The pool's dispose awaits
		// it, but disposes it without waiting: a process that exits then aborts inside isolated-vm
		// ("IsolateEnvironment::GetCurrent(): Assertion environment != nullptr"). Let it finish first.
		await Expression.vmEvaluator?.waitForReplenishment?.();
		await Expression.disposeExpressionEngine?.();
	} catch {
		// ignore
	}
}

// ---------------------------------------------------------------------------------------------
// Built-in nodes (n8n-nodes-base is not installed)
// ---------------------------------------------------------------------------------------------
/** Same trigger() as n8n-nodes-base ManualTrigger v1. */
export class ManualTrigger {
	description = {
		displayName: 'Manual Trigger',
		name: 'manualTrigger',
		icon: 'fa:mouse-pointer',
		group: ['trigger', 'input'],
		version: 1,
		description: 'Runs the flow on clicking a button in n8n',
		eventTriggerDescription: '',
		maxNodes: 1,
		defaults: { name: 'When clicking ‘Execute workflow’', color: '#909298' },
		inputs: [],
		outputs: ['main'],
		properties: [],
	};

	async trigger() {
		const manualTriggerFunction = async () => {
			this.emit([this.helpers.returnJsonArray([{}])]);
		};
		return { manualTriggerFunction };
	}
}

/** n8n-nodes-base NoOp v1: passes its input through. */
export class NoOp {
	description = {
		displayName: 'No Operation, do nothing',
		name: 'noOp',
		icon: 'fa:arrow-right',
		group: ['organization'],
		version: 1,
		description: 'No Operation',
		defaults: { name: 'No Operation, do nothing', color: '#b0b0b0' },
		inputs: ['main'],
		outputs: ['main'],
		properties: [],
	};

	async execute() {
		const items = this.getInputData();
		return [items];
	}
}

const builtInNodeTypes = {
	'n8n-nodes-base.manualTrigger': ManualTrigger,
	'n8n-nodes-base.noOp': NoOp,
};

/**
 * Minimal stand-in for n8n-nodes-base's `oAuth2Api` credential (so a credential with
 * `extends: ['oAuth2Api']` loads): only the fields n8n-core's requestOAuth2() reads. A package
 * credential extending it overrides these as hidden properties, as in n8n.
 */
export class OAuth2Api {
	name = 'oAuth2Api';
	displayName = 'OAuth2 API';
	genericAuth = true;
	properties = [
		{
			displayName: 'Grant Type',
			name: 'grantType',
			type: 'options',
			options: [
				{ name: 'Authorization Code', value: 'authorizationCode' },
				{ name: 'Client Credentials', value: 'clientCredentials' },
				{ name: 'PKCE', value: 'pkce' },
			],
			default: 'authorizationCode',
		},
		{ displayName: 'Authorization URL', name: 'authUrl', type: 'string', default: '', displayOptions: { show: { grantType: ['authorizationCode', 'pkce'] } } },
		{ displayName: 'Access Token URL', name: 'accessTokenUrl', type: 'string', default: '' },
		{ displayName: 'Client ID', name: 'clientId', type: 'string', default: '' },
		{ displayName: 'Client Secret', name: 'clientSecret', type: 'string', typeOptions: { password: true }, default: '' },
		{ displayName: 'Scope', name: 'scope', type: 'string', default: '' },
		{ displayName: 'Auth URI Query Parameters', name: 'authQueryParameters', type: 'string', default: '', displayOptions: { show: { grantType: ['authorizationCode', 'pkce'] } } },
		{
			displayName: 'Authentication',
			name: 'authentication',
			type: 'options',
			options: [
				{ name: 'Body', value: 'body' },
				{ name: 'Header', value: 'header' },
			],
			default: 'header',
		},
		{ displayName: 'Ignore SSL Issues (Insecure)', name: 'ignoreSSLIssues', type: 'boolean', default: false },
	];
}

const builtInCredentialTypes = { oAuth2Api: OAuth2Api };

// ---------------------------------------------------------------------------------------------
// Lazy loading of this package's nodes and credentials from their TypeScript sources
// ---------------------------------------------------------------------------------------------
function walk(dir, suffix, out = []) {
	if (!existsSync(dir)) return out;
	for (const entry of readdirSync(dir)) {
		const full = path.join(dir, entry);
		if (statSync(full).isDirectory()) walk(full, suffix, out);
		else if (entry.endsWith(suffix)) out.push(full);
	}
	return out;
}

function instantiate(value) {
	if (typeof value === 'function') return new value();
	return value;
}

/**
 * n8n-core DirectoryLoader.loadClass(): the class exported under the file's base name
 * (`Foo.node.js` -> `Foo`) is instantiated; anything else is "Class could not be found".
 */
function loadClassLikeN8n(file) {
	const className = path.basename(file).split('.')[0];
	const mod = require(file);
	const Class = mod[className];
	if (typeof Class !== 'function') {
		throw new UserError(
			`Class could not be found. Please check if the class is named correctly. (n8n loads the export named "${className}" from ${path.basename(file)})`,
		);
	}
	return new Class();
}

/** Post-processing n8n-core's DirectoryLoader.loadNodeFromFile() applies (polling pollTimes etc.). */
const preparedNodeTypes = new WeakSet();
function prepareNodeType(nodeType) {
	if (!nodeType || preparedNodeTypes.has(nodeType)) return nodeType;
	preparedNodeTypes.add(nodeType);
	const applySpecial = n8nCore.DirectoryLoader?.prototype?.applySpecialNodeParameters;
	if (typeof applySpecial !== 'function') return nodeType;
	// once per description: a description object shared between instances must not get the
	// polling parameters twice
	const applyOnce = (type) => {
		const properties = type.description?.properties;
		if (!properties || preparedNodeTypes.has(properties)) return;
		preparedNodeTypes.add(properties);
		applySpecial.call(null, type);
		if (type.description.properties) preparedNodeTypes.add(type.description.properties);
	};
	if (nodeType.nodeVersions) {
		for (const version of Object.values(nodeType.nodeVersions)) applyOnce(version);
	} else {
		applyOnce(nodeType);
	}
	return nodeType;
}

/**
 * packages/cli/src/load-nodes-and-credentials.ts postProcessLoaders(): credentials with
 * `authenticate`, `genericAuth` or extending an OAuth type get the domain-restriction fields.
 */
const preparedCredentialTypes = new WeakMap();
function prepareCredentialType(credentialType) {
	if (!credentialType || typeof credentialType !== 'object') return credentialType;
	if (preparedCredentialTypes.has(credentialType)) return preparedCredentialTypes.get(credentialType);
	const shouldAdd =
		credentialType.authenticate !== undefined ||
		credentialType.genericAuth === true ||
		(Array.isArray(credentialType.extends) &&
			['oAuth2Api', 'oAuth1Api', 'googleOAuth2Api'].some((t) => credentialType.extends.includes(t)));
	const properties = credentialType.properties ?? [];
	if (shouldAdd && !properties.some((p) => p.name === 'allowedHttpRequestDomains')) {
		credentialType.properties = [
			...properties,
			{
				displayName: 'Allowed HTTP Request Domains',
				name: 'allowedHttpRequestDomains',
				type: 'options',
				options: [
					{ name: 'All', value: 'all' },
					{ name: 'Specific Domains', value: 'domains' },
					{ name: 'None', value: 'none' },
				],
				default: 'all',
			},
			{
				displayName: 'Allowed Domains',
				name: 'allowedDomains',
				type: 'string',
				default: '',
				displayOptions: { show: { allowedHttpRequestDomains: ['domains'] } },
			},
		];
	}
	preparedCredentialTypes.set(credentialType, credentialType);
	return credentialType;
}

/** Errors met while loading package sources, reported when a missing type is asked for. */
export const loadErrors = [];
let packageNodeTypes;
let packageCredentialTypes;

/**
 * This package's nodes: every nodes/**\/*.node.ts, loaded like n8n does (class named after the
 * file), registered as `<package name>.<description.name>`. Loaded lazily, once per process; a
 * file that fails to load is recorded in `loadErrors` and does not break the harness.
 */
export function loadPackageNodeTypes() {
	if (packageNodeTypes) return packageNodeTypes;
	packageNodeTypes = {};
	for (const file of walk(path.join(packageRoot, 'nodes'), '.node.ts')) {
		try {
			const nodeType = prepareNodeType(loadClassLikeN8n(file));
			const name = nodeType.description?.name;
			if (!name) throw new UserError('The node class has no description.name');
			packageNodeTypes[`${packageName}.${name}`] = nodeType;
		} catch (error) {
			loadErrors.push({ file, error });
		}
	}
	return packageNodeTypes;
}

/** This package's credentials: every credentials/*.credentials.ts, by the class's `name`. */
export function loadPackageCredentialTypes() {
	if (packageCredentialTypes) return packageCredentialTypes;
	packageCredentialTypes = {};
	for (const file of walk(path.join(packageRoot, 'credentials'), '.credentials.ts')) {
		try {
			const credentialType = loadClassLikeN8n(file);
			if (!credentialType.name) throw new UserError('The credential class has no name');
			packageCredentialTypes[credentialType.name] = credentialType;
		} catch (error) {
			loadErrors.push({ file, error });
		}
	}
	return packageCredentialTypes;
}

function loadErrorHint() {
	if (loadErrors.length === 0) return '';
	return ` (package sources that failed to load: ${loadErrors
		.map(({ file, error }) => `${path.relative(packageRoot, file)}: ${error?.message ?? error}`)
		.join('; ')})`;
}

// ---------------------------------------------------------------------------------------------
// INodeTypes / ICredentialTypes
// ---------------------------------------------------------------------------------------------
function allVersions(nodeType) {
	return nodeType?.nodeVersions ? Object.values(nodeType.nodeVersions) : nodeType ? [nodeType] : [];
}

export class NodeTypes {
	constructor(map) {
		this.map = {};
		for (const [name, value] of Object.entries(map)) this.map[name] = prepareNodeType(instantiate(value));
	}

	getByName(nodeType) {
		const type = this.map[nodeType];
		if (!type) {
			throw new UnexpectedError(`Unknown node type: ${nodeType}${loadErrorHint()}`);
		}
		return type;
	}

	getByNameAndVersion(nodeType, version) {
		return NodeHelpers.getVersionedNodeType(this.getByName(nodeType), version);
	}

	getKnownTypes() {
		return {};
	}

	/** full node type names whose description (any version) lists the credential type */
	nodesUsingCredential(credentialType) {
		return Object.entries(this.map)
			.filter(([, type]) =>
				allVersions(type).some((v) => (v.description?.credentials ?? []).some((c) => c.name === credentialType)),
			)
			.map(([name]) => name);
	}
}

export class CredentialTypes {
	constructor(map, nodeTypes) {
		this.map = {};
		this.nodeTypes = nodeTypes;
		for (const [name, value] of Object.entries(map)) this.map[name] = prepareCredentialType(instantiate(value));
	}

	recognizes(type) {
		return type in this.map;
	}

	getByName(type) {
		const credentialType = this.map[type];
		if (!credentialType) {
			throw new UnexpectedError(`Unknown credential type: ${type}${loadErrorHint()}`);
		}
		return credentialType;
	}

	/** known.credentials[type].supportedNodes: the nodes that list the credential */
	getSupportedNodes(type) {
		return this.nodeTypes?.nodesUsingCredential(type) ?? [];
	}

	/** packages/cli/src/credential-types.ts getParentTypes(): recursive `extends`. */
	getParentTypes(typeName) {
		const extendsArr = this.map[typeName]?.extends ?? [];
		if (extendsArr.length === 0) return [];
		const extendsArrCopy = [...extendsArr];
		for (const type of extendsArr) extendsArrCopy.push(...this.getParentTypes(type));
		return extendsArrCopy;
	}
}

// ---------------------------------------------------------------------------------------------
// Credential store ("the database") and CredentialsHelper (packages/cli/src/credentials-helper.ts)
// ---------------------------------------------------------------------------------------------
class CredentialNotFoundError extends UserError {
	constructor(credentialId, credentialType) {
		super(`Credential with ID "${credentialId}" does not exist for type "${credentialType}".`);
	}
}

class CredentialMissingIdError extends UserError {
	constructor(credentialName, credentialType) {
		super(`The credential "${credentialName}" of type "${credentialType}" has no ID.`);
	}
}

/**
 * A credential "database" that lives across runs: pass it as `credentialsStore` to runNode /
 * runPoll (or as `credentials` to runWorkflow) and tokens persisted by preAuthentication are seen
 * by later runs, as with n8n's database. `credentials` given to runNode/runPoll only seed it
 * (entries already in the store win).
 */
export async function createCredentialsStore(credentials = {}) {
	return await CredentialsStore.from(credentials);
}

/** In-memory stand-in for CredentialsRepository; rows hold ENCRYPTED data like the DB. */
export class CredentialsStore {
	constructor() {
		this.rows = new Map();
		/** every updateCredentials / updateCredentialsOauthTokenData call, in order */
		this.updates = [];
	}

	static async from(credentials = {}) {
		const store = new CredentialsStore();
		for (const [id, entry] of Object.entries(credentials)) {
			await store.put(id, entry);
		}
		return store;
	}

	async put(id, { type, name, data = {} }) {
		if (!type) throw new UnexpectedError(`Credential "${id}" needs a type`);
		const credentials = new Credentials({ id, name: name ?? `${type} account` }, type);
		await credentials.setData(data);
		this.rows.set(id, { id, name: name ?? `${type} account`, type, data: credentials.getDataToSave().data });
	}

	/** CredentialsRepository.findOneByOrFail({ id, type }) */
	findOne(id, type) {
		const row = this.rows.get(id);
		if (!row || row.type !== type) return undefined;
		return row;
	}

	update({ id, type }, { data }) {
		const row = this.findOne(id, type);
		if (row) row.data = data;
	}

	/** Decrypted snapshot, in the same shape runWorkflow() accepts as `credentials`. */
	async snapshot() {
		const out = {};
		for (const row of this.rows.values()) {
			const credentials = new Credentials({ id: row.id, name: row.name }, row.type, row.data);
			out[row.id] = { type: row.type, name: row.name, data: await credentials.getData() };
		}
		return out;
	}
}

const mockNode = { name: '', typeVersion: 1, type: 'mock', position: [0, 0], parameters: {} };
const mockNodeTypes = new NodeTypes({
	mock: {
		description: {
			displayName: 'Mock',
			name: 'mock',
			group: [],
			version: 1,
			description: '',
			defaults: {},
			inputs: [],
			outputs: [],
			properties: [],
		},
	},
});

/** packages/cli/src/credentials-helper.ts: restrictToCredentialDomains() */
function restrictToCredentialDomains(helpers, credentials) {
	return {
		helpers: {
			httpRequest: async (requestOptions) => {
				const allowedDomains = getCredentialOwnRequestAllowedDomains?.(credentials);
				if (allowedDomains === undefined) {
					return await helpers.helpers.httpRequest(requestOptions);
				}
				if (requestOptions.allowedDomains !== undefined) {
					throw new UserError(
						'This credential restricts requests to specific domains, which cannot be combined with the domains its authentication step asks for.',
					);
				}
				return await helpers.helpers.httpRequest({ ...requestOptions, allowedDomains });
			},
		},
	};
}

export class CredentialsHelper extends ICredentialsHelper {
	/**
	 * @param {CredentialTypes} credentialTypes
	 * @param {CredentialsStore} store
	 */
	constructor(credentialTypes, store) {
		super();
		this.credentialTypes = credentialTypes;
		this.store = store;
		/** observability for tests: every preAuthentication hook call */
		this.preAuthenticationCalls = [];
	}

	async authenticate(credentials, typeName, incomingRequestOptions, workflow, node) {
		const requestOptions = incomingRequestOptions;
		const credentialType = this.credentialTypes.getByName(typeName);

		if (credentialType.authenticate) {
			if (typeof credentialType.authenticate === 'function') {
				return await credentialType.authenticate(credentials, requestOptions);
			}

			if (typeof credentialType.authenticate === 'object') {
				if (!workflow || !node) {
					throw new UnexpectedError('Workflow and node are required for declarative credential authentication');
				}
				const { authenticate } = credentialType;
				if (requestOptions.headers === undefined) requestOptions.headers = {};

				if (authenticate.type === 'generic') {
					Object.entries(authenticate.properties).forEach(([outerKey, outerValue]) => {
						Object.entries(outerValue).forEach(([key, value]) => {
							const keyResolved = this.resolveValue(key, { $credentials: credentials }, workflow, node);
							const valueResolved = this.resolveValue(value, { $credentials: credentials }, workflow, node);
							if (!requestOptions[outerKey]) requestOptions[outerKey] = {};
							requestOptions[outerKey][keyResolved] = valueResolved;
						});
					});
				}
			}
		}

		return requestOptions;
	}

	async preAuthentication(helpers, credentials, typeName, node, credentialsExpired) {
		const credentialType = this.credentialTypes.getByName(typeName);

		const expirableProperty = credentialType.properties.find(
			(property) => property.type === 'hidden' && property?.typeOptions?.expirable === true,
		);

		if (expirableProperty?.name === undefined) return undefined;

		// the mock node used for credential tests
		const isTestingCredentials = node?.parameters?.temp === '' && node?.type === 'n8n-nodes-base.noOp';

		if (credentialType.preAuthentication) {
			if (typeof credentialType.preAuthentication === 'function') {
				if (credentials[expirableProperty?.name] === '' || credentialsExpired || isTestingCredentials) {
					this.preAuthenticationCalls.push({
						typeName,
						node: node?.name,
						credentialsExpired,
						previousValue: credentials[expirableProperty.name],
					});
					const output = await credentialType.preAuthentication.call(
						restrictToCredentialDomains(helpers, credentials),
						credentials,
					);

					// the returned data must contain the expirable property, else nothing is stored
					if (output[expirableProperty.name] === undefined) return undefined;

					if (node.credentials) {
						const nodeCredentials = node.credentials[credentialType.name];
						// never overwrite a field stored as an expression with its resolved value
						const storedData = await (await this.getCredentials(nodeCredentials, credentialType.name)).getData();
						const dataToPersist = { ...storedData };
						for (const [key, value] of Object.entries(output)) {
							if (key === expirableProperty.name || !isExpression(storedData[key])) {
								dataToPersist[key] = value;
							}
						}
						await this.updateCredentials(nodeCredentials, credentialType.name, dataToPersist);
						return Object.assign(credentials, output);
					}
				}
			}
		}
		return undefined;
	}

	async runPreAuthentication(helpers, credentials, typeName) {
		const credentialType = this.credentialTypes.getByName(typeName);
		if (typeof credentialType.preAuthentication !== 'function') return undefined;
		const output = await credentialType.preAuthentication.call(
			restrictToCredentialDomains(helpers, credentials),
			credentials,
		);
		return output ?? undefined;
	}

	resolveValue(parameterValue, additionalKeys, workflow, node) {
		if (!isExpression(parameterValue)) return parameterValue;
		const returnValue = workflow.expression.getSimpleParameterValue(
			node,
			parameterValue,
			'internal',
			additionalKeys,
			undefined,
			'',
		);
		if (!returnValue) return '';
		return returnValue.toString();
	}

	getParentTypes(typeName) {
		return this.credentialTypes.getParentTypes(typeName);
	}

	async getCredentials(nodeCredential, type) {
		const credential = this.getCredentialsEntity(nodeCredential, type);
		return new Credentials({ id: credential.id, name: credential.name }, credential.type, credential.data);
	}

	getCredentialsEntity(nodeCredential, type) {
		if (!nodeCredential?.id) {
			throw new CredentialMissingIdError(nodeCredential?.name, type);
		}
		const credential = this.store.findOne(nodeCredential.id, type);
		if (!credential) throw new CredentialNotFoundError(nodeCredential.id, type);
		return credential;
	}

	isCredentialUsableByNode(credentialType, nodeType) {
		let typeDef;
		try {
			typeDef = this.credentialTypes.getByName(credentialType);
		} catch {
			return true;
		}
		if (!typeDef.restrictToSupportedNodes) return true;
		return this.credentialTypes.getSupportedNodes(credentialType).includes(nodeType);
	}

	getCredentialsProperties(type) {
		const credentialTypeData = this.credentialTypes.getByName(type);

		if (credentialTypeData.extends === undefined) {
			if (['oAuth1Api', 'oAuth2Api'].includes(type)) {
				return [
					...credentialTypeData.properties,
					{ displayName: 'oauthTokenData', name: 'oauthTokenData', type: 'json', required: false, default: {} },
				];
			}
			return credentialTypeData.properties;
		}

		const combineProperties = [];
		for (const credentialsTypeName of credentialTypeData.extends) {
			const mergeCredentialProperties = this.getCredentialsProperties(credentialsTypeName);
			NodeHelpers.mergeNodeProperties(combineProperties, mergeCredentialProperties);
		}
		NodeHelpers.mergeNodeProperties(combineProperties, credentialTypeData.properties);
		return combineProperties;
	}

	async getDecrypted(additionalData, nodeCredentials, type, mode, executeData, raw, expressionResolveValues) {
		const credentialsEntity = this.getCredentialsEntity(nodeCredentials, type);
		const credentials = new Credentials(
			{ id: credentialsEntity.id, name: credentialsEntity.name },
			credentialsEntity.type,
			credentialsEntity.data,
		);
		const decryptedDataOriginal = await credentials.getData();
		if (raw === true) return decryptedDataOriginal;
		return await this.applyDefaultsAndOverwrites(
			additionalData,
			decryptedDataOriginal,
			type,
			mode,
			executeData,
			expressionResolveValues,
		);
	}

	async applyDefaultsAndOverwrites(additionalData, decryptedDataOriginal, type, mode, executeData, expressionResolveValues) {
		const credentialsProperties = this.getCredentialsProperties(type);
		const storedData = { ...decryptedDataOriginal };
		// no CredentialsOverwrites configured: applyOverwrite() is the identity

		let decryptedData = NodeHelpers.getNodeParameters(credentialsProperties, storedData, true, false, null, null);

		if (decryptedDataOriginal.oauthTokenData !== undefined) {
			decryptedData.oauthTokenData = decryptedDataOriginal.oauthTokenData;
		}
		if (decryptedData.allowedHttpRequestDomains === undefined && decryptedDataOriginal.allowedHttpRequestDomains !== undefined) {
			decryptedData.allowedHttpRequestDomains = decryptedDataOriginal.allowedHttpRequestDomains;
		}
		if (decryptedData.allowedDomains === undefined && decryptedDataOriginal.allowedDomains !== undefined) {
			decryptedData.allowedDomains = decryptedDataOriginal.allowedDomains;
		}

		const additionalKeys = getAdditionalKeys(additionalData, mode, null, { isCredential: true });

		if (expressionResolveValues) {
			try {
				decryptedData = expressionResolveValues.workflow.expression.getParameterValue(
					decryptedData,
					expressionResolveValues.runExecutionData,
					expressionResolveValues.runIndex,
					expressionResolveValues.itemIndex,
					expressionResolveValues.node.name,
					expressionResolveValues.connectionInputData,
					mode,
					additionalKeys,
					executeData,
					false,
					decryptedData,
				);
			} catch (e) {
				e.message += ' [Error resolving credentials]';
				throw e;
			}
		} else {
			const workflow = new Workflow({ nodes: [mockNode], connections: {}, active: false, nodeTypes: mockNodeTypes });
			await workflow.expression.acquireIsolate?.();
			try {
				decryptedData = workflow.expression.getComplexParameterValue(
					mockNode,
					decryptedData,
					mode,
					additionalKeys,
					undefined,
					undefined,
					decryptedData,
				);
			} finally {
				await workflow.expression.releaseIsolate?.();
			}
		}
		return decryptedData;
	}

	async updateCredentials(nodeCredentials, type, data) {
		const credentials = await this.getCredentials(nodeCredentials, type);
		await credentials.setData(data);
		this.store.update({ id: credentials.id, type }, { data: credentials.getDataToSave().data });
		this.store.updates.push({ id: credentials.id, type, kind: 'updateCredentials', keys: Object.keys(data) });
	}

	async updateCredentialsOauthTokenData(nodeCredentials, type, data) {
		const credentials = await this.getCredentials(nodeCredentials, type);
		await credentials.updateData({ oauthTokenData: data.oauthTokenData });
		this.store.update({ id: credentials.id, type }, { data: credentials.getDataToSave().data });
		this.store.updates.push({ id: credentials.id, type, kind: 'updateCredentialsOauthTokenData', keys: ['oauthTokenData'] });
	}
}

// ---------------------------------------------------------------------------------------------
// additionalData (packages/cli/src/workflow-execute-additional-data.ts getBase())
// ---------------------------------------------------------------------------------------------
const urlBaseWebhook = 'http://localhost:5678/';
let executionCounter = 0;

function buildAdditionalData({ credentialsHelper, hooks, executionId, variables = {}, instanceBaseUrl }) {
	// the CLI's UrlService: N8N_EDITOR_BASE_URL (the instance URL) or else the webhook URL
	const instance = instanceBaseUrl ? `${instanceBaseUrl.replace(/\/+$/, '')}/` : urlBaseWebhook;
	const additionalData = {
		credentialsHelper,
		hooks,
		executionId,
		executeWorkflow: async () => {
			throw new UnexpectedError('Sub-workflows are not supported by the test harness');
		},
		restApiUrl: `${urlBaseWebhook}rest`,
		instanceBaseUrl: instance,
		formWaitingBaseUrl: `${urlBaseWebhook}form-waiting`,
		webhookBaseUrl: `${urlBaseWebhook}webhook`,
		webhookWaitingBaseUrl: `${urlBaseWebhook}webhook-waiting`,
		webhookTestBaseUrl: `${urlBaseWebhook}webhook-test`,
		currentNodeParameters: undefined,
		executionTimeoutTimestamp: undefined,
		userId: 'harness-user',
		setExecutionStatus: () => {},
		variables,
		logAiEvent: () => {},
	};
	try {
		additionalData.externalSecretsProxy = Container.get(ExternalSecretsProxy);
	} catch {
		// not needed unless $secrets is used
	}
	return additionalData;
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------
async function resolveNodeTypes(extra) {
	const fromPackage = loadPackageNodeTypes();
	return new NodeTypes({ ...builtInNodeTypes, ...fromPackage, ...(extra ?? {}) });
}

async function resolveCredentialTypes(extra, nodeTypes) {
	const fromPackage = loadPackageCredentialTypes();
	return new CredentialTypes({ ...builtInCredentialTypes, ...fromPackage, ...(extra ?? {}) }, nodeTypes);
}

function plain(value) {
	if (value === undefined || value === null) return value;
	const copy = JSON.parse(JSON.stringify(value));
	if (copy && typeof copy === 'object') delete copy.__dataChanged;
	return copy;
}

/**
 * An input item carrying binary data (for `inputItems`), stored like a real instance stores it
 * (BinaryDataService, filesystem mode by default) under a scratch execution.
 */
export async function binaryItem(buffer, { fileName = 'file.bin', mimeType = 'application/octet-stream', json = {}, property = 'data' } = {}) {
	const bytes = Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer);
	const binaryData = await binaryDataService.store(
		{ type: 'execution', workflowId: 'harness-input', executionId: `input-${++executionCounter}` },
		bytes,
		{ data: '', mimeType, fileName, fileExtension: fileName.includes('.') ? fileName.split('.').pop() : undefined },
	);
	return { json, binary: { [property]: binaryData } };
}

/** Decrypted stored data of a credential, by credential id or (first match) credential type. */
function findStored(snapshot, typeOrId) {
	if (snapshot[typeOrId]) return snapshot[typeOrId].data;
	return Object.values(snapshot).find((entry) => entry.type === typeOrId)?.data;
}

/**
 * Reads the bytes of binary data into a Buffer.
 * binary(binaryData) or binary(item, property = 'data') or, bound to a run result,
 * binary(nodeName, itemIndex = 0, property = 'data').
 */
export async function readBinary(binaryData) {
	if (!binaryData) throw new UnexpectedError('No binary data given');
	return await binaryDataService.getAsBuffer(binaryData);
}

function makeResult({ run, credentialsStore, credentialsHelper, workflow, mode, inputStaticData, nodeExecutionOrder }) {
	const runData = run?.data?.resultData?.runData ?? {};
	const itemsOf = (nodeName, { output = 0, runIndex = -1 } = {}) => {
		const runs = runData[nodeName];
		if (!runs || runs.length === 0) return undefined;
		const task = runIndex < 0 ? runs[runs.length + runIndex] : runs[runIndex];
		return task?.data?.main?.[output] ?? [];
	};
	const staticDataAfterRun = plain(workflow.staticData) ?? {};
	return {
		data: run,
		status: run?.status,
		error: run?.data?.resultData?.error,
		nodeError: (nodeName) => runData[nodeName]?.at(-1)?.error,
		itemsOf,
		outputOf: (nodeName, options) => itemsOf(nodeName, options)?.map((item) => item.json),
		nodeExecutionOrder,
		staticData: mode === 'manual' ? plain(inputStaticData) ?? {} : staticDataAfterRun,
		staticDataAfterRun,
		credentialsStore,
		storedCredential: (typeOrId) => findStored(credentialsStore, typeOrId),
		credentialUpdates: credentialsHelper.store.updates,
		preAuthenticationCalls: credentialsHelper.preAuthenticationCalls,
		binary: async (nodeOrItemOrBinary, itemIndex = 0, property = 'data') => {
			if (typeof nodeOrItemOrBinary === 'string') {
				const item = itemsOf(nodeOrItemOrBinary)?.[itemIndex];
				return await readBinary(item?.binary?.[property]);
			}
			if (nodeOrItemOrBinary?.binary) {
				const key = typeof itemIndex === 'string' ? itemIndex : property;
				return await readBinary(nodeOrItemOrBinary.binary[key]);
			}
			return await readBinary(nodeOrItemOrBinary);
		},
	};
}

/**
 * Runs a workflow with n8n-core's WorkflowExecute.
 * @param {object} options
 * @param {Array<object>} options.nodes n8n workflow node JSON
 * @param {object} [options.connections] n8n connections JSON (by source node name)
 * @param {Record<string, {type: string, name?: string, data: object}>} [options.credentials]
 *   the credential "database", by credential id (decrypted data); a previous result's
 *   `credentialsStore` can be passed back to see persisted tokens
 * @param {object} [options.staticData] workflow static data
 * @param {string} [options.timezone]
 * @param {Array<object>} [options.inputItems] items the (first) manual trigger emits (pinned data)
 * @param {object} [options.settings] workflow settings
 * @param {object} [options.nodeTypes] extra node types (name -> class or instance)
 * @param {object} [options.credentialTypes] extra credential types (name -> class or instance)
 * @param {string} [options.mode] execution mode, default 'manual'
 * @param {object} [options.pinData]
 * @param {object} [options.variables] $vars
 */
export async function runWorkflow({
	nodes,
	connections = {},
	credentials = {},
	staticData,
	timezone = 'America/New_York',
	inputItems,
	settings,
	nodeTypes: extraNodeTypes,
	credentialTypes: extraCredentialTypes,
	mode = 'manual',
	pinData,
	variables,
	instanceBaseUrl,
}) {
	const nodeTypes = await resolveNodeTypes(extraNodeTypes);
	const credentialTypes = await resolveCredentialTypes(extraCredentialTypes, nodeTypes);
	const store = credentials instanceof CredentialsStore ? credentials : await CredentialsStore.from(credentials);
	const credentialsHelper = new CredentialsHelper(credentialTypes, store);

	const workflowNodes = nodes.map((node, index) => ({
		id: node.id ?? `node-${index}`,
		position: node.position ?? [index * 200, 0],
		typeVersion: node.typeVersion ?? 1,
		parameters: node.parameters ?? {},
		...node,
	}));
	const workflowId = 'harness-workflow';
	const workflow = new Workflow({
		id: workflowId,
		name: 'Harness workflow',
		nodes: workflowNodes,
		connections,
		active: false,
		nodeTypes,
		staticData: plain(staticData) ?? {},
		settings: { executionOrder: 'v1', timezone, ...(settings ?? {}) },
	});

	const executionId = String(++executionCounter);
	const workflowData = {
		id: workflowId,
		name: workflow.name,
		active: false,
		activeVersionId: null,
		isArchived: false,
		nodes: workflowNodes,
		connections,
		settings: workflow.settings,
		createdAt: new Date(),
		updatedAt: new Date(),
	};
	const hooks = new ExecutionLifecycleHooks(mode, executionId, workflowData);
	const nodeExecutionOrder = [];
	hooks.addHandler('nodeExecuteAfter', (nodeName) => {
		nodeExecutionOrder.push(nodeName);
	});
	const additionalData = buildAdditionalData({ credentialsHelper, hooks, executionId, variables, instanceBaseUrl });

	// the trigger to start from: the first manual trigger, else the first trigger-ish node
	const startNode =
		workflowNodes.find((n) => n.type === 'n8n-nodes-base.manualTrigger' && !n.disabled) ??
		workflow.getStartNode?.() ??
		workflowNodes[0];

	const runPinData = { ...(pinData ?? {}) };
	if (inputItems && startNode) {
		runPinData[startNode.name] = inputItems.map((item) => ('json' in item || 'binary' in item ? item : { json: item }));
	}

	const workflowExecute = new WorkflowExecute(additionalData, mode);
	const run = await workflowExecute.run({
		workflow,
		startNode: workflow.getNode(startNode.name),
		pinData: Object.keys(runPinData).length ? runPinData : undefined,
	});

	return makeResult({
		run,
		credentialsStore: await store.snapshot(),
		credentialsHelper,
		workflow,
		mode,
		inputStaticData: staticData,
		nodeExecutionOrder,
	});
}

function latestVersion(nodeType) {
	const instance = instantiate(nodeType);
	if (instance?.nodeVersions) return instance.currentVersion ?? instance.description?.defaultVersion;
	const version = instance?.description?.version;
	if (instance?.description?.defaultVersion !== undefined) return instance.description.defaultVersion;
	return Array.isArray(version) ? Math.max(...version) : version ?? 1;
}

function nodeCredentialsFor(credentials) {
	const nodeCredentials = {};
	const store = {};
	for (const [type, data] of Object.entries(credentials ?? {})) {
		const id = `${type}-id`;
		const name = `${type} account`;
		nodeCredentials[type] = { id, name };
		store[id] = { type, name, data: data ?? {} };
	}
	return { nodeCredentials, store };
}

/**
 * One node (named 'Node') fed by a manual trigger emitting `inputItems`.
 * credentials: { [credentialTypeName]: decryptedData } — stored under id `${type}-id`.
 */
export async function runNode({
	type = `${packageName}.eClinicalWorks`,
	typeVersion,
	parameters = {},
	credentials,
	inputItems = [{ json: {} }],
	continueOnFail = false,
	staticData,
	timezone,
	nodeTypes,
	credentialTypes,
	name = 'Node',
	settings,
	credentialsStore,
	instanceBaseUrl,
}) {
	const types = await resolveNodeTypes(nodeTypes);
	const { nodeCredentials, store } = nodeCredentialsFor(credentials);
	if (credentialsStore) {
		for (const [id, entry] of Object.entries(store)) {
			if (!credentialsStore.rows.has(id)) await credentialsStore.put(id, entry);
		}
	}
	const node = {
		id: 'node-under-test',
		name,
		type,
		typeVersion: typeVersion ?? latestVersion(types.getByName(type)),
		position: [200, 0],
		parameters,
	};
	if (Object.keys(nodeCredentials).length) node.credentials = nodeCredentials;
	if (continueOnFail) node.onError = typeof continueOnFail === 'string' ? continueOnFail : 'continueRegularOutput';
	const trigger = {
		id: 'manual-trigger',
		name: 'Manual Trigger',
		type: 'n8n-nodes-base.manualTrigger',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	};
	const result = await runWorkflow({
		nodes: [trigger, node],
		connections: { [trigger.name]: { main: [[{ node: name, type: 'main', index: 0 }]] } },
		credentials: credentialsStore ?? store,
		staticData,
		timezone,
		inputItems,
		settings,
		nodeTypes,
		credentialTypes,
		instanceBaseUrl,
	});
	result.node = node;
	return result;
}

/**
 * Runs a polling trigger's poll() once.
 *  mode 'trigger' (default): production path of the CLI's ActiveWorkflowManager: PollContext(mode
 *    'trigger', activation 'activate') run by n8n-core's PollTriggerExecutor; static data persists.
 *  mode 'manual': "Fetch test event": PollContext(mode 'manual', activation 'manual'), as
 *    WorkflowExecute.executePollNode does; n8n does not persist static data of manual runs.
 * Returns { items: poll()'s return value (INodeExecutionData[][] | null), json: first output's json
 * ([] when null), staticData (what n8n would persist — pass it to the next call),
 * staticDataAfterCall, credentialsStore, preAuthenticationCalls, error }.
 * Throws the poll error unless throwOnError is false.
 */
export async function runPoll({
	type = `${packageName}.eClinicalWorksTrigger`,
	typeVersion,
	parameters = {},
	credentials,
	staticData,
	mode = 'trigger',
	timezone = 'America/New_York',
	nodeTypes: extraNodeTypes,
	credentialTypes: extraCredentialTypes,
	throwOnError = true,
	name = 'Trigger',
	credentialsStore,
}) {
	const nodeTypes = await resolveNodeTypes(extraNodeTypes);
	const credentialTypes = await resolveCredentialTypes(extraCredentialTypes, nodeTypes);
	const { nodeCredentials, store: storeData } = nodeCredentialsFor(credentials);
	let store = credentialsStore;
	if (store) {
		for (const [id, entry] of Object.entries(storeData)) {
			if (!store.rows.has(id)) await store.put(id, entry);
		}
	} else {
		store = await CredentialsStore.from(storeData);
	}
	const credentialsHelper = new CredentialsHelper(credentialTypes, store);

	const node = {
		id: 'poll-trigger',
		name,
		type,
		typeVersion: typeVersion ?? latestVersion(nodeTypes.getByName(type)),
		position: [0, 0],
		parameters,
	};
	if (Object.keys(nodeCredentials).length) node.credentials = nodeCredentials;
	const workflowId = 'harness-poll-workflow';
	const workflow = new Workflow({
		id: workflowId,
		name: 'Harness poll workflow',
		nodes: [node],
		connections: {},
		active: mode !== 'manual',
		nodeTypes,
		staticData: plain(staticData) ?? {},
		settings: { executionOrder: 'v1', timezone },
	});
	const workflowNode = workflow.getNode(name);
	const executionId = String(++executionCounter);
	const hooks = new ExecutionLifecycleHooks(mode, executionId, {
		id: workflowId,
		name: workflow.name,
		active: mode !== 'manual',
		activeVersionId: null,
		isArchived: false,
		nodes: [node],
		connections: {},
		settings: workflow.settings,
		createdAt: new Date(),
		updatedAt: new Date(),
	});
	const additionalData = buildAdditionalData({ credentialsHelper, hooks, executionId });

	let items = null;
	let error;
	if (mode === 'manual') {
		const nodeType = nodeTypes.getByNameAndVersion(node.type, node.typeVersion);
		const context = new PollContext(workflow, workflowNode, additionalData, 'manual', 'manual');
		try {
			items = await workflow.expression.withIsolate(async () => await nodeType.poll.call(context));
		} catch (e) {
			error = e;
		}
	} else {
		let emitted = null;
		const context = new PollContext(
			workflow,
			workflowNode,
			additionalData,
			'trigger',
			'activate',
			(data) => {
				emitted = data;
			},
			(e) => {
				error = e;
			},
		);
		const executor = Container.get(PollTriggerExecutor).create(workflow, workflowNode, context, () => true);
		await executor(false);
		items = emitted;
	}

	// The CLI saves static data to the database in the poll's __emit (saveStaticData(): only when
	// `__dataChanged`), i.e. only when poll() returned items. The active Workflow object keeps its
	// in-memory static data between ticks, so the next tick sees changes either way, but changes
	// made by a poll that returned null are lost when the workflow is reactivated or n8n restarts.
	const dataChanged = workflow.staticData?.__dataChanged === true;
	const staticDataAfterCall = plain(workflow.staticData) ?? {};
	const snapshot = await store.snapshot();
	const result = {
		items,
		json: (items?.[0] ?? []).map((item) => item.json),
		staticData: mode === 'manual' ? plain(staticData) ?? {} : staticDataAfterCall,
		staticDataAfterCall,
		staticDataSaved: mode !== 'manual' && items !== null && items !== undefined && !error && dataChanged,
		credentialsStore: snapshot,
		storedCredential: (typeOrId) => findStored(snapshot, typeOrId),
		credentialUpdates: store.updates,
		preAuthenticationCalls: credentialsHelper.preAuthenticationCalls,
		error,
		binary: async (item, property = 'data') => await readBinary(item?.binary?.[property] ?? item),
	};
	if (error && throwOnError) {
		error.pollResult = result;
		throw error;
	}
	return result;
}


// ---------------------------------------------------------------------------------------------
// Credential test ("Test" button): packages/cli/src/services/credentials-tester.service.ts
// ---------------------------------------------------------------------------------------------
const OAUTH2_CREDENTIAL_TEST_SUCCEEDED = 'Connection Successful!';
const OAUTH2_CREDENTIAL_TEST_FAILED = 'This OAuth2 credential was not connected to an account.';

/** CredentialsTester.getCredentialTestFunction() */
function getCredentialTestFunction(credentialTypes, nodeTypes, credentialType) {
	const type = credentialTypes.getByName(credentialType);
	if (type.test) return { testRequest: type.test };

	for (const nodeName of credentialTypes.getSupportedNodes(credentialType)) {
		const node = nodeTypes.getByName(nodeName);
		for (const nodeType of allVersions(node)) {
			for (const { name, testedBy } of nodeType.description.credentials ?? []) {
				if (name === credentialType && (credentialTypes.getParentTypes(name).includes('oAuth2Api') || name === 'oAuth2Api')) {
					return async function oauth2CredTest(cred) {
						const tokenData = cred?.data?.oauthTokenData;
						return tokenData && typeof tokenData === 'object' && 'access_token' in tokenData
							? { status: 'OK', message: OAUTH2_CREDENTIAL_TEST_SUCCEEDED }
							: { status: 'Error', message: OAUTH2_CREDENTIAL_TEST_FAILED };
					};
				}
				if (name === credentialType && !!testedBy) {
					if (typeof testedBy === 'string') {
						if (node.nodeVersions) {
							const versions = Object.keys(node.nodeVersions).sort().reverse();
							for (const version of versions) {
								const credentialTest = node.nodeVersions[parseInt(version, 10)].methods?.credentialTest;
								if (credentialTest && testedBy in credentialTest) return credentialTest[testedBy];
							}
						}
						return node.methods?.credentialTest?.[testedBy];
					}
					return { nodeType, testRequest: testedBy };
				}
			}
		}
	}
	return undefined;
}

/**
 * Runs a credential test the way the CLI's CredentialsTester.testCredentials() does: the credential
 * type's `test` request (or a node's `testedBy`) through n8n-core's RoutingNode with a temporary
 * node, so `preAuthentication`, `authenticate` and `httpRequestWithAuthentication` run for real.
 * The credential is first saved in the store under `id` (the editor saves before it tests).
 * Returns { status: 'OK' | 'Error', message, credentialsStore, preAuthenticationCalls, credentialUpdates }.
 */
export async function testCredential({
	type,
	data = {},
	id = `${type}-id`,
	name = `${type} account`,
	nodeTypes: extraNodeTypes,
	credentialTypes: extraCredentialTypes,
}) {
	const nodeTypes = await resolveNodeTypes(extraNodeTypes);
	const credentialTypes = await resolveCredentialTypes(extraCredentialTypes, nodeTypes);
	const store = await CredentialsStore.from({ [id]: { type, name, data } });
	const credentialsHelper = new CredentialsHelper(credentialTypes, store);
	const finish = async (result) => ({
		...result,
		storedCredential: findStored(await store.snapshot(), id),
		credentialsStore: await store.snapshot(),
		preAuthenticationCalls: credentialsHelper.preAuthenticationCalls,
		credentialUpdates: store.updates,
	});

	const credentialTestFunction = getCredentialTestFunction(credentialTypes, nodeTypes, type);
	if (credentialTestFunction === undefined) {
		return await finish({ status: 'Error', message: 'No testing function found for this credential.' });
	}

	const executionId = String(++executionCounter);
	const hooks = new ExecutionLifecycleHooks('internal', executionId, {
		id: 'credential-test',
		name: 'credential test',
		active: false,
		activeVersionId: null,
		isArchived: false,
		nodes: [],
		connections: {},
		createdAt: new Date(),
		updatedAt: new Date(),
	});
	const additionalData = buildAdditionalData({ credentialsHelper, hooks, executionId });
	const credentialsDecrypted = { id, name, type, data: { ...data } };
	try {
		credentialsDecrypted.data = await credentialsHelper.applyDefaultsAndOverwrites(
			additionalData,
			credentialsDecrypted.data,
			type,
			'internal',
		);
	} catch (error) {
		return await finish({ status: 'Error', message: error.message.toString() });
	}

	if (typeof credentialTestFunction === 'function') {
		const context = new n8nCore.CredentialTestContext(additionalData);
		return await finish(await credentialTestFunction.call(context, credentialsDecrypted));
	}

	const nodeType = credentialTestFunction.nodeType ?? nodeTypes.getByNameAndVersion('n8n-nodes-base.noOp');
	const node = {
		id: 'temp',
		parameters: {},
		name: 'Temp-Node',
		type: nodeType.description.name,
		typeVersion: Array.isArray(nodeType.description.version)
			? nodeType.description.version.slice(-1)[0]
			: nodeType.description.version,
		position: [0, 0],
		credentials: { [type]: { id, name } },
	};
	const nodeTypeCopy = {
		description: {
			...nodeType.description,
			credentials: [{ name: type, required: true }],
			properties: [
				{
					displayName: 'Temp',
					name: 'temp',
					type: 'string',
					routing: { request: credentialTestFunction.testRequest.request },
					default: '',
				},
			],
		},
	};
	const workflow = new Workflow({
		nodes: [node],
		connections: {},
		active: false,
		nodeTypes: new NodeTypes({ [nodeTypeCopy.description.name]: nodeTypeCopy }),
	});
	const workflowNode = workflow.getNode(node.name);
	const executeData = { node: workflowNode, data: {}, source: null };
	const executeFunctions = new n8nCore.ExecuteContext(
		workflow,
		workflowNode,
		additionalData,
		'internal',
		{ resultData: { runData: {} } },
		0,
		[],
		{ main: [[{ json: {} }]] },
		executeData,
		[],
	);
	const routingNode = new n8nCore.RoutingNode(executeFunctions, nodeTypeCopy, credentialsDecrypted);

	let response;
	try {
		response = await workflow.expression.withIsolate(async () => await routingNode.runNode());
	} catch (error) {
		reportedErrors.push({ error, options: { credentialTest: true } });
		if (error.cause?.response) {
			const errorResponseData = {
				statusCode: error.cause.response.status,
				statusMessage: error.cause.response.statusText,
			};
			for (const rule of credentialTestFunction.testRequest.rules ?? []) {
				if (rule.type === 'responseCode' && errorResponseData.statusCode === rule.properties.value) {
					return await finish({ status: 'Error', message: rule.properties.message });
				}
			}
			if (errorResponseData.statusCode < 199 || errorResponseData.statusCode > 299) {
				return await finish({
					status: 'Error',
					message: errorResponseData.statusMessage || `Received HTTP status code: ${errorResponseData.statusCode}`,
				});
			}
		} else if (error.cause?.code) {
			return await finish({ status: 'Error', message: error.cause.code });
		}
		return await finish({ status: 'Error', message: error.message.toString() });
	}

	if (Array.isArray(credentialTestFunction.testRequest.rules)) {
		for (const rule of credentialTestFunction.testRequest.rules) {
			if (rule.type === 'responseSuccessBody') {
				const responseData = response[0][0].json;
				const value = String(rule.properties.key)
					.split('.')
					.reduce((acc, key) => (acc === undefined || acc === null ? undefined : acc[key]), responseData);
				if (value === rule.properties.value) {
					return await finish({ status: 'Error', message: rule.properties.message });
				}
			}
		}
	}
	return await finish({ status: 'OK', message: 'Connection successful!' });
}
