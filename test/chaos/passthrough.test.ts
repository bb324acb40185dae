// With no fault active the proxy must be invisible: same bytes (JSON and SSE), same status and headers (minus
// hop-by-hop), the request forwarded untouched, streams passed on as they arrive, and backpressure respected.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChaosProxy } from '../../src/chaos/proxy.ts';
import type { ChaosProxy } from '../../src/chaos/proxy.ts';

const TRANSCRIPTS = path.resolve(import.meta.dirname, '../../../shared/data/transcripts');
const haveTranscripts = fs.existsSync(TRANSCRIPTS);

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

interface Served {
  status: number;
  headers: Record<string, string>;
  /** Written one piece at a time, `gapMs` apart. */
  pieces: Buffer[];
  gapMs: number;
}

/** Upstream that records what it received and answers with exactly the bytes it is given. */
class Upstream {
  server!: http.Server;
  url = '';
  seen: Seen[] = [];
  next: Served = { status: 200, headers: {}, pieces: [], gapMs: 0 };
  /** For the backpressure test: write until this many bytes, counting what the socket accepted. */
  flood: { total: number; chunk: number; written: number; blocked: boolean } | null = null;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        this.seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
        if (this.flood) return this.pump(res);
        const s = this.next;
        res.writeHead(s.status, s.headers);
        for (let i = 0; i < s.pieces.length; i++) {
          if (i > 0 && s.gapMs > 0) await new Promise((r) => setTimeout(r, s.gapMs));
          res.write(s.pieces[i]);
        }
        res.end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private pump(res: http.ServerResponse): void {
    const f = this.flood!;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(f.total) });
    const buf = Buffer.alloc(f.chunk, 0x61);
    const go = () => {
      while (f.written < f.total) {
        const ok = res.write(buf);
        f.written += buf.length;
        if (!ok) {
          f.blocked = true;
          res.once('drain', go);
          return;
        }
      }
      res.end();
    };
    go();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  firstByteMs: number | null;
  totalMs: number;
}

