// The workflows the end-to-end suite imports into n8n (scripts/e2e/workflows.test.mjs): the auth
// matrix, the example workflows wired to the sandboxes (and their failure paths), the production
// readiness report, Custom API Call through n8n's HTTP Request node; and a screenshot of the report.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT, info } from '../lib.mjs';
import { CREDENTIAL_TYPE, NODE_TYPE, loadExample, mrnOf, sampleIntake, variant } from '../fixtures.mjs';

const PRACTICE = 'demo';
/** An MRN no sandbox patient has (theirs are 7 digits). */
export const UNKNOWN_MRN = '0000001';

/** n8n's HTTP Request node with this package's credential as its predefined credential type (Custom API Call). */
export function httpRequestNode(name, credential, url, position, extra = {}) {
	return {
		id: `e2e-${name}`.replace(/\W+/g, '-').padEnd(36, '0').slice(0, 36),
		name,
		type: 'n8n-nodes-base.httpRequest',
		typeVersion: 4.2,
		position,
		credentials: { [CREDENTIAL_TYPE]: { id: credential.id, name: credential.name } },
		parameters: {
			method: 'GET',
			url,
			authentication: 'predefinedCredentialType',
			nodeCredentialType: CREDENTIAL_TYPE,
			sendHeaders: true,
			headerParameters: { parameters: [{ name: 'Accept', value: 'application/fhir+json' }] },
			// FHIR answers application/fhir+json, which the node's autodetect reads as text
			options: { response: { response: { responseFormat: 'json' } } },
		},
		...extra,
	};
}

export const chain = (names) => Object.fromEntries(names.slice(0, -1).map((n, i) => [n, { main: [[{ node: names[i + 1], type: 'main', index: 0 }]] }]));

export function patientSearchNode(name, credential, mrn, position) {
	return {
		id: `e2e-${name}`.padEnd(36, '0'),
		name,
		type: NODE_TYPE,
		typeVersion: 1,
		position,
		onError: 'continueRegularOutput',
		credentials: { eClinicalWorksApi: { id: credential.id, name: credential.name } },
		parameters: { authentication: 'backendService', resource: 'patient', operation: 'search', criteria: { identifier: mrn }, returnAll: false, limit: 5, output: 'simplified' },
	};
}

