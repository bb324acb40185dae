// Vigil's HTTP server (node:http): /metrics, /healthz, /readyz, /api/probes, /api/results, plus
// `addRoute` for later routes (incidents, silences, drills, webhooks, status page). Binds 127.0.0.1 by
// default. Clients never see a stack trace or an internal error message: those go to the log. Every request
// passes, in order: listener area, Host allow-list, route, role (token), then its handler; see access.ts.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../clock.ts';
import type { Clock } from '../clock.ts';
import type { ProbeResult } from '../domain.ts';
import { createLogger } from '../log.ts';
import type { Logger } from '../log.ts';
import type { ProbeListing, ReadinessCheck, ResultsQuery, ServerDeps } from './deps.ts';
import { redact } from '../config/redact.ts';
import { writtenOrClosed } from '../http/drain.ts';
import { AREAS, accessFor, areaOf, hostAllowed } from './access.ts';
import type { Area } from './access.ts';
import { Authenticator, DEFAULT_AUTH } from './auth.ts';
import type { AuthSettings } from './auth.ts';
import { exposureProblems } from './config.ts';
import type { ListenerSpec } from './config.ts';
import { BodyBudget, DEFAULT_LIMITS, checkingInterval, guardServer } from './limits.ts';
import type { ServerLimits } from './limits.ts';
import { HttpError, Router, attachBodyBudget, clip, errorReply, json, releaseBodyBudget, singleParams, text } from './router.ts';
import type { Handler, Reply, RequestContext } from './router.ts';
import { parseTimeParam } from './time.ts';

export type { ServerDeps, ProbeListing, ReadinessCheck, ResultsQuery, MetricsSource } from './deps.ts';
export { HttpError, json, text, errorReply, readBody, readJson, requireContentType, singleParams } from './router.ts';
export type { Handler, Reply, RequestContext } from './router.ts';
export type { ListenerSpec } from './config.ts';
export type { AuthSettings } from './auth.ts';
export type { ServerLimits } from './limits.ts';

export interface ServerOptions {
  /** The single listener's address when `listeners` is not given. Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port (tests). */
  port?: number;
  /** Separate listeners, each serving some areas (api, status, metrics, webhooks); replaces host/port. */
  listeners?: ListenerSpec[];
  /** Tokens and roles. Default: reads are public, changes are refused (no admin token). */
  auth?: AuthSettings;
  /** Host header values accepted besides IP literals and localhost (`*` turns the check off). */
  allowedHosts?: readonly string[];
  /** Its host is accepted in Host headers too. */
  publicUrl?: string;
  limits?: Partial<ServerLimits>;
  deps: ServerDeps;
  clock?: Clock;
  log?: Pick<Logger, 'error' | 'warn'>;
  /** How long /readyz waits for `deps.readiness()` before answering 503 (default 2000 ms). */
  readinessTimeoutMs?: number;
}

export interface ListenerInfo extends ListenerSpec {
  url: string;
}

export interface VigilServer {
  /** The listener serving the API (else the first), e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly listeners: readonly ListenerInfo[];
  /** Whatever `addRoute` adds is protected by its method and path: GET/HEAD read, anything else admin. */
  addRoute(method: string, pattern: string, handler: Handler): void;
  /** Stop accepting, let in-flight requests finish for `graceMs` (default 1000), then cut the rest. */
  close(opts?: { graceMs?: number }): Promise<void>;
}

export const RESULTS_DEFAULT_LIMIT = 100;
export const RESULTS_MAX_LIMIT = 1000;

/** On every response; handlers may override (the status page will set its own content policy). */
const BASE_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

interface Shared {
  router: Router;
  auth: Authenticator;
  allowedHosts: string[];
  budget: BodyBudget;
  log: Pick<Logger, 'error' | 'warn'>;
}

