// The fault-injection proxy. A gateway's upstream for a provider points here (`http://vigil:PORT/proxy/<name>`);
// `/proxy/<name>/<rest>` is forwarded to the configured base URL + `<rest>` with method, headers (minus hop-by-hop;
// Host from the upstream) and body untouched, and the answer streams back untouched.
//
// Two paths in one process (which is not the daemon's: `vigil proxy`, src/cli/proxy.ts):
// - forwarder.ts, the pass-through: a raw TCP server that reads only each request's head and streams the rest
//   over kept-alive upstream connections. Every request that is not drill traffic under a live fault goes this
//   way, at close to a TCP pipe's cost.
// - the fault engine below (node:http on an internal loopback port, undici to the upstream): requests that carry
//   the drill's scope header with a value a live fault is scoped to, and the control API. When a fault matches,
//   it answers in the provider's own wire format instead (faults.ts, wire.ts, body-faults.ts).
//
// Safety: faults live in this process's memory only (a restart clears them), each is scoped to the drill header
// and has a TTL checked on every request against the injected clock (and swept every second), whatever happens
// to the process that injected it; DELETE /proxy/_faults clears them all; the control API needs a token.
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import { systemClock } from '../clock.ts';
import type { Clock } from '../clock.ts';
import { FaultWriter, Out, bodyFaultFor } from './body-faults.ts';
import { CONTROL_PATH, HEALTH_PATH, MAX_CONTROL_BODY, STATUS_PATH, handleControl } from './control.ts';
import { SCOPE_HEADER, FaultTable, viewOf } from './faults.ts';
import { startForwarder } from './forwarder.ts';
import type { Destination } from './forwarder.ts';
import type { Fault, FaultInput, FaultView } from './faults.ts';
import { answerReply, describeRequest, errorReply } from './wire.ts';
import type { UpstreamKind, WireReply } from './wire.ts';

export interface UpstreamConfig {
  kind: UpstreamKind;
  /** e.g. https://api.anthropic.com (a path prefix is kept: https://host/openai → /proxy/x/v1/... → /openai/v1/...). */
  baseUrl: string;
}

export type ChaosEvent =
  | { type: 'injected'; fault: FaultView }
  | { type: 'cleared'; ids: string[] }
  | { type: 'expired' | 'exhausted'; fault: FaultView }
  | { type: 'applied'; faultId: string; kind: string; upstream: string; path: string; model: string | null };

export interface ChaosProxyOptions {
  /** Bind address (default 127.0.0.1). A gateway on another host needs a reachable address: set a control token then. */
  host?: string;
  /** 0 or unset: an ephemeral port. */
  port?: number;
  upstreams: Record<string, UpstreamConfig>;
  /** Fault TTLs run on this clock (default: system clock). Delays and throttling are real time. */
  clock?: Clock;
  /** Seed for the ratio draws (default 1). */
  seed?: number;
  /** TTL for faults that give none (default 60 s) and the longest allowed (default 10 min). */
  defaultTtlMs?: number;
  maxTtlMs?: number;
  /**
   * Bearer token(s) the control API accepts (several during a rotation). Without one the control API refuses
   * every call; the typed API (inject/clear/list) still works in-process. Never logged.
   */
  controlToken?: string | readonly string[];
  /** Backstop for upstream headers and body idle time (default 10 min; the gateway's own timeouts normally act first). */
  upstreamTimeoutMs?: number;
  /** Max sockets per upstream origin for the fault engine (default: unlimited; the gateway bounds concurrency). */
  connections?: number;
  /** Live faults at most (default 32): more is a 429. */
  maxFaults?: number;
  /** Client connections at most (default 4096); more are refused at accept. */
  maxConnections?: number;
  /** A request head must arrive within this (default 10 s), its body within requestTimeoutMs (default 60 s). */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** An idle client connection is closed after this (default 65 s, longer than gateways' own pools keep theirs). */
  keepAliveTimeoutMs?: number;
  /** Fault lifecycle and applications, for logs, metrics and drill journals. */
  onEvent?: (e: ChaosEvent) => void;
  /** A request the proxy could not handle (a bug): logged by the caller; the request gets a 500 or is cut. */
  onError?: (err: unknown) => void;
}

/** The proxy logic without a server of its own, to mount on another node:http server. */
export interface ChaosProxyHandler {
  /** Handles `/proxy/...` requests; returns false (and does nothing) for any other path. Never throws. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Could a live fault apply to a request on `upstream` whose scope header is `value`? (pass-through routing) */
  scoped(upstream: string, value: string): boolean;
  /** Validate (zod) and add a fault; returns its id. Throws FaultValidationError. */
  inject(fault: FaultInput): string;
  /** Clear one fault, or all without an id; returns how many were removed. */
  clear(id?: string): number;
  list(): FaultView[];
  close(): Promise<void>;
}

export interface ChaosProxy extends Omit<ChaosProxyHandler, 'handle' | 'scoped'> {
  /** Base URL of the proxy server, e.g. http://127.0.0.1:9465. */
  url: string;
  /** Open client connections. */
  connections(): number;
  /** `${url}/proxy/<name>`: what the gateway's api_base / custom_host for that upstream becomes. */
  upstreamUrl(name: string): string;
}

interface Upstream {
  name: string;
  kind: UpstreamKind;
  origin: string;
  basePath: string;
}

// RFC 9110 §7.6.1 hop-by-hop headers, plus `expect` (Node answers 100-continue itself) and `host`.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const MAX_BODY = 32 * 1024 * 1024;
const PREFIX = '/proxy/';

function connectionTokens(v: string | string[] | undefined): Set<string> | null {
  if (v === undefined) return null;
  const s = (Array.isArray(v) ? v.join(',') : v).toLowerCase();
  const names = s.split(',').map((x) => x.trim()).filter((x) => x && x !== 'close' && x !== 'keep-alive');
  return names.length > 0 ? new Set(names) : null;
}

function requestHeaders(req: IncomingMessage): string[] {
  const raw = req.rawHeaders;
  const extra = connectionTokens(req.headers.connection);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(name) || name === 'host' || name === 'expect' || extra?.has(name)) continue;
    out.push(raw[i], raw[i + 1]);
  }
  return out;
}

