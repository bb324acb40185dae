// The simulator's ground truth per request, kept in a bounded ring buffer, for benchmarks and drills.
import type { FaultKind, SimProvider } from './behaviour.ts';

export interface GatewayAttempt {
  /** Index into the gateway's target list. */
  target: number;
  provider: string;
  model: string;
  /** HTTP status from the upstream, or null for a transport failure. */
  status: number | null;
  /** `connect`, `timeout`, `reset` … when the upstream failed before a status. */
  error: string | null;
  /** The upstream's own x-sim-request-id, when it answered. */
  upstreamRequestId: string | null;
  /** ms from the gateway's t0 to the upstream's response headers (or failure). */
  ms: number;
  /** Whether this attempt was a retry on the same target. */
  retry: boolean;
}

export interface SimRequestRecord {
  /** Monotonic per server, starting at 1. */
  seq: number;
  /** Also sent as `x-sim-request-id`. */
  id: string;
  server: string;
  provider: SimProvider;
  method: string;
  path: string;
  /** Injected-clock epoch ms when the body was received. */
  at: number;
  /** performance.now() when the request body was fully received: every offset below is relative to it. */
  t0: number;
  /** The client's `x-sim-tag` request header (at most 128 characters), for benches to match calls to records. */
  tag: string | null;
  model: string | null;
  servedModel: string | null;
  stream: boolean;
  /** Status written, or null when no headers were sent (hang, reset). */
  status: number | null;
  fault: FaultKind | null;
  refusal: boolean;
  outputTokens: number;
  /** Planned offsets (ms), before scheduling slop. */
  planned: { headersMs: number | null; firstTokenMs: number | null; lastByteMs: number | null; multiplier: number };
  /** Offsets (ms) at which the bytes were handed to the socket. */
  actual: { headersMs: number | null; firstTokenMs: number | null; lastByteMs: number | null };
  /** How the response ended. */
  end: 'pending' | 'complete' | 'destroyed' | 'reset' | 'client_closed' | 'server_closed';
  gateway?: { flavour: string; servedTarget: number | null; attempts: GatewayAttempt[] };
}

/** Fixed-capacity log; `since(seq)` returns the records still held with a larger seq, in order. */
export class TruthLog {
  private buf: (SimRequestRecord | undefined)[];
  private byId = new Map<string, SimRequestRecord>();
  private next = 0;
  private size = 0;
  readonly capacity: number;

  constructor(capacity = 20_000) {
    this.capacity = Math.max(1, capacity);
    this.buf = new Array(this.capacity);
  }

  push(r: SimRequestRecord): void {
    const evicted = this.buf[this.next];
    if (evicted) this.byId.delete(evicted.id);
    this.byId.set(r.id, r);
    this.buf[this.next] = r;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  since(seq = 0, limit = Infinity): SimRequestRecord[] {
    const out: SimRequestRecord[] = [];
    const start = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size && out.length < limit; i++) {
      const r = this.buf[(start + i) % this.capacity]!;
      if (r.seq > seq) out.push(r);
    }
    return out;
  }

  get(id: string): SimRequestRecord | undefined {
    return this.byId.get(id);
  }

  clear(): void {
    this.buf = new Array(this.capacity);
    this.byId.clear();
    this.next = 0;
    this.size = 0;
  }
}
