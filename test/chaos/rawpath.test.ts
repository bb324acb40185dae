// The pass-through path as a client on a raw socket sees it: keep-alive and pipelining, request bodies split at
// any byte (head and body leave in one write when they came in one read), large bodies streamed with bounded
// memory, clients that leave mid-body, Expect: 100-continue, HTTP/1.0, malformed heads, the upstream's Keep-Alive
// hint, and a fault turned on (and off) in the middle of a kept-alive connection.
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startChaosProxy } from '../../src/chaos/proxy.ts';
import type { ChaosProxy } from '../../src/chaos/proxy.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261204);

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bytes: number;
  sha: string;
  aborted: boolean;
}

let upstream: http.Server;
let upUrl = '';
let seen: Seen[] = [];
/** While set, the upstream does not read request bodies (backpressure test). */
let hold: Promise<void> | null = null;
let proxy: ChaosProxy;
let port = 0;

beforeAll(async () => {
  upstream = http.createServer({ keepAliveTimeout: 5_000 }, async (req, res) => {
    const s: Seen = { method: req.method!, url: req.url!, headers: req.headers, bytes: 0, sha: '', aborted: false };
    seen.push(s);
    if (hold) {
      req.pause();
      await hold;
      req.resume();
    }
    const h = crypto.createHash('sha256');
    req.on('data', (c: Buffer) => {
      s.bytes += c.length;
      h.update(c);
    });
    req.on('error', () => (s.aborted = true));
    req.on('aborted', () => (s.aborted = true));
    req.on('end', () => {
      s.sha = h.digest('hex');
      const body = JSON.stringify({ method: s.method, url: s.url, bytes: s.bytes, sha: s.sha });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    });
  });
  // An upgrade (e.g. WebSocket) becomes a tunnel: this one echoes.
  upstream.on('upgrade', (req: http.IncomingMessage, sock: net.Socket, head: Buffer) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, bytes: 0, sha: '', aborted: false });
    sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
    if (head.length) sock.write(head);
    sock.pipe(sock);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  proxy = await startChaosProxy({ upstreams: { openai: { kind: 'openai', baseUrl: upUrl } }, headersTimeoutMs: 1_000, requestTimeoutMs: 20_000 });
  port = Number(new URL(proxy.url).port);
});

afterAll(async () => {
  await proxy?.close();
  upstream?.closeAllConnections();
  await new Promise<void>((r) => upstream?.close(() => r()));
});

beforeEach(() => {
  seen = [];
  proxy.clear();
});

interface Answer {
  status: number;
  head: string;
  body: Buffer;
}