export async function startServer(opts: ServerOptions): Promise<VigilServer> {
  const { deps } = opts;
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? createLogger({ base: { component: 'server' } });
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const specs: ListenerSpec[] = opts.listeners ?? [{ name: 'main', host: opts.host ?? '127.0.0.1', port: opts.port ?? 0, serve: [...AREAS] }];
  const authSettings = opts.auth ?? DEFAULT_AUTH;
  const auth = new Authenticator(authSettings);
  // `vigil run --host 0.0.0.0` bypasses the config check, so the server refuses it too.
  const exposed = exposureProblems(specs, auth.hasAdminToken);
  if (exposed.length) throw new Error(exposed[0].message);
  const publicHost = opts.publicUrl ? safeHostOf(opts.publicUrl) : null;
  const shared: Shared = {
    router: new Router(),
    auth,
    allowedHosts: [...(opts.allowedHosts ?? []), ...(publicHost ? [publicHost] : []), ...specs.map((l) => l.host).filter((h) => h && !['0.0.0.0', '::'].includes(h))],
    budget: new BodyBudget(limits.bodyBudgetBytes),
    log,
  };
  const { router } = shared;

  router.add('GET', '/healthz', () => healthz(deps, opts.readinessTimeoutMs ?? 2000));
  router.add('GET', '/readyz', () => readyz(deps, opts.readinessTimeoutMs ?? 2000));
  router.add('GET', '/metrics', (ctx) => serveMetrics(deps.metrics, ctx.res));
  router.add('GET', '/api/probes', async (ctx) => {
    singleParams(ctx.query, []);
    const listings = await deps.listProbes();
    return json({ probes: listings.map(probeJson) });
  });
  router.add('GET', '/api/results', async (ctx) => {
    const q = parseResultsQuery(ctx.query, clock.now());
    const results = await deps.queryResults(q);
    return json({ query: q, count: results.length, results });
  });

  const servers: { spec: ListenerSpec; server: Server; url: string; port: number }[] = [];
  try {
    for (const spec of specs) servers.push(await listen(spec, shared, limits));
  } catch (err) {
    await Promise.all(servers.map((s) => new Promise((r) => s.server.close(r))));
    throw err;
  }

  const main = servers.find((s) => s.spec.serve.includes('api')) ?? servers[0];
  let closing: Promise<void> | null = null;

  return {
    url: main.url,
    host: main.spec.host,
    port: main.port,
    listeners: servers.map((s) => ({ ...s.spec, port: s.port, url: s.url })),
    addRoute: (method, pattern, handler) => router.add(method, pattern, handler),
    close({ graceMs = 1000 } = {}) {
      closing ??= Promise.all(
        servers.map(
          ({ server }) =>
            new Promise<void>((resolve) => {
              const timer = setTimeout(() => server.closeAllConnections(), graceMs);
              server.close(() => {
                clearTimeout(timer);
                resolve();
              });
              server.closeIdleConnections();
            }),
        ),
      ).then(() => undefined);
      return closing;
    },
  };
}

async function listen(spec: ListenerSpec, shared: Shared, limits: ServerLimits): Promise<{ spec: ListenerSpec; server: Server; url: string; port: number }> {
  const serve = new Set<Area>(spec.serve);
  const server = createServer({ connectionsCheckingInterval: checkingInterval(limits), requestTimeout: limits.requestTimeoutMs, headersTimeout: limits.headersTimeoutMs }, (req, res) => {
    void dispatch(shared, serve, req, res);
  });
  guardServer(server, limits);
  // Malformed requests and timeouts: a short answer when the socket can still take one, never a log line
  // per bad client (that would let anyone fill the log).
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (socket.writable && !(socket as { _httpMessage?: unknown })._httpMessage) {
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    }
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${spec.host}:${spec.port} (listener ${spec.name}): ${err.code ?? err.message}`, { cause: err }));
    server.once('error', onError);
    // A deep accept queue: under a connection storm the kernel would otherwise drop new SYNs (/healthz's too)
    // before we ever see them; past our cap we close the oldest ourselves (limits.ts).
    server.listen({ port: spec.port, host: spec.host, backlog: 4096 }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => shared.log.error('http server error', { listener: spec.name, error: err.message }));
  const { port } = server.address() as AddressInfo;
  const url = `http://${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${port}`;
  return { spec, server, url, port };
}

function safeHostOf(url: string): string | null {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return null;
  }
}

