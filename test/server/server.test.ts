import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import type { ProbeSpec } from '../../src/domain.ts';
import { createMetrics } from '../../src/metrics/index.ts';
import { HttpError, json, readBody, readJson, startServer } from '../../src/server/index.ts';
import type { ResultsQuery, ServerDeps, VigilServer } from '../../src/server/index.ts';
import { makeSpec } from '../fixtures.ts';
import { result, spec as identity } from '../metrics/fixtures.ts';

const NOW = Date.UTC(2026, 0, 5, 12, 0, 0);
const SECRET = 'sk-live-abcdefghijklmnopqrstuvwxyz';
const ADMIN = 'test-admin-token-0123456789';
const AUTHZ = { authorization: `Bearer ${ADMIN}` };

const probeSpec: ProbeSpec = makeSpec({
  ...identity,
  stream: true,
  timeouts: { connectMs: 2000, firstByteMs: 10_000, totalMs: 30_000 },
  assertions: [{ contains: 'pong' }],
  labels: { tier: 'gold' },
  headers: { authorization: `Bearer ${SECRET}` },
});

interface Harness {
  server: VigilServer;
  queries: ResultsQuery[];
  logs: string[];
}

const open: VigilServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close({ graceMs: 50 })));
});

async function start(over: Partial<ServerDeps> = {}, extra: { readinessTimeoutMs?: number } = {}): Promise<Harness> {
  const queries: ResultsQuery[] = [];
  const logs: string[] = [];
  const metrics = createMetrics({ defaultMetrics: false });
  metrics.observeResult(result(), identity);
  const deps: ServerDeps = {
    metrics,
    readiness: () => [
      { name: 'config', ok: true },
      { name: 'store', ok: true },
      { name: 'scheduler', ok: true },
    ],
    listProbes: () => [{ spec: probeSpec, last: result() }],
    queryResults: (q) => {
      queries.push(q);
      return [result()];
    },
    ...over,
  };
  const log = { error: (m: string, f?: object) => logs.push(`${m} ${JSON.stringify(f)}`), warn: (m: string, f?: object) => logs.push(`${m} ${JSON.stringify(f)}`) };
  const server = await startServer({ port: 0, deps, clock: new ManualClock(NOW), log, auth: { adminTokens: [ADMIN], readTokens: [], publicRead: true }, ...extra });
  open.push(server);
  return { server, queries, logs };
}

async function get(h: Harness, path: string, init?: RequestInit) {
  const res = await fetch(h.server.url + path, init);
  const body = await res.text();
  return { res, body, json: () => JSON.parse(body) };
}

