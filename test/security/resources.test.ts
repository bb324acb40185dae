// Issue 13, attacks 4, 6 and 7: slow clients are cut at their timeouts, webhook bodies are bounded before and
// while they are read, and user-created rows are capped (409) and rate-limited (429), on a real daemon.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.ts';
import { AUTH_YAML, ADMIN, bearer, secConfig, startDaemon } from './helpers.ts';

const daemons: Daemon[] = [];
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop()));
});

const NOTICES = 'webhooks:\n  notices: { kind: generic, secret: "${NOTICE_SECRET}", max_body: 65536 }\n';
const ENV = { VIGIL_ADMIN_TOKEN: ADMIN, NOTICE_SECRET: 'notice-secret-0123456789' };

async function daemon(limits: string): Promise<Daemon> {
  const d = await startDaemon(secConfig({ server: `server:\n  host: 127.0.0.1\n  port: 0\n  ${AUTH_YAML}\n  limits: ${limits}\n`, vigil: NOTICES }), ENV);
  daemons.push(d);
  return d;
}

/** Opens a raw connection and resolves with how long the server let it live and what it answered. */
function hold(url: string, drip: { first: string; each: string; everyMs: number }): Promise<{ ms: number; answer: string }> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const t0 = Date.now();
    let answer = '';
    const s = net.connect(Number(u.port), u.hostname, () => s.write(drip.first));
    const timer = setInterval(() => s.writable && s.write(drip.each), drip.everyMs);
    s.on('data', (d) => (answer += d));
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(timer);
      resolve({ ms: Date.now() - t0, answer });
    });
  });
}

