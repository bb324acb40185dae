// The shared HTTP client: one undici Agent, phase marks from undici's own callbacks (timing.ts, connector.ts),
// per-request connect / first-byte / total timeouts, and a streaming body (body.ts).
import { Agent } from './undici.ts';
import type { AgentOptions } from './undici.ts';
import type { Dispatcher } from 'undici';
import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../clock.ts';
import type { TimeoutPhase } from '../domain.ts';
import { HttpError } from './types.ts';
import type { HttpClient, HttpRequest, HttpResponse, PhaseMarks } from './types.ts';
import { createTimedConnector, dispatchWith } from './connector.ts';
import type { ConnectWatcher } from './connector.ts';
import { emptyMarks, kTiming, timingInterceptor } from './timing.ts';
import type { TimingSink, VigilMarks } from './timing.ts';
import { BodyStream } from './body.ts';
import { batchClock } from './arrival.ts';
import { deliverSoon } from './deliver.ts';
import type { Deliverable } from './deliver.ts';
import type { BodySource } from './body.ts';

export type { VigilMarks } from './timing.ts';
export { queuedMs } from './timing.ts';

export interface HttpClientOptions {
  /**
   * Max sockets per origin. Default 512: with pipelining 1 every in-flight probe needs its own socket, and a
   * request that queues for one would count pool wait as provider latency. 512 covers the 500-concurrent
   * benchmark; idle sockets close after `keepAliveTimeoutMs`, so the cost is only paid under real load.
   */
  connections?: number;
  /**
   * Idle keep-alive before we close a socket. Default 4000 (undici's default, below Node's 5 s server
   * default) so we close first and never write a probe onto a socket the server is about to drop,
   * which would surface as a spurious `reset`. A server's `Keep-Alive: timeout=` hint is honoured up to
   * `keepAliveMaxTimeoutMs`.
   */
  keepAliveTimeoutMs?: number;
  keepAliveMaxTimeoutMs?: number;
  /** Monotonic time source for marks and `elapsed()`. Timers always run on real time. */
  clock?: Pick<Clock, 'monotonic'>;
  /** TLS options for the connector, e.g. `{ ca }` for a private CA. */
  tls?: ConnectionOptions;
  /**
   * How response milestones are stamped: 'batch' (default) gives every read of one batch of socket reads the
   * batch's first reading (arrival.ts); 'per-read' stamps each when its callback runs, behind the parsing of
   * every socket read before it (kept for bench:probe's side-by-side comparison).
   */
  arrivalStamps?: 'batch' | 'per-read';
  /** Agent-wide backstop connect timeout; per-request `timeouts.connectMs` normally fires first. Default 30 s. */
  connectBackstopMs?: number;
}

/** The response object we hand out: an HttpResponse that also knows when its last chunk arrived. */
export interface TimedHttpResponse extends HttpResponse {
  readonly marks: VigilMarks;
  /** Arrival time (ms since request start) of the chunk most recently yielded by `body`; -1 before any. */
  readonly lastChunkAt: number;
}

export function isTimedResponse(res: HttpResponse): res is TimedHttpResponse {
  return typeof (res as Partial<TimedHttpResponse>).lastChunkAt === 'number';
}

export function createHttpClient(opts: HttpClientOptions = {}): HttpClient {
  const clock = opts.clock ?? { monotonic: () => performance.now() };
  const now = () => clock.monotonic();
  const agent = new Agent({
    connections: opts.connections ?? 512,
    pipelining: 1,
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? 4_000,
    keepAliveMaxTimeout: opts.keepAliveMaxTimeoutMs ?? 600_000,
    // Ours are per request (Exchange); undici's would fire with the wrong phase name.
    headersTimeout: 0,
    bodyTimeout: 0,
    allowH2: false,
    connect: createTimedConnector({
      now,
      timeoutMs: opts.connectBackstopMs ?? 30_000,
      tls: opts.tls as Record<string, unknown> | undefined,
    }) as unknown as AgentOptions['connect'],
  });
  const dispatcher = agent.compose(timingInterceptor);
  const arrival = opts.arrivalStamps === 'per-read' ? now : batchClock(now);

  return {
    request(req: HttpRequest): Promise<HttpResponse> {
      return startExchange(dispatcher, now, arrival, req);
    },
    close(): Promise<void> {
      return agent.close();
    },
  };
}

