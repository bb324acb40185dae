// One simulated server: a loopback node:http server, its mutable behaviour, its truth log and the control API.
// The wire format is delegated to a ProviderHandler (openai.ts, anthropic.ts, gemini.ts, gateway.ts).
import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../clock.ts';
import { defaultBehaviour, patchBehaviour } from './behaviour.ts';
import type { ErrorBurst, ModelEntry, SimBehaviour, SimProvider } from './behaviour.ts';
import { handleControl } from './control.ts';
import { createRng, hashString, idChars } from './rng.ts';
import type { Rng } from './rng.ts';
import { ResponseWriter, play } from './timeline.ts';
import type { Reply } from './timeline.ts';
import { TruthLog } from './truth.ts';
import { batchClock } from '../http/arrival.ts';
import type { SimRequestRecord } from './truth.ts';

export interface RequestContext {
  server: SimServer;
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  record: SimRequestRecord;
  writer: ResponseWriter;
  /** Injected-clock epoch ms at t0. */
  now: number;
}

export interface ControlResult {
  status: number;
  body: unknown;
}

/** The wire protocol of one server. `handle` returns a Reply to play, or takes the writer over itself. */
export interface ProviderHandler {
  handle(ctx: RequestContext): Reply | Promise<Reply | void>;
  /** Extra `/_sim/...` routes (the gateway's config). Return null when the route is not one of them. */
  control?(server: SimServer, method: string, path: string, body: unknown): ControlResult | null;
  info?(): Record<string, unknown>;
  close?(): Promise<void>;
}

export interface SimServerOptions {
  name: string;
  provider: SimProvider;
  handler: ProviderHandler;
  clock: Clock;
  seed: number;
  host?: string;
  port?: number;
  /** Truth log capacity (records). */
  logCapacity?: number;
  behaviour?: SimBehaviour;
}

const MAX_BODY = 16 * 1024 * 1024;
// The truth log counts every "actual" offset from a request's t0, which should be when its last bytes reached this
// process, not when the simulator got round to it: with 500 requests landing at once, the handler of the 500th
// would otherwise run after 499 others and every client would look slow by the simulator's own backlog. So t0 is
// the start of the batch of socket reads that brought the bytes (src/http/arrival.ts, as the probe client
// stamps answers), and handlers run later, from a queue worked a slice at a time, so the loop goes back to poll
// (and stamp the next arrivals) at least every SLICE_MS. A handler schedules its reply from t0, so one that ran
// late only writes late when the backlog outlasts the planned delay, and the log records when it really wrote.
const arrival = batchClock(() => performance.now());
const SLICE_MS = 1;
let backlog: (() => void)[] = [];
let next = 0;
let sliceScheduled = false;

function handleSoon(fn: () => void): void {
  backlog.push(fn);
  if (!sliceScheduled) {
    sliceScheduled = true;
    setImmediate(runSlice);
  }
}

function runSlice(): void {
  sliceScheduled = false;
  const until = performance.now() + SLICE_MS;
  while (next < backlog.length) {
    try {
      backlog[next++]();
    } catch (err) {
      // dispatch() answers its own handler's errors; anything else must not stall the queue behind it.
      process.stderr.write(`[sim] ${(err as Error)?.stack ?? err}\n`);
    }
    if (performance.now() > until) break;
  }
  if (next < backlog.length) {
    sliceScheduled = true;
    setImmediate(runSlice);
  } else {
    backlog = [];
    next = 0;
  }
}

export class SimServer {
  readonly name: string;
  readonly provider: SimProvider;
  readonly clock: Clock;
  readonly seed: number;
  readonly handler: ProviderHandler;
  /** Mutable behaviour: change fields directly in code, or through the control API. */
  behaviour: SimBehaviour;
  /** Seeded RNG for jitter, ratios and refusals. */
  readonly rng: Rng;
  private readonly http: http.Server;
  private readonly log: TruthLog;
  private readonly live = new Set<ResponseWriter>();
  private seq = 0;
  private idSeq = 0;
  private _url = '';

  constructor(opts: SimServerOptions) {
    this.name = opts.name;
    this.provider = opts.provider;
    this.clock = opts.clock;
    this.seed = hashString(opts.name, opts.seed >>> 0);
    this.rng = createRng(this.seed);
    this.handler = opts.handler;
    this.behaviour = opts.behaviour ?? defaultBehaviour(opts.provider);
    this.log = new TruthLog(opts.logCapacity);
    this.http = http.createServer({ keepAliveTimeout: 65_000, noDelay: true, requestTimeout: 0 }, (req, res) =>
      this.onRequest(req, res),
    );
    // Hung requests must not be cut by Node's own timers: the client decides when to give up.
    this.http.headersTimeout = 60_000;
    this.http.timeout = 0;
  }

  /** Base URL, e.g. `http://127.0.0.1:7100` (no trailing slash). */
  get url(): string {
    return this._url;
  }