function responseHeaders(h: Record<string, string | string[] | undefined>, faultId: string | null): Record<string, string | string[]> {
  const extra = connectionTokens(h.connection);
  const out: Record<string, string | string[]> = {};
  for (const k in h) {
    const v = h[k];
    if (v === undefined || HOP_BY_HOP.has(k) || extra?.has(k)) continue;
    out[k] = v;
  }
  if (faultId !== null) out['x-vigil-fault'] = faultId;
  return out;
}

function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { ...extra, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store' });
  res.end(text);
}

function sendReply(res: ServerResponse, reply: WireReply, faultId: string): void {
  if (res.destroyed) return;
  const headers: Record<string, string> = { ...reply.headers, 'x-vigil-fault': faultId };
  if (reply.chunks.length === 1) {
    headers['content-length'] = String(Buffer.byteLength(reply.chunks[0]));
    res.writeHead(reply.status, headers);
    res.end(reply.chunks[0]);
    return;
  }
  res.writeHead(reply.status, headers);
  for (const c of reply.chunks) res.write(c);
  res.end();
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

function tokensOf(t: ChaosProxyOptions['controlToken']): string[] {
  if (t === undefined) return [];
  return (typeof t === 'string' ? [t] : [...t]).filter((x) => x.length > 0);
}

export function createChaosProxyHandler(opts: ChaosProxyOptions, extraStatus: () => Record<string, unknown> = () => ({})): ChaosProxyHandler {
  const clock = opts.clock ?? systemClock;
  const tokens = tokensOf(opts.controlToken);
  const startedAt = Date.now();
  const emit = (e: ChaosEvent) => {
    try {
      opts.onEvent?.(e);
    } catch {
      // An observer's bug must not break the proxy.
    }
  };
  const table = new FaultTable({
    now: () => clock.now(),
    seed: opts.seed,
    defaultTtlMs: opts.defaultTtlMs,
    maxTtlMs: opts.maxTtlMs,
    maxFaults: opts.maxFaults,
    onRemoved: (f, why) => emit({ type: why, fault: viewOf(f) }),
  });
  const upstreams = new Map<string, Upstream>();
  for (const [name, u] of Object.entries(opts.upstreams)) {
    if (name.startsWith('_')) throw new Error(`upstream name "${name}": names starting with "_" are reserved`);
    const url = new URL(u.baseUrl);
    upstreams.set(name, { name, kind: u.kind, origin: url.origin, basePath: url.pathname.replace(/\/+$/, '') });
  }
  const timeout = opts.upstreamTimeoutMs ?? 600_000;
  const agent = new Agent({
    connections: opts.connections ?? null,
    pipelining: 1,
    keepAliveTimeout: 4_000,
    headersTimeout: timeout,
    bodyTimeout: timeout,
    allowH2: false,
  });
  const closing = new AbortController();
  const sweeper = setInterval(() => table.sweep(), 1_000);
  sweeper.unref();

  const api = {
    inject(fault: FaultInput): string {
      const f = table.add(fault);
      emit({ type: 'injected', fault: viewOf(f) });
      return f.id;
    },
    clear(id?: string): number {
      const ids = id === undefined ? table.list().map((f) => f.id) : [id];
      const n = table.clear(id);
      if (n > 0) emit({ type: 'cleared', ids: id === undefined ? ids : [id] });
      return n;
    },
    list(): FaultView[] {
      return table.list().map(viewOf);
    },
    status(): Record<string, unknown> {
      return { pid: process.pid, uptime_s: Math.round((Date.now() - startedAt) / 1000), faults: table.list().length, ...extraStatus() };
    },
  };

  /**
   * Wait `ms` of real time, cut short when the fault's TTL runs out (no fault outlives it): 'done', 'expired'
   * (the caller passes the request through unfaulted), or false when the client left or the proxy is closing.
   */
  async function pause(ms: number, res: ServerResponse, fault: Fault): Promise<'done' | 'expired' | false> {
    const left = fault.expiresAt - clock.now();
    const expired = left < ms;
    ms = Math.max(0, Math.min(ms, left));
    if (ms > 0) {
      // A long delay must not outlive the client that waits for it.
      const left = new AbortController();
      const onClose = () => left.abort();
      res.once('close', onClose);
      try {
        await sleep(ms, undefined, { signal: AbortSignal.any([closing.signal, left.signal]) });
      } catch {
        return false;
      } finally {
        res.off('close', onClose);
      }
    }
    if (res.destroyed || closing.signal.aborted) return false;
    return expired ? 'expired' : 'done';
  }

  function forward(req: IncomingMessage, res: ServerResponse, up: Upstream, pathAndQuery: string, body: Buffer, fault: Fault | null): void {
    const ac = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    let out: Out | null = null;
    const faultId = fault?.id ?? null;
    const failed = (err: Error) => {
      if (!res.headersSent && !res.destroyed) {
        // Upstream unreachable or reset before headers: a 502 in the provider's format says so plainly.
        const reply = errorReply(up.kind, 502, { message: `vigil chaos proxy: upstream ${up.name} failed: ${(err as NodeJS.ErrnoException).code ?? err.message}` });
        reply.headers['x-vigil-proxy-error'] = 'upstream';
        sendReply(res, reply, faultId ?? 'none');
        return;
      }
      // Mid-body failure: pass the cut on, but never tear down a response a fault already ended on purpose.
      if ((out as Out | null)?.done) return;
      if (!res.writableEnded && !res.destroyed) res.destroy();
    };
    // undici validates method and headers synchronously: a request it refuses is the upstream's 502, not a crash.
    try {
    agent.stream(
      {
        origin: up.origin,
        path: up.basePath + pathAndQuery,
        method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: requestHeaders(req),
        body: body.length > 0 ? body : null,
        signal: ac.signal,
      },
      ({ statusCode, headers }) => {
        const h = responseHeaders(headers as Record<string, string | string[] | undefined>, faultId);
        const ctype = String(headers['content-type'] ?? '');
        const sse = ctype.includes('text/event-stream');
        if (fault && statusCode >= 200 && statusCode < 300) {
          const expiresAt = fault.expiresAt;
          const bf = bodyFaultFor(up.kind, fault.spec, sse, () => expiresAt - clock.now());
          if (bf) {
            if (sse) delete h['content-length'];
            out = new Out(res, statusCode, h);
            return new FaultWriter(out, bf);
          }
        }
        res.writeHead(statusCode, h);
        // A stream's headers go out as soon as the upstream's did (Gemini flushes them before the first chunk).
        if (sse) res.flushHeaders();
        return res;
      },
      (err) => {
        if (!err || ac.signal.aborted) return;
        failed(err);
      },
    );
    } catch (err) {
      failed(err as Error);
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse, up: Upstream, rest: string, search: string, body: Buffer): Promise<void> {
    let fault: Fault | null = null;
    let model: string | null = null;
    let shape = null as ReturnType<typeof describeRequest> | null;
    if (table.size > 0) {
      shape = describeRequest(up.kind, rest, search.slice(1), body);
      model = shape.model;
      fault = table.pick({ upstream: up.name, path: rest, headers: req.headers, model: shape.model, stream: shape.stream });
    }
    if (!fault || !shape) {
      forward(req, res, up, rest + search, body, null);
      return;
    }
    const spec = fault.spec;
    emit({ type: 'applied', faultId: fault.id, kind: spec.kind, upstream: up.name, path: rest, model });
    // A delay cut short by the fault's expiry ends in plain pass-through: nothing the fault does lasts past its TTL.
    let waited: 'done' | 'expired' | false;
    switch (spec.kind) {
      case 'http_status':
        if ((waited = await pause(spec.delay_ms, res, fault)) === 'done') {
          sendReply(res, errorReply(up.kind, spec.status, { retryAfterSec: spec.retry_after_sec, message: spec.message, model }), fault.id);
        } else if (waited === 'expired') forward(req, res, up, rest + search, body, null);
        return;
      case 'content_filter':
      case 'refusal':
      case 'empty':
        if ((waited = await pause(spec.delay_ms, res, fault)) === 'done') sendReply(res, answerReply(up.kind, spec.kind, shape, clock.now()), fault.id);
        else if (waited === 'expired') forward(req, res, up, rest + search, body, null);
        return;
      case 'reset':
        // RST before any response byte, as a crashed upstream or middlebox would.
        if ((waited = await pause(spec.delay_ms, res, fault)) === 'done') req.socket.resetAndDestroy();
        else if (waited === 'expired') forward(req, res, up, rest + search, body, null);
        return;
      case 'latency':
        if ((waited = await pause(spec.delay_ms, res, fault))) forward(req, res, up, rest + search, body, waited === 'done' ? fault : null);
        return;
      default:
        forward(req, res, up, rest + search, body, fault);
    }
  }

  function readBody(req: IncomingMessage, res: ServerResponse, limit: number, done: (body: Buffer) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('error', () => res.destroy());
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        if (!res.headersSent) {
          res.shouldKeepAlive = false;
          sendJson(res, 413, { error: { message: 'vigil chaos proxy: request body too large' } });
        }
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size > limit) return;
      try {
        done(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
      } catch (err) {
        fail(res, err);
      }
    });
  }

  function fail(res: ServerResponse, err: unknown): void {
    emitError(err);
    if (!res.headersSent && !res.destroyed) sendJson(res, 500, { error: { message: 'vigil chaos proxy: internal error' } });
    else res.destroy();
  }

  function emitError(err: unknown): void {
    try {
      opts.onError?.(err);
    } catch {
      // An observer's bug must not break the proxy.
    }
  }

  function handleUnsafe(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '/';
    if (!url.startsWith(PREFIX)) return false;
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const search = q < 0 ? '' : url.slice(q);
    const method = req.method ?? 'GET';
    if (pathname === HEALTH_PATH) {
      req.resume();
      sendJson(res, 200, { status: 'ok' });
      return true;
    }
    if (pathname === CONTROL_PATH || pathname.startsWith(CONTROL_PATH + '/') || pathname === STATUS_PATH) {
      readBody(req, res, MAX_CONTROL_BODY, (body) => {
        const result = handleControl(api, method, pathname, req.headers, body.toString('utf8'), tokens);
        sendJson(res, result.status, result.body, result.headers);
      });
      return true;
    }
    const slash = pathname.indexOf('/', PREFIX.length);
    const raw = slash < 0 ? pathname.slice(PREFIX.length) : pathname.slice(PREFIX.length, slash);
    const name = safeDecode(raw);
    if (name === null) {
      req.resume();
      sendJson(res, 400, { error: { message: 'vigil chaos proxy: bad percent-encoding in the upstream name' } });
      return true;
    }
    const rest = slash < 0 ? '/' : pathname.slice(slash);
    const up = upstreams.get(name);
    if (!up) {
      req.resume();
      sendJson(res, 404, { error: { message: `vigil chaos proxy: no upstream ${JSON.stringify(name.slice(0, 100))} (configured: ${[...upstreams.keys()].join(', ') || 'none'})` } });
      return true;
    }
    readBody(req, res, MAX_BODY, (body) => {
      route(req, res, up, rest, search, body).catch((err: unknown) => fail(res, err));
    });
    return true;
  }

  function handle(req: IncomingMessage, res: ServerResponse): boolean {
    try {
      return handleUnsafe(req, res);
    } catch (err) {
      fail(res, err);
      return true;
    }
  }

  return {
    handle,
    scoped: (upstream, value) => table.scoped(upstream, value),
    ...api,
    async close() {
      clearInterval(sweeper);
      closing.abort();
      table.clear();
      await agent.close().catch(() => agent.destroy());
    },
  };
}

