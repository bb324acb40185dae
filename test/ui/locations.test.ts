// The status page across locations: per-location rows under a probe reported from 2+ locations (none from one),
// who leads now on a shared store, and the heatmap filtered to one location. Time comes from the injected clock.
import { describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../src/store/store.ts';
import type { ClusterView } from '../../src/ui/data.ts';
import { renderLive, renderPage } from '../../src/ui/routes.ts';
import { result, spec, tempStore, uiData } from './helpers.ts';

const NOW = Date.UTC(2026, 0, 14, 12, 30); // a Wednesday; nothing here depends on the real date
const HOSTILE = `<script>alert(1)</script>"'`;

const page = (data: Parameters<typeof renderPage>[0], id: 'overview' | 'heatmap', q = '') => renderPage(data, id, new URLSearchParams(q));

async function twoLocations() {
  const store = tempStore();
  const a = spec('openai-canary');
  const b = spec('anthropic-canary', { target: 'provider:anthropic' });
  const rs = [];
  for (let k = 1; k <= 6; k++) {
    const t = NOW - k * 5 * 60_000;
    rs.push(result(a, t, { location: 'eu-west', timings: { connectMs: 0, tlsMs: null, ttfbMs: 20, ttftMs: 900, totalMs: 500 + k, outputTokensPerSec: null } }));
    rs.push(result(a, t + 1, { location: 'us-east', timings: { connectMs: 0, tlsMs: null, ttfbMs: 20, ttftMs: 100, totalMs: 200, outputTokensPerSec: null } }));
    rs.push(result(b, t, { location: 'eu-west' })); // one location only
  }
  rs.push(result(a, NOW - 60_000, { location: 'eu-west', outcome: 'failed', errorClass: 'server_error' }));
  await store.insertResults(rs);
  return { store, a, b };
}

describe('status page across locations', () => {
  it('overview: a row per location under a probe seen from two, none under a probe seen from one', async () => {
    const { store, a, b } = await twoLocations();
    const body = await page(uiData(store, [a, b], NOW), 'overview');
    expect(body).toContain('data-probe-location="openai-canary@eu-west"');
    expect(body).toContain('data-probe-location="openai-canary@us-east"');
    expect(body).not.toContain('data-probe-location="anthropic-canary@');
    const eu = body.slice(body.indexOf('data-probe-location="openai-canary@eu-west"'), body.indexOf('data-probe-location="openai-canary@us-east"'));
    expect(eu).toContain('Failing'); // its newest outcome
    expect(eu).toContain('1 of 7 failed');
    expect(eu).toContain('504 ms'); // mean 503.5 of the answers (the failure left out)
    expect(eu).not.toContain('503 ms');
    const us = body.slice(body.indexOf('data-probe-location="openai-canary@us-east"'));
    expect(us).toContain('0 of 6 failed');
  });

  it('overview: a single location (or none) looks as before', async () => {
    const store = tempStore();
    const a = spec('openai-canary');
    const b = spec('anthropic-canary', { target: 'provider:anthropic' });
    // One named location for a; rows without one for b (written before migration 9: the API counts them as
    // "default", the location a lone instance has, so they are one location too).
    await store.insertResults([result(a, NOW - 60_000, { location: 'eu-west' }), result(a, NOW - 120_000, { location: 'eu-west' }), result(b, NOW - 60_000), result(b, NOW - 120_000)]);
    const body = await page(uiData(store, [a, b], NOW), 'overview');
    expect(body).not.toContain('data-probe-location');
    expect(body).not.toContain('data-leader');
  });

  it('overview: who leads now on a shared store or with 2+ locations; nothing on a lone instance; a loud notice when nobody leads', async () => {
    const { store, a } = await twoLocations();
    const view = (o: Partial<ClusterView> = {}): ClusterView => ({
      shared: true,
      instance: 'web-2:41:abc',
      location: 'us-east',
      leader: { holder: 'web-1:977:51be02', location: 'eu-west', token: 7, since: NOW - 3 * HOUR_MS, expiresAt: NOW + 8000, live: true },
      ...o,
    });
    const shared = await page(uiData(store, [a], NOW, { cluster: () => view() }), 'overview');
    expect(shared).toContain('data-leader="web-1:977:51be02"');
    expect(shared).toMatch(/Leader now: <strong>web-1:977:51be02<\/strong> in <strong>eu-west<\/strong> since <time datetime="2026-01-14T09:30:00/);
    expect(shared).toContain('fencing token 7');
    expect(shared).toContain('This page: web-2:41:abc (us-east)');

    // Not a shared store, but two locations reported in the last hour: still several instances, so the line shows.
    const twoOnOneFile = await page(uiData(store, [a], NOW, { cluster: () => view({ shared: false }) }), 'overview');
    expect(twoOnOneFile).toContain('data-leader="web-1:977:51be02"');
    // A lone instance: one location, not shared: no line.
    const loneStore = tempStore();
    await loneStore.insertResults([result(a, NOW - 60_000, { location: 'eu-west' })]);
    const lone = await page(uiData(loneStore, [a], NOW, { cluster: () => view({ shared: false }) }), 'overview');
    expect(lone).not.toContain('data-leader');
    expect(lone).toContain('data-probe="openai-canary"');

    const expired = view({ leader: { ...view().leader!, live: false, expiresAt: NOW - 20_000 } });
    const none = await page(uiData(store, [a], NOW, { cluster: () => expired }), 'overview');
    expect(none).toContain('No instance leads now');
    expect(none).toContain('role="alert"');

    const hostile = await page(uiData(store, [a], NOW, { cluster: () => view({ instance: HOSTILE, leader: { ...view().leader!, holder: HOSTILE, location: HOSTILE } }) }), 'overview');
    expect(hostile).not.toContain('<script>alert');
    expect(hostile).toContain('&lt;script&gt;alert(1)');
  });

  it('heatmap: a location selector when 2+ locations reported, and location= filters the cells', async () => {
    const { store, a, b } = await twoLocations();
    const data = uiData(store, [a, b], NOW);
    const cell = (body: string) => {
      const start = body.indexOf('data-heatmap="openai-canary"');
      return [...body.slice(start, body.indexOf('</section>', start)).matchAll(/data-v="(\d+)"/g)].map((m) => Number(m[1]));
    };
    const all = await page(data, 'heatmap');
    expect(all).toMatch(/<select id="hm-location" name="location"><option value="all" selected>All locations<\/option><option value="eu-west">eu-west<\/option><option value="us-east">us-east<\/option><\/select>/);
    expect(cell(all)).toEqual([900]); // p95 of both locations together

    const us = await page(data, 'heatmap', 'location=us-east');
    expect(cell(us)).toEqual([100]);
    expect(us).toContain('<option value="us-east" selected>');
    expect(us).toContain('Showing results from <strong>us-east</strong> only');
    // The live update keeps the filter (the page works without JavaScript; the form submits location= by GET).
    expect(us).toMatch(/data-live="[^"]*location=us-east/);
    expect((await renderLive(data, 'heatmap', new URLSearchParams('location=us-east'))).html).toContain('data-v="100"');
    expect(cell(await page(data, 'heatmap', 'location=eu-west'))).toEqual([900]);
  });

  it('heatmap: an unknown or malformed location is noted and ignored, and escaped', async () => {
    const { store, a } = await twoLocations();
    const data = uiData(store, [a], NOW);
    const unknown = await page(data, 'heatmap', 'location=ap-south');
    expect(unknown).toContain('No results from location "ap-south" in the last 7 days; showing every location.');
    expect(unknown).toContain('data-v="900"');
    const evil = await page(data, 'heatmap', `location=${encodeURIComponent(HOSTILE + 'x'.repeat(5000))}`);
    expect(evil).not.toContain('<script>alert');
    expect(evil).toContain('is not a location name');
    expect(evil).not.toContain('x'.repeat(100)); // quoted back bounded
    expect(evil).toContain('data-v="900"');
  });

  it('heatmap: a single-location store shows no selector', async () => {
    const store = tempStore();
    const a = spec('openai-canary');
    await store.insertResults([result(a, NOW - 60_000, { location: 'eu-west' })]);
    expect(await page(uiData(store, [a], NOW), 'heatmap')).not.toContain('hm-location');
  });
});