  async listen(host = '127.0.0.1', port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen({ host, port, backlog: 4096 }, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const addr = this.http.address() as AddressInfo;
    const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    this._url = `http://${h}:${addr.port}`;
  }

  async close(): Promise<void> {
    for (const w of this.live) w.cancel();
    this.live.clear();
    await this.handler.close?.();
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  /** Truth records with seq > `since`, oldest first (live objects: in-flight ones still change). */
  requests(since = 0, limit?: number): SimRequestRecord[] {
    return this.log.since(since, limit);
  }

  /** The truth record for an `x-sim-request-id`. */
  request(id: string): SimRequestRecord | undefined {
    return this.log.get(id);
  }

  clearRequests(): void {
    this.log.clear();
  }

  /** Highest seq issued so far (use as `since` to see only later requests). */
  get lastSeq(): number {
    return this.seq;
  }

  get logCapacity(): number {
    return this.log.capacity;
  }

  // Convenience mutators; each one is also reachable through the control API.

  reset(): void {
    this.behaviour = defaultBehaviour(this.provider);
  }

  /** Merge-patch the behaviour (validated; throws BehaviourError and changes nothing when invalid). */
  patch(patch: unknown): SimBehaviour {
    this.behaviour = patchBehaviour(this.behaviour, patch);
    return this.behaviour;
  }

  addBurst(burst: ErrorBurst): void {
    this.patch({ errors: [...this.behaviour.errors, burst] });
  }

  clearBursts(): void {
    this.behaviour.errors = [];
  }

  setOutage(down: boolean): void {
    this.behaviour.outage = down;
  }

  /** Point `alias` at a new snapshot (and optionally a new system_fingerprint). */
  swapModel(alias: string, snapshot: string, fingerprint?: string | null): void {
    this.behaviour.aliases = { ...this.behaviour.aliases, [alias]: snapshot };
    if (fingerprint !== undefined) this.behaviour.fingerprint = fingerprint;
  }

  removeModel(id: string): boolean {
    const before = this.behaviour.models.length;
    this.behaviour.models = this.behaviour.models.filter((m) => m.id !== id);
    return this.behaviour.models.length !== before;
  }

  addModel(entry: ModelEntry): void {
    this.patch({ models: [...this.behaviour.models.filter((m) => m.id !== entry.id), entry] });
  }

  /** A deterministic provider-looking id: `len` chars from this server's seed and a counter. */
  nextId(len: number, alphabet: 'base62' | 'hex' = 'base62'): string {
    return idChars(this.seed, ++this.idSeq, len, alphabet);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let t0 = -1;
    req.on('data', (c: Buffer) => {
      // When the bytes arrived, not when this callback got its turn (see `arrival` above).
      t0 = arrival();
      size += c.length;
      if (size > MAX_BODY) {
        res.writeHead(413, { 'content-type': 'application/json' }).end('{"error":"body too large"}');
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return;
      if (t0 < 0) t0 = arrival(); // no body
      const body = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
      const rawUrl = req.url ?? '/';
      const q = rawUrl.indexOf('?');
      const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
      const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
      const method = req.method ?? 'GET';
      if (path.startsWith('/_sim/') || path === '/_sim') {
        this.onControl(method, path, query, body, res);
        return;
      }
      handleSoon(() => this.dispatch(req, res, method, path, query, body, t0));
    });
  }

  private dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    query: URLSearchParams,
    body: string,
    t0: number,
  ): void {
    const seq = ++this.seq;
    const record: SimRequestRecord = {
      seq,
      id: `${this.name}-${seq}`,
      server: this.name,
      provider: this.provider,
      method,
      path,
      at: this.clock.now(),
      t0,
      tag: simTag(req.headers['x-sim-tag']),
      model: null,
      servedModel: null,
      stream: false,
      status: null,
      fault: null,
      refusal: false,
      outputTokens: 0,
      planned: { headersMs: null, firstTokenMs: null, lastByteMs: null, multiplier: 1 },
      actual: { headersMs: null, firstTokenMs: null, lastByteMs: null },
      end: 'pending',
    };
    this.log.push(record);
    const writer = new ResponseWriter(res, record);
    // A client that left while this request waited in the queue has nothing left to close.
    if (!writer.finished) {
      this.live.add(writer);
      res.on('close', () => this.live.delete(writer));
    }
    const ctx: RequestContext = { server: this, method, path, query, headers: req.headers, body, record, writer, now: record.at };
    const fail = (err: unknown) => {
      process.stderr.write(`[sim ${this.name}] ${method} ${path}: ${(err as Error)?.stack ?? err}\n`);
      if (!writer.headersSent) {
        writer.head(500, { 'content-type': 'application/json' });
        writer.end(JSON.stringify({ error: { message: `simulator error: ${(err as Error)?.message}` } }));
      } else {
        writer.kill('destroy');
      }
    };
    try {
      const out = this.handler.handle(ctx);
      if (out instanceof Promise) {
        out.then((reply) => reply && play(writer, reply), fail);
      } else {
        play(writer, out);
      }
    } catch (err) {
      fail(err);
    }
  }

  private onControl(method: string, path: string, query: URLSearchParams, body: string, res: ServerResponse): void {
    let parsed: unknown = undefined;
    if (body.trim() !== '') {
      try {
        parsed = JSON.parse(body);
      } catch {
        sendJson(res, 400, { error: 'body is not valid JSON' });
        return;
      }
    }
    let result: ControlResult;
    try {
      result = handleControl(this, method, path, query, parsed);
    } catch (err) {
      result = { status: 400, body: { error: (err as Error).message } };
    }
    sendJson(res, result.status, result.body);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/** A bench's correlation tag: one short header value, or null. */
function simTag(v: string | string[] | undefined): string | null {
  return typeof v === 'string' && v.length > 0 && v.length <= 128 ? v : null;
}
