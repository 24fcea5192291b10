// The demo's mail server (scripts/mail.mjs): listens on 127.0.0.1 only, relays nowhere, and the
// inbox API gives back what was sent over SMTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startMailServer, smtpCredential } from '../../scripts/mail.mjs';

/** Send one message with a plain SMTP conversation (what n8n's Send Email node does, minus TLS). */
function sendMail(port, { from, to, subject, text }) {
	const commands = [`EHLO test.local`, `MAIL FROM:<${from}>`, `RCPT TO:<${to}>`, 'DATA', `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\n${text}\r\n.`, 'QUIT'];
	return new Promise((resolve, reject) => {
		const socket = net.connect(port, '127.0.0.1');
		const replies = [];
		let next = 0;
		socket.on('data', (chunk) => {
			replies.push(...chunk.toString().split('\r\n').filter(Boolean));
			const last = replies.at(-1);
			if (/^\d{3} /.test(last) && next < commands.length) socket.write(`${commands[next++]}\r\n`);
		});
		socket.on('error', reject);
		socket.on('close', () => resolve(replies));
	});
}

test('SMTP and inbox on 127.0.0.1, no relay; a sent message is read back; stop closes both', async () => {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'ecw-mail-test-'));
	const mail = await startMailServer({ mailDirectory: dir });
	try {
		assert.equal(mail.smtpHost, '127.0.0.1');
		assert.match(mail.inboxUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
		const config = await (await fetch(`${mail.inboxUrl}/api/config`)).json();
		assert.equal(config.isOutgoingEnabled, false, 'no outgoing relay');

		const replies = await sendMail(mail.smtpPort, { from: 'n8n@clinic.example', to: 'front-desk@clinic.example', subject: 'New patient intake: test', text: 'Name: Test Patient' });
		assert.ok(replies.some((r) => r.startsWith('250 Message queued')), `accepted (${replies.join(' / ')})`);
		const email = await mail.waitForEmail((e) => e.subject === 'New patient intake: test');
		assert.ok(email, 'the message is in the inbox');
		assert.deepEqual(email.to.map((t) => t.address), ['front-desk@clinic.example']);
		assert.match(email.text, /Name: Test Patient/);
		assert.ok(readdirSync(dir).some((f) => f.endsWith('.eml')), 'kept in the given folder');

		const relay = await fetch(`${mail.inboxUrl}/api/email/${email.id}/relay/someone@example.com`, { method: 'POST' });
		assert.notEqual(relay.status, 200, 'the inbox cannot relay a message out');

		const credential = smtpCredential(mail);
		assert.equal(credential.type, 'smtp');
		assert.deepEqual({ host: credential.data.host, port: credential.data.port }, { host: '127.0.0.1', port: mail.smtpPort });
	} finally {
		await mail.stop();
		rmSync(dir, { recursive: true, force: true });
	}
	await assert.rejects(fetch(`${mail.inboxUrl}/api/email`), 'inbox closed');
	await assert.rejects(sendMail(mail.smtpPort, { from: 'a@b.example', to: 'c@d.example', subject: 'x', text: 'x' }), 'SMTP closed');
});