/** A raw client: write bytes, read whole answers (content-length framed) in order. */
class Raw {
  readonly sock: net.Socket;
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  constructor() {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    this.sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.sock.on('error', () => {});
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  write(b: string | Buffer): Promise<void> {
    return new Promise((r) => this.sock.write(b, () => r()));
  }

  /** The next answer; interim (1xx) answers are returned too. Null when the connection closed first. */
  async answer(timeoutMs = 5_000): Promise<Answer | null> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        const head = this.buf.toString('latin1', 0, end);
        const status = Number(head.slice(9, 12));
        const m = /\r\ncontent-length: *(\d+)/i.exec(head);
        const len = status < 200 ? 0 : m ? Number(m[1]) : -1;
        if (len >= 0 && this.buf.length >= end + 4 + len) {
          const body = this.buf.subarray(end + 4, end + 4 + len);
          this.buf = this.buf.subarray(end + 4 + len);
          return { status, head, body };
        }
        if (len < 0 && this.closed) {
          const body = this.buf.subarray(end + 4);
          this.buf = Buffer.alloc(0);
          return { status, head, body };
        }
      }
      if (this.closed) return null;
      if (performance.now() > until) throw new Error('no answer in time');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  /** The next n raw bytes (after any answers read). */
  async bytes(n: number, timeoutMs = 3_000): Promise<string> {
    const until = performance.now() + timeoutMs;
    while (this.buf.length < n) {
      if (this.closed || performance.now() > until) throw new Error(`got ${this.buf.length} of ${n} bytes`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    const out = this.buf.toString('latin1', 0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  async closedWithin(ms: number): Promise<boolean> {
    const until = performance.now() + ms;
    while (!this.closed && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  destroy(): void {
    this.sock.destroy();
  }
}

const json = (a: Answer | null) => JSON.parse(a!.body.toString('utf8')) as { method: string; url: string; bytes: number; sha: string };
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const post = (path: string, body: Buffer, extra = '') => Buffer.concat([Buffer.from(`POST /proxy/openai${path} HTTP/1.1\r\nHost: p\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n${extra}\r\n`, 'latin1'), body]);
const chunked = (path: string, pieces: Buffer[], extra = '') =>
  Buffer.concat([
    Buffer.from(`POST /proxy/openai${path} HTTP/1.1\r\nHost: p\r\ntransfer-encoding: chunked\r\n${extra}\r\n`, 'latin1'),
    ...pieces.flatMap((p) => [Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]),
    Buffer.from('0\r\n\r\n'),
  ]);

describe('raw pass-through path', () => {
  it('keep-alive and pipelining: several requests in one write, answers in order on one upstream connection', async () => {
    const ports = new Set<number>();
    const onConn = (s: net.Socket) => ports.add(s.remotePort!);
    upstream.on('connection', onConn);
    const c = new Raw();
    try {
      const bodies = [Buffer.from('{"a":1}'), Buffer.alloc(0), Buffer.from('x'.repeat(3000))];
      await c.write(Buffer.concat([post('/v1/a', bodies[0]), Buffer.from('GET /proxy/openai/v1/models HTTP/1.1\r\nHost: p\r\n\r\n'), chunked('/v1/c', [bodies[2].subarray(0, 1000), bodies[2].subarray(1000)])]));
      const a = [await c.answer(), await c.answer(), await c.answer()];
      expect(a.map((x) => x?.status)).toEqual([200, 200, 200]);
      expect(a.map((x) => json(x).url)).toEqual(['/v1/a', '/v1/models', '/v1/c']);
      expect(json(a[0]).sha).toBe(sha(bodies[0]));
      expect(json(a[2]).sha).toBe(sha(bodies[2]));
      // Then one more, later, on the same connection.
      await c.write(post('/v1/d', Buffer.from('{}')));
      expect(json(await c.answer()).url).toBe('/v1/d');
      expect(c.closed).toBe(false);
      expect(ports.size).toBeLessThanOrEqual(1);
    } finally {
      upstream.off('connection', onConn);
      c.destroy();
    }
  });

  it('a request split at any byte arrives whole (content-length and chunked, bodies beyond what one write carries)', async () => {
    const big = crypto.randomBytes(150 * 1024);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('length', 'chunked'), fc.integer({ min: 0, max: big.length }), fc.array(fc.integer({ min: 1, max: 90_000 }), { minLength: 1, maxLength: 6 }).filter((cuts) => cuts.some((n) => n > 100)), async (framing, size, cuts) => {
        const body = big.subarray(0, size);
        const req = Buffer.concat([framing === 'length' ? post('/v1/split', body) : chunked('/v1/split', body.length ? [body.subarray(0, size >> 1), body.subarray(size >> 1)].filter((p) => p.length) : []), post('/v1/after', Buffer.from('{}'))]);
        const c = new Raw();
        try {
          let at = 0;
          let i = 0;
          while (at < req.length) {
            const n = Math.min(req.length - at, cuts[i++ % cuts.length]);
            await c.write(req.subarray(at, at + n));
            at += n;
          }
          const first = json(await c.answer());
          expect(first.bytes).toBe(size);
          expect(first.sha).toBe(sha(body));
          expect(json(await c.answer()).url).toBe('/v1/after');
        } finally {
          c.destroy();
        }
      }),
      { seed: SEED, numRuns: 25 },
    );
    // And one byte at a time, head included.
    const small = crypto.randomBytes(3000);
    for (const req of [post('/v1/bytes', small), chunked('/v1/bytes', [small.subarray(0, 1000), small.subarray(1000)])]) {
      const c = new Raw();
      try {
        for (let i = 0; i < req.length; i++) await c.write(req.subarray(i, i + 1));
        expect(json(await c.answer()).sha).toBe(sha(small));
      } finally {
        c.destroy();
      }
    }
  });

  it('a large request body is streamed with bounded memory: an upstream that does not read stops the client', async () => {
    let release!: () => void;
    hold = new Promise<void>((r) => (release = r));
    const total = 96 * 1024 * 1024;
    const c = new Raw();
    try {
      await c.write(Buffer.from(`POST /proxy/openai/v1/files HTTP/1.1\r\nHost: p\r\ncontent-length: ${total}\r\n\r\n`, 'latin1'));
      const piece = crypto.randomBytes(64 * 1024);
      let accepted = 0;
      // Write until the socket refuses more (backpressure reached the client) or, failing that, the whole body.
      await new Promise<void>((resolve) => {
        const pump = () => {
          while (accepted < total) {
            accepted += piece.length;
            if (!c.sock.write(piece)) {
              // Still refused after a while: the proxy is not buffering the rest.
              setTimeout(() => (c.sock.writableNeedDrain ? resolve() : pump()), 300);
              return;
            }
          }
          resolve();
        };
        pump();
      });
      // Socket buffers on two hops and stream high-water marks: a few MB, never the whole body.
      expect(accepted).toBeLessThan(40 * 1024 * 1024);
      release();
      hold = null;
      await new Promise<void>((resolve) => {
        const pump = () => {
          while (accepted < total) {
            accepted += piece.length;
            if (!c.sock.write(piece)) return void c.sock.once('drain', pump);
          }
          resolve();
        };
        pump();
      });
      const a = await c.answer(30_000);
      expect(json(a).bytes).toBe(total);
    } finally {
      release();
      hold = null;
      c.destroy();
    }
  });

  it('a client that leaves mid-body: the upstream exchange is cut too, and the proxy carries on', async () => {
    const c = new Raw();
    await c.write(Buffer.from('POST /proxy/openai/v1/upload HTTP/1.1\r\nHost: p\r\ncontent-length: 1000000\r\n\r\n', 'latin1'));
    await c.write(Buffer.alloc(100_000, 0x61));
    const until = performance.now() + 3_000;
    while (seen.length === 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
    c.destroy();
    const until2 = performance.now() + 3_000;
    while (!seen[0]?.aborted && performance.now() < until2) await new Promise((r) => setTimeout(r, 10));
    expect(seen[0].aborted).toBe(true);
    const ok = new Raw();
    try {
      await ok.write(post('/v1/ok', Buffer.from('{}')));
      expect((await ok.answer())?.status).toBe(200);
    } finally {
      ok.destroy();
    }
    const until3 = performance.now() + 2_000;
    while (proxy.connections() > 1 && performance.now() < until3) await new Promise((r) => setTimeout(r, 10));
    expect(proxy.connections()).toBeLessThanOrEqual(1);
  });

  it('Expect: 100-continue passes through: the interim answer, then the body, then the answer', async () => {
    const c = new Raw();
    try {
      await c.write(Buffer.from('POST /proxy/openai/v1/x HTTP/1.1\r\nHost: p\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n', 'latin1'));
      const interim = await c.answer();
      expect(interim?.status).toBe(100);
      await c.write('hello');
      const a = await c.answer();
      expect(a?.status).toBe(200);
      expect(json(a).sha).toBe(sha(Buffer.from('hello')));
    } finally {
      c.destroy();
    }
  });

  it('an upgrade passes through and becomes a tunnel (Upgrade and Connection kept as sent)', async () => {
    const c = new Raw();
    try {
      await c.write('GET /proxy/openai/v1/realtime HTTP/1.1\r\nHost: p\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nearly');
      const a = await c.answer();
      expect(a?.status).toBe(101);
      expect(seen[0].url).toBe('/v1/realtime');
      expect(seen[0].headers.upgrade).toBe('echo');
      expect(await c.bytes(5)).toBe('early');
      await c.write('ping over the tunnel');
      expect(await c.bytes(20)).toBe('ping over the tunnel');
    } finally {
      c.destroy();
    }
  });

  it('HTTP/1.0 and Connection: close: one answer, then the proxy closes', async () => {
    for (const req of ['GET /proxy/openai/v1/models HTTP/1.0\r\n\r\n', 'GET /proxy/openai/v1/models HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n']) {
      const c = new Raw();
      try {
        await c.write(req);
        const a = await c.answer();
        expect(a?.status).toBe(200);
        expect(json(a).url).toBe('/v1/models');
        expect(await c.closedWithin(2_000)).toBe(true);
      } finally {
        c.destroy();
      }
    }
  });

  it("malformed and oversized heads get a 4xx and a closed connection; the upstream's Keep-Alive hint is not relayed", async () => {
    const bad: [string, number][] = [
      ['GET /proxy/openai/v1 HTTP/1.1\r\nHost: p\r\nno colon here\r\n\r\n', 400],
      ['GET /proxy/openai/v1 HTTP/1.1\r\nHost: p\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
      ['GET /proxy/openai/v1 HTTP/1.1\r\nHost: p\nX: y\r\n\r\n', 400],
      [`GET /proxy/openai/v1 HTTP/1.1\r\nHost: p\r\nX-Big: ${'a'.repeat(40 * 1024)}\r\n\r\n`, 431],
      ['POST /proxy/openai/v1 HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
    ];
    for (const [req, status] of bad) {
      const c = new Raw();
      try {
        await c.write(req);
        expect((await c.answer())?.status, req.slice(0, 80)).toBe(status);
        expect(await c.closedWithin(2_000)).toBe(true);
      } finally {
        c.destroy();
      }
    }
    expect(seen).toEqual([]);
    // Node's upstream says "Keep-Alive: timeout=5": that is about its connection to the proxy, not the client's.
    const c = new Raw();
    try {
      await c.write('GET /proxy/openai/v1/models HTTP/1.1\r\nHost: p\r\n\r\n');
      const a = await c.answer();
      expect(a?.status).toBe(200);
      expect(a!.head).not.toMatch(/keep-alive:/i);
      // Every other line as the upstream sent it, in order, nothing doubled.
      expect(a!.head.split('\r\n').map((l) => l.split(':')[0].toLowerCase())).toEqual(['http/1.1 200 ok', 'content-type', 'content-length', 'date', 'connection']);
      expect(json(a).url).toBe('/v1/models');
    } finally {
      c.destroy();
    }
  });

  it('a fault turned on in the middle of a kept-alive connection applies to its next request, and off again', async () => {
    const c = new Raw();
    const drill = 'x-vigil-drill: d-mid\r\n';
    try {
      await c.write(post('/v1/chat/completions', Buffer.from('{"model":"gpt-4o-mini"}'), drill));
      expect((await c.answer())?.status).toBe(200);
      const id = proxy.inject({ upstream: 'openai', kind: 'http_status', status: 503, ttl: '1m', match: { headers: { 'x-vigil-drill': 'd-mid' } } });
      await c.write(post('/v1/chat/completions', Buffer.from('{"model":"gpt-4o-mini"}'), drill));
      const faulted = await c.answer();
      expect(faulted?.status).toBe(503);
      expect(faulted!.head).toMatch(new RegExp(`x-vigil-fault: ${id}`, 'i'));
      // Pipelined: plain, drill, plain in one write; only the drill request gets the fault, answers in order.
      await c.write(Buffer.concat([post('/v1/p1', Buffer.from('{}')), post('/v1/chat/completions', Buffer.from('{}'), drill), post('/v1/p3', Buffer.from('{}'))]));
      const three = [await c.answer(), await c.answer(), await c.answer()];
      expect(three.map((a) => a?.status)).toEqual([200, 503, 200]);
      expect([json(three[0]).url, json(three[2]).url]).toEqual(['/v1/p1', '/v1/p3']);
      proxy.clear(id);
      await c.write(post('/v1/chat/completions', Buffer.from('{"model":"gpt-4o-mini"}'), drill));
      const after = await c.answer();
      expect(after?.status).toBe(200);
      expect(json(after).url).toBe('/v1/chat/completions');
      expect(c.closed).toBe(false);
    } finally {
      c.destroy();
    }
  });
});
