// `npm start` (scripts/demo.mjs) as a user meets it, and n8n's editor in headless Chromium:
// log in, open an example workflow, open the eClinicalWorks node, check its operations and fields
// render with the icon; run the intake example from the editor and read its email in the demo's
// inbox; save screenshots (docs/screenshots/ with E2E_UPDATE_SCREENSHOTS=1). Then Ctrl-C must stop
// everything (n8n, the sandbox, the mail server), and `npm start -- --check` must come up again on
// the same (persistent) user folder.
// The browser part is skipped, with a message, when Chromium is not installed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { ROOT, info } from '../lib.mjs';

const ctxFile = process.env.E2E_CONTEXT;
if (!ctxFile) throw new Error('run through `npm run test:e2e` (scripts/e2e.mjs)');
const ctx = JSON.parse(readFileSync(ctxFile, 'utf8'));
// E2E_NO_BROWSER=1 skips the browser test; CHROMIUM_PATH points at another Chromium build
const CHROMIUM = process.env.E2E_NO_BROWSER === '1' ? undefined : [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => p && existsSync(p));
// docs/screenshots/ holds the committed screenshots (the README shows them): refreshed with
// E2E_UPDATE_SCREENSHOTS=1; otherwise they go to test-results/ (ignored by git).
const SHOTS = process.env.E2E_UPDATE_SCREENSHOTS === '1' ? path.join(ROOT, 'docs', 'screenshots') : path.join(ROOT, 'test-results', 'screenshots');

let userFolder, demo, ready, demoExit;
const demoOutput = [];

/** Start `node scripts/demo.mjs`; resolve with the DEMO_READY payload. */
function startDemoProcess(args = []) {
	const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'demo.mjs'), '--port', '0', ...args], {
		cwd: ROOT,
		env: { ...process.env, DEMO_USER_FOLDER: userFolder, DEMO_TGZ: ctx.tgz, DEMO_READY_JSON: '1' },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
	const readyP = new Promise((resolve, reject) => {
		let buf = '';
		const onData = (chunk) => {
			buf += chunk;
			const lines = buf.split('\n');
			buf = lines.pop();
			for (const line of lines) {
				demoOutput.push(line);
				if (line.startsWith('DEMO_READY ')) resolve(JSON.parse(line.slice('DEMO_READY '.length)));
				else if (/^==>|ready|stopp|failed|error/i.test(line) && !line.includes('n8n|')) info(`demo: ${line.trim()}`);
			}
		};
		child.stdout.on('data', onData);
		child.stderr.on('data', onData);
		exited.then(({ code }) => reject(new Error(`demo exited (${code}) before it was ready:\n${demoOutput.slice(-30).join('\n')}`)));
	});
	return { child, exited, ready: readyP };
}

/** Resolves once a TCP connection to the local SMTP port opens (and closes it); rejects when refused. */
function smtpConnect(port) {
	return new Promise((resolve, reject) => {
		const socket = net.connect(port, '127.0.0.1', () => {
			socket.destroy();
			resolve();
		});
		socket.on('error', reject);
	});
}

before(async () => {
	userFolder = mkdtempSync(path.join(os.tmpdir(), 'ecw-e2e-demo-'));
	const t = Date.now();
	demo = startDemoProcess();
	demoExit = demo.exited;
	// node --test reports a failed before() hook only as cancelled tests: print why here
	ready = await demo.ready.catch((e) => {
		info(e.message);
		throw e;
	});
	info(`demo ready in ${((Date.now() - t) / 1000).toFixed(1)}s at ${ready.url}`);
});

after(async () => {
	if (demo?.child.exitCode === null) {
		demo.child.kill('SIGTERM');
		await demoExit;
	}
	if (userFolder && !process.env.E2E_KEEP) rmSync(userFolder, { recursive: true, force: true });
});

const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

