// The response body as an async iterator fed by undici's `onResponseData`: chunks are handed over as they
// arrive (no coalescing), each with its arrival time, and the socket is paused when the consumer falls behind.
// One object per response and two parallel arrays; no per-chunk closures. A waiting consumer is woken through
// deliver.ts, after the current batch of socket reads, so its work never delays another socket's stamp.
import { deliverSoon } from './deliver.ts';
import type { Deliverable } from './deliver.ts';

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

export class BodyStream implements AsyncIterableIterator<Uint8Array>, Deliverable {
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
  private scheduled = false;
  private waitResolve: ((r: IteratorResult<Uint8Array>) => void) | null = null;
  private waitReject: ((e: Error) => void) | null = null;

  constructor(source: BodySource) {
    this.source = source;
  }

  // ---- producer side (undici callbacks) ----

  push(chunk: Uint8Array, at: number): void {
    if (this.ended || this.error) return;
    this.wake();
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
    this.wake();
  }

  /** Fail the body; chunks already received are still delivered first. */
  fail(err: Error): void {
    if (this.ended || this.error) return;
    this.error = err;
    this.wake();
  }

  private wake(): void {
    if (this.waitResolve !== null && !this.scheduled) {
      this.scheduled = true;
      deliverSoon(this);
    }
  }

  /** deliver.ts: hand the waiting consumer what has arrived since it asked. */
  deliver(): void {
    this.scheduled = false;
    const resolve = this.waitResolve;
    const reject = this.waitReject!;
    if (resolve === null) return;
    this.waitResolve = this.waitReject = null;
    if (this.head < this.chunks.length) resolve({ done: false, value: this.take() });
    else if (this.error !== null) reject(this.error);
    else resolve(DONE);
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
    if (this.head < this.chunks.length) return Promise.resolve({ done: false, value: this.take() });
    if (this.error !== null) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.waitResolve = resolve;
      this.waitReject = reject;
    });
  }

  private take(): Uint8Array {
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
    return chunk;
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