/** Every workflow the suite runs, by id; `creds` are the imported credentials by profile and key. */
export function e2eWorkflows({ ctx, ecw, smart, multi, paced, creds, filesDir }) {
	const cred = (profile, key) => creds[profile].find((c) => c.key === key);
	const pt = ecw.admin.get(PRACTICE, 'Patient', 'pt-3');
	const ptSmart = smart.admin.get(PRACTICE, 'Patient', 'pt-3');
	const wfs = [];
	const matrix = { id: 'e2eAuthMatrix001', name: 'e2e: patient search with every auth method', active: false, settings: { executionOrder: 'v1' }, connections: {}, nodes: [] };
	matrix.nodes.push({ id: 'e2e-manual-0000000000000000000000001', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} });
	const targets = [];
	for (const profile of ['ecw', 'smart']) {
		for (const c of creds[profile]) {
			const name = `${profile} ${c.key}`;
			targets.push({ node: name, type: 'main', index: 0 });
			matrix.nodes.push(patientSearchNode(name, c, mrnOf(profile === 'ecw' ? pt : ptSmart), [300, targets.length * 120]));
		}
	}
	matrix.connections.Start = { main: [targets] };
	wfs.push(matrix);

	const dispatch = loadExample('tomorrows-appointments-to-dispatch-sheet');
	for (const profile of ['ecw', 'smart']) {
		wfs.push(variant(dispatch, { id: `e2eDispatch${profile}`.padEnd(16, '0'), name: `e2e: dispatch sheet (${profile})`, credential: cred(profile, 'rs384'), filesDir: path.join(filesDir, profile) }));
	}
	const intake = loadExample('new-patient-intake-email');
	wfs.push(variant(intake, { id: 'e2eIntake0000000', name: 'e2e: new patient intake', credential: cred('ecw', 'rs384'), ...sampleIntake(mrnOf(pt)) }));
	// the intake's failure paths: an MRN nobody has, an MRN two charts share, a look-up that fails
	wfs.push(variant(intake, { id: 'e2eIntakeNone000', name: 'e2e: intake, unknown MRN', credential: cred('ecw', 'rs384'), ...sampleIntake(UNKNOWN_MRN) }));
	const shared = smart.admin.get(PRACTICE, 'Patient', 'pt-7');
	smart.admin.createPatient(PRACTICE, { identifier: shared.identifier, name: [{ use: 'official', family: 'Duplicate', given: ['Chart'], text: 'Chart Duplicate' }] });
	wfs.push(variant(intake, { id: 'e2eIntakeMany000', name: 'e2e: intake, MRN on two charts', credential: cred('smart', 'basic'), ...sampleIntake(mrnOf(shared)) }));
	wfs.push(variant(intake, { id: 'e2eIntakeFail000', name: 'e2e: intake, look-up fails', credential: cred('ecw', 'broken'), ...sampleIntake(mrnOf(pt)) }));
	const nightly = loadExample('nightly-incremental-bulk-export');
	wfs.push(variant(nightly, { id: 'e2eNightlyEcw000', name: 'e2e: nightly export (ecw)', credential: cred('ecw', 'rs384'), filesDir: path.join(filesDir, 'ecw'), params: { 'Bulk export since last run': { pollFloorSeconds: 1, maxWaitMinutes: 3 } } }));
	wfs.push(
		variant(nightly, {
			id: 'e2eExportSmart00',
			name: 'e2e: system export (smart)',
			credential: cred('smart', 'post'),
			filesDir: path.join(filesDir, 'smart'),
			params: { 'Bulk export since last run': { level: 'system', sinceMode: 'none', resourceTypes: ['Patient', 'Appointment'], pollFloorSeconds: 1, maxWaitMinutes: 3 } },
		}),
	);
	wfs.push(
		variant(loadExample('production-readiness-report'), {
			id: 'e2eReadinessEcw0',
			name: 'e2e: production readiness report',
			credential: cred('ecw', 'rs384'),
			params: { 'Check production readiness': { options: { reportFormat: 'both', tryBulkExport: true, bulkPollFloorSeconds: 1, n8nVersion: ctx.n8nVersion } } },
		}),
	);
	// the scheduled examples' failure path: a credential the server refuses (wrong key id)
	wfs.push(variant(dispatch, { id: 'e2eDispatchFail0', name: 'e2e: dispatch sheet, sign-in refused', credential: cred('ecw', 'broken'), filesDir: path.join(filesDir, 'failing') }));
	wfs.push(variant(nightly, { id: 'e2eNightlyFail00', name: 'e2e: nightly export, sign-in refused', credential: cred('ecw', 'broken'), filesDir: path.join(filesDir, 'failing'), params: { 'Bulk export since last run': { pollFloorSeconds: 1, maxWaitMinutes: 3 } } }));
	wfs.push(variant(loadExample('many-practices-dispatch-sheet'), { id: 'e2eManyPractice0', name: 'e2e: many practices', credential: creds.multi[0], filesDir: path.join(filesDir, 'multi') }));
	// Custom API Call: the HTTP Request node with the credential, on the FHIR server and on another origin
	const start = { id: 'e2e-manual-0000000000000000000000002', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} };
	const customApi = creds.customApi.find((c) => c.key === 'customApi');
	wfs.push({
		id: 'e2eCustomApi0000',
		name: 'e2e: Custom API Call (HTTP Request node)',
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			start,
			httpRequestNode('FHIR server', customApi, `${ecw.baseUrl}/Patient?identifier=${mrnOf(pt)}`, [240, 0]),
			httpRequestNode('Another origin', customApi, `${ecw.otherOrigin}/not-the-fhir-server`, [480, 0], { onError: 'continueRegularOutput' }),
		],
		connections: chain(['Start', 'FHIR server', 'Another origin']),
	});
	const pacedCred = creds.customApi.find((c) => c.key === 'paced');
	const pacedNames = ['Request 1', 'Request 2', 'Request 3'];
	wfs.push({
		id: 'e2eCustomApiPace',
		name: 'e2e: Custom API Call, paced',
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [start, ...pacedNames.map((name, i) => httpRequestNode(name, pacedCred, `${paced.baseUrl}/Patient?identifier=${mrnOf(paced.admin.get(PRACTICE, 'Patient', 'pt-3'))}`, [240 * (i + 1), 0]))],
		connections: chain(['Start', ...pacedNames]),
	});
	return wfs;
}

// E2E_UPDATE_SCREENSHOTS=1 refreshes the committed screenshot in docs/screenshots/ (as the browser suite does)
const SHOTS = process.env.E2E_UPDATE_SCREENSHOTS === '1' ? path.join(ROOT, 'docs', 'screenshots') : path.join(ROOT, 'test-results', 'screenshots');
const CHROMIUM = process.env.E2E_NO_BROWSER === '1' ? undefined : [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => p && existsSync(p));

/** The emailed HTML report, as a reviewer's browser shows it (Debian's Chromium through playwright-core). */
export async function screenshotReport(html) {
	if (!CHROMIUM) {
		info('Chromium not installed: no screenshot of the report');
		return;
	}
	const { chromium } = await import('playwright-core');
	const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
	try {
		const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
		// offline: a self-contained page needs nothing from the network
		await page.route('**/*', (route) => route.abort());
		await page.setContent(html, { waitUntil: 'load' });
		mkdirSync(SHOTS, { recursive: true });
		const file = path.join(SHOTS, 'production-readiness-report.png');
		// the header and every check; the request list below them is left out of the picture
		const end = await page.locator('details').boundingBox();
		await page.screenshot({ path: file, fullPage: true, clip: { x: 0, y: 0, width: 1200, height: Math.ceil(end?.y ?? 1400) } });
		info(`screenshot ${path.relative(ROOT, file)}`);
	} finally {
		await browser.close();
	}
}

