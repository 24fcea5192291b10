// The demo's mail server: MailDev (devDependency), an SMTP server with a web inbox, both bound to
// 127.0.0.1 only and with no outgoing relay, so mail sent to it never leaves this computer.
// Used by `npm start` (scripts/demo.mjs) and the end-to-end tests, which read mail back through
// the inbox's API (GET /api/email).
import { mkdirSync } from 'node:fs';
import { MailDev } from 'maildev';

export const MAIL_HOST = '127.0.0.1';

/** n8n's SMTP credential for a mail server on this computer: no login, no TLS (loopback only). */
export function smtpCredential(mail, { id = 'demoMailServer', name = 'Demo mail server (on this computer)' } = {}) {
	return {
		id,
		name,
		type: 'smtp',
		data: { user: '', password: '', host: mail.smtpHost, port: mail.smtpPort, secure: false, disableStartTls: true, hostName: '' },
	};
}

/**
 * Start the mail server. `mailDirectory` keeps the messages (MailDev would otherwise write them to
 * a folder shared by every run on the machine). Ports 0 = any free port.
 * Resolves { smtpHost, smtpPort, inboxUrl, emails(), waitForEmail(match), attachment(email, fileName), stop() }.
 */
export async function startMailServer({ mailDirectory, smtpPort = 0, webPort = 0 }) {
	if (!mailDirectory) throw new Error('startMailServer: mailDirectory is required');
	mkdirSync(mailDirectory, { recursive: true });
	// Only the options below: no outgoingHost / autoRelay, so MailDev has no relay to send through.
	const maildev = new MailDev({ smtp: smtpPort, ip: MAIL_HOST, web: webPort, webIp: MAIL_HOST, mailDirectory, silent: true });
	const servers = await maildev.start();
	const smtp = servers.smtp.getAddress();
	const web = servers.api.getAddress();
	const inboxUrl = `http://${MAIL_HOST}:${web.port}`;
	const config = await (await fetch(`${inboxUrl}/api/config`)).json();
	if (config.isOutgoingEnabled || smtp.host !== MAIL_HOST || web.host !== MAIL_HOST) {
		await maildev.stop();
		throw new Error('the demo mail server must listen on 127.0.0.1 only and relay nowhere');
	}

	/** Every message in the inbox (MailDev's JSON: subject, from, to, text, html, headers...). */
	const emails = async () => {
		const res = await fetch(`${inboxUrl}/api/email`);
		if (!res.ok) throw new Error(`inbox API: HTTP ${res.status}`);
		return res.json();
	};
	/** The first message `match` accepts, waiting up to timeoutMs for it to arrive. */
	const waitForEmail = async (match = () => true, { timeoutMs = 15000 } = {}) => {
		const started = Date.now();
		for (;;) {
			const found = (await emails()).find(match);
			if (found) return found;
			if (Date.now() - started > timeoutMs) return undefined;
			await new Promise((r) => setTimeout(r, 250));
		}
	};
	/** The bytes of a message's attachment, by the file name the sender gave it. */
	const attachment = async (email, fileName) => {
		const found = (email.attachments ?? []).find((a) => a.fileName === fileName || a.filename === fileName);
		if (!found) throw new Error(`no attachment ${fileName}`);
		const res = await fetch(`${inboxUrl}/api/email/${encodeURIComponent(email.id)}/attachment/${encodeURIComponent(found.generatedFileName)}`);
		if (!res.ok) throw new Error(`inbox API: attachment HTTP ${res.status}`);
		return Buffer.from(await res.arrayBuffer());
	};
	let stopping;
	const stop = () => (stopping ??= maildev.stop());
	return { smtpHost: MAIL_HOST, smtpPort: smtp.port, inboxUrl, emails, waitForEmail, attachment, stop };
}
