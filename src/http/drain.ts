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
