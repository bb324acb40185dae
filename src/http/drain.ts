// Backpressure for a writer that may outlive its reader: wait until the stream drains or closes, whichever
// comes first (a reader that hangs up never drains), leaving no listener behind.
import type { Writable } from 'node:stream';

export function drainedOrClosed(stream: Writable): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/**
 * Write `chunk` and wait until the stream is done with its memory (the write's callback, called on success and
 * on error alike) or closes: then the caller may fill it again.
 */
export function writtenOrClosed(stream: Writable, chunk: Uint8Array): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off('close', done);
      resolve();
    };
    stream.on('close', done);
    stream.write(chunk, done);
  });
}
