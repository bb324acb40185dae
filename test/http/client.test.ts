import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, readBodyText, warmUp } from '../../src/http/client.ts';
import type { TimedHttpResponse } from '../../src/http/client.ts';
import { HttpError } from '../../src/http/types.ts';
import type { HttpClient } from '../../src/http/types.ts';
import { closedPort, get, nextTurn, rejection, sleep, startHttp, startSilentTcp } from './helpers.ts';
import type { Loopback } from './helpers.ts';

let client: HttpClient;
const servers: Loopback[] = [];
async function server(...args: Parameters<typeof startHttp>): Promise<Loopback> {
  const s = await startHttp(...args);
  servers.push(s);
  return s;
}

beforeAll(async () => {
  client = createHttpClient();
  await warmUp(client);
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
afterAll(async () => {
  await client.close();
});

describe('phase marks', () => {
  // Headers after 100 ms, first chunk +50 ms, end +100 ms. Bounds against the injected delays allow for a
  // fresh connect and for the server's own timers firing late on a busy machine (seen: +7 ms); the tighter
  // check is against the moments the server actually wrote (same process, same clock; typically < 1 ms,
  // bounded at 15 ms for CPU contention on a shared 2-core box).
  async function delayed() {
    const truth = { headersAt: 0, chunkAt: 0, endAt: 0 };
    const s = await server(async (req, res) => {
      req.resume();
      await sleep(100);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.flushHeaders();
      truth.headersAt = performance.now();
      await sleep(50);
      res.write('first');
      truth.chunkAt = performance.now();
      await sleep(100);
      res.end('last');
      truth.endAt = performance.now();
    });
    return { s, truth };
  }

  it('measures ttfb, first chunk and total against injected delays', async () => {
    const { s, truth } = await delayed();
    const res = (await client.request(get(`${s.url}/x`))) as TimedHttpResponse;
    const t0 = performance.now() - res.elapsed();
    expect(res.status).toBe(200);
    expect(res.marks.reused).toBe(false);
    expect(res.marks.ttfbMs).toBeGreaterThanOrEqual(98);
    expect(res.marks.ttfbMs).toBeLessThanOrEqual(130);
    expect(res.marks.totalMs).toBeNull();

    const it = res.body[Symbol.asyncIterator]();
    const first = await it.next();
    expect(Buffer.from(first.value!).toString()).toBe('first');
    expect(res.lastChunkAt).toBeGreaterThanOrEqual(148);
    expect(res.lastChunkAt).toBeLessThanOrEqual(185);
    while (!(await it.next()).done);
    expect(res.marks.totalMs).toBeGreaterThanOrEqual(248);
    expect(res.marks.totalMs).toBeLessThanOrEqual(290);

    // Same process, same clock: our stamps trail the server's actual writes by transport + parse time only.
    const lagHeaders = t0 + res.marks.ttfbMs! - truth.headersAt;
    const lagEnd = t0 + res.marks.totalMs! - truth.endAt;
    expect(lagHeaders).toBeGreaterThanOrEqual(-0.5);
    expect(lagHeaders).toBeLessThan(15);
    expect(lagEnd).toBeGreaterThanOrEqual(-0.5);
    expect(lagEnd).toBeLessThan(15);
  });

  it('stamps on arrival, not when a slow consumer gets round to reading', async () => {
    const { s } = await delayed();
    const res = (await client.request(get(`${s.url}/slow-reader`))) as TimedHttpResponse;
    await sleep(400); // the whole body has arrived by now
    expect(res.marks.totalMs).toBeGreaterThanOrEqual(248);
    expect(res.marks.totalMs).toBeLessThanOrEqual(290);
    const it = res.body[Symbol.asyncIterator]();
    await it.next();
    expect(res.lastChunkAt).toBeGreaterThanOrEqual(148);
    expect(res.lastChunkAt).toBeLessThanOrEqual(185);
    expect(res.elapsed()).toBeGreaterThanOrEqual(400);
  });

  it('reuses a kept-alive socket and reports connect 0', async () => {
    const s = await server((req, res) => {
      req.resume();
      res.end('ok');
    });
    const a = await client.request(get(`${s.url}/a`));
    expect(await readBodyText(a)).toBe('ok');
    await nextTurn();
    const b = await client.request(get(`${s.url}/b`));
    expect(await readBodyText(b)).toBe('ok');
    expect(a.marks.reused).toBe(false);
    expect(a.marks.connectMs).toBeGreaterThan(0);
    expect(a.marks.connectMs).toBeLessThan(50);
    expect(a.marks.tlsMs).toBeNull();
    expect(b.marks.reused).toBe(true);
    expect(b.marks.connectMs).toBe(0);
    expect(b.marks.tlsMs).toBeNull();
    expect(s.accepted).toBe(1);
    expect(a.marks.totalMs).not.toBeNull();
  });

  it('attributes each new socket to the request that was written on it', async () => {
    const s = await server(async (req, res) => {
      req.resume();
      await sleep(30);
      res.end('ok');
    });
    // Fresh client so no socket to this origin exists; 5 concurrent requests need 5 sockets.
    const c = createHttpClient();
    try {
      const all = await Promise.all([1, 2, 3, 4, 5].map((i) => c.request(get(`${s.url}/${i}`))));
      await Promise.all(all.map(readBodyText));
      expect(all.map((r) => r.marks.reused)).toEqual([false, false, false, false, false]);
      expect(s.accepted).toBe(5);
      await nextTurn();
      const again = await Promise.all([1, 2, 3].map((i) => c.request(get(`${s.url}/again${i}`))));
      await Promise.all(again.map(readBodyText));
      expect(again.map((r) => r.marks.reused)).toEqual([true, true, true]);
      expect(s.accepted).toBe(5);
    } finally {
      await c.close();
    }
  });

  it('warmUp(url) leaves a kept-alive socket for the first real request', async () => {
    const s = await server((req, res) => {
      req.resume();
      res.end(req.method);
    });
    const marks = await warmUp(client, `${s.url}/`);
    expect(marks.reused).toBe(false);
    await nextTurn();
    const res = await client.request(get(`${s.url}/v1`));
    expect(await readBodyText(res)).toBe('GET');
    expect(res.marks.reused).toBe(true);
    expect(s.accepted).toBe(1);
  });

  it('readBodyText decodes a character split across chunks', async () => {
    const snow = Buffer.from('☃');
    const s = await server(async (req, res) => {
      req.resume();
      res.write(snow.subarray(0, 1));
      await sleep(20);
      res.end(snow.subarray(1));
    });
    expect(await readBodyText(await client.request(get(s.url)))).toBe('☃');
  });

  it('sends the method, headers and body, and lower-cases and joins response headers', async () => {
    let seen = { method: '', auth: '', body: '' };
    const s = await server(async (req, res) => {
      let body = '';
      for await (const c of req) body += c;
      seen = { method: req.method!, auth: String(req.headers.authorization), body };
      res.setHeader('X-Request-Id', 'abc');
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.statusCode = 429;
      res.end('{"error":"slow down"}');
    });
    const res = await client.request({
      url: `${s.url}/v1/chat?x=1`,
      method: 'POST',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: '{"hello":"wörld"}',
      timeouts: { connectMs: 1000, firstByteMs: 1000, totalMs: 2000 },
    });
    expect(res.status).toBe(429);
    expect(res.headers['x-request-id']).toBe('abc');
    expect(res.headers['set-cookie']).toBe('a=1, b=2');
    expect(await readBodyText(res)).toBe('{"error":"slow down"}');
    expect(seen).toEqual({ method: 'POST', auth: 'Bearer t', body: '{"hello":"wörld"}' });
  });
});

describe('timeouts and failures', () => {
  it('first byte timeout names the phase and drops the socket', async () => {
    const s = await server((req) => {
      req.resume(); // never answer
    });
    const closed = s.nextClose();
    const t = performance.now();
    const err = (await rejection(
      client.request(get(s.url, { timeouts: { connectMs: 1000, firstByteMs: 150, totalMs: 5000 } })),
    )) as HttpError;
    expect(err).toBeInstanceOf(HttpError);
    expect(err.kind).toBe('timeout');
    expect(err.phase).toBe('first_byte');
    expect(performance.now() - t).toBeGreaterThanOrEqual(145);
    expect(performance.now() - t).toBeLessThan(1000);
    expect(err.marks.ttfbMs).toBeNull();
    await closed; // server side sees the connection go away
    expect(s.open.size).toBe(0);
  });

  it('total timeout fires mid-body, thrown from the body iterator', async () => {
    const s = await server(async (req, res) => {
      req.resume();
      res.writeHead(200);
      res.write('partial');
      // …and stall
    });
    const res = await client.request(get(s.url, { timeouts: { connectMs: 1000, firstByteMs: 1000, totalMs: 200 } }));
    const closed = s.nextClose();
    const chunks: string[] = [];
    const err = (await rejection(
      (async () => {
        for await (const c of res.body) chunks.push(Buffer.from(c).toString());
      })(),
    )) as HttpError;
    expect(chunks).toEqual(['partial']);
    expect(err.kind).toBe('timeout');
    expect(err.phase).toBe('total');
    expect(res.elapsed()).toBeGreaterThanOrEqual(195);
    expect(res.marks.totalMs).toBeNull();
    await closed;
  });

  it('total timeout before headers when it is the shortest', async () => {
    const s = await server((req) => {
      req.resume();
    });
    const err = (await rejection(
      client.request(get(s.url, { timeouts: { connectMs: 1000, firstByteMs: 1000, totalMs: 100 } })),
    )) as HttpError;
    expect([err.kind, err.phase]).toEqual(['timeout', 'total']);
  });

  it('connect timeout when the TLS handshake stalls, and the socket is destroyed', async () => {
    const s = await startSilentTcp();
    servers.push(s);
    const closed = s.nextClose();
    const err = (await rejection(
      client.request(get(`${s.url}/`, { timeouts: { connectMs: 150, firstByteMs: 2000, totalMs: 3000 } })),
    )) as HttpError;
    expect([err.kind, err.phase]).toEqual(['timeout', 'connect']);
    expect(err.message).toContain('150');
    await closed;
    expect(s.open.size).toBe(0);
  });

  it('connection refused is a connect error', async () => {
    const port = await closedPort();
    const err = (await rejection(client.request(get(`http://127.0.0.1:${port}/`)))) as HttpError;
    expect(err).toBeInstanceOf(HttpError);
    expect(err.kind).toBe('connect');
    expect(err.phase).toBeNull();
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('a socket reset mid-body throws HttpError(reset) from the body after the data received', async () => {
    const s = await server(async (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      await sleep(30);
      res.socket!.resetAndDestroy();
    });
    const res = await client.request(get(s.url));
    const chunks: string[] = [];
    const err = (await rejection(
      (async () => {
        for await (const c of res.body) chunks.push(Buffer.from(c).toString());
      })(),
    )) as HttpError;
    expect(chunks.join('')).toBe('data: one\n\n');
    expect(err).toBeInstanceOf(HttpError);
    expect(err.kind).toBe('reset');
    expect(res.marks.totalMs).toBeNull();
  });

  it('a connection closed before any response is a reset, not a connect error', async () => {
    const s = await server((req) => {
      req.socket.destroy();
    });
    const err = (await rejection(client.request(get(s.url)))) as HttpError;
    expect(err.kind).toBe('reset');
  });

  it("the caller's signal aborts, before and during the response", async () => {
    const s = await server(async (req, res) => {
      req.resume();
      await sleep(req.url === '/slow' ? 5000 : 0);
      res.writeHead(200);
      res.write('x');
    });
    const ac = new AbortController();
    const p = client.request(get(`${s.url}/slow`, { signal: ac.signal }));
    setTimeout(() => ac.abort(), 50);
    const err = (await rejection(p)) as HttpError;
    expect(err.kind).toBe('aborted');

    const ac2 = new AbortController();
    const res = await client.request(get(`${s.url}/fast`, { signal: ac2.signal }));
    const it = res.body[Symbol.asyncIterator]();
    await it.next();
    ac2.abort();
    const err2 = (await rejection(it.next())) as HttpError;
    expect(err2.kind).toBe('aborted');

    const pre = (await rejection(client.request(get(s.url, { signal: AbortSignal.abort() })))) as HttpError;
    expect(pre.kind).toBe('aborted');
  });

  it('breaking out of the body early releases the connection', async () => {
    const s = await server(async (req, res) => {
      req.resume();
      res.writeHead(200);
      for (;;) {
        if (res.destroyed) return;
        res.write('tick\n');
        await sleep(10);
      }
    });
    const res = await client.request(get(s.url));
    const closed = s.nextClose();
    for await (const _ of res.body) break;
    await closed;
    expect(s.open.size).toBe(0);
  });
});