async function dispatch(shared: Shared, serve: ReadonlySet<Area>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { router, log } = shared;
  let route = '(none)';
  try {
    for (const [k, v] of Object.entries(BASE_HEADERS)) res.setHeader(k, v);
    attachBodyBudget(req, shared.budget);
    const raw = req.url ?? '/';
    // Only origin-form targets; absolute-form (proxy requests) and `*` are not ours to serve.
    if (!raw.startsWith('/')) throw new HttpError(400, 'bad_request', 'request target must be a path');
    if (raw.length > 8192) throw new HttpError(414, 'uri_too_long', 'request target too long');
    const qi = raw.indexOf('?');
    const path = qi === -1 ? raw : raw.slice(0, qi);
    const query = new URLSearchParams(qi === -1 ? '' : raw.slice(qi + 1));
    const method = req.method ?? 'GET';
    const area = areaOf(path);
    if (area !== 'health' && !serve.has(area)) throw new HttpError(404, 'not_found', 'no such route on this listener');
    // Webhooks authenticate each request themselves and often arrive through a proxy that rewrites Host.
    if (area !== 'webhooks' && !hostAllowed(req.headers.host, shared.allowedHosts)) {
      throw new HttpError(403, 'host_not_allowed', 'Host header not allowed; add it to server.allowed_hosts');
    }
    const found = router.match(method, path);
    if (!found) throw new HttpError(404, 'not_found', 'no such route');
    if ('allow' in found) {
      throw new HttpError(405, 'method_not_allowed', `method ${clip(method, 16)} not allowed here`, { allow: found.allow.join(', ') });
    }
    route = found.route.pattern;
    const decision = shared.auth.decide(req.headers, accessFor(method, area), area);
    if (!decision.ok) throw new HttpError(decision.status, decision.code, decision.message, decision.headers);
    const ctx: RequestContext = { req, res, method, params: found.params, query, path, route, role: decision.role };
    const reply = await found.route.handler(ctx);
    if (reply) send(res, reply);
    else if (!res.headersSent && !res.writableEnded && !res.destroyed) throw new Error(`handler for ${route} sent no response`);
  } catch (err) {
    try {
      if (err instanceof HttpError) {
        if (err.status >= 500) log.warn('request failed', { method: req.method, route, status: err.status, code: err.code });
        return sendError(res, errorReply(err.status, err.code, err.message, err.headers));
      }
      // The route pattern, not the path: webhook paths may carry a secret token.
      log.error('request handler threw', { method: req.method, route, error: err instanceof Error ? err.message : String(err) });
      sendError(res, errorReply(500, 'internal_error', 'internal server error'));
    } catch {
      res.destroy();
    }
  } finally {
    // Bodies are read by now (or never will be): their bytes go back to the shared budget.
    releaseBodyBudget(req);
  }
}

/** The client went away mid-scrape: stop making the rest of the page. */
class ScrapeGone extends Error {}

/**
 * `/metrics` as it is made (chunked), so a 10,000-probe page (about 140 MB) is never one string in memory and the
 * loop gets turns while it is written; the socket paces the writer. The chunks are bytes: the
 * writer passes every label text (and every metric prom-client formats) through `redact` before encoding it, so
 * the page's only other text is metric names, help and numbers. A source without `writeMetrics` is sent whole.
 */
async function serveMetrics(source: ServerDeps['metrics'], res: ServerResponse): Promise<Reply | void> {
  if (!source.writeMetrics) return text(await source.metrics(), 200, source.contentType);
  res.statusCode = 200;
  res.setHeader('content-type', source.contentType);
  try {
    // Each chunk is waited for until the socket is done with it (not only drained), so its memory can be reused.
    await source.writeMetrics(
      async (chunk) => {
        if (res.destroyed) throw new ScrapeGone();
        await writtenOrClosed(res, chunk);
      },
      { redact, reuse: true },
    );
  } catch (err) {
    if (err instanceof ScrapeGone) return;
    throw err;
  }
  res.end();
}

function send(res: ServerResponse, reply: Reply): void {
  // The last edge: whatever a handler built, a configured secret never leaves in a response.
  const body = reply.body === undefined ? undefined : typeof reply.body === 'string' ? Buffer.from(redact(reply.body)) : reply.body;
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
  if (body) res.setHeader('content-length', body.byteLength);
  res.statusCode = reply.status;
  res.end(body);
}

function sendError(res: ServerResponse, reply: Reply): void {
  // A streaming handler that already sent headers can only be cut off.
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  send(res, reply);
}

