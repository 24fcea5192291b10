import type { BodyStream } from './types';

/**
 * Why this exists: n8n's filesystem binary storage writes a stream with `fs.writeFile(path, stream)`,
 * which reads it through its async iterator. On a byte stream every `read()` concatenates all
 * buffered socket chunks into a new Buffer of varying size, and writes each: many small writes
 * and copies, and in n8n's large heap every allocation costs garbage collection time. Collecting
 * the socket chunks into ~1 MiB blocks, handed over one per read by an object-mode Readable, makes
 * one copy and a few large writes.
 *
 * Package code may not import `node:stream`, so the Readable class is taken from the body itself
 * (an http.IncomingMessage or another Node.js Readable). When it cannot be found the body is
 * returned as is.
 */

interface ReadableLike extends BodyStream {
	on(event: string, listener: (...args: unknown[]) => void): this;
	pause(): this;
	resume(): this;
	push(chunk: unknown): boolean;
}

type ReadableClass = new (options: Record<string, unknown>) => ReadableLike;

function readableClassOf(stream: object): ReadableClass | undefined {
	let proto: object | null = Object.getPrototypeOf(stream) as object | null;
	for (let depth = 0; proto && depth < 8; depth++) {
		const ctor = (proto as { constructor?: unknown }).constructor as
			| (ReadableClass & { name?: string; from?: unknown })
			| undefined;
		if (ctor && ctor.name === 'Readable' && typeof ctor.from === 'function') return ctor;
		proto = Object.getPrototypeOf(proto) as object | null;
	}
	return undefined;
}

const BLOCK = 1024 * 1024;

/**
 * The same bytes in blocks of about 1 MiB (one copy; few, large file writes), one block per read,
 * with backpressure and errors passed through.
 */
export function chunkStream(body: BodyStream, blockSize = BLOCK): BodyStream {
	const source = body as unknown as ReadableLike;
	const Readable = readableClassOf(source);
	if (!Readable || typeof source.on !== 'function' || typeof source.pause !== 'function') return body;
	let ended = false;
	let pending: Buffer[] = [];
	let pendingBytes = 0;
	const flush = (): boolean => {
		if (pendingBytes === 0) return true;
		const block = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
		pending = [];
		pendingBytes = 0;
		return out.push(block);
	};
	const out = new Readable({
		objectMode: true,
		highWaterMark: 4,
		read() {
			source.resume();
		},
		destroy(error: Error | null, callback: (error: Error | null) => void) {
			if (!ended) source.destroy?.(error ?? undefined);
			callback(error);
		},
	});
	// the consumer may attach its listeners late (n8n creates the target folder first): the error
	// stays on the stream (`errored`) and its reader still sees it, but it must not go unhandled
	out.on('error', () => undefined);
	source.on('data', (chunk: unknown) => {
		const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
		pending.push(bytes);
		pendingBytes += bytes.length;
		if (pendingBytes >= blockSize && !flush()) source.pause();
	});
	source.on('end', () => {
		ended = true;
		flush();
		out.push(null);
	});
	source.on('error', (error: unknown) => {
		out.destroy?.(error instanceof Error ? error : new Error(String(error)));
	});
	source.on('close', () => {
		// closed without 'end' (socket reset): make sure the consumer sees an error
		if (!ended) out.destroy?.(Object.assign(new Error('The connection closed before the file ended'), { code: 'ECONNRESET' }));
	});
	return out;
}
