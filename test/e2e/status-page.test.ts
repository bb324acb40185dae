// The status page in a real browser (Debian's chromium driven by playwright-core): the shipped config against the
// simulator with a month of seeded history, as `vigil demo` runs it. Each panel is checked against the JSON API
// (or the daemon's own state) and the simulator's known truth; screenshots go to test-output/status-page/.
// UPDATE_DOCS_SCREENSHOTS=1 also rewrites docs/overview.png and docs/heatmap.png for the README.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/log.ts';
import type { Notifier, ReceiverKind } from '../../src/notifiers/types.ts';
import { simEnv } from '../../src/sim/env.ts';
import { startSimFleet } from '../../src/sim/fleet.ts';
import type { SimFleet } from '../../src/sim/fleet.ts';
import { DEMO_SCENARIO, seedDemoHistory } from '../../src/ui/seed-history.ts';
import type { SeedReport } from '../../src/ui/seed-history.ts';
import { latencyMultiplier, localTime } from '../../src/sim/latency.ts';
import { PROVIDER_LATENCY } from '../../src/sim/profiles.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const OUT = join(ROOT, 'test-output', 'status-page');
const DAY = 86_400_000;

if (!HAVE_CHROMIUM) console.warn(`status page e2e skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

interface ApiLast {
  startedAt: number;
  outcome: 'ok' | 'degraded' | 'failed';
  confirmed: boolean;
  attempt: number;
  servedModel: string | null;
}
interface ApiProbe {
  id: string;
  kind: string;
  target: string;
  last: ApiLast | null;
}

/** What the page must say for a probe's last result (independent of the renderer's own mapping). */
function expectedStatus(last: ApiLast | null): string {
  if (!last) return 'No data';
  if (last.outcome === 'ok') return 'OK';
  if (last.outcome === 'degraded') return 'Degraded';
  return last.confirmed || last.attempt > 1 ? 'Failing' : 'Failed, confirming';
}

// Callbacks passed to page.$$eval/evaluate run in the browser; the project compiles without the DOM lib, so
// they are typed loosely here.
// biome-ignore lint: browser-side values
type El = any;
declare const document: El;

const silent = (kind: ReceiverKind): Notifier => ({ kind, deliver: async () => ({ ok: true, retryable: false }) });

/** The provider whose profile a canary sees: its own, or the gateway's primary (Anthropic). */
function servedBy(target: string): 'openai' | 'anthropic' | 'gemini' {
  const p = target === 'gateway' ? 'anthropic' : target.replace(/^provider:/, '');
  if (p !== 'openai' && p !== 'anthropic' && p !== 'gemini') throw new Error(`unexpected target ${target}`);
  return p;
}

/** An instant in the past week at heatmap row `row` (0 = Monday … 6 = Sunday), `hour`:30 in New York. */
function nyInstant(row: number, hour: number): number {
  const start = Math.floor(Date.now() / 900_000) * 900_000 - 7 * DAY;
  for (let t = start; t < start + 7 * DAY; t += 900_000) {
    const l = localTime(t, 'America/New_York');
    if ((l.weekday + 6) % 7 === row && l.hour === hour + 0.5) return t;
  }
  throw new Error(`no instant for row ${row} hour ${hour}`);
}

describe.skipIf(!HAVE_CHROMIUM)('status page in a real browser', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'vigil-ui-e2e-'));
  let fleet: SimFleet;
  let daemon: Daemon;
  let ctx: BrowserContext;
  let page: Page;
  let seeded: SeedReport;
  let base = '';
  const scriptErrors: string[] = [];

  const api = async <T>(path: string): Promise<T> => (await (await fetch(base + path)).json()) as T;
  const probes = async () => (await api<{ probes: ApiProbe[] }>('/api/probes')).probes;
  const shot = async (name: string, fullPage = true) => page.screenshot({ path: join(OUT, `${name}.png`), fullPage });

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    // As the demo runs it: each provider with its own latency profile (src/sim/profiles.ts).
    fleet = await startSimFleet({ seed: 7, realistic: true });
    const env: Record<string, string | undefined> = {
      ...process.env,
      ...simEnv(fleet.urls),
      VIGIL_DB: join(tmp, 'demo.db'),
      // An ephemeral port for the spawned fault proxy, not the shipped 9465 (another run may hold it).
      VIGIL_CHAOS_PORT: '0',
    };
    for (const k of ['SLACK_BOT_TOKEN', 'PD_PLATFORM_ROUTING_KEY']) delete env[k];
    seeded = await seedDemoHistory({ configDir: ROOT, env, fleet });
    daemon = await Daemon.start({
      configDir: ROOT,
      env,
      listen: { port: 0 },
      log: createLogger({ level: 'error' }),
      notifiers: { console: silent('console'), slack: silent('slack'), pagerduty: silent('pagerduty') },
    });
    await daemon.runNow();
    base = daemon.url;
    const { chromium } = await import('playwright-core');
    ctx = await chromium.launchPersistentContext(join(tmp, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 800 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      // Under CI's faketime runs (.ci/run) the daemon lives on the fake date and the browser keeps the real clock:
      // with libfaketime preloaded chromium's pages time out. The page's script reads no clock; every time it
      // shows was computed by the daemon.
      env: Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && k !== 'LD_PRELOAD' && !k.startsWith('FAKETIME'))) as Record<string, string>,
    });
    page = await ctx.newPage();
    page.on('pageerror', (e) => scriptErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') scriptErrors.push(m.text());
    });
  }, 120_000);

  afterEach(() => {
    expect(scriptErrors.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    await ctx?.close();
    await daemon?.stop();
    await fleet?.close();
    rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  it('seeded a month of history', () => {
    expect(seeded.skipped).toEqual([]);
    expect(seeded.results).toBeGreaterThan(30_000);
    expect(seeded.incidents).toBeGreaterThan(0);
    expect(seeded.to - seeded.from).toBe(30 * DAY);
  });

  it('overview: one row per canary, status text and served model as /api/probes reports them', async () => {
    let mismatch = '';
    for (let attempt = 0; attempt < 4; attempt++) {
      const before = await probes();
      await page.goto(base + '/');
      const rows = await page.$$eval('tr[data-probe]', (trs: El[]) =>
        trs.map((tr: El) => {
          const badge = tr.querySelector('.status')!;
          // What a screen reader reads: the symbol is aria-hidden.
          const spoken = Array.from(badge.childNodes)
            .filter((n: El) => !(n.nodeType === 1 && n.getAttribute('aria-hidden') === 'true'))
            .map((n: El) => n.textContent)
            .join('')
            .trim();
          return {
            id: (tr as El).dataset.probe!,
            outcome: (badge as El).dataset.outcome,
            spoken,
            model: tr.querySelector('td.model')!.textContent!.trim(),
            uptime: tr.querySelectorAll('td.num')[0].textContent!.trim(),
            spark: tr.querySelectorAll('svg.spark[role=img][aria-label]').length,
          };
        }),
      );
      const after = await probes();
      const canaries = after.filter((p: El) => p.kind === 'canary');
      expect(rows.map((r) => r.id).sort()).toEqual(canaries.map((p: El) => p.id).sort());
      const stable = (id: string) => before.find((p) => p.id === id)?.last?.startedAt === after.find((p) => p.id === id)?.last?.startedAt;
      mismatch = '';
      for (const r of rows) {
        const p = after.find((x) => x.id === r.id)!;
        expect(r.spark, r.id).toBe(2);
        expect(r.uptime, r.id).toMatch(/^\d+(\.\d+)? %$/);
        if (!stable(r.id)) {
          mismatch = `${r.id} got a new result while the page loaded`;
          continue;
        }
        expect(r.outcome, r.id).toBe(p.last?.outcome ?? '');
        expect(r.spoken, r.id).toBe(expectedStatus(p.last));
        expect(r.model, r.id).toBe(p.last?.servedModel ?? '–');
      }
      if (!mismatch) break;
    }
    expect(mismatch).toBe('');
    // The summary cards and the safety sets: as many safety probes as the API lists.
    const api = await probes();
    const safetyTotal = await page.$$eval('tr[data-safety-target] td.num:first-of-type', (tds: El[]) => tds.reduce((n: number, td: El) => n + Number(td.textContent), 0));
    expect(safetyTotal).toBe(api.filter((p: El) => p.kind !== 'canary').length);
    await shot('overview');
  });

  it('heatmap: 168 hour-of-week cells per canary, slowest around 9am New York on weekdays, zone switch by the form', async () => {
    await page.goto(base + '/status/heatmap?tz=America/New_York');
    const canaries = (await probes()).filter((p: El) => p.kind === 'canary');
    const grids = await page.$$eval('[data-heatmap]', (panels: El[]) =>
      panels.map((p: El) => ({
        id: (p as El).dataset.heatmap!,
        cells: p.querySelectorAll('td.hm').length,
        rows: Array.from(p.querySelectorAll('tbody tr'), (tr: El) => Array.from(tr.querySelectorAll('td.hm'), (td: El) => ((td as El).dataset.v ? Number((td as El).dataset.v) : null))),
        titled: Array.from(p.querySelectorAll('td.hm')).every((td: El) => (td.getAttribute('title') ?? '').length > 10),
      })),
    );
    expect(grids.map((g) => g.id).sort()).toEqual(canaries.map((p: El) => p.id).sort());
    for (const g of grids) {
      expect(g.cells, g.id).toBe(168);
      expect(g.rows.flat().filter((v) => v !== null).length, g.id).toBeGreaterThanOrEqual(160);
      expect(g.titled, g.id).toBe(true);
      // Every provider's profile (src/sim/profiles.ts) is slowest on weekday mornings in New York, each at its
      // own hour between 9 and 10:30; the gateway's primary is Anthropic.
      for (let d = 0; d < 5; d++) {
        const row = g.rows[d];
        const max = Math.max(...row.map((v) => v ?? 0));
        expect([7, 8, 9, 10, 11], `${g.id} day ${d}: ${row.join(' ')}`).toContain(row.indexOf(max));
      }
      // Weekends are flat (no hour more than twice the row's median) except where the provider plans a weekly
      // window: there the row peaks at the planned hour, well above its median.
      const provider = servedBy(canaries.find((p: El) => p.id === g.id)!.target);
      for (const d of [5, 6]) {
        const planned = Array.from({ length: 24 }, (_, h) => latencyMultiplier(PROVIDER_LATENCY[provider], nyInstant(d, h)));
        const vs = g.rows[d].filter((v): v is number => v !== null).sort((a, b) => a - b);
        const median = vs[Math.floor(vs.length / 2)];
        const flat = g.rows[d].filter((v, h): v is number => v !== null && planned[h] < 1.15);
        expect(Math.max(...flat), `${g.id} weekend day ${d}: ${g.rows[d].join(' ')}`).toBeLessThan(2 * median);
        if (Math.max(...planned) > 2) {
          const peak = planned.indexOf(Math.max(...planned));
          const row = g.rows[d].map((v) => v ?? 0);
          expect([peak - 1, peak, peak + 1], `${g.id} window day ${d}: ${row.join(' ')}`).toContain(row.indexOf(Math.max(...row)));
          expect(Math.max(...row)).toBeGreaterThan(1.7 * median);
        }
      }
    }
    // Gemini is the one with a weekly window (Sunday, early Pacific time): the check above ran for it.
    expect(Math.max(...Array.from({ length: 24 }, (_, h) => latencyMultiplier(PROVIDER_LATENCY.gemini, nyInstant(6, h))))).toBeGreaterThan(2);
    // The gemini slowdown of the demo week is over the 5 s TTFT budget: flagged, not only coloured.
    const gemini = await page.$$eval('[data-heatmap="gemini-canary"] td.hm-over', (tds: El[]) => tds.map((td: El) => td.textContent));
    expect(gemini.length).toBeGreaterThan(0);
    for (const t of gemini) expect(t).toMatch(/!\s*over budget$/);
    await shot('heatmap');
    if (process.env.UPDATE_DOCS_SCREENSHOTS === '1') {
      mkdirSync(join(ROOT, 'docs'), { recursive: true });
      // Gemini's week has the slow morning: the budget colours show next to the diurnal shades.
      await page.goto(base + '/status/heatmap?tz=America/New_York&probe=gemini-canary');
      await page.screenshot({ path: join(ROOT, 'docs', 'heatmap.png') });
      await page.goto(base + '/');
      await page.screenshot({ path: join(ROOT, 'docs', 'overview.png') });
      await page.goto(base + '/status/heatmap?tz=America/New_York');
    }

    // The form works (the script submits on change): Tokyo is 14 h ahead of New York in winter, 13 in summer.
    await page.selectOption('#hm-tz', 'Asia/Tokyo');
    await page.waitForURL(/tz=Asia%2FTokyo/);
    const rows = await page.$$eval('[data-heatmap="openai-canary"] tbody tr', (trs: El[]) =>
      trs.map((tr: El) => Array.from(tr.querySelectorAll('td.hm'), (td: El) => Number((td as El).dataset.v ?? 0))),
    );
    const flat = rows.flat();
    const peakHour = flat.indexOf(Math.max(...flat)) % 24;
    expect([21, 22, 23, 0, 1]).toContain(peakHour);
    expect(await page.locator('#hm-tz').inputValue()).toBe('Asia/Tokyo');
  });

  it('safety & drift: refusal charts per provider and model, the week’s snapshot swap marked and consistent with /api/probes', async () => {
    await page.goto(base + '/status/safety');
    const swap = DEMO_SCENARIO.swaps[0];
    const groups = await page.$$eval('[data-safety]', (ss: El[]) =>
      ss.map((s: El) => ({
        key: (s as El).dataset.safety!,
        chart: s.querySelector('svg.chart[role=img]')?.getAttribute('aria-label') ?? '',
        markers: s.querySelectorAll('svg .marker').length,
        streams: Array.from(s.querySelectorAll('tr[data-stream]'), (tr: El) => (tr as El).dataset.stream),
      })),
    );
    const api = await probes();
    const expected = new Set(api.filter((p: El) => p.kind !== 'canary').map((p: El) => `${p.target.replace('provider:', '')}`));
    expect(new Set(groups.map((g) => g.key.split(':')[0]))).toEqual(expected);
    const openai = groups.find((g) => g.key === `openai:${swap.alias}`)!;
    expect(openai.markers).toBe(1);
    expect(openai.streams).toEqual([`openai:${swap.alias}:benign`, `openai:${swap.alias}:should_refuse`]);
    expect(openai.chart).toContain(`${swap.snapshot}`);
    const changes = await page.$$eval('tr[data-change="snapshot"]', (trs: El[]) => trs.map((tr: El) => Array.from(tr.querySelectorAll('td'), (td: El) => td.textContent!.trim())));
    expect(changes.some((c) => c.includes(swap.snapshot))).toBe(true);
    // The live daemon continues the story: the canary is served the new snapshot now.
    expect(api.find((p) => p.id === 'openai-canary')!.last!.servedModel).toBe(swap.snapshot);
    await shot('safety');
  });

  it('incidents: open count and recent list agree with /api/incidents', async () => {
    await page.goto(base + '/status/incidents');
    const open = await api<{ count: number }>('/api/incidents?state=open&limit=1000');
    const resolved = await api<{ incidents: { resolvedAt: number | null; lastSeen: number }[] }>('/api/incidents?state=resolved&limit=1000');
    const recent = resolved.incidents.filter((i) => (i.resolvedAt ?? i.lastSeen) >= Date.now() - 7 * DAY - 60_000).length;
    expect(recent).toBeGreaterThan(0);
    expect(await page.locator('#open').textContent()).toBe(`Open (${open.count})`);
    expect(await page.locator('tr[data-state="firing"], tr[data-state="pending"]').count()).toBe(open.count);
    expect(await page.locator('tr[data-state="resolved"]').count()).toBe(Math.min(25, recent));
    await shot('incidents');
  });

  it('drills and deprecations: what the daemon knows, or an honest empty state', async () => {
    await page.goto(base + '/status/drills');
    const res = await fetch(base + '/api/drills');
    const apiDrills = res.ok ? ((await res.json()) as { drills: { id: string; runs: { verdict: string }[] }[] }).drills : [];
    const shownDrills = await page.$$eval('[data-drill]', (ss: El[]) =>
      ss.map((s) => ({ id: s.dataset.drill, verdicts: Array.from(s.querySelectorAll('tr[data-verdict]'), (tr: El) => tr.dataset.verdict) })),
    );
    expect(shownDrills.map((d) => d.id).sort()).toEqual(apiDrills.map((d) => d.id).sort());
    for (const d of apiDrills) expect(shownDrills.find((x) => x.id === d.id)!.verdicts.slice(0, d.runs.length)).toEqual(d.runs.map((r) => r.verdict).slice(0, 20));
    if (apiDrills.length === 0) await expect(page.locator('main').textContent()).resolves.toContain('No drills configured.');
    await shot('drills');
    await page.goto(base + '/status/deprecations');
    const rows = await daemon.lifecycle.rows();
    const shown = await page.$$eval('tr[data-model]', (trs: El[]) => trs.map((tr: El) => (tr as El).dataset.model));
    expect(shown).toEqual(rows.map((r) => r.model));
    if (rows.length === 0) await expect(page.locator('main').textContent()).resolves.toContain('No known retirements');
    await shot('deprecations');
  });

  it('updates without a reload, and works without the script', async () => {
    await page.goto(base + '/?poll=2');
    const first = await page.locator('#live').getAttribute('data-generated');
    await page.waitForFunction((prev) => document.getElementById('live')!.dataset.generated !== prev, first, { timeout: 20_000 });
    await expect(page.locator('#live-status').textContent()).resolves.toMatch(/^Updated .*Live: refreshes every 2 s\./);
    expect(await page.locator('tr[data-probe]').count()).toBeGreaterThan(0);

    const html = await (await fetch(base + '/')).text();
    expect(html).toContain('<noscript><meta http-equiv="refresh" content="60"></noscript>');
    const noJs = await ctx.newPage();
    await noJs.route('**/status/assets/app.js', (r) => r.abort());
    await noJs.goto(base + '/status/heatmap');
    expect(await noJs.locator('td.hm').count()).toBeGreaterThanOrEqual(168);
    await noJs.close();
  });

  it('reads on a phone and meets the accessibility basics on every page', async () => {
    const pages = ['/', '/status/heatmap', '/status/drills', '/status/safety', '/status/deprecations', '/status/incidents'];
    for (const path of pages) {
      await page.goto(base + path);
      const a11y = await page.evaluate(() => ({
        h1: document.querySelectorAll('h1').length,
        lang: document.documentElement.lang,
        unlabelled: Array.from(document.querySelectorAll('select, input, textarea')).filter((el: El) => (el as El).labels?.length === 0).length,
        svgNoName: Array.from(document.querySelectorAll('svg:not([aria-hidden=true])')).filter((s: El) => !s.getAttribute('aria-label') || !s.querySelector('title')).length,
        thNoScope: Array.from(document.querySelectorAll('th')).filter((th: El) => !th.getAttribute('scope')).length,
        badgesWithoutText: Array.from(document.querySelectorAll('.status')).filter((b: El) => (b.textContent ?? '').replace(/[^A-Za-z]/g, '').length < 2).length,
        currentNav: document.querySelectorAll('nav a[aria-current=page]').length,
      }));
      expect(a11y, path).toEqual({ h1: 1, lang: 'en', unlabelled: 0, svgNoName: 0, thNoScope: 0, badgesWithoutText: 0, currentNav: 1 });
    }
    await page.setViewportSize({ width: 390, height: 844 });
    for (const path of ['/', '/status/heatmap', '/status/incidents']) {
      await page.goto(base + path);
      // Nothing pushes the page sideways: wide tables scroll inside their own region.
      const w = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(w, path).toBeLessThanOrEqual(390);
    }
    await page.goto(base + '/');
    await shot('overview-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });
});
