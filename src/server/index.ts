// Vigil's HTTP server (node:http): /metrics, /healthz, /readyz, /api/probes, /api/results, plus
// `addRoute` for later routes (incidents, silences, drills, webhooks, status page). Binds 127.0.0.1 by
// default. Clients never see a stack trace or an internal error message: those go to the log.

import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../clock.ts';
import type { Clock } from '../clock.ts';
import type { ProbeResult } from '../domain.ts';
import { createLogger } from '../log.ts';
import type { Logger } from '../log.ts';
import type { ProbeListing, ReadinessCheck, ResultsQuery, ServerDeps } from './deps.ts';
import { HttpError, Router, clip, errorReply, json, singleParams, text } from './router.ts';
import type { Handler, Reply, RequestContext } from './router.ts';
import { parseTimeParam } from './time.ts';

export type { ServerDeps, ProbeListing, ReadinessCheck, ResultsQuery, MetricsSource } from './deps.ts';
export { HttpError, json, text, errorReply, readBody, readJson, requireContentType, singleParams } from './router.ts';
export type { Handler, Reply, RequestContext } from './router.ts';

export interface ServerOptions {
  /** Default 127.0.0.1: the API is unauthenticated, so exposing it is a deliberate choice. */
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
  deps: ServerDeps;
  clock?: Clock;
  log?: Pick<Logger, 'error' | 'warn'>;
  /** How long /readyz waits for `deps.readiness()` before answering 503 (default 2000 ms). */
  readinessTimeoutMs?: number;
}

export interface VigilServer {
  /** e.g. `http://127.0.0.1:9464` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
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

export async function startServer(opts: ServerOptions): Promise<VigilServer> {
  const host = opts.host ?? '127.0.0.1';
  const { deps } = opts;
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? createLogger({ base: { component: 'server' } });
  const router = new Router();

  router.add('GET', '/healthz', () => json({ status: 'ok' }));
  router.add('GET', '/readyz', () => readyz(deps, opts.readinessTimeoutMs ?? 2000));
  router.add('GET', '/metrics', async () => {
    const body = await deps.metrics.metrics();
    return text(body, 200, deps.metrics.contentType);
  });
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

  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    void dispatch(router, req, res, log);
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${host}:${opts.port}: ${err.code ?? err.message}`));
    server.once('error', onError);
    server.listen(opts.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.error('http server error', { error: err.message }));

  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | null = null;

  return {
    url,
    host,
    port,
    addRoute: (method, pattern, handler) => router.add(method, pattern, handler),
    close({ graceMs = 1000 } = {}) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

async function dispatch(router: Router, req: IncomingMessage, res: ServerResponse, log: Pick<Logger, 'error' | 'warn'>): Promise<void> {
  for (const [k, v] of Object.entries(BASE_HEADERS)) res.setHeader(k, v);
  let route = '(none)';
  try {
    const raw = req.url ?? '/';
    // Only origin-form targets; absolute-form (proxy requests) and `*` are not ours to serve.
    if (!raw.startsWith('/')) throw new HttpError(400, 'bad_request', 'request target must be a path');
    const qi = raw.indexOf('?');
    const path = qi === -1 ? raw : raw.slice(0, qi);
    const query = new URLSearchParams(qi === -1 ? '' : raw.slice(qi + 1));
    const method = req.method ?? 'GET';
    const found = router.match(method, path);
    if (!found) throw new HttpError(404, 'not_found', 'no such route');
    if ('allow' in found) {
      throw new HttpError(405, 'method_not_allowed', `method ${clip(method, 16)} not allowed here`, { allow: found.allow.join(', ') });
    }
    route = found.route.pattern;
    const ctx: RequestContext = { req, res, method, params: found.params, query, path, route };
    const reply = await found.route.handler(ctx);
    if (reply) send(res, reply);
    else if (!res.headersSent && !res.writableEnded) throw new Error(`handler for ${route} sent no response`);
  } catch (err) {
    if (err instanceof HttpError) {
      if (err.status >= 500) log.warn('request failed', { method: req.method, route, status: err.status, code: err.code });
      return sendError(res, errorReply(err.status, err.code, err.message, err.headers));
    }
    // The route pattern, not the path: webhook paths may carry a secret token.
    log.error('request handler threw', { method: req.method, route, error: err instanceof Error ? err.message : String(err) });
    sendError(res, errorReply(500, 'internal_error', 'internal server error'));
  }
}

function send(res: ServerResponse, reply: Reply): void {
  const body = reply.body === undefined ? undefined : typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
  if (body) res.setHeader('content-length', body.byteLength);
  res.statusCode = reply.status;
  res.end(body);
}

function sendError(res: ServerResponse, reply: Reply): void {
  // A streaming handler that already sent headers can only be cut off.
  if (res.headersSent) {
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