function call(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Got> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'POST', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let firstByteMs: number | null = null;
      res.on('data', (c: Buffer) => {
        firstByteMs ??= performance.now() - t0;
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), firstByteMs, totalMs: performance.now() - t0 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** Split into n pieces at fixed byte offsets (may land inside a multi-byte character or an event). */
function split(buf: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  const size = Math.ceil(buf.length / n);
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

let up: Upstream;
let proxy: ChaosProxy;

beforeAll(async () => {
  up = new Upstream();
  await up.start();
  proxy = await startChaosProxy({
    upstreams: { openai: { kind: 'openai', baseUrl: up.url }, prefixed: { kind: 'anthropic', baseUrl: `${up.url}/api/base/` } },
  });
});
afterAll(async () => {
  await proxy.close();
  await up.close();
});

const INLINE_SSE = Buffer.from(
  'data: {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n' +
    'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"p\u00f6ng \ud83d\udc4b"}}]}\n\n' +
    'data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n' +
    'data: [DONE]\n\n',
);
const INLINE_JSON = Buffer.from(JSON.stringify({ id: 'c1', choices: [{ index: 0, message: { role: 'assistant', content: 'pong' }, finish_reason: 'stop' }] }, null, 2) + '\n');

const cases: { name: string; ctype: string; body: () => Buffer; skip?: boolean }[] = [
  { name: 'inline SSE', ctype: 'text/event-stream; charset=utf-8', body: () => INLINE_SSE },
  { name: 'inline JSON', ctype: 'application/json', body: () => INLINE_JSON },
  ...['openai/chat-stream-include-usage.sse', 'anthropic/messages-stream-max-tokens-opus-3.sse', 'gemini/stream-gemini-2.0-flash.sse', 'openai/chat-nonstream-length-gpt-4o.json'].map(
    (f) => ({
      name: `transcript ${f}`,
      ctype: f.endsWith('.sse') ? 'text/event-stream' : 'application/json',
      body: () => fs.readFileSync(path.join(TRANSCRIPTS, f)),
      skip: !haveTranscripts,
    }),
  ),
];

describe('passthrough without faults', () => {
  it.each(cases)('$name: byte-identical to direct', async ({ ctype, body, skip }) => {
    if (skip) return; // ../shared/data/transcripts absent: the inline cases still cover this
    const bytes = body();
    up.next = { status: 200, headers: { 'content-type': ctype, 'x-request-id': 'req_abc', 'openai-processing-ms': '42' }, pieces: split(bytes, 5), gapMs: 5 };
    const req = { headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' }, body: '{"model":"gpt-4o-mini","stream":true}' };
    const direct = await call(`${up.url}/v1/chat/completions`, req);
    const via = await call(`${proxy.upstreamUrl('openai')}/v1/chat/completions`, req);
    expect(direct.body.equals(bytes)).toBe(true);
    expect(via.body.equals(bytes)).toBe(true);
    expect(via.status).toBe(direct.status);
    for (const h of ['content-type', 'x-request-id', 'openai-processing-ms']) expect(via.headers[h], h).toBe(direct.headers[h]);
    expect(via.headers['x-vigil-fault']).toBeUndefined();
  });

  it('forwards method, path, query, headers and body untouched (minus hop-by-hop; Host rewritten)', async () => {
    up.next = { status: 201, headers: { 'content-type': 'application/json' }, pieces: [Buffer.from('{}')], gapMs: 0 };
    up.seen = [];
    const body = '{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"h\u00e9"}]}';
    const res = await call(`${proxy.upstreamUrl('prefixed')}/v1/messages?beta=true&x=%2F`, {
      headers: {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'x-api-key': 'sk-ant-test',
        'anthropic-version': '2023-06-01',
        'x-vigil-drill': 'd1',
        connection: 'keep-alive, x-hop-only',
        'x-hop-only': 'secret',
        'proxy-authorization': 'Basic abc',
      },
      body,
    });
    expect(res.status).toBe(201);
    const seen = up.seen[0];
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/api/base/v1/messages?beta=true&x=%2F');
    expect(seen.body.toString('utf8')).toBe(body);
    expect(seen.headers['x-api-key']).toBe('sk-ant-test');
    expect(seen.headers['anthropic-version']).toBe('2023-06-01');
    expect(seen.headers['x-vigil-drill']).toBe('d1');
    expect(seen.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(seen.headers.host).toBe(new URL(up.url).host);
    expect(seen.headers['x-hop-only']).toBeUndefined();
    expect(seen.headers['proxy-authorization']).toBeUndefined();
  });

  it('a chunked request body is forwarded as it came, chunk framing and all', async () => {
    up.next = { status: 200, headers: { 'content-type': 'application/json' }, pieces: [Buffer.from('{}')], gapMs: 0 };
    up.seen = [];
    const body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"' + 'x'.repeat(70_000) + '"}]}';
    const res = await call(`${proxy.upstreamUrl('openai')}/v1/chat/completions`, { headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(200);
    expect(up.seen[0].headers['transfer-encoding']).toBe('chunked');
    expect(up.seen[0].body.toString('utf8')).toBe(body);
  });

  it('keep-alive: many requests on one client connection, answers in order, the upstream connection reused', async () => {
    up.next = { status: 200, headers: { 'content-type': 'application/json' }, pieces: [Buffer.from('{"ok":true}')], gapMs: 0 };
    up.seen = [];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const ports = new Set<number>();
    up.server.on('connection', (s) => ports.add(s.remotePort!));
    try {
      for (let i = 0; i < 20; i++) {
        const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = http.request(`${proxy.upstreamUrl('openai')}/v1/models?i=${i}`, { agent, method: i % 3 === 0 ? 'HEAD' : 'GET' }, (res) => {
            let b = '';
            res.on('data', (c) => (b += c));
            res.on('end', () => resolve({ status: res.statusCode!, body: b }));
          });
          req.on('error', reject);
          req.end();
        });
        expect(r.status).toBe(200);
        expect(r.body).toBe(i % 3 === 0 ? '' : '{"ok":true}');
      }
      expect(up.seen.map((s) => s.url)).toEqual(Array.from({ length: 20 }, (_, i) => `/v1/models?i=${i}`));
      // One upstream connection at most (it may be an idle one from an earlier test, reused).
      expect(ports.size).toBeLessThanOrEqual(1);
    } finally {
      agent.destroy();
    }
  });

  it('streams without buffering: the first event arrives before the upstream finishes', async () => {
    up.next = { status: 200, headers: { 'content-type': 'text/event-stream' }, pieces: [Buffer.from('data: {"a":1}\n\n'), Buffer.from('data: [DONE]\n\n')], gapMs: 500 };
    const via = await call(`${proxy.upstreamUrl('openai')}/v1/chat/completions`, { body: '{}' });
    expect(via.body.toString()).toBe('data: {"a":1}\n\ndata: [DONE]\n\n');
    expect(via.totalMs).toBeGreaterThanOrEqual(480);
    expect(via.firstByteMs!).toBeLessThan(300);
  });

  it('respects backpressure: a client that stops reading stops the upstream too', async () => {
    const total = 128 * 1024 * 1024;
    up.flood = { total, chunk: 64 * 1024, written: 0, blocked: false };
    try {
      const t0 = performance.now();
      const result = await new Promise<{ bytes: number; writtenWhilePaused: number }>((resolve, reject) => {
        const req = http.request(`${proxy.upstreamUrl('openai')}/v1/files`, { method: 'GET', agent: false }, (res) => {
          let bytes = 0;
          res.on('data', (c: Buffer) => (bytes += c.length));
          res.pause();
          setTimeout(() => {
            const writtenWhilePaused = up.flood!.written;
            res.resume();
            res.on('end', () => resolve({ bytes, writtenWhilePaused }));
          }, 600);
        });
        req.on('error', reject);
        req.end();
      });
      expect(up.flood.blocked).toBe(true);
      // Socket buffers on two hops plus stream high-water marks: a few MB at most, never the whole 128 MB (measured ~8 MB here).
      expect(result.writtenWhilePaused).toBeLessThan(40 * 1024 * 1024);
      expect(result.bytes).toBe(total);
      expect(performance.now() - t0).toBeLessThan(20_000);
    } finally {
      up.flood = null;
    }
  });

  it('unknown upstream → 404; unreachable upstream → 502 in the provider format', async () => {
    const unknown = await call(`${proxy.url}/proxy/nope/v1/chat/completions`, { body: '{}' });
    expect(unknown.status).toBe(404);
    const dead = await startChaosProxy({ upstreams: { openai: { kind: 'openai', baseUrl: 'http://127.0.0.1:1' } } });
    try {
      const r = await call(`${dead.upstreamUrl('openai')}/v1/chat/completions`, { body: '{}' });
      expect(r.status).toBe(502);
      expect(r.headers['x-vigil-proxy-error']).toBe('upstream');
      expect(JSON.parse(r.body.toString()).error.type).toBe('cf_bad_gateway');
    } finally {
      await dead.close();
    }
  });
});
