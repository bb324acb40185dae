// Faults applied to a real upstream answer on its way back: slow first byte, token-rate throttling, a stream cut
// mid-way, malformed JSON or SSE, an in-stream error. A FaultWriter sits between undici (which writes the
// upstream body into it, pausing when it returns false) and the client's ServerResponse, so backpressure holds.
// Delays here are real time (they shape what the gateway sees); only fault expiry runs on the injected clock.
import { Writable } from 'node:stream';
import type { ServerResponse } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultSpec } from './faults.ts';
import { halfEvent, isContentEvent, streamErrorEvent, unframed } from './wire.ts';
import type { UpstreamKind } from './wire.ts';
import { drainedOrClosed } from '../http/drain.ts';

/** The client side: headers sent lazily (a fault may change content-length), writes that respect drain. */
export class Out {
  readonly res: ServerResponse;
  private readonly status: number;
  readonly headers: Record<string, string | string[]>;
  /** Set once the fault ended the response itself (cleanly or by cutting it). */
  done = false;

  constructor(res: ServerResponse, status: number, headers: Record<string, string | string[]>) {
    this.res = res;
    this.status = status;
    this.headers = headers;
  }

  head(): void {
    if (!this.res.headersSent) {
      this.res.writeHead(this.status, this.headers);
      this.res.flushHeaders();
    }
  }

  async write(data: string | Buffer): Promise<void> {
    if (this.done || this.res.destroyed || data.length === 0) return;
    this.head();
    if (!this.res.write(data)) await drainedOrClosed(this.res);
  }

  /** Clean end. */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.head();
    this.res.end();
  }

  /** Abnormal end: send `last`, then drop the connection mid-body (no chunked terminator, or short of content-length). */
  cut(last: string | Buffer = ''): void {
    if (this.done) return;
    this.done = true;
    this.head();
    // Destroy only once `last` reached the socket, or the client would not even see the partial event.
    if (last.length > 0 && !this.res.destroyed) this.res.write(last, () => this.res.destroy());
    else this.res.destroy();
  }
}

/** One body fault. `start` runs when upstream headers arrive, `chunk` per upstream chunk in order, `end` once. */
export interface BodyFault {
  start?(out: Out): void;
  chunk(buf: Buffer, out: Out): Promise<void> | void;
  end(out: Out): Promise<void> | void;
}

/**
 * The Writable undici streams the upstream body into. When the fault finished the response early it destroys
 * itself, which makes undici abort the upstream request (no point paying for tokens nobody reads).
 */
export class FaultWriter extends Writable {
  private readonly out: Out;
  private readonly fault: BodyFault;

  constructor(out: Out, fault: BodyFault) {
    super({ highWaterMark: 16 * 1024 });
    this.out = out;
    this.fault = fault;
    fault.start?.(out);
    out.res.once('close', () => {
      if (!this.destroyed && !this.writableFinished) this.destroy(new Error('client closed the connection'));
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.out.done) {
      cb();
      this.stopUpstream();
      return;
    }
    Promise.resolve(this.fault.chunk(chunk, this.out)).then(() => {
      cb();
      if (this.out.done) this.stopUpstream();
    }, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    Promise.resolve(this.fault.end(this.out)).then(() => {
      this.out.end();
      cb();
    }, cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // An upstream failure (or client close) mid-body: never tear down a response the fault already ended.
    if (!this.out.done && !this.out.res.destroyed) this.out.res.destroy();
    cb(err);
  }

  private stopUpstream(): void {
    setImmediate(() => {
      if (!this.destroyed) this.destroy();
    });
  }
}

/** Splits an SSE byte stream into whole events, each with its own terminator, bytes unchanged. */
export class SseSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private buf = '';

  push(chunk: Buffer): string[] {
    this.buf += this.decoder.write(chunk);
    const events: string[] = [];
    const re = /\r\n\r\n|\n\n|\r\r/g;
    let start = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(this.buf)) !== null) {
      events.push(this.buf.slice(start, m.index + m[0].length));
      start = m.index + m[0].length;
    }
    this.buf = this.buf.slice(start);
    return events;
  }

  /** Whatever is left without a terminator (a stream that ended mid-event). */
  rest(): string {
    const r = this.buf + this.decoder.end();
    this.buf = '';
    return r;
  }
}

function separatorOf(ev: string): string {
  return ev.endsWith('\r\n\r\n') ? '\r\n\r\n' : ev.endsWith('\r\r') ? '\r\r' : '\n\n';
}

/** Milliseconds until the fault's TTL runs out (≤ 0: expired); every held byte is released by then. */
export type LeftMs = () => number;
const FOREVER: LeftMs = () => Infinity;

/** Headers on time, first body byte held until `delayMs` after them (or the fault's expiry, if sooner). */
export function slowFirstByte(delayMs: number, left: LeftMs = FOREVER): BodyFault {
  let releaseAt = 0;
  let waited = false;
  const wait = async () => {
    if (waited) return;
    waited = true;
    const left = releaseAt - performance.now();
    if (left > 0) await sleep(left);
  };
  return {
    start(out) {
      out.head();
      releaseAt = performance.now() + Math.max(0, Math.min(delayMs, left()));
    },
    async chunk(buf, out) {
      await wait();
      await out.write(buf);
    },
    async end() {
      await wait();
    },
  };
}

