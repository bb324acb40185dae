// `/metrics` is written in chunks by src/metrics/exposition.ts instead of prom-client's `registry.metrics()`: the
// bytes must be prom-client's, whatever the default labels, escapes, values and series; chunks end on a line; and
// the server streams them, with secrets redacted, without building the page as one string.
import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createMetrics, LLM_LATENCY_BUCKETS } from '../../src/metrics/index.ts';
import { writeExposition } from '../../src/metrics/exposition.ts';
import { registerSecret } from '../../src/config/redact.ts';
import { startServer } from '../../src/server/index.ts';
import type { ServerDeps } from '../../src/server/index.ts';
import { result } from './fixtures.ts';

function busy(n: number, defaults: Record<string, string>) {
  const m = createMetrics({ defaultMetrics: false });
  m.registry.setDefaultLabels(defaults);
  for (let i = 0; i < n; i++) {
    const spec = { id: `p${i}`, owner: i % 3 === 2 ? 'équipe ☃ 東京' : i % 2 ? 'team "a"\\b' : 'platform\nops', target: ['provider:openai', 'provider:anthropic', 'gateway'][i % 3], model: 'gpt-4o-mini' };
    m.observeResult(result({ probeId: spec.id }), spec);
    m.observeResult(result({ probeId: spec.id, servedModel: `gpt-4o-mini-${i % 4}`, outcome: 'failed', errorClass: 'timeout', timings: { connectMs: NaN, tlsMs: null, ttfbMs: null, ttftMs: null, totalMs: 30_000, outputTokensPerSec: null }, tokensOut: null, costUsd: null }), spec);
    if (i % 5 === 0) m.observeResult(result({ probeId: spec.id, outcome: 'degraded', timings: { connectMs: 1, tlsMs: 2, ttfbMs: 3e-7, ttftMs: 1e21, totalMs: 7, outputTokensPerSec: 1 } }), spec);
  }
  m.observeScheduleSkew(12);
  return m;
}

describe('the chunked exposition', () => {
  for (const [what, defaults] of [
    ['no default labels', {}],
    ['a default label with escapes', { location: 'eu "west"\\1\nb' }],
    ['a default label that a series also names', { owner: 'fleet', location: 'eu' }],
  ] as const) {
    it(`gives prom-client's bytes: ${what}`, async () => {
      const m = busy(40, defaults);
      const chunks: Buffer[] = [];
      await writeExposition(m.registry, (c) => void chunks.push(c));
      const ours = Buffer.concat(chunks).toString();
      // Family.getForPromString hands prom-client the same rows as objects: its own formatting is the reference.
      const theirs = await m.registry.metrics();
      expect(ours.length).toBeGreaterThan(10_000);
      expect(ours).toBe(theirs);
      expect(await m.metrics()).toBe(theirs);
    });
  }

  it('writes chunks of whole lines, a chunk at a time, with the loop getting turns between them', async () => {
    const m = busy(600, { location: 'eu' });
    const chunks: Buffer[] = [];
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    await m.writeMetrics(async (c) => {
      chunks.push(c);
      await new Promise((r) => setTimeout(r, 1)); // a slow socket
    });
    clearInterval(ticker);
    expect(chunks.length).toBeGreaterThan(20);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(200 * 1024);
    for (const c of chunks.slice(1)) expect(c[0]).toBe(0x0a); // each starts a line: no line, no character, is split
    expect(turns).toBeGreaterThan(5);
    const page = Buffer.concat(chunks).toString();
    expect(page).toBe(await m.registry.metrics());
    // Every bucket bound of the probes' histograms is there, cumulative, then +Inf, _sum and _count.
    const op = page.split('\n').filter((l) => l.startsWith('gen_ai_client_operation_duration_seconds_bucket') && l.includes('probe="p7"') && l.includes('error_class="none"'));
    expect(op).toHaveLength(LLM_LATENCY_BUCKETS.length + 1);
  });

  it('reuses a chunk only once its writer is done with it', async () => {
    const m = busy(400, { location: 'eu' });
    const copies: Buffer[] = [];
    const seen = new Set<ArrayBufferLike>();
    await m.writeMetrics(
      async (c) => {
        const before = Buffer.from(c);
        seen.add(c.buffer);
        await new Promise((r) => setTimeout(r, 1)); // the socket still holds it: nothing may write into it
        expect(c.equals(before)).toBe(true);
        copies.push(before);
      },
      { reuse: true },
    );
    expect(copies.length).toBeGreaterThan(10);
    expect(seen.size).toBeLessThan(copies.length); // memory came back round
    expect(Buffer.concat(copies).toString()).toBe(await m.registry.metrics());
  });

  it('passes every label text through the redactor, once per label set', async () => {
    const m = busy(30, { location: 'eu-secret-location' });
    m.observeResult(result({ probeId: 'x' }), { id: 'x', owner: 'owner-with-secret-inside', target: 'provider:openai', model: 'gpt-4o-mini' });
    const asked: string[] = [];
    const redact = (t: string) => (asked.push(t), t.replaceAll('secret', '***'));
    const chunks: Buffer[] = [];
    await m.writeMetrics((c) => void chunks.push(c), { redact });
    const page = Buffer.concat(chunks).toString();
    expect(page).not.toContain('secret');
    expect(page).toContain('owner="owner-with-***-inside"');
    expect(page).toContain('location="eu-***-location"');
    // A probe's labels and each served model's: a handful of calls per probe, not one per line.
    expect(asked.length).toBeLessThan(31 * 8);
  });

  it('is served chunked, redacted, and stops when the scraper hangs up', async () => {
    const secret = 'sk-expo-0123456789abcdefXYZ';
    registerSecret(secret);
    const m = busy(300, { location: 'eu' });
    m.observeResult(result({ probeId: 'leaky' }), { id: 'leaky', owner: secret, target: 'provider:openai', model: 'gpt-4o-mini' });
    const deps = { metrics: m, readiness: () => [], listProbes: () => [], queryResults: () => [] } as unknown as ServerDeps;
    const srv = await startServer({ port: 0, deps, auth: { adminTokens: ['admin-token-0123456789'], readTokens: [], publicRead: true } });
    try {
      const res = await request(`${srv.url}/metrics`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe(m.contentType);
      expect(res.headers['transfer-encoding']).toBe('chunked');
      const body = await res.body.text();
      expect(body).not.toContain(secret);
      expect(body).toContain('vigil_probe_results_total{probe="p299"');
      expect(body.endsWith('\n')).toBe(true);
      // A scraper that reads a little and hangs up: the server stops making the page and stays up.
      const cut = await request(`${srv.url}/metrics`);
      for await (const _ of cut.body) break;
      const again = await request(`${srv.url}/metrics`);
      expect((await again.body.text()).length).toBe(body.length);
    } finally {
      await srv.close({ graceMs: 50 });
    }
  });
});
