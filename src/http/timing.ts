// Per-request phase marks taken inside undici's own handler callbacks (via a `compose()` interceptor), so
// they record when undici saw each milestone rather than when our promise continuations happened to run.
import type { Dispatcher } from 'undici';
import type { PhaseMarks } from './types.ts';
import { claimFreshConnection } from './connector.ts';

type Controller = Dispatcher.DispatchController;
type Handler = Dispatcher.DispatchHandler;
type Headers = Record<string, string | string[] | undefined>;

/** PhaseMarks plus two diagnostics; structurally still a PhaseMarks. */
export interface VigilMarks extends PhaseMarks {
  /** DNS lookup duration on a fresh socket (part of connectMs); null when no lookup happened. */
  dnsMs: number | null;
  /**
   * Request start → request handed to a socket. Above connectMs + tlsMs it shows time spent queued for a
   * free connection in the pool, which the provider did not cause.
   */
  sentMs: number | null;
}

/**
 * Time the request spent on our side before reaching the wire that was not connection setup: waiting for a
 * free pooled socket, or for undici's one-turn idle-socket check before reuse (both grow when hundreds of
 * probes are dispatched in the same tick). Subtract it from ttfb/ttft/total to get provider-side figures.
 */
export function queuedMs(marks: VigilMarks): number {
  if (marks.sentMs === null) return 0;
  return Math.max(0, marks.sentMs - (marks.connectMs ?? 0) - (marks.tlsMs ?? 0));
}

export function emptyMarks(): VigilMarks {
  return { connectMs: null, tlsMs: null, ttfbMs: null, totalMs: null, reused: false, dnsMs: null, sentMs: null };
}

/** What the interceptor stamps into; carried on the dispatch options under `kTiming`. */
export interface TimingSink {
  readonly t0: number;
  readonly now: () => number;
  /** Arrival stamps for response milestones: `now` as of the start of the current batch of socket reads (arrival.ts). */
  readonly arrival: () => number;
  readonly tls: boolean;
  readonly marks: VigilMarks;
}

/** Dispatch-option key for the sink. A symbol so undici's own option validation never sees it. */
export const kTiming: unique symbol = Symbol('vigil.timing');

/** Wraps a handler, stamps each phase on first sight, then forwards every callback explicitly. */
class TimingHandler implements Handler {
  private readonly sink: TimingSink;
  private readonly inner: Handler;

  constructor(sink: TimingSink, inner: Handler) {
    this.sink = sink;
    this.inner = inner;
  }

  onRequestStart(controller: Controller, context: unknown): void {
    const s = this.sink;
    const t = s.now();
    const m = s.marks;
    m.sentMs = t - s.t0;
    const conn = claimFreshConnection();
    if (conn === null) {
      m.reused = true;
      m.connectMs = 0;
      m.tlsMs = s.tls ? 0 : null;
    } else {
      m.reused = false;
      m.dnsMs = conn.lookupAt > 0 ? conn.lookupAt - conn.startAt : null;
      m.connectMs = conn.connectAt - conn.startAt;
      m.tlsMs = conn.tls ? conn.secureAt - conn.connectAt : null;
    }
    this.inner.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(controller: Controller, statusCode: number, headers: Headers, socket: never): void {
    this.inner.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStarted(): void {
    this.inner.onResponseStarted?.();
  }

  onResponseStart(controller: Controller, statusCode: number, headers: Headers, statusMessage?: string): void {
    const s = this.sink;
    if (s.marks.ttfbMs === null) s.marks.ttfbMs = Math.max(0, s.arrival() - s.t0);
    this.inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: Headers): void {
    const s = this.sink;
    if (s.marks.totalMs === null) s.marks.totalMs = Math.max(0, s.arrival() - s.t0);
    this.inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Controller, error: Error): void {
    this.inner.onResponseError?.(controller, error);
  }
}

/**
 * `agent.compose(timingInterceptor)`: requests whose dispatch options carry `[kTiming]` get their handler
 * wrapped; others pass through untouched. (Not a `{...handler}` spread: that loses prototype methods and
 * makes undici reject the handler.)
 */
export function timingInterceptor(dispatch: Dispatcher.Dispatch): Dispatcher.Dispatch {
  return function timedDispatch(opts, handler) {
    const sink = (opts as { [kTiming]?: TimingSink })[kTiming];
    return dispatch(opts, sink === undefined ? handler : new TimingHandler(sink, handler));
  };
}