/** Headless Chromium with a page signed in to the demo's editor, through the form. */
async function openEditor() {
	const { chromium, selectors } = await import('playwright-core');
	selectors.setTestIdAttribute('data-test-id');
	const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: BROWSER_ARGS });
	mkdirSync(SHOTS, { recursive: true });
	const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
	page.setDefaultTimeout(60000);
	let landing;
	try {
		// the editor URL the demo prints: n8n sends a signed-out visitor to its sign-in page
		await page.goto(`${ready.url}/`);
		await page.getByTestId('emailOrLdapLoginId').locator('input').fill(ready.email);
		await page.getByTestId('password').locator('input').fill(ready.password);
		await page.getByTestId('form-submit-button').click();
		await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
		await page.waitForTimeout(1500);
		landing = new URL(page.url()).pathname;
		info(`signed in, at ${landing}`);
	} catch (e) {
		await browser.close();
		throw e;
	}
	return { browser, page, landing };
}

/** Opens n8n's nodes panel ("What happens next?") from a node of the open workflow and searches it. */
async function openNodesPanel(page, fromNode, search) {
	await page.locator('[data-test-id="canvas-node"]').filter({ hasText: fromNode }).first().click();
	await page.waitForTimeout(500);
	await page.keyboard.press('Tab');
	const input = page.getByTestId('node-creator-search-bar');
	await input.waitFor({ timeout: 5000 }).catch(async () => {
		await page.getByTestId('node-creator-plus-button').click();
		await input.waitFor();
	});
	await input.fill(search);
	await page.waitForTimeout(1000);
	return page.getByTestId('node-creator');
}

async function saveFailureScreenshot(page) {
	const file = path.join(os.tmpdir(), 'ecw-e2e-browser-failure.png');
	await page.screenshot({ path: file }).catch(() => {});
	info(`failure screenshot: ${file}`);
}

async function login(baseUrl) {
	const res = await fetch(`${baseUrl}/rest/login`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ emailOrLdapLoginId: ready.email, password: ready.password }),
	});
	assert.equal(res.status, 200, 'login with the printed credentials');
	return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

