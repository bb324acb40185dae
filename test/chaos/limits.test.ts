// Bounded resources on the proxy's listener (issue 13): slow-header and slow-body clients are cut at their
// timeouts, idle keep-alive connections are closed, and connections beyond the limit are refused while the
// ones inside it keep working.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChaosProxy } from '../../src/chaos/proxy.ts';
import type { ChaosProxy } from '../../src/chaos/proxy.ts';

let upstream: http.Server;
let proxy: ChaosProxy;
let port = 0;
const LIMIT = 40;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('{"ok":true}'));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  proxy = await startChaosProxy({
    upstreams: { openai: { kind: 'openai', baseUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` } },
    headersTimeoutMs: 600,
    requestTimeoutMs: 1_200,
    keepAliveTimeoutMs: 800,
    maxConnections: LIMIT,
  });
  port = Number(new URL(proxy.url).port);
});
afterAll(async () => {
  await proxy?.close();
  upstream?.closeAllConnections();
  await new Promise<void>((r) => upstream?.close(() => r()));
});

interface Outcome {
  /** ms from connect to the proxy closing the connection (null: still open at `waitMs`). */
  closedAfterMs: number | null;
  response: string;
}

/** Connect, write `parts` (each after its delay), and watch for up to `waitMs`. */
function slowClient(parts: [number, string][], waitMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect(port, '127.0.0.1');
    let response = '';
    let closedAfterMs: number | null = null;
    const timers: NodeJS.Timeout[] = [];
    s.on('data', (d) => (response += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => {
      closedAfterMs ??= performance.now() - t0;
    });
    s.on('connect', () => {
      for (const [at, text] of parts) timers.push(setTimeout(() => !s.destroyed && s.write(text), at));
    });
    setTimeout(() => {
      timers.forEach(clearTimeout);
      s.destroy();
      resolve({ closedAfterMs, response });
    }, waitMs);
  });
}

describe('limits', () => {
  it('a slow-header client is cut at the headers timeout with a 408', async () => {
    const drip = Array.from({ length: 40 }, (_, i) => [i * 100, i === 0 ? 'GET /proxy/openai/v1/models HTTP/1.1\r\n' : `x-h${i}: y\r\n`] as [number, string]);
    const o = await slowClient(drip, 4_000);
    expect(o.closedAfterMs).not.toBeNull();
    expect(o.closedAfterMs!).toBeGreaterThanOrEqual(550);
    // The deadline is checked every 250 ms; the rest is headroom for a loaded machine.
    expect(o.closedAfterMs!).toBeLessThan(2_500);
    expect(o.response).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('a slow-body client is cut at the request timeout, the upstream exchange too', async () => {
    const head = 'POST /proxy/openai/v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n';
    const drip = [[0, head], ...Array.from({ length: 40 }, (_, i) => [100 + i * 100, 'x'] as [number, string])] as [number, string][];
    const o = await slowClient(drip, 4_500);
    expect(o.closedAfterMs).not.toBeNull();
    expect(o.closedAfterMs!).toBeGreaterThanOrEqual(1_100);
    expect(o.closedAfterMs!).toBeLessThan(3_300);
    expect(o.response).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('many slow-body clients at once are all cut (none held open)', async () => {
    const head = 'POST /proxy/openai/v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\nabc';
    const outcomes = await Promise.all(Array.from({ length: LIMIT - 5 }, () => slowClient([[0, head]], 3_000)));
    expect(outcomes.filter((o) => o.closedAfterMs === null)).toHaveLength(0);
    expect(proxy.connections()).toBe(0);
  });

  it('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const o = await slowClient([[0, 'GET /proxy/openai/v1/models HTTP/1.1\r\nhost: x\r\n\r\n']], 3_000);
    expect(o.response).toMatch(/^HTTP\/1\.1 200 /);
    expect(o.closedAfterMs).not.toBeNull();
    expect(o.closedAfterMs!).toBeGreaterThanOrEqual(750);
    expect(o.closedAfterMs!).toBeLessThan(1_800);
  });

  it('connections beyond the limit are refused; those inside it keep working', async () => {
    const held: net.Socket[] = [];
    try {
      for (let i = 0; i < LIMIT + 20; i++) {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', () => {});
        held.push(s);
      }
      await new Promise((r) => setTimeout(r, 300));
      const open = held.filter((s) => !s.destroyed && s.readyState === 'open').length;
      expect(open).toBeLessThanOrEqual(LIMIT);
      expect(proxy.connections()).toBeLessThanOrEqual(LIMIT);
      // One of the accepted ones still gets an answer.
      const first = held.find((s) => !s.destroyed)!;
      const answer = await new Promise<string>((resolve) => {
        let got = '';
        first.on('data', (d) => {
          got += d;
          if (got.includes('\r\n\r\n')) resolve(got);
        });
        first.write('GET /proxy/openai/v1/models HTTP/1.1\r\nhost: x\r\n\r\n');
      });
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      for (const s of held) s.destroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    const r = await fetch(`${proxy.upstreamUrl('openai')}/v1/models`);
    expect(r.status).toBe(200);
    await r.text();
  });
});