function destinationOf(key: string, baseUrl: string): Destination {
  const u = new URL(baseUrl);
  const tlsOn = u.protocol === 'https:';
  return {
    key,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : tlsOn ? 443 : 80,
    tls: tlsOn,
    hostHeader: u.host,
    basePath: u.pathname.replace(/\/+$/, ''),
    engine: false,
  };
}

/** A raw HTTP/1.1 response (the pass-through path writes bytes, not objects). */
function rawResponse(reply: WireReply, extra: Record<string, string>): Buffer {
  const body = reply.chunks.join('');
  const headers: Record<string, string> = { ...reply.headers, ...extra, 'content-length': String(Buffer.byteLength(body)), connection: 'close' };
  let head = `HTTP/1.1 ${reply.status} ${http.STATUS_CODES[reply.status] ?? 'Error'}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), Buffer.from(body, 'utf8')]);
}

/**
 * Start the proxy: the pass-through listener on `host:port` (loopback by default) and the fault engine on an
 * internal loopback port.
 */
export async function startChaosProxy(opts: ChaosProxyOptions): Promise<ChaosProxy> {
  const headersTimeoutMs = opts.headersTimeoutMs ?? 10_000;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 60_000;
  const keepAliveTimeoutMs = opts.keepAliveTimeoutMs ?? 65_000;
  const maxConnections = opts.maxConnections ?? 4096;
  let front: Awaited<ReturnType<typeof startForwarder>> | null = null;
  const handler = createChaosProxyHandler(opts, () => ({ connections: front?.connections() ?? 0 }));
  const engine = http.createServer(
    {
      // The pass-through reuses its connections to the engine for up to 4 s: the engine keeps them longer.
      keepAliveTimeout: 65_000,
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      noDelay: true,
    },
    (req, res) => {
      if (!handler.handle(req, res)) {
        req.resume();
        sendJson(res, 404, { error: { message: 'vigil chaos proxy: use /proxy/<upstream>/... or /proxy/_faults' } });
      }
    },
  );
  engine.maxConnections = maxConnections;
  // Long streams and slow upstreams are the point here: no idle timer on the engine's responses.
  engine.timeout = 0;
  await new Promise<void>((resolve, reject) => {
    engine.once('error', reject);
    engine.listen({ host: '127.0.0.1', port: 0 }, () => {
      engine.off('error', reject);
      resolve();
    });
  });
  const enginePort = (engine.address() as AddressInfo).port;
  const kinds = new Map(Object.entries(opts.upstreams).map(([name, u]) => [name, u.kind]));
  try {
    front = await startForwarder({
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      upstreams: new Map(Object.entries(opts.upstreams).map(([name, u]) => [name, destinationOf(`up:${name}`, u.baseUrl)])),
      engine: { key: 'engine', host: '127.0.0.1', port: enginePort, tls: false, hostHeader: `127.0.0.1:${enginePort}`, basePath: '', engine: true },
      scopeHeader: SCOPE_HEADER,
      wantsFault: (name, value) => handler.scoped(name, value),
      errorResponse(name, status, message) {
        const kind = name === null ? 'openai' : (kinds.get(name) ?? 'openai');
        return rawResponse(errorReply(kind, status, { message: `vigil chaos proxy: ${message}` }), { 'x-vigil-proxy-error': 'upstream', 'x-vigil-fault': 'none' });
      },
      maxConnections,
      headersTimeoutMs,
      requestTimeoutMs,
      keepAliveTimeoutMs,
      upstreamTimeoutMs: opts.upstreamTimeoutMs ?? 600_000,
      upstreamIdleMs: 4_000,
      onError: (_what, err) => opts.onError?.(err),
    });
  } catch (err) {
    await handler.close();
    engine.close();
    throw err;
  }
  const fw = front;
  const url = fw.url;
  return {
    url,
    upstreamUrl: (name) => `${url}/proxy/${encodeURIComponent(name)}`,
    connections: () => fw.connections(),
    inject: handler.inject,
    clear: handler.clear,
    list: handler.list,
    async close() {
      await fw.close();
      await handler.close();
      await new Promise<void>((resolve) => {
        engine.close(() => resolve());
        engine.closeAllConnections();
      });
    },
  };
}