function startExchange(dispatcher: Dispatcher, now: () => number, arrival: () => number, req: HttpRequest): Promise<HttpResponse> {
  const t0 = now();
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return Promise.reject(new HttpError('connect', `invalid URL: ${req.url}`, emptyMarks()));
  }
  const ex = new Exchange(now, arrival, t0, url.protocol === 'https:', req);
  if (req.signal?.aborted) {
    return Promise.reject(new HttpError('aborted', 'aborted by caller before start', ex.marks));
  }
  const promise = new Promise<HttpResponse>((resolve, reject) => {
    ex.resolve = resolve;
    ex.reject = reject;
  });
  ex.arm();
  req.signal?.addEventListener('abort', ex);
  const dispatchOpts = {
    origin: url.origin,
    path: url.pathname + url.search,
    method: req.method,
    headers: req.headers,
    body: req.body,
    [kTiming]: ex,
  };
  dispatchWith(ex, () => dispatcher.dispatch(dispatchOpts as Dispatcher.DispatchOptions, ex));
  return promise;
}

// Exchange states.
const CONNECTING = 0; // dispatched, no socket yet (connecting, or queued for a free one)
const WAITING = 1; // written to a socket, waiting for response headers
const STREAMING = 2; // headers received, body flowing
const DONE = 3;

function onTimer(ex: Exchange): void {
  ex.timedOut();
}

/**
 * One request in flight. It is at once the undici handler, the timing sink, the body's source, the abort
 * listener (`handleEvent`), the connect watcher and the deferred resolver (deliver.ts), so a request costs
 * one object rather than a set of closures.
 */
class Exchange implements Dispatcher.DispatchHandler, TimingSink, BodySource, ConnectWatcher, Deliverable {
  readonly now: () => number;
  readonly arrival: () => number;
  readonly t0: number;
  readonly tls: boolean;
  readonly marks: VigilMarks = emptyMarks();
  connectingSocket: Socket | null = null;
  resolve: (r: HttpResponse) => void = noop;
  reject: (e: Error) => void = noop;

  private readonly req: HttpRequest;
  private state = CONNECTING;
  private controller: Dispatcher.DispatchController | null = null;
  private failure: HttpError | null = null;
  private timer: NodeJS.Timeout | null = null;
  private armed: TimeoutPhase | null = null;
  private body: BodyStream | null = null;
  private response: Response | null = null;

  constructor(now: () => number, arrival: () => number, t0: number, tls: boolean, req: HttpRequest) {
    this.now = now;
    this.arrival = arrival;
    this.t0 = t0;
    this.tls = tls;
    this.req = req;
  }

  // ---- timeouts ----