describe('npm start (the demo)', () => {
	test('n8n is up with the owner account, the demo credentials and the example workflows', async () => {
		const cookie = await login(ready.url);
		const wf = await (await fetch(`${ready.url}/rest/workflows`, { headers: { cookie } })).json();
		const names = wf.data.map((w) => w.name).sort();
		info(`workflows: ${names.join('; ')}`);
		for (const id of ['ecwDispatchSheet', 'ecwPatientIntake', 'ecwNightlyExport', 'ecwManyPractices', 'ecwReadinessReport']) assert.ok(wf.data.some((w) => w.id === id), `workflow ${id}`);
		const cr = await (await fetch(`${ready.url}/rest/credentials`, { headers: { cookie } })).json();
		const types = cr.data.map((c) => c.type);
		// eCW's profile is key-only (RS384): the sandbox key and the practice-code template
		for (const id of ['ecwSandboxRS384', 'ecwSandboxManyPractices']) assert.ok(cr.data.some((c) => c.id === id && c.type === 'eClinicalWorksApi'), `the demo credential ${id}`);
		assert.ok(cr.data.some((c) => c.id === 'ecwSandboxRS384'), 'the credential the examples use');
		assert.ok(cr.data.some((c) => c.id === 'demoMailServer' && c.type === 'smtp'), 'the SMTP credential of the demo mail server (the intake example uses it)');
		// what the editor loads: the package's node and credential types, with the package prefix
		const nodeTypes = await fetch(`${ready.url}/types/nodes.json`, { headers: { cookie } });
		assert.equal(nodeTypes.status, 200);
		const list = await nodeTypes.json();
		const ours = list.filter((n) => n.name.startsWith('n8n-nodes-eclinicalworks.'));
		info(`node types from the package: ${[...new Set(ours.map((n) => n.name))].join(', ')}`);
		assert.ok(ours.some((n) => n.name === 'n8n-nodes-eclinicalworks.eClinicalWorks'), 'node type loaded from the community package');
		assert.ok(ours.some((n) => n.name === 'n8n-nodes-eclinicalworks.eClinicalWorksTrigger'), 'trigger type loaded');
		const credTypes = await (await fetch(`${ready.url}/types/credentials.json`, { headers: { cookie } })).json();
		for (const name of ['eClinicalWorksApi', 'eClinicalWorksOAuth2Api']) assert.ok(credTypes.some((c) => c.name === name), `credential type ${name}`);
	});

	test('the editor in headless Chromium: example workflow, eClinicalWorks node, icon, fields', async (t) => {
		if (!CHROMIUM) {
			t.skip('Chromium not installed (apt-get install -y chromium); browser test skipped');
			return;
		}
		// sign in through the form, with the login the demo printed
		const { browser, page, landing } = await openEditor();
		try {
			// after sign-in: the Overview with the examples (not n8n's Assistant page)
			assert.equal(landing, '/home/workflows', 'the editor opens on the Overview');
			for (const name of ["eCW: tomorrow's appointments to the dispatch sheet", 'eCW: new patient intake email']) await page.getByText(name).first().waitFor();

			// the dispatch-sheet example on the canvas
			await page.goto(`${ready.url}/workflow/ecwDispatchSheet`);
			const node = page.locator('[data-test-id="canvas-node"]').filter({ hasText: "Get tomorrow's appointments" }).first();
			await node.waitFor();
			await page.keyboard.press('Escape').catch(() => {});
			await page.waitForTimeout(1500);
			const canvasIcon = node.locator('img, svg').first();
			await canvasIcon.waitFor();
			await page.screenshot({ path: path.join(SHOTS, 'example-dispatch-sheet-workflow.png') });

			// open the eClinicalWorks node
			await node.dblclick();
			const ndv = page.getByTestId('ndv');
			await ndv.waitFor();
			await page.waitForTimeout(1500);
			const text = await ndv.innerText();
			for (const label of ['Resource', 'Operation', 'Date Range', 'Source']) assert.ok(text.includes(label), `field "${label}" rendered`);
			const resource = await page.getByTestId('parameter-input-resource').locator('input').inputValue();
			const operation = await page.getByTestId('parameter-input-operation').locator('input').inputValue();
			info(`NDV: resource "${resource}", operation "${operation}"`);
			assert.match(resource, /appointment/i);
			assert.match(operation, /get/i);
			// the node icon comes from the package (themed SVG served under /icons/n8n-nodes-eclinicalworks/)
			const iconSrcs = await page.locator('img[src*="eclinicalworks"]').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('src')));
			info(`icons: ${iconSrcs.length} image(s) from the package, e.g. ${iconSrcs[0] ?? '(none)'}`);
			assert.ok(iconSrcs.length > 0, 'the package icon is shown');
			const icon = await fetch(new URL(iconSrcs[0], ready.url));
			assert.equal(icon.status, 200, 'icon served');
			assert.match(icon.headers.get('content-type') ?? '', /svg/);

			// the resources and the Appointment operations the dropdowns offer
			const visibleOptions = async (param) => {
				await page.getByTestId(`parameter-input-${param}`).click();
				const list = page.locator('.el-select-dropdown__item:visible, .el-popper:visible [role="option"]');
				await list.first().waitFor();
				const texts = (await list.allInnerTexts()).map((o) => o.split('\n')[0].trim()).filter(Boolean);
				await page.keyboard.press('Escape');
				await page.waitForTimeout(300);
				return [...new Set(texts)];
			};
			const resources = await visibleOptions('resource');
			info(`resource options: ${resources.join(' | ')}`);
			for (const r of ['Patient', 'Appointment', 'Bulk Export']) assert.ok(resources.includes(r), `resource "${r}" offered`);
			const operations = await visibleOptions('operation');
			info(`appointment operations: ${operations.join(' | ')}`);
			assert.ok(operations.some((o) => /get many|get appointments/i.test(o)), 'Get Many offered');
			await page.waitForTimeout(500);
			await page.screenshot({ path: path.join(SHOTS, 'eclinicalworks-node-get-appointments.png') });

			// the nightly export node: its own fields and the optional Export State credential beside them
			// (a credential shown by a rule on a field once made the editor hide Resource and Operation)
			await page.goto(`${ready.url}/workflow/ecwNightlyExport`);
			const exportNode = page.locator('[data-test-id="canvas-node"]').filter({ hasText: 'Bulk export since last run' }).first();
			await exportNode.waitFor();
			await page.keyboard.press('Escape').catch(() => {});
			await exportNode.dblclick();
			await page.getByTestId('ndv').waitFor();
			await page.waitForTimeout(1500);
			const exportText = await page.getByTestId('ndv').innerText();
			for (const label of ['Resource', 'Operation', 'Keep Export State In', 'Export State Credential']) assert.ok(exportText.includes(label), `export node: "${label}" rendered`);
			assert.ok(!/Error fetching options/i.test(exportText), 'export node: every list loads (Resource Types, Group)');
			await page.screenshot({ path: path.join(SHOTS, 'eclinicalworks-node-bulk-export.png') });
			info(`screenshots in ${path.relative(ROOT, SHOTS)}/`);
		} catch (e) {
			await saveFailureScreenshot(page);
			throw e;
		} finally {
			await browser.close();
		}
	});

	test("the nodes panel shows the node's own text, its Docs link works, and a new node gets the working credential", async (t) => {
		if (!CHROMIUM) {
			t.skip('Chromium not installed (apt-get install -y chromium); browser test skipped');
			return;
		}
		const { browser, page } = await openEditor();
		try {
			// a workflow no other browser test opens: n8n saves the node this test adds
			await page.goto(`${ready.url}/workflow/ecwNightlyExport`);
			await page.locator('[data-test-id="canvas-node"]').first().waitFor();
			await page.keyboard.press('Escape').catch(() => {});
			await page.waitForTimeout(1000);
			// "What happens next?": n8n merges the node and its trigger into one entry, with the trigger's description
			const panel = await openNodesPanel(page, 'Write NDJSON files', 'eClinicalWorks');
			// an app with actions is a "node-creator-action-item" in n8n 2.40, a "node-creator-node-item" otherwise
			const entry = panel.locator('[data-test-id="node-creator-action-item"], [data-test-id="node-creator-node-item"]').filter({ hasText: 'eClinicalWorks' }).first();
			const description = await entry.getByTestId('node-creator-item-description').innerText();
			info(`nodes panel: "${description}"`);
			assert.doesNotMatch(description, /^Starts the workflow/, 'not a trigger-only text for the actions');
			assert.match(description, /^Get patients, appointments/);
			await page.screenshot({ path: path.join(SHOTS, 'nodes-panel-eclinicalworks.png') });
			// its Node details page: the same text, then the actions and the triggers
			await entry.click();
			await panel.getByText('Get appointments').first().waitFor();
			const details = await panel.innerText();
			assert.match(details, /Get patients, appointments/);
			assert.match(details, /Triggers \(2\)/);
			// a new node from the action: n8n gives it the most recently updated credential of its type
			await panel.getByText('Get appointments').first().click();
			const ndv = page.getByTestId('ndv');
			await ndv.waitFor();
			await page.waitForTimeout(1500);
			const credentialInputs = await ndv.locator('input').evaluateAll((inputs) => inputs.map((i) => i.value).filter((v) => v.startsWith('eClinicalWorks sandbox')));
			info(`new node's credential: ${credentialInputs.join(', ')}`);
			assert.deepEqual(credentialInputs, ['eClinicalWorks sandbox (RS384 key)'], 'the working credential, not the practice code template');
			// the Docs link, with the parameters n8n appends: no #anchor for them to break
			const docs = await ndv.getByRole('link', { name: 'Docs' }).first().getAttribute('href');
			info(`Docs link: ${docs}`);
			const url = new URL(docs);
			assert.equal(url.hash, '', 'no anchor');
			assert.match(url.pathname, /\/blob\/main\/docs\/operations\.md$/);
			assert.equal(url.searchParams.get('utm_source'), 'n8n_app', 'n8n appended its parameters as a query');
			assert.ok(existsSync(path.join(ROOT, 'docs', 'operations.md')), 'the page is in the repository');
		} catch (e) {
			await saveFailureScreenshot(page);
			throw e;
		} finally {
			await browser.close();
		}
	});

	test('the intake example, run from the editor, delivers its email to the demo inbox', async (t) => {
		if (!CHROMIUM) {
			t.skip('Chromium not installed (apt-get install -y chromium); browser test skipped');
			return;
		}
		// the inbox the banner shows: on loopback, no relay
		assert.match(ready.inboxUrl, /^http:\/\/127\.0\.0\.1:\d+$/, 'inbox on 127.0.0.1');
		const config = await (await fetch(`${ready.inboxUrl}/api/config`)).json();
		assert.equal(config.isOutgoingEnabled, false, 'the demo mail server relays nowhere');
		const inbox = async () => (await fetch(`${ready.inboxUrl}/api/email`)).json();
		const before = (await inbox()).length;

		const { browser, page } = await openEditor();
		try {
			// as the example's note says: click the big Execute workflow button (the Webhook has a sample intake pinned)
			await page.goto(`${ready.url}/workflow/ecwPatientIntake`);
			await page.locator('[data-test-id="canvas-node"]').filter({ hasText: 'Webhook' }).first().waitFor();
			await page.keyboard.press('Escape').catch(() => {});
			await page.waitForTimeout(1000);
			await page.screenshot({ path: path.join(SHOTS, 'example-intake-workflow.png') });
			await page.getByTestId('execute-workflow-button').click();
			let email;
			for (const started = Date.now(); !email && Date.now() - started < 60000; ) {
				email = (await inbox()).slice(before).find((e) => e.subject?.startsWith('New patient intake:'));
				if (!email) await page.waitForTimeout(500);
			}
			assert.ok(email, 'the intake email arrived at the demo mail server');
			assert.match(email.subject, /^New patient intake: .+ \(MRN \d+\)$/);
			assert.deepEqual(email.to.map((a) => a.address), ['front-desk@clinic.example']);
			assert.match(email.text, /^Name: .+$/m);
			assert.match(email.text, /^Address: .+$/m);
			info(`intake email in the inbox: to ${email.to[0].address}, ${email.text.split('\n').length} lines`);

			// the user reads it in the inbox's web page
			await page.goto(ready.inboxUrl);
			await page.getByText(email.subject).first().click();
			await page.getByText('Please call the patient').first().waitFor();
			await page.waitForTimeout(500);
			await page.screenshot({ path: path.join(SHOTS, 'demo-inbox-intake-email.png') });
			info(`screenshot ${path.relative(ROOT, path.join(SHOTS, 'demo-inbox-intake-email.png'))}`);
		} catch (e) {
			await saveFailureScreenshot(page);
			throw e;
		} finally {
			await browser.close();
		}
	});

	test('Ctrl-C stops n8n, the sandbox and the mail server', async () => {
		demo.child.kill('SIGINT');
		const { code } = await Promise.race([demoExit, new Promise((_, rej) => setTimeout(() => rej(new Error('demo did not stop within 40 s')), 40000))]);
		assert.equal(code, 0, 'clean exit');
		await assert.rejects(fetch(`${ready.url}/healthz`), 'n8n is gone');
		await assert.rejects(fetch(`${ready.baseUrl}/metadata`), 'sandbox is gone');
		await assert.rejects(fetch(`${ready.inboxUrl}/api/email`), 'inbox is gone');
		await assert.rejects(smtpConnect(ready.smtpPort), 'SMTP server is gone');
	});

	test('npm start -- --check comes up again on the same user folder and exits 0', async () => {
		const t = Date.now();
		const again = startDemoProcess(['--check']);
		demo = again;
		demoExit = again.exited;
		await again.ready;
		const { code } = await again.exited;
		assert.equal(code, 0);
		info(`--check: ready and stopped in ${((Date.now() - t) / 1000).toFixed(1)}s`);
	});
});