/**
 * Content events at most `perSec` per second; other events keep their order and pass as soon as they can. Once
 * the fault expires the rest of the stream passes at the upstream's pace.
 */
export function throttle(kind: UpstreamKind, perSec: number, left: LeftMs = FOREVER): BodyFault {
  const split = new SseSplitter();
  const gapMs = 1000 / perSec;
  let nextAt = -Infinity;
  const send = async (ev: string, out: Out) => {
    if (isContentEvent(kind, ev)) {
      const now = performance.now();
      const wait = Math.min(nextAt - now, left());
      if (wait > 0) await sleep(wait);
      nextAt = Math.max(now, nextAt) + gapMs;
    }
    await out.write(ev);
  };
  return {
    async chunk(buf, out) {
      for (const ev of split.push(buf)) await send(ev, out);
    },
    async end(out) {
      await out.write(split.rest());
    },
  };
}

export type EventAction = 'cut' | 'malformed_json' | 'malformed_sse' | 'error';

/**
 * Passes events until `afterContent` content events went through, then hits the next event (or, if the
 * stream ends first, its last event): `cut` sends half of it and drops the connection; `malformed_json` sends
 * it truncated mid-JSON (framing intact) and passes the rest; `malformed_sse` strips the SSE framing from there
 * on; `error` replaces it with the provider's in-stream error event and ends. One event is held back so the
 * last one can still be hit.
 */
export function eventFault(kind: UpstreamKind, action: EventAction, afterContent: number, left: LeftMs = FOREVER): BodyFault {
  const split = new SseSplitter();
  let held: string | null = null;
  let passedContent = 0;
  let hit = false;
  let stripping = false;

  const onHit = async (ev: string, out: Out) => {
    hit = true;
    const sep = separatorOf(ev);
    switch (action) {
      case 'cut':
        out.cut(halfEvent(ev));
        return;
      case 'malformed_json':
        await out.write(halfEvent(ev) + sep);
        return;
      case 'malformed_sse':
        stripping = true;
        await out.write(unframed(ev));
        return;
      case 'error':
        await out.write(streamErrorEvent(kind, sep));
        out.end();
        return;
    }
  };

  const release = async (ev: string, out: Out, isLast: boolean) => {
    if (hit) {
      await out.write(stripping ? unframed(ev) : ev);
      return;
    }
    // A long stream that reaches its hit only after the fault expired passes untouched.
    if ((passedContent >= afterContent || isLast) && left() > 0) {
      await onHit(ev, out);
      return;
    }
    if (isContentEvent(kind, ev)) passedContent++;
    await out.write(ev);
  };

  return {
    async chunk(buf, out) {
      for (const ev of split.push(buf)) {
        if (out.done) return;
        if (hit) {
          await release(ev, out, false);
          continue;
        }
        if (held !== null) await release(held, out, false);
        held = ev;
      }
    },
    async end(out) {
      if (held !== null && !out.done) await release(held, out, true);
      held = null;
      const rest = split.rest();
      if (!out.done) await out.write(stripping ? unframed(rest) : rest);
    },
  };
}

/**
 * Non-stream bodies (JSON, or Gemini's streamed JSON array): buffered, then `cut` sends half of it under the
 * original content-length and drops the connection; `malformed` sends the first half as a complete body.
 */
export function bodyFault(action: 'cut' | 'malformed'): BodyFault {
  const parts: Buffer[] = [];
  return {
    chunk(buf) {
      parts.push(buf);
    },
    async end(out) {
      const body = Buffer.concat(parts);
      const half = body.subarray(0, Math.floor(body.length / 2));
      if (action === 'cut') {
        out.headers['content-length'] = String(body.length);
        out.cut(half);
      } else {
        out.headers['content-length'] = String(half.length);
        await out.write(half);
      }
    },
  };
}

/**
 * The body fault for a fault spec and an upstream 2xx response, or null to pass the body through untouched.
 * `left`: time until the fault's TTL runs out; no delay or hit lasts past it.
 */
export function bodyFaultFor(kind: UpstreamKind, spec: FaultSpec, sse: boolean, left: LeftMs = FOREVER): BodyFault | null {
  switch (spec.kind) {
    case 'slow_ttft':
      return slowFirstByte(spec.delay_ms, left);
    case 'throttle':
      return sse ? throttle(kind, spec.tokens_per_sec, left) : null;
    case 'stream_cut':
      return sse ? eventFault(kind, 'cut', spec.after_events, left) : bodyFault('cut');
    case 'malformed':
      if (!sse) return bodyFault('malformed');
      return eventFault(kind, spec.format === 'sse' ? 'malformed_sse' : 'malformed_json', spec.after_events, left);
    case 'stream_error':
      return sse ? eventFault(kind, 'error', spec.after_events, left) : null;
    default:
      return null;
  }
}
