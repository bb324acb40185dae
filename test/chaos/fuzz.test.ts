// Fuzz of the proxy's request path and control API (issue 13): random methods, paths, percent-encodings, headers,
// framings and bodies, sent as raw bytes. The upstream behind it always answers 2xx, so any 5xx is the proxy's
// own failure; the proxy must answer every request with a status below 500 (or close a request it cannot
// parse), and keep serving. Seeded (FUZZ_SEED to try others) so a run is reproducible.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChaosProxy } from '../../src/chaos/proxy.ts';
import type { ChaosProxy } from '../../src/chaos/proxy.ts';

const TOKEN = 'fuzz-test-control-token';
const SEED = Number(process.env.FUZZ_SEED ?? 20261204);

let upstream: http.Server;
let proxy: ChaosProxy;
let port = 0;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, url: req.url }));
    });
    req.on('error', () => res.destroy());
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  proxy = await startChaosProxy({
    upstreams: { openai: { kind: 'openai', baseUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` } },
    controlToken: TOKEN,
    headersTimeoutMs: 1_000,
    requestTimeoutMs: 1_500,
  });
  port = Number(new URL(proxy.url).port);
  // A live fault, so requests carrying its scope header exercise the fault engine too.
  proxy.inject({ upstream: 'openai', kind: 'http_status', status: 429, ttl: '10m', match: { headers: { 'x-vigil-drill': 'fuzz' } } });
});
afterAll(async () => {
  await proxy?.close();
  upstream?.closeAllConnections();
  await new Promise<void>((r) => upstream?.close(() => r()));
});

/** Send raw bytes on a new connection; the status of the first answer, or null if it closed without one. */
function raw(bytes: Buffer): Promise<number | null> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    const done = () => {
      s.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(got.toString('latin1', 0, 20));
      resolve(m ? Number(m[1]) : null);
    };
    s.setTimeout(4_000, done);
    s.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.includes('\r\n\r\n')) done();
    });
    s.on('error', done);
    s.on('close', done);
    s.end(bytes);
  });
}

const pctTriplet = fc.tuple(fc.constantFrom('%', '%%', '%E0%A4%A', '%F0%9F', '%C3', '%2F', '%00', '%zz', '%e2%82%ac', '%'), fc.constantFrom('', 'A', '4', 'G'));
const segment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._~-]{0,12}$/),
  pctTriplet.map(([a, b]) => a + b),
  fc.constantFrom('..', '.', '_faults', '_status', '_health', 'openai', 'v1', 'chat', 'completions', ':streamGenerateContent', '%E0%A4%A'),
);
const path = fc
  .tuple(
    fc.constantFrom('/proxy/openai', '/proxy/_faults', '/proxy/_status', '/proxy/_health', '/proxy/', '/proxy', '/', '/proxy/nope', '/proxy/%E0%A4%A', '/proxy/_faults/%E0%A4%A', '*', 'http://x/proxy/openai'),
    fc.array(segment, { maxLength: 5 }),
    fc.option(fc.stringMatching(/^[A-Za-z0-9=&%._-]{0,20}$/), { nil: undefined }),
  )
  .map(([p, segs, q]) => (segs.length ? `${p}/${segs.join('/')}` : p) + (q === undefined ? '' : `?${q}`));
const method = fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT'), fc.stringMatching(/^[A-Z]{1,10}$/));
const body = fc.oneof(
  fc.constant(''),
  fc.json(),
  fc.string({ maxLength: 300 }),
  fc.record({ upstream: fc.constantFrom('openai', 'x'), kind: fc.constantFrom('http_status', 'reset', 'latency', 'nope'), status: fc.integer({ min: 0, max: 999 }), ttl: fc.oneof(fc.constant('1m'), fc.integer(), fc.string()) }).map((o) => JSON.stringify(o)),
);
const framing = fc.constantFrom('length', 'chunked', 'none', 'short');
const extraHeaders = fc.array(
  fc.oneof(
    fc.constant(`authorization: Bearer ${TOKEN}`),
    fc.constant('authorization: Bearer wrong'),
    fc.constant('x-vigil-drill: fuzz'),
    fc.constant('x-vigil-drill: other'),
    fc.constant('connection: keep-alive, x-hop'),
    fc.constant('expect: 100-continue'),
    fc.constant('content-type: application/json'),
    fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/), fc.stringMatching(/^[ -~]{0,30}$/)).map(([k, v]) => `${k}: ${v}`),
  ),
  { maxLength: 5 },
);

function request(m: string, p: string, headers: string[], b: string, f: string): Buffer {
  const payload = Buffer.from(b, 'utf8');
  const lines = [`${m} ${p} HTTP/1.1`, 'host: proxy', 'connection: close', ...headers];
  let tail: Buffer = payload;
  if (f === 'length') lines.push(`content-length: ${payload.length}`);
  else if (f === 'short') lines.push(`content-length: ${Math.floor(payload.length / 2)}`);
  else if (f === 'chunked') {
    lines.push('transfer-encoding: chunked');
    tail = Buffer.concat([payload.length ? Buffer.from(`${payload.length.toString(16)}\r\n`) : Buffer.alloc(0), payload, Buffer.from(payload.length ? '\r\n0\r\n\r\n' : '0\r\n\r\n')]);
  } else tail = Buffer.alloc(0);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), tail]);
}

async function stillServes(): Promise<void> {
  const r = await fetch(`${proxy.upstreamUrl('openai')}/v1/models`);
  expect(r.status).toBe(200);
  await r.text();
}

describe('fuzz', () => {
  it('request path: any method, path, percent-encoding, headers, framing and body: no 5xx, no crash', async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(method, path, extraHeaders, body, framing, async (m, p, h, b, f) => {
        const status = await raw(request(m, p, h, b, f));
        const k = status === null ? 'closed' : String(status);
        seen.set(k, (seen.get(k) ?? 0) + 1);
        if (status !== null && status >= 500) throw new Error(`${status} for ${m} ${p} [${h.join('; ')}] (${f})`);
      }),
      { numRuns: 300, seed: SEED, endOnFailure: true },
    );
    await stillServes();
    // The mix reached every part: upstream answers, the fault engine's 429, the proxy's own 4xx.
    expect(seen.get('200') ?? 0).toBeGreaterThan(0);
    expect([...seen.keys()].some((k) => k.startsWith('4'))).toBe(true);
  }, 120_000);

  it('bad percent-encoding in the upstream name is a 400, the proxy alive', async () => {
    expect(await raw(Buffer.from('GET /proxy/%E0%A4%A/v1/models HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'))).toBe(400);
    await stillServes();
  });

  it('garbage bytes instead of a request: a 4xx or a closed connection, the proxy alive', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 400 }), async (bytes) => {
        const status = await raw(Buffer.concat([Buffer.from(bytes), Buffer.from('\r\n\r\n')]));
        if (status !== null && status >= 500) throw new Error(`${status} for ${Buffer.from(bytes).toString('hex')}`);
      }),
      { numRuns: 150, seed: SEED },
    );
    await stillServes();
  }, 120_000);

  it('control API: any JSON with a valid token gets a 2xx/4xx answer, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'), fc.oneof(fc.constant(''), fc.constant('/x'), segment.map((s) => `/${s}`)), body, async (m, sub, b) => {
        const status = await raw(request(m, `/proxy/_faults${sub}`, [`authorization: Bearer ${TOKEN}`, 'content-type: application/json'], b, 'length'));
        if (status === null || status >= 500) throw new Error(`${status} for ${m} /proxy/_faults${sub} ${b}`);
      }),
      { numRuns: 200, seed: SEED },
    );
    // Whatever the fuzz injected is still capped and scoped; clear it and carry on.
    expect(proxy.list().length).toBeLessThanOrEqual(32);
    proxy.clear();
    await stillServes();
  }, 120_000);
});
