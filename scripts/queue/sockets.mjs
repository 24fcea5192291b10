// Which local process owns a TCP connection to a loopback server: the sandbox sees each request's
// client port, and Linux's /proc says which process holds that socket. Used to count token
// requests per n8n worker (the sandbox cannot tell workers apart otherwise). Linux only.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** `0100007F:1F90` (127.0.0.1:8080 in /proc/net/tcp's little-endian hex) for a port on 127.0.0.1. */
function loopbackHex(port) {
	return `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The socket inode of the client end 127.0.0.1:clientPort -> 127.0.0.1:serverPort, or null. */
function clientSocketInode(clientPort, serverPort) {
	let table;
	try {
		table = readFileSync('/proc/net/tcp', 'utf8');
	} catch {
		return null;
	}
	const local = loopbackHex(clientPort);
	const remote = loopbackHex(serverPort);
	for (const line of table.split('\n').slice(1)) {
		const cols = line.trim().split(/\s+/);
		if (cols[1] === local && cols[2] === remote) return cols[9];
	}
	return null;
}

/** The pid among `pids` that holds the client socket, or null (connection already gone, or another process). */
export function pidOfClient(clientPort, serverPort, pids) {
	const inode = clientSocketInode(clientPort, serverPort);
	if (!inode || inode === '0') return null;
	const target = `socket:[${inode}]`;
	for (const pid of pids) {
		let fds;
		try {
			fds = readdirSync(`/proc/${pid}/fd`);
		} catch {
			continue;
		}
		for (const fd of fds) {
			try {
				if (readlinkSync(`/proc/${pid}/fd/${fd}`) === target) return pid;
			} catch {}
		}
	}
	return null;
}
