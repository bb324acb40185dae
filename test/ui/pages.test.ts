import { describe, expect, it } from 'vitest';
import type { Incident } from '../../src/domain.ts';
import { HOUR_MS, nearestRank } from '../../src/store/store.ts';
import type { UiData } from '../../src/ui/data.ts';
import { cellClass } from '../../src/ui/pages/heatmap.ts';
import { parseParams } from '../../src/ui/params.ts';
import { dedupeChanges, modelChanges, tailRollups, totalsSince } from '../../src/ui/queries.ts';
import { renderLive, renderPage } from '../../src/ui/routes.ts';
import { PAGES } from '../../src/ui/layout.ts';
import { result, spec, tempStore, uiData } from './helpers.ts';

const NOW = Date.UTC(2026, 0, 14, 12, 30); // a Wednesday
const EVIL = `<img src=x onerror=alert(1)>"'`;

function incident(o: Partial<Incident> = {}): Incident {
  return {
    id: 'inc-1',
    dedupKey: 'availability/x',
    detector: 'availability',
    key: EVIL,
    state: 'firing',
    severity: 'critical',
    summary: `probe ${EVIL} failing <script>alert(2)</script>`,
    labels: { probe: EVIL, owner: 'platform' },
    evidence: {},
    firstSeen: NOW - HOUR_MS,
    lastSeen: NOW - 60_000,
    resolvedAt: null,
    flapping: false,
    notifications: [{ receiver: 'slack', action: 'trigger', status: 'sent', ref: null, at: NOW - HOUR_MS }],
    ...o,
  };
}

async function allPages(data: UiData, query = ''): Promise<Record<string, string>> {
  return Object.fromEntries(await Promise.all(PAGES.map(async (p) => [p.id, await renderPage(data, p.id, new URLSearchParams(query))])));
}

