// The response body as an async iterator fed by undici's `onResponseData`: chunks are handed over as they
// arrive (no coalescing), each with its arrival time, and the socket is paused when the consumer falls behind.
// One object per response and two parallel arrays; no per-chunk closures.

/** Hooks into the request that owns this body. */
export interface BodySource {
  pause(): void;
  resume(): void;
  /** The consumer gave up early (`break` out of `for await`): abort the request and drop the socket. */
  cancel(): void;
}

const HIGH_WATER_BYTES = 1 << 20;
const LOW_WATER_BYTES = 1 << 18;
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined }) as IteratorReturnResult<undefined>;

export class BodyStream implements AsyncIterableIterator<Uint8Array> {
  /** Arrival time (ms since request start) of the chunk most recently returned by `next()`; -1 before any. */
  lastChunkAt = -1;

  private readonly source: BodySource;
  private chunks: Uint8Array[] = [];
  private times: number[] = [];
  private head = 0;
  private bytes = 0;
  private paused = false;
  private ended = false;
  private error: Error | null = null;
  private iterating = false;
  private waitResolve: ((r: IteratorResult<Uint8Array>) => void) | null = null;
  private waitReject: ((e: Error) => void) | null = null;

  constructor(source: BodySource) {
    this.source = source;
  }

  // ---- producer side (undici callbacks) ----

  push(chunk: Uint8Array, at: number): void {
    if (this.ended || this.error) return;
    if (this.waitResolve !== null) {
      const resolve = this.waitResolve;
      this.waitResolve = this.waitReject = null;
      this.lastChunkAt = at;
      resolve({ done: false, value: chunk });
      return;
    }
    this.chunks.push(chunk);
    this.times.push(at);
    this.bytes += chunk.byteLength;
    if (!this.paused && this.bytes > HIGH_WATER_BYTES) {
      this.paused = true;
      this.source.pause();
    }
  }

  end(): void {
    if (this.ended || this.error) return;
    this.ended = true;
    if (this.waitResolve !== null) {
      const resolve = this.waitResolve;
      this.waitResolve = this.waitReject = null;
      resolve(DONE);
    }
  }

  /** Fail the body; chunks already received are still delivered first. */
  fail(err: Error): void {
    if (this.ended || this.error) return;
    this.error = err;
    if (this.waitReject !== null) {
      const reject = this.waitReject;
      this.waitResolve = this.waitReject = null;
      reject(err);
    }
  }

  get finished(): boolean {
    return this.ended || this.error !== null;
  }

  // ---- consumer side ----

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    if (this.iterating) throw new Error('response body can be consumed only once');
    this.iterating = true;
    return this;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.head < this.chunks.length) {
      const chunk = this.chunks[this.head];
      this.lastChunkAt = this.times[this.head];
      this.head++;
      this.bytes -= chunk.byteLength;
      if (this.head === this.chunks.length) {
        // Reset instead of shifting so a long stream never pays O(n) per chunk.
        this.chunks.length = 0;
        this.times.length = 0;
        this.head = 0;
      }
      if (this.paused && this.bytes < LOW_WATER_BYTES) {
        this.paused = false;
        this.source.resume();
      }
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.error !== null) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.waitResolve = resolve;
      this.waitReject = reject;
    });
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    if (!this.finished) {
      this.error = new Error('response body was abandoned by the consumer');
      this.source.cancel();
    }
    this.chunks.length = 0;
    this.times.length = 0;
    this.head = 0;
    return Promise.resolve(DONE);
  }
}
