// Writes a planned reply to the socket on time and records when each byte really went out.
// One timer per planned instant (chunks due together are coalesced into one write); no busy waiting.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { SimRequestRecord } from './truth.ts';

export interface Chunk {
  /** Offset in ms from t0 (request body received). */
  at: number;
  data: string;
  /** Carries model content (the first such chunk is the time to first token). */
  content?: boolean;
}

/** A fully planned response. Provider modules build these; `play()` performs them. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  /** When headers go out (with any chunk due then). Infinity: never (hang, reset before headers). */
  headersAt: number;
  chunks: Chunk[];
  /** `end`: clean end; `destroy`: close the socket after the last chunk (FIN mid-body); `reset`: RST;
   * `hang`: send nothing more and keep the connection open until the client gives up. */
  end: 'end' | 'destroy' | 'reset' | 'hang';
  /** When to destroy/reset if there are no chunks (defaults to headersAt or 0). */
  endAt?: number;
}

/** Thin wrapper over ServerResponse that stamps the truth record as bytes are handed to the socket. */
export class ResponseWriter {
  readonly res: ServerResponse;
  readonly record: SimRequestRecord;
  private done = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(res: ServerResponse, record: SimRequestRecord) {
    this.res = res;
    this.record = record;
    // Handlers run from a queue (server.ts): the client may have left before this one's turn.
    if (res.destroyed || res.socket?.destroyed) {
      this.done = true;
      record.end = 'client_closed';
    }
    res.on('close', () => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      if (!this.done) {
        this.done = true;
        if (record.end === 'pending') record.end = 'client_closed';
      }
    });
  }

  get finished(): boolean {
    return this.done;
  }

  private offset(): number {
    return performance.now() - this.record.t0;
  }

  get headersSent(): boolean {
    return this.res.headersSent || this.record.actual.headersMs !== null;
  }

  head(status: number, headers: Record<string, string>): void {
    if (this.done || this.headersSent) return;
    this.res.writeHead(status, { ...headers, 'x-sim-request-id': this.record.id });
    this.record.status = status;
    this.record.actual.headersMs = this.offset();
  }

  write(data: string, content = false): void {
    if (this.done || data.length === 0) return;
    if (content && this.record.actual.firstTokenMs === null) this.record.actual.firstTokenMs = this.offset();
    this.res.write(data);
  }

  end(data?: string, content = false): void {
    if (this.done) return;
    if (data) this.write(data, content);
    this.done = true;
    this.record.actual.lastByteMs = this.offset();
    this.record.end = 'complete';
    this.res.end();
  }

  /** Drop the connection: after flushing what was written (`destroy`, a FIN) or at once with a RST (`reset`). */
  kill(how: 'destroy' | 'reset'): void {
    if (this.done) return;
    this.done = true;
    const socket = this.res.socket as Socket | null;
    this.record.end = how === 'reset' ? 'reset' : 'destroyed';
    if (this.record.actual.headersMs !== null) this.record.actual.lastByteMs = this.offset();
    if (!socket) return;
    if (how === 'reset') {
      socket.resetAndDestroy();
    } else if (this.res.headersSent) {
      // Let queued bytes reach the kernel first, so the client really sees a body cut at this point.
      socket.write('', () => socket.destroy());
    } else {
      socket.destroy();
    }
  }

  /** Send the headers now even though no body byte is due yet (streams whose first event comes later). */
  flushHeaders(): void {
    if (!this.done) this.res.flushHeaders();
  }

  /** Keep the socket open with nothing written (the hang fault). */
  hang(): void {
    // Nothing to do: the 'close' listener marks the record once the client or the server gives up.
  }

  /** Run `fn` at offset `at` (ms from t0); early by at most 1 ms (timer granularity), never a busy loop. */
  at(at: number, fn: () => void): void {
    const remaining = at - this.offset();
    if (remaining <= 1) {
      fn();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.done) this.at(at, fn);
    }, remaining);
  }

  /** Server shutdown: cancel pending writes. */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.done && this.record.end === 'pending') this.record.end = 'server_closed';
    this.done = true;
  }
}

/** Fill in the planned offsets of `reply` on the record. */
export function recordPlan(record: SimRequestRecord, reply: Reply): void {
  const p = record.planned;
  p.headersMs = Number.isFinite(reply.headersAt) ? reply.headersAt : null;
  const first = reply.chunks.find((c) => c.content);
  p.firstTokenMs = first ? Math.max(first.at, reply.headersAt) : null;
  const last = reply.chunks.length > 0 ? reply.chunks[reply.chunks.length - 1].at : null;
  p.lastByteMs = reply.end === 'hang' || reply.end === 'reset' ? null : last !== null ? Math.max(last, reply.headersAt) : p.headersMs;
}

/** Perform a planned reply: headers, chunks and ending at their offsets. */
export function play(w: ResponseWriter, reply: Reply): void {
  recordPlan(w.record, reply);
  const chunks = reply.chunks;
  let i = 0;
  const finish = () => {
    if (reply.end === 'end') w.end();
    else if (reply.end === 'destroy' || reply.end === 'reset') w.kill(reply.end);
    else w.hang();
  };
  const step = () => {
    if (w.finished) return;
    const headNow = !w.headersSent;
    if (headNow) w.head(reply.status, reply.headers);
    // Coalesce everything due now into one write: one syscall, one timestamp.
    const now = performance.now() - w.record.t0;
    let data = '';
    let content = false;
    while (i < chunks.length && chunks[i].at <= now + 1) {
      data += chunks[i].data;
      content ||= chunks[i].content === true;
      i++;
    }
    if (data) w.write(data, content);
    else if (headNow) w.flushHeaders();
    if (i < chunks.length) w.at(chunks[i].at, step);
    else finish();
  };
  if (Number.isFinite(reply.headersAt)) {
    w.at(Math.max(reply.headersAt, 0), step);
  } else if (reply.end === 'hang') {
    w.hang();
  } else {
    w.at(reply.endAt ?? 0, finish);
  }
}