async function readyz(deps: ServerDeps, timeoutMs: number): Promise<Reply> {
  let checks: ReadinessCheck[];
  try {
    checks = await withTimeout(Promise.resolve(deps.readiness()), timeoutMs);
  } catch (err) {
    const detail = err instanceof TimeoutError ? `readiness checks did not answer within ${timeoutMs} ms` : 'readiness checks threw';
    checks = [{ name: 'readiness', ok: false, detail }];
  }
  // No checks at all means nothing told us we are ready.
  if (checks.length === 0) checks = [{ name: 'readiness', ok: false, detail: 'no readiness checks registered' }];
  const failed = checks.filter((c) => !c.ok).map((c) => c.name);
  const body = {
    status: failed.length ? 'not_ready' : 'ready',
    failed,
    checks: checks.map((c) => ({ name: c.name, ok: c.ok, ...(c.detail ? { detail: clip(c.detail, 200) } : {}) })),
  };
  return json(body, failed.length ? 503 : 200);
}

/**
 * Liveness: "can this process still do its job" (store writable, scheduler and incident engine ticking, event
 * loop not stalled). 503 tells a supervisor to restart it. Without a health source, serving is all it knows.
 */
async function healthz(deps: ServerDeps, timeoutMs: number): Promise<Reply> {
  if (!deps.health) return json({ status: 'ok' });
  let r: Awaited<ReturnType<NonNullable<ServerDeps['health']>>>;
  try {
    r = await withTimeout(Promise.resolve(deps.health()), timeoutMs);
  } catch (err) {
    const detail = err instanceof TimeoutError ? `health checks did not answer within ${timeoutMs} ms` : 'health checks threw';
    r = { ok: false, checks: [{ name: 'health', ok: false, fatal: true, detail }] };
  }
  const failed = r.checks.filter((c) => !c.ok).map((c) => c.name);
  const body = {
    status: r.ok ? (failed.length ? 'degraded' : 'ok') : 'unhealthy',
    failed,
    checks: r.checks.map((c) => ({
      name: c.name,
      ok: c.ok,
      ...(c.ok ? {} : { fatal: c.fatal }),
      detail: clip(c.detail, 200),
      ...(c.since !== undefined ? { since: new Date(c.since).toISOString() } : {}),
    })),
  };
  return json(body, r.ok ? 200 : 503);
}

class TimeoutError extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Whitelisted fields only: a ProbeSpec also holds request headers, which may carry secrets. */
function probeJson({ spec, last, state }: ProbeListing) {
  return {
    id: spec.id,
    owner: spec.owner,
    target: spec.target,
    model: spec.model,
    kind: spec.kind,
    stream: spec.stream,
    schedule: spec.schedule,
    labels: spec.labels,
    ...(state !== undefined ? { state } : {}),
    last: last ? lastJson(last) : null,
  };
}

function lastJson(r: ProbeResult) {
  return {
    startedAt: r.startedAt,
    outcome: r.outcome,
    errorClass: r.errorClass,
    errorMessage: r.errorMessage,
    httpStatus: r.httpStatus,
    servedModel: r.servedModel,
    ttftMs: r.timings.ttftMs,
    totalMs: r.timings.totalMs,
    attempt: r.attempt,
    confirmed: r.confirmed,
  };
}

/** Validates `/api/results` parameters; every problem is a 400 naming the parameter. */
export function parseResultsQuery(query: URLSearchParams, nowMs: number): ResultsQuery {
  const p = singleParams(query, ['probe', 'since', 'until', 'limit']);
  const q: ResultsQuery = { limit: RESULTS_DEFAULT_LIMIT };
  if (p.probe !== undefined) {
    if (p.probe === '' || p.probe.length > 200 || /[\u0000-\u001f\u007f]/.test(p.probe)) {
      throw new HttpError(400, 'bad_request', 'probe must be a probe id (1-200 printable characters)');
    }
    q.probe = p.probe;
  }
  for (const name of ['since', 'until'] as const) {
    const raw = p[name];
    if (raw === undefined) continue;
    const t = parseTimeParam(raw, nowMs);
    if (!t.ok) throw new HttpError(400, 'bad_request', `${name}="${clip(raw)}": ${t.reason}`);
    q[name] = t.ms;
  }
  if (q.since !== undefined && q.until !== undefined && q.since >= q.until) {
    throw new HttpError(400, 'bad_request', 'since must be before until');
  }
  if (p.limit !== undefined) {
    const n = /^\d{1,7}$/.test(p.limit) ? Number(p.limit) : NaN;
    if (!(n >= 1 && n <= RESULTS_MAX_LIMIT)) {
      throw new HttpError(400, 'bad_request', `limit must be an integer from 1 to ${RESULTS_MAX_LIMIT}`);
    }
    q.limit = n;
  }
  return q;
}