  /** (Re)arm the single timer for the earliest deadline still relevant in the current state. */
  arm(): void {
    const t = this.req.timeouts;
    let phase: TimeoutPhase | null = null;
    let deadline = Infinity;
    if (this.state === CONNECTING && t.connectMs > 0) {
      phase = 'connect';
      deadline = t.connectMs;
    }
    if (this.state <= WAITING && t.firstByteMs > 0 && t.firstByteMs < deadline) {
      phase = 'first_byte';
      deadline = t.firstByteMs;
    }
    if (t.totalMs > 0 && t.totalMs < deadline) {
      phase = 'total';
      deadline = t.totalMs;
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armed = phase;
    if (phase === null) return;
    const delay = Math.max(0, deadline - (this.now() - this.t0));
    this.timer = setTimeout(onTimer, delay, this);
  }

  timedOut(): void {
    this.timer = null;
    const phase = this.armed!;
    const t = this.req.timeouts;
    const limit = phase === 'connect' ? t.connectMs : phase === 'first_byte' ? t.firstByteMs : t.totalMs;
    this.fail(new HttpError('timeout', `${phase} timeout after ${limit} ms`, this.marks, phase));
  }

  /** Caller's AbortSignal fired. */
  handleEvent(): void {
    const err = new HttpError('aborted', 'aborted by caller', this.marks);
    err.cause = this.req.signal?.reason;
    this.fail(err);
  }

  /** Our own decision to stop (timeout, caller abort, consumer gave up): settle now and tear the request down. */
  private fail(err: HttpError): void {
    if (this.state === DONE) return;
    this.failure = err;
    if (this.controller !== null) {
      // undici reports back through onResponseError synchronously and destroys the socket.
      this.controller.abort(err);
    } else if (this.connectingSocket !== null && !this.connectingSocket.destroyed) {
      // Still connecting: the socket being opened for us is dropped; undici errors the request through
      // the connector callback. If we were only queued, onRequestStart aborts us once a socket frees up.
      this.connectingSocket.destroy(err);
    }
    this.settle(err);
  }

  private settle(err: HttpError): void {
    if (this.state === DONE) return;
    if (this.state === STREAMING) this.body!.fail(err);
    else this.reject(err);
    this.finish();
  }

  private finish(): void {
    this.state = DONE;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.connectingSocket = null;
    this.req.signal?.removeEventListener('abort', this);
  }

  // ---- undici handler (wrapped by TimingHandler, which has already stamped the marks) ----

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.failure !== null) {
      controller.abort(this.failure);
      return;
    }
    this.state = WAITING;
    this.connectingSocket = null;
    if (this.armed === 'connect') this.arm();
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (this.state !== WAITING) return;
    this.state = STREAMING;
    if (this.armed === 'first_byte') this.arm();
    this.body = new BodyStream(this);
    this.response = new Response(this, statusCode, flattenHeaders(headers), this.body);
    deliverSoon(this);
  }

  /** deliver.ts: resolve `request()` after the current batch of socket reads. */
  deliver(): void {
    this.resolve(this.response!);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.state === STREAMING) this.body!.push(chunk, Math.max(0, this.arrival() - this.t0));
  }

  onResponseEnd(): void {
    if (this.state !== STREAMING) return;
    this.body!.end();
    this.finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    if (this.state === DONE) return;
    this.settle(this.failure ?? this.classify(error));
  }

  onRequestUpgrade(controller: Dispatcher.DispatchController): void {
    controller.abort(new Error('protocol upgrade not supported'));
  }

  private classify(error: Error): HttpError {
    const code = (error as { code?: string }).code;
    const what = code ? `${code}: ${error.message}` : error.message;
    let err: HttpError;
    if (this.state === CONNECTING) {
      err =
        code === 'UND_ERR_CONNECT_TIMEOUT'
          ? new HttpError('timeout', `connect timeout (agent backstop): ${what}`, this.marks, 'connect')
          : new HttpError('connect', what, this.marks);
    } else {
      err = new HttpError('reset', what, this.marks);
    }
    err.cause = error;
    return err;
  }

  // ---- BodySource ----

  pause(): void {
    this.controller?.pause();
  }

  resume(): void {
    this.controller?.resume();
  }

  cancel(): void {
    this.fail(new HttpError('aborted', 'response body abandoned by the consumer', this.marks));
  }
}

class Response implements TimedHttpResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: BodyStream;
  readonly marks: VigilMarks;
  private readonly ex: Exchange;

  constructor(ex: Exchange, status: number, headers: Record<string, string>, body: BodyStream) {
    this.ex = ex;
    this.status = status;
    this.headers = headers;
    this.body = body;
    this.marks = ex.marks;
  }

  // Arrow property so a detached `const { elapsed } = res` still works.
  readonly elapsed = (): number => this.ex.now() - this.ex.t0;

  get lastChunkAt(): number {
    return this.body.lastChunkAt;
  }
}

function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in h) {
    const v = h[k];
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function noop(): void {}

/** Read the whole body as UTF-8 text. */
export async function readBodyText(res: HttpResponse): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of res.body) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

const WARM_UP_TIMEOUTS = { connectMs: 5_000, firstByteMs: 10_000, totalMs: 15_000 };

/**
 * The first request of a process costs 10–16 ms extra (lazy module loading, llhttp WASM compile, JIT), which
 * would land in the first probe's TTFB. Send a throwaway request first. With `url`, one GET to that URL
 * (status ignored, transport errors thrown) also opens a keep-alive socket there; without, a loopback
 * server is started for the duration so no provider sees the traffic. Returns the last request's marks.
 */
export async function warmUp(client: HttpClient, url?: string): Promise<PhaseMarks> {
  if (url !== undefined) return drain(client, url, 'GET');
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: {"warm":1}\n\n');
    res.end('data: [DONE]\n\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/warm`;
    let marks: PhaseMarks = emptyMarks();
    // A few rounds so both the fresh-socket and the reused-socket paths run, and POST as well as GET.
    for (let i = 0; i < 3; i++) marks = await drain(client, base, i === 1 ? 'POST' : 'GET');
    return marks;
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

async function drain(client: HttpClient, url: string, method: 'GET' | 'POST'): Promise<PhaseMarks> {
  const res = await client.request({
    url,
    method,
    headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
    body: method === 'POST' ? '{}' : undefined,
    timeouts: WARM_UP_TIMEOUTS,
  });
  await readBodyText(res);
  return res.marks;
}
