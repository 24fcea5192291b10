import type { BodyStream } from './types';

/**
 * Sees every chunk a stream hands to whoever reads it (pipe, 'data' listeners, async iteration: all of
 * them go through its 'data' event), without reading it itself. A 'data' listener would start the
 * stream flowing before its reader is attached, and pausing it again stops readers that only listen
 * for 'data' (n8n's in-memory and database binary modes), so the observer wraps the stream's own
 * `emit` instead. Returns the function that ends the observation.
 */
export function observeChunks(stream: BodyStream, onChunk: (chunk: Buffer) => void): () => void {
	const original = stream.emit;
	let active = true;
	stream.emit = function (this: BodyStream, event: string | symbol, ...args: unknown[]): boolean {
		if (active && event === 'data') {
			const chunk = args[0];
			onChunk(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer));
		}
		return original.call(this, event, ...args);
	} as BodyStream['emit'];
	return () => {
		active = false;
	};
}
