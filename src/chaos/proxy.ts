// The fault-injection proxy. A gateway's upstream for a provider points here (`http://vigil:PORT/proxy/<name>`);
// `/proxy/<name>/<rest>` is forwarded to the configured base URL + `<rest>` with method, headers (minus hop-by-hop;
// Host from the upstream) and body untouched, and the answer streams back unbuffered through undici's stream()
// (backpressure: undici pauses the upstream socket while the client is slow). When a live fault matches, the
// proxy answers in the provider's own wire format instead (faults.ts, wire.ts, body-faults.ts).
//
// Safety: faults live in this process's memory only (a restart clears them), each has a TTL checked on every
// request against the injected clock (and swept every second), and DELETE /proxy/_faults clears them all.
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import { systemClock } from '../clock.ts';
import type { Clock } from '../clock.ts';
import { FaultWriter, Out, bodyFaultFor } from './body-faults.ts';
import { CONTROL_PATH, handleControl } from './control.ts';
import { FaultTable, viewOf } from './faults.ts';
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
  /** When set, /proxy/_faults requires `Authorization: Bearer <token>`. Never logged. */
  controlToken?: string;
  /** Backstop for upstream headers and body idle time (default 10 min; the gateway's own timeouts normally act first). */
  upstreamTimeoutMs?: number;
  /** Max sockets per upstream origin (default: unlimited; the gateway bounds concurrency). */
  connections?: number;
  /** Fault lifecycle and applications, for logs, metrics and drill journals. */
  onEvent?: (e: ChaosEvent) => void;
}

/** The proxy logic without a server of its own, to mount on another node:http server. */
export interface ChaosProxyHandler {
  /** Handles `/proxy/...` requests; returns false (and does nothing) for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Validate (zod) and add a fault; returns its id. Throws FaultValidationError. */
  inject(fault: FaultInput): string;
  /** Clear one fault, or all without an id; returns how many were removed. */
  clear(id?: string): number;
  list(): FaultView[];
  close(): Promise<void>;
}

export interface ChaosProxy extends Omit<ChaosProxyHandler, 'handle'> {
  /** Base URL of the proxy server, e.g. http://127.0.0.1:9465. */
  url: string;
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

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store' });
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

export function createChaosProxyHandler(opts: ChaosProxyOptions): ChaosProxyHandler {
  const clock = opts.clock ?? systemClock;
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
  };

  /** Wait `ms` of real time; false when the client left or the proxy is closing. */
  async function pause(ms: number, res: ServerResponse): Promise<boolean> {
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
    return !res.destroyed && !closing.signal.aborted;
  }

  function forward(req: IncomingMessage, res: ServerResponse, up: Upstream, pathAndQuery: string, body: Buffer, fault: Fault | null): void {
    const ac = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    let out: Out | null = null;
    const faultId = fault?.id ?? null;
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
          const bf = bodyFaultFor(up.kind, fault.spec, sse);
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
      },
    );
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
    switch (spec.kind) {
      case 'http_status':
        if (await pause(spec.delay_ms, res)) {
          sendReply(res, errorReply(up.kind, spec.status, { retryAfterSec: spec.retry_after_sec, message: spec.message, model }), fault.id);
        }
        return;
      case 'content_filter':
      case 'refusal':
      case 'empty':
        if (await pause(spec.delay_ms, res)) sendReply(res, answerReply(up.kind, spec.kind, shape, clock.now()), fault.id);
        return;
      case 'reset':
        // RST before any response byte, as a crashed upstream or middlebox would.
        if (await pause(spec.delay_ms, res)) req.socket.resetAndDestroy();
        return;
      case 'latency':
        if (await pause(spec.delay_ms, res)) forward(req, res, up, rest + search, body, fault);
        return;
      default:
        forward(req, res, up, rest + search, body, fault);
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '/';
    if (!url.startsWith(PREFIX)) return false;
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const search = q < 0 ? '' : url.slice(q);
    const isControl = pathname === CONTROL_PATH || pathname.startsWith(CONTROL_PATH + '/');
    let up: Upstream | undefined;
    let rest = '/';
    if (!isControl) {
      const slash = pathname.indexOf('/', PREFIX.length);
      const name = decodeURIComponent(slash < 0 ? pathname.slice(PREFIX.length) : pathname.slice(PREFIX.length, slash));
      rest = slash < 0 ? '/' : pathname.slice(slash);
      up = upstreams.get(name);
      if (!up) {
        req.resume();
        sendJson(res, 404, { error: { message: `vigil chaos proxy: no upstream "${name}" (configured: ${[...upstreams.keys()].join(', ') || 'none'})` } });
        return true;
      }
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        if (!res.headersSent) sendJson(res, 413, { error: { message: 'vigil chaos proxy: request body too large' } });
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return;
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      if (isControl) {
        let result;
        try {
          result = handleControl(api, req.method ?? 'GET', pathname.slice(CONTROL_PATH.length), req.headers, body.toString('utf8'), opts.controlToken);
        } catch (err) {
          result = { status: 500, body: { error: (err as Error).message } };
        }
        sendJson(res, result.status, result.body);
        return;
      }
      route(req, res, up!, rest, search, body).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) sendJson(res, 500, { error: { message: `vigil chaos proxy: ${(err as Error).message}` } });
        else res.destroy();
      });
    });
    return true;
  }

  return {
    handle,
    ...api,
    async close() {
      clearInterval(sweeper);
      closing.abort();
      table.clear();
      await agent.close().catch(() => agent.destroy());
    },
  };
}

/** Start the proxy on its own loopback (by default) HTTP server. */
export async function startChaosProxy(opts: ChaosProxyOptions): Promise<ChaosProxy> {
  const handler = createChaosProxyHandler(opts);
  const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, noDelay: true }, (req, res) => {
    if (!handler.handle(req, res)) {
      req.resume();
      sendJson(res, 404, { error: { message: 'vigil chaos proxy: use /proxy/<upstream>/... or /proxy/_faults' } });
    }
  });
  // Long streams and slow upstreams are the point here: Node's own timers must not cut them.
  server.timeout = 0;
  server.headersTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  return {
    url,
    upstreamUrl: (name) => `${url}/proxy/${encodeURIComponent(name)}`,
    inject: handler.inject,
    clear: handler.clear,
    list: handler.list,
    async close() {
      await handler.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