describe('status pages', () => {
  it('escape every user- and model-controlled string on every page', async () => {
    const store = tempStore();
    const canary = spec(EVIL);
    const benign = spec(`benign-${EVIL}`, { kind: 'benign', assertions: [{ refusal: 'forbidden' }] });
    await store.insertResults([
      result(canary, NOW - 120_000, { servedModel: `gpt-<b>${EVIL}`, excerpt: '<script>alert(3)</script>' }),
      result(canary, NOW - 60_000, {
        outcome: 'failed',
        errorClass: 'assertion',
        errorMessage: `contains "pong": text was "<script>alert(4)</script>"`,
        servedModel: `gpt-<i>${EVIL}`,
        fingerprint: '<fp>',
        confirmed: true,
        attempt: 2,
      }),
      result(benign, NOW - 30 * 60_000, { refusal: 'full_refusal', outcome: 'failed', errorClass: 'assertion' }),
    ]);
    const data = uiData(store, [canary, benign], NOW, {
      incidents: (q) => (q.state === 'open' ? [incident()] : [incident({ id: 'inc-2', state: 'resolved', resolvedAt: NOW - 1000 })]),
      silences: () => [{ id: 's1', matchers: { probe: EVIL }, startsAt: NOW - 1000, endsAt: NOW + HOUR_MS, comment: `<script>alert(5)</script>`, createdBy: EVIL }],
      drills: () => [
        { id: EVIL, owner: EVIL, runs: [{ startedAt: NOW - HOUR_MS, finishedAt: NOW - HOUR_MS + 9000, verdict: 'failed', reason: '<script>alert(6)</script>', injected: EVIL, servedBy: EVIL, fallbackLatencyMs: 1200 }] },
      ],
      deprecations: () => [{ model: EVIL, provider: 'openai', shutdownAt: '2026-02-01', daysLeft: 18, owners: [EVIL], usedBy: [`probe ${EVIL}`], replacement: EVIL, url: 'javascript:alert(7)' }],
      refusalBaselines: () => [{ provider: 'openai', model: 'gpt-4o-mini', kind: 'benign', baseline: 0.02, low: 0, high: 0.06 }],
    });
    const pages = await allPages(data, `probe=${encodeURIComponent(EVIL)}&tz=${encodeURIComponent(EVIL)}`);
    pages.heatmapAll = await renderPage(data, 'heatmap', new URLSearchParams('probe=all'));
    for (const [name, body] of Object.entries(pages)) {
      expect(body, name).not.toMatch(/<img src=x/i);
      expect(body, name).not.toMatch(/<script>alert/);
      expect(body, name).not.toMatch(/<(b|i|fp)>/);
      expect(body, name).not.toContain('javascript:');
      expect(body.match(/<h1[ >]/g)?.length, name).toBe(1);
      // Everything the page needs comes from this server.
      expect(body, name).not.toMatch(/(src|href)="(https?:)?\/\/(?!127\.0\.0\.1)/);
    }
    expect(pages.overview).toContain('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;');
    expect(pages.incidents).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(pages.drills).toContain('&lt;script&gt;alert(6)&lt;/script&gt;');
    expect(pages.drills).toMatch(/data-verdict="failed"[\s\S]*Failed[\s\S]*\+1\.2 s/);
    expect(pages.heatmapAll).toContain(`data-heatmap="benign-&lt;img`);
    // The unknown zone falls back to UTC and says so.
    expect(pages.overview).toContain('Unknown time zone');
  });

  it('show honest empty states when nothing is configured or a feature is not wired', async () => {
    const store = tempStore();
    const bare = await allPages(uiData(store, [], NOW));
    expect(bare.overview).toContain('No canary probes configured.');
    expect(bare.overview).toContain('Not wired');
    expect(bare.drills).toContain('No drills configured.');
    expect(bare.safety).toContain('No safety probes configured.');
    expect(bare.deprecations).toContain('Deprecation tracking is not connected');
    expect(bare.incidents).toContain('The incidents engine is not connected');
    expect(bare.heatmap).toContain('No probes to show.');
    const wired = await allPages(uiData(store, [spec('c')], NOW, { drills: () => [], deprecations: () => [], incidents: () => [], silences: () => [] }));
    expect(wired.drills).toContain('No drills configured.');
    expect(wired.deprecations).toContain('No known retirements for the models in use.');
    expect(wired.incidents).toContain('No incident is firing or pending.');
    expect(wired.incidents).toContain('No active or scheduled silences.');
    expect(wired.overview).toContain('data-status="unknown"');
    expect(wired.overview).toMatch(/data-probe="c"[\s\S]*No data/);
  });

  it('overview: status in words matching the last outcome, uptime and 24 h percentiles from rollups plus the raw tail', async () => {
    const store = tempStore();
    const s = spec('openai-canary');
    const rs = [];
    const ttfts: number[] = [];
    // 2 h of results every minute; every 10th failed (confirmed on its re-probe).
    for (let i = 0; i < 120; i++) {
      const t = NOW - 120 * 60_000 + i * 60_000;
      if (i % 10 === 3) {
        rs.push(result(s, t, { outcome: 'failed', errorClass: 'server_error', httpStatus: 500 }));
        rs.push(result(s, t + 2000, { outcome: 'failed', errorClass: 'server_error', httpStatus: 500, attempt: 2, confirmed: true }));
      } else {
        const ttft = 100 + ((i * 37) % 400);
        ttfts.push(ttft);
        rs.push(result(s, t, { timings: { connectMs: 0, tlsMs: null, ttfbMs: 10, ttftMs: ttft, totalMs: ttft + 10, outputTokensPerSec: null } }));
      }
    }
    await store.insertResults(rs);
    // Roll up only the first complete hour: the rest must come from raw rows.
    await store.rollup(NOW - 90 * 60_000);
    expect(await store.rollupWatermark()).not.toBeNull();
    const page = await renderPage(uiData(store, [s], NOW), 'overview', new URLSearchParams());
    const failures = rs.filter((r) => r.outcome === 'failed').length;
    const uptime = (rs.length - failures) / rs.length;
    expect(page).toContain(`${(Math.floor(uptime * 10000) / 100).toFixed(2).replace(/\.?0+$/, '')} %`);
    ttfts.sort((a, b) => a - b);
    expect(page).toContain(`<span class="p50" title="p50">${nearestRank(ttfts, 50)} ms</span>`);
    expect(page).toContain(`<span class="p95" title="p95">${nearestRank(ttfts, 95)} ms</span>`);
    expect(page).toMatch(/data-probe="openai-canary"[\s\S]*data-status="ok" data-outcome="ok"[^>]*><span aria-hidden="true">✓<\/span> OK/);
    const t = (await totalsSince(store, NOW - 24 * HOUR_MS, NOW)).get(s.id)!;
    expect(t.count).toBe(rs.length);
    expect(t.failures).toBe(failures);

    // The newest result decides the status text.
    for (const [o, text] of [
      [{ outcome: 'failed', errorClass: 'timeout', confirmed: false, attempt: 1 }, 'Failed, confirming'],
      [{ outcome: 'failed', errorClass: 'timeout', confirmed: true, attempt: 2 }, 'Failing'],
      [{ outcome: 'degraded', errorMessage: 'max_ttft_ms 1000: ttft 1500 ms' }, 'Degraded'],
    ] as const) {
      const st = tempStore();
      await st.insertResult(result(s, NOW - 1000, o));
      const body = (await renderLive(uiData(st, [s], NOW), 'overview', new URLSearchParams())).html;
      expect(body).toContain(`data-outcome="${o.outcome}"`);
      expect(body).toContain(`</span> ${text}</span>`);
    }
  });

  it('computes the not-yet-rolled-up hours exactly as the store rolls them up', async () => {
    const store = tempStore();
    const a = spec('a');
    const b = spec('b');
    const rs = [];
    for (let i = 0; i < 400; i++) {
      const s = i % 2 ? a : b;
      const outcome = i % 13 === 0 ? 'failed' : i % 7 === 0 ? 'degraded' : 'ok';
      const ttft = (i * 7919) % 1000;
      rs.push(
        result(s, NOW - 3 * HOUR_MS + i * 27_000, {
          outcome,
          refusal: i % 5 === 0 ? 'full_refusal' : 'full_compliance',
          costUsd: i / 1000,
          timings: { connectMs: 0, tlsMs: null, ttfbMs: 1, ttftMs: i % 11 === 0 ? null : ttft, totalMs: ttft + 5, outputTokensPerSec: null },
        }),
      );
    }
    await store.insertResults(rs);
    const tail = await tailRollups(store.sql, NOW - 4 * HOUR_MS, null);
    await store.rollup(NOW + HOUR_MS);
    const rolled = await store.rollups({ since: NOW - 4 * HOUR_MS });
    const key = (r: { probeId: string; hourStart: number }) => `${r.probeId}@${r.hourStart}`;
    const norm = (xs: typeof rolled) => [...xs].sort((x, y) => key(x).localeCompare(key(y))).map((r) => ({ ...r, costUsd: Math.round(r.costUsd * 1e9) }));
    expect(tail.length).toBeGreaterThan(4);
    expect(norm(tail)).toEqual(norm(rolled));
  });

  it('heatmap: 7 × 24 cells per probe in the chosen zone, coloured against the budget', async () => {
    const store = tempStore();
    const s = spec('hm', { assertions: [{ max_ttft_ms: 1000 }] });
    const rs = [];
    // A week of hourly results: 900 ms at 14:00 UTC (09:00 New York in January), 1500 ms at 15:00 UTC, else 200.
    for (let h = 0; h < 7 * 24; h++) {
      const t = NOW - 7 * 24 * HOUR_MS + h * HOUR_MS;
      const hour = new Date(t).getUTCHours();
      const ttft = hour === 14 ? 900 : hour === 15 ? 1500 : 200;
      rs.push(result(s, t, { timings: { connectMs: 0, tlsMs: null, ttfbMs: 1, ttftMs: ttft, totalMs: ttft, outputTokensPerSec: null } }));
    }
    await store.insertResults(rs);
    await store.rollup(NOW);
    const body = await renderPage(uiData(store, [s], NOW), 'heatmap', new URLSearchParams('tz=America/New_York'));
    const panel = body.slice(body.indexOf('data-heatmap="hm"'));
    expect(panel.match(/<td class="hm /g)).toHaveLength(168);
    // Monday row: 09 local is near budget (900 of 1000), 10 local is over budget and flagged.
    const mon = panel.slice(panel.indexOf('abbr="Monday"'), panel.indexOf('abbr="Tuesday"'));
    const cells = [...mon.matchAll(/<td class="hm ([\w-]+)"[^>]*>([^<]*)/g)].map((m) => [m[1], m[2]]);
    expect(cells).toHaveLength(24);
    expect(cells[9]).toEqual(['hm-warn', '900']);
    expect(cells[10]).toEqual(['hm-over', '1.5s']);
    expect(cells[3]).toEqual(['hm-0', '200']);
    expect(mon).toContain('over budget');
    expect(panel).toContain('Slowest <strong>');
    expect(cellClass(null, 1, 2, null)).toBe('hm-none');
    expect(cellClass(10, 0, 10, null)).toBe('hm-4');
    expect(cellClass(0, 0, 10, null)).toBe('hm-0');
  });

  it('finds served-model and fingerprint changes, once per provider and model', async () => {
    const store = tempStore();
    const a = spec('a');
    const b = spec('b');
    const gw = spec('gw', { target: 'gateway' });
    const rs = [];
    for (let i = 0; i < 10; i++) {
      const swapped = i >= 5;
      for (const s of [a, b, gw]) {
        rs.push(result(s, NOW - HOUR_MS + i * 60_000 + (s === b ? 1000 : 0), { servedModel: swapped ? 'gpt-4o-mini-new' : 'gpt-4o-mini-old', fingerprint: i >= 7 ? 'fp_b' : 'fp_a' }));
      }
    }
    await store.insertResults(rs);
    const all = await modelChanges(store.sql, 0);
    expect(all.map((c) => [c.probeId, c.kind, c.from, c.to])).toEqual([
      ['a', 'snapshot', 'gpt-4o-mini-old', 'gpt-4o-mini-new'],
      ['b', 'snapshot', 'gpt-4o-mini-old', 'gpt-4o-mini-new'],
      ['a', 'fingerprint', 'fp_a', 'fp_b'],
      ['b', 'fingerprint', 'fp_a', 'fp_b'],
    ]);
    expect(dedupeChanges(all).map((c) => [c.probeId, c.kind])).toEqual([
      ['a', 'snapshot'],
      ['a', 'fingerprint'],
    ]);
  });

  it('parses page parameters leniently and says what it ignored', async () => {
    expect(parseParams(new URLSearchParams('tz=Mars/Olympus&poll=1&days=9999&metric=x'))).toMatchObject({ tz: 'UTC', poll: 15, days: 7, metric: 'ttft' });
    expect(parseParams(new URLSearchParams('tz=Mars/Olympus&poll=1&days=9999&metric=x')).notes).toHaveLength(4);
    expect(parseParams(new URLSearchParams('tz=Asia/Tokyo&metric=total&days=28&probe=p1'))).toMatchObject({ tz: 'Asia/Tokyo', metric: 'total', days: 28, probe: 'p1', notes: [] });
  });
});
