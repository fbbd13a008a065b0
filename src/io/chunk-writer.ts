// Writing a large document to a stream piece by piece: pieces gathered into chunks, 'drain' awaited
// when the stream's buffer is full, so memory stays bounded whatever the size of the output.
import { WaReportError } from '../errors.js';

/** The output went away (client disconnected, pipe closed) before the report was complete. */
export class OutputClosedError extends WaReportError {}

function drained(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error): void => {
      out.off('drain', onDrain);
      out.off('error', onError);
      out.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = (): void => done();
    const onError = (error: Error): void => done(error);
    const onClose = (): void => done(new OutputClosedError('The output closed before the report was complete.'));
    out.on('drain', onDrain);
    out.on('error', onError);
    out.on('close', onClose);
  });
}

/**
 * Gathers small pieces into chunks of about 16 KB before writing (far fewer write calls for
 * 100,000 messages) and waits for 'drain' whenever the stream says its buffer is full, so at most
 * one chunk plus the stream's own buffer is ever held in memory. Never ends the stream: the caller
 * owns it (stdout, an HTTP response, a file).
 */
export class ChunkWriter {
  private pending: string[] = [];
  private pendingLength = 0;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly chunkSize = 32 * 1024,
  ) {}

  /** A promise only when a chunk went out (hot loops skip awaiting anything else). */
  write(text: string): Promise<void> | undefined {
    this.pending.push(text);
    this.pendingLength += text.length;
    return this.pendingLength >= this.chunkSize ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.pendingLength === 0) return;
    const chunk = this.pending.join('');
    this.pending = [];
    this.pendingLength = 0;
    await writeChunk(this.out, chunk);
  }
}

/** One write that waits for 'drain' when the stream's buffer is full. */
export async function writeChunk(out: NodeJS.WritableStream, chunk: string | Uint8Array): Promise<void> {
  const state = out as NodeJS.WritableStream & { destroyed?: boolean; writableEnded?: boolean };
  if (state.destroyed || state.writableEnded)
    throw new OutputClosedError('The output closed before the report was complete.');
  if (!out.write(chunk)) await drained(out);
}
