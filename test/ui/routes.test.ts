// The status page over HTTP: content types, the page's content policy, the live endpoint, assets, 404s.
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/index.ts';
import type { VigilServer } from '../../src/server/index.ts';
import { uiRoutes } from '../../src/ui/routes.ts';
import { result, spec, tempStore, uiData } from './helpers.ts';

const NOW = Date.UTC(2026, 0, 14, 12, 30);
let server: VigilServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function serve() {
  const store = tempStore();
  const s = spec('openai-canary');
  await store.insertResult(result(s, NOW - 5000, { outcome: 'degraded', errorMessage: 'max_ttft_ms 1000: ttft 1400 ms' }));
  const data = uiData(store, [s], NOW);
  server = await startServer({
    port: 0,
    deps: { metrics: { contentType: 'text/plain', metrics: async () => '' }, readiness: () => [], listProbes: () => [], queryResults: () => [] },
    log: { error: () => {}, warn: () => {} },
  });
  for (const r of uiRoutes(data)) server.addRoute(r.method, r.pattern, r.handler);
  return server.url;
}

describe('status page routes', () => {
  it('serves HTML pages with a strict content policy, and the same content as JSON for live updates', async () => {
    const base = await serve();
    for (const path of ['/', '/status', '/status/overview', '/status/heatmap', '/status/drills', '/status/safety', '/status/deprecations', '/status/incidents']) {
      const res = await fetch(base + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy'), path).toContain("script-src 'self'");
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(await res.text(), path).toMatch(/^<!doctype html>\n<html lang="en">/);
    }
    const page = await (await fetch(`${base}/?tz=Asia/Tokyo`)).text();
    expect(page).toContain('data-live="/status/live/overview?tz=Asia%2FTokyo"');
    const live = await fetch(`${base}/status/live/overview?tz=Asia/Tokyo`);
    expect(live.headers.get('content-type')).toContain('application/json');
    const body = (await live.json()) as { html: string; generatedAt: string; updated: string };
    expect(body.generatedAt).toBe(new Date(NOW).toISOString());
    expect(body.updated).toContain('2026-01-14 21:30:00</time> Asia/Tokyo');
    expect(body.html).toContain('data-outcome="degraded"');
    expect(page).toContain(body.html.slice(0, 200));
  });

  it('serves its own script and stylesheet, and 404s unknown pages', async () => {
    const base = await serve();
    const js = await fetch(`${base}/status/assets/app.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toContain("getElementById('live')");
    const css = await fetch(`${base}/status/assets/style.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).toContain('.heatmap');
    expect((await fetch(`${base}/status/nope`)).status).toBe(404);
    expect((await fetch(`${base}/status/live/nope`)).status).toBe(404);
    expect((await fetch(`${base}/status/heatmap`, { method: 'POST' })).status).toBe(405);
  });
});