describe('slow clients', () => {
  it('slow headers are cut at headers_timeout, a slow body at request_timeout, an idle keep-alive at keep_alive_timeout', async () => {
    const d = await daemon('{ headers_timeout: 1s, request_timeout: 3s, keep_alive_timeout: 500ms }');
    const slowHeaders = hold(d.url, { first: 'GET /api/probes HTTP/1.1\r\nHost: 127.0.0.1\r\n', each: 'x-drip: 1\r\n', everyMs: 200 });
    const body = JSON.stringify({ provider: 'openai', model: 'gpt-4o', shutdown_at: '2027-01-01' });
    const sig = `sha256=${'0'.repeat(64)}`;
    const slowBody = hold(d.url, {
      first: `POST /webhooks/notices HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\nx-vigil-signature: ${sig}\r\ncontent-length: ${body.length + 1000}\r\n\r\n`,
      each: ' ',
      everyMs: 200,
    });
    const idle = hold(d.url, { first: 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', each: '', everyMs: 10_000 });
    const [h, b, k] = await Promise.all([slowHeaders, slowBody, idle]);
    // Node checks these timeouts every 250 ms here (a quarter of the shortest), not every 30 s as by default.
    expect(h.ms).toBeGreaterThanOrEqual(900);
    expect(h.ms).toBeLessThan(2500);
    expect(h.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(b.ms).toBeGreaterThanOrEqual(2900);
    expect(b.ms).toBeLessThan(5000);
    expect(k.answer).toMatch(/^HTTP\/1\.1 200/);
    expect(k.ms).toBeLessThan(2500);
    // The daemon still answers.
    expect((await fetch(`${d.url}/healthz`)).status).toBe(200);
  });
});

describe('webhook bodies', () => {
  it('a Content-Length over max_body is refused before the body is read; missing signature headers before reading too', async () => {
    const d = await daemon('{}');
    const big = await hold(d.url, {
      first: `POST /webhooks/notices HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nx-vigil-signature: sha256=${'0'.repeat(64)}\r\ncontent-length: 300000\r\n\r\n`,
      each: 'x'.repeat(1000),
      everyMs: 1000,
    });
    expect(big.answer).toMatch(/^HTTP\/1\.1 413/);
    expect(big.ms).toBeLessThan(2000);
    const unsigned = await hold(d.url, {
      first: `POST /webhooks/notices HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 60000\r\nconnection: close\r\n\r\n`,
      each: 'x'.repeat(100),
      everyMs: 1000,
    });
    expect(unsigned.answer).toMatch(/^HTTP\/1\.1 401[\s\S]*missing_signature/);
    expect(unsigned.ms).toBeLessThan(2000);
  });

  it('bodies in flight share one budget: past it a 503 with Retry-After, and the budget comes back', async () => {
    const d = await daemon('{ body_budget: 131072 }');
    const sig = `sha256=${'0'.repeat(64)}`;
    const head = (n: number) => `POST /webhooks/notices HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nx-vigil-signature: ${sig}\r\ncontent-length: ${n}\r\n\r\n`;
    // Two 60 KB bodies that never finish hold 120 KB of the 128 KB budget...
    const u = new URL(d.url);
    const holders = [0, 1].map(() => {
      const s = net.connect(Number(u.port), u.hostname, () => s.write(head(60_000) + 'x'.repeat(30_000)));
      s.on('error', () => {});
      return s;
    });
    await new Promise((r) => setTimeout(r, 300));
    // ...so a third is turned away at once, and says when to come back.
    const third = await hold(d.url, { first: head(60_000), each: 'x'.repeat(1000), everyMs: 1000 });
    expect(third.answer).toMatch(/^HTTP\/1\.1 503/);
    expect(third.answer).toMatch(/retry-after: 1/i);
    // When the holders go, their share returns: the same request is read and judged on its signature.
    for (const s of holders) s.destroy();
    await new Promise((r) => setTimeout(r, 300));
    const later = await hold(d.url, { first: head(1000) + 'x'.repeat(1000), each: '', everyMs: 60_000 });
    expect(later.answer).toMatch(/^HTTP\/1\.1 (401|400)/);
  });
});

describe('caps on user-created rows', () => {
  const silence = (i: number) => ({ matchers: { probe: `p${i}` }, duration: '1h', comment: 'c', created_by: 'ana' });
  const post = (url: string, body: unknown) =>
    fetch(`${url}/api/silences`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(ADMIN) }, body: JSON.stringify(body) });

  it('past max_silences a 409 that says what to do; deleting one makes room', async () => {
    const d = await daemon('{ max_silences: 5, silences_per_minute: 1000 }');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await post(d.url, silence(i));
      expect(r.status).toBe(201);
      ids.push(((await r.json()) as { id: string }).id);
    }
    const over = await post(d.url, silence(5));
    expect(over.status).toBe(409);
    expect(((await over.json()) as { message: string }).message).toMatch(/at most 5.*DELETE \/api\/silences/);
    expect(await d.incidents.liveSilenceCount()).toBe(5);
    expect((await fetch(`${d.url}/api/silences/${ids[0]}`, { method: 'DELETE', headers: bearer(ADMIN) })).status).toBe(200);
    expect((await post(d.url, silence(6))).status).toBe(201);
  });

  it('past silences_per_minute a 429 with Retry-After (20,000 silences in 7 s is no longer possible)', async () => {
    const d = await daemon('{ max_silences: 1000, silences_per_minute: 3 }');
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 10; i++) {
      const r = await post(d.url, silence(i));
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get('retry-after');
    }
    expect(statuses.slice(0, 3)).toEqual([201, 201, 201]);
    expect(statuses.slice(3).every((s) => s === 429)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(await d.incidents.liveSilenceCount()).toBe(3);
  });

  it('matchers are bounded in number and size', async () => {
    const d = await daemon('{}');
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`l${i}`, 'x']));
    expect((await post(d.url, { matchers: many, duration: '1h', comment: 'c', created_by: 'a' })).status).toBe(400);
    expect((await post(d.url, { matchers_re: { probe: 'a'.repeat(2000) }, duration: '1h', comment: 'c', created_by: 'a' })).status).toBe(400);
    expect((await post(d.url, { matchers: { probe: 'x' }, duration: '1h', comment: 'c'.repeat(1001), created_by: 'a' })).status).toBe(400);
  });
});