describe('basics', () => {
  it('binds 127.0.0.1 by default', async () => {
    const h = await start();
    expect(h.server.host).toBe('127.0.0.1');
    expect(h.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('/healthz answers ok with JSON and security headers', async () => {
    const h = await start();
    const { res, json } = await get(h, '/healthz');
    expect(res.status).toBe(200);
    expect(json()).toEqual({ status: 'ok' });
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('HEAD works wherever GET does, without a body', async () => {
    const h = await start();
    const { res, body } = await get(h, '/healthz', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(body).toBe('');
  });

  it('unknown path is a JSON 404; wrong method a JSON 405 with Allow', async () => {
    const h = await start();
    const nf = await get(h, '/nope');
    expect(nf.res.status).toBe(404);
    expect(nf.res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(nf.json()).toEqual({ error: 'not_found', message: 'no such route' });
    const na = await get(h, '/healthz', { method: 'DELETE' });
    expect(na.res.status).toBe(405);
    expect(na.res.headers.get('allow')).toBe('GET, HEAD');
    expect(na.json().error).toBe('method_not_allowed');
  });

  it('/metrics serves the registry with its content type', async () => {
    const h = await start();
    const { res, body } = await get(h, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(body).toMatch(/^probe_success\{.*probe="openai-canary".*\} 1$/m);
  });
});

describe('/readyz', () => {
  it('200 when every check passes', async () => {
    const h = await start();
    const { res, json } = await get(h, '/readyz');
    expect(res.status).toBe(200);
    expect(json()).toMatchObject({ status: 'ready', failed: [] });
  });

  it('503 naming the failed checks', async () => {
    const h = await start({
      readiness: async () => [
        { name: 'config', ok: true },
        { name: 'store', ok: false, detail: 'database is read-only' },
        { name: 'scheduler', ok: false },
      ],
    });
    const { res, json } = await get(h, '/readyz');
    expect(res.status).toBe(503);
    expect(json().failed).toEqual(['store', 'scheduler']);
    expect(json().checks[1]).toEqual({ name: 'store', ok: false, detail: 'database is read-only' });
  });

  it('503 without leaking the error when the checks throw, hang, or are missing', async () => {
    const throws = await start({
      readiness: () => {
        throw new Error(`open ${SECRET} failed`);
      },
    });
    const t = await get(throws, '/readyz');
    expect(t.res.status).toBe(503);
    expect(t.body).not.toContain(SECRET);

    const hangs = await start({ readiness: () => new Promise(() => {}) }, { readinessTimeoutMs: 50 });
    const hg = await get(hangs, '/readyz');
    expect(hg.res.status).toBe(503);
    expect(hg.json().failed).toEqual(['readiness']);

    const empty = await start({ readiness: () => [] });
    expect((await get(empty, '/readyz')).res.status).toBe(503);
  });
});

describe('/api/probes', () => {
  it('lists probes with a last-result summary and never the request headers', async () => {
    const h = await start();
    const { res, body, json } = await get(h, '/api/probes');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(body).not.toContain(SECRET);
    expect(body).not.toContain('authorization');
    const [p] = json().probes;
    expect(p).toMatchObject({ id: 'openai-canary', owner: 'search-team', target: 'provider:openai', labels: { tier: 'gold' } });
    expect(p.last).toMatchObject({ outcome: 'ok', servedModel: 'gpt-4o-mini-2024-07-18', ttftMs: 300, totalMs: 400 });
  });
});

describe('/api/results', () => {
  it('passes a validated query to the store', async () => {
    const h = await start();
    const { res, json } = await get(h, '/api/results?probe=openai-canary&since=1h&until=2026-01-05T13:30:00%2B01:00&limit=5');
    expect(res.status).toBe(200);
    expect(h.queries).toEqual([{ probe: 'openai-canary', since: NOW - 3_600_000, until: Date.UTC(2026, 0, 5, 12, 30), limit: 5 }]);
    expect(json().count).toBe(1);
    expect(json().results[0].probeId).toBe('openai-canary');
  });

  it('defaults: all probes, no bounds, limit 100', async () => {
    const h = await start();
    await get(h, '/api/results');
    expect(h.queries).toEqual([{ limit: 100 }]);
  });

  it.each([
    ['since', String(NOW), NOW],
    ['since', '2026-01-05', Date.UTC(2026, 0, 5)],
    ['since', '2026-01-05T11:00:00.250Z', Date.UTC(2026, 0, 5, 11, 0, 0, 250)],
    ['since', '1h30m', NOW - 5_400_000],
    ['since', '7d', NOW - 7 * 86_400_000],
    ['until', 'now', NOW],
  ])('%s=%s is accepted', async (name, value, expected) => {
    const h = await start();
    const { res } = await get(h, `/api/results?${name}=${encodeURIComponent(value)}`);
    expect(res.status).toBe(200);
    expect(h.queries[0][name as 'since' | 'until']).toBe(expected);
  });

  it.each([
    ['since=yesterday', /since="yesterday": expected ISO-8601/],
    ['since=1767614400', /epoch seconds/],
    ['since=2026-02-30', /no such date/],
    ['since=2026-01-05T10:00:00', /needs a zone/],
    ['since=1x', /since="1x"/],
    ['since=', /since="": empty/],
    ['since=1h&until=2h', /since must be before until/],
    ['limit=0', /limit must be an integer/],
    ['limit=1001', /limit must be an integer/],
    ['limit=ten', /limit must be an integer/],
    ['probe=', /probe must be/],
    ['sinse=1h', /unknown query parameter "sinse"/],
    ['probe=a&probe=b', /given 2 times/],
  ])('400 for %s', async (qs, reason) => {
    const h = await start();
    const { res, json } = await get(h, `/api/results?${qs}`);
    expect(res.status).toBe(400);
    expect(json().error).toBe('bad_request');
    expect(json().message).toMatch(reason);
    expect(h.queries).toEqual([]);
  });
});

describe('errors', () => {
  it('a throwing handler gives a generic 500: no stack, no message, route pattern in the log', async () => {
    const h = await start({
      queryResults: () => {
        throw new Error(`sqlite: cannot open /var/lib/vigil.db with key ${SECRET}`);
      },
    });
    const { res, body } = await get(h, '/api/results?probe=x');
    expect(res.status).toBe(500);
    expect(JSON.parse(body)).toEqual({ error: 'internal_error', message: 'internal server error' });
    expect(body).not.toMatch(/sqlite|at .*\.ts|sk-live/);
    expect(h.logs.some((l) => l.includes('/api/results'))).toBe(true);
  });

  it('malformed percent-encoding in a path parameter is a 400', async () => {
    const h = await start();
    h.server.addRoute('GET', '/api/incidents/:id', (ctx) => json({ id: ctx.params.id }));
    expect((await get(h, '/api/incidents/%E0%A4%A')).res.status).toBe(400);
    expect((await get(h, '/api/incidents/a%2Fb')).json()).toEqual({ id: 'a/b' });
  });
});

describe('addRoute', () => {
  it('routes with params and wildcards; refuses duplicates', async () => {
    const h = await start();
    h.server.addRoute('GET', '/status/*', (ctx) => json({ rest: ctx.params['*'] }));
    h.server.addRoute('POST', '/webhooks/:source', (ctx) => {
      throw new HttpError(401, 'bad_signature', `signature did not verify for ${ctx.params.source}`);
    });
    expect((await get(h, '/status/drills/weekly')).json()).toEqual({ rest: 'drills/weekly' });
    const wh = await get(h, '/webhooks/openai', { method: 'POST', body: '{}' });
    expect(wh.res.status).toBe(401);
    expect(wh.json()).toEqual({ error: 'bad_signature', message: 'signature did not verify for openai' });
    expect(() => h.server.addRoute('post', '/webhooks/:source', () => json({}))).toThrow(/already defined/);
  });

  it('readJson: content type, size limit, JSON parsing', async () => {
    const h = await start();
    h.server.addRoute('POST', '/api/silences', async (ctx) => {
      const { raw, value } = await readJson(ctx.req, { limit: 64 });
      return json({ bytes: raw.length, value }, 201);
    });
    const post = (body: string, type = 'application/json') =>
      get(h, '/api/silences', { method: 'POST', body, headers: { 'content-type': type, ...AUTHZ } });

    const ok = await post('{"matchers":{"owner":"x"}}', 'application/json; charset=utf-8');
    expect(ok.res.status).toBe(201);
    expect(ok.json()).toEqual({ bytes: 26, value: { matchers: { owner: 'x' } } });
    expect((await post('{}', 'text/plain')).res.status).toBe(415);
    expect((await post('{nope')).json().error).toBe('invalid_json');
    const big = await post(JSON.stringify({ x: 'y'.repeat(100) }));
    expect(big.res.status).toBe(413);
    expect(big.json().error).toBe('payload_too_large');
  });

  it('readBody enforces the limit on a chunked body with no content-length', async () => {
    const h = await start();
    let handlerSaw = -1;
    h.server.addRoute('POST', '/upload', async (ctx) => {
      const body = await readBody(ctx.req, { limit: 1000 });
      handlerSaw = body.length;
      return json({ ok: true });
    });
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(h.server.url + '/upload', { method: 'POST', headers: { 'transfer-encoding': 'chunked', ...AUTHZ } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      // Keep writing past the limit; the server answers 413 before we finish.
      for (let i = 0; i < 20; i++) req.write('z'.repeat(100));
      req.end();
    });
    expect(status).toBe(413);
    expect(handlerSaw).toBe(-1);
  });
});

describe('close', () => {
  it('closes even with a request that never finishes', async () => {
    const h = await start();
    h.server.addRoute('GET', '/hang', () => new Promise(() => {}));
    const pending = fetch(h.server.url + '/hang').catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    await h.server.close({ graceMs: 100 });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(await pending).toBeInstanceOf(Error);
    await expect(fetch(h.server.url + '/healthz')).rejects.toThrow();
  });
});
