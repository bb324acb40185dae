// The demo's week of history: real template calls against the simulator, replayed with the planned latency and
// the scenario's incidents, swap and refusal changes; a second run fills only the gap.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import type { VigilConfig } from '../../src/config/types.ts';
import { IncidentManager, alertsConfig } from '../../src/incidents/index.ts';
import { simEnv } from '../../src/sim/env.ts';
import { startSimFleet } from '../../src/sim/fleet.ts';
import type { SimFleet } from '../../src/sim/fleet.ts';
import { DEFAULT_LATENCY, planLatency } from '../../src/sim/latency.ts';
import { Store } from '../../src/store/store.ts';
import { DEMO_SCENARIO, atTime, seedHistory } from '../../src/ui/seed-history.ts';
import type { SeedReport } from '../../src/ui/seed-history.ts';
import { ManualClock } from '../../src/clock.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DAY = 86_400_000;
const HOUR = 3_600_000;
// A Wednesday afternoon: the scenario's days 1..5 are weekdays and weekends alike.
const NOW = Date.UTC(2026, 10, 18, 16, 20);
const at = (a: { day: number; hour: number; weekday?: boolean }) => atTime(NOW, a);

describe('atTime', () => {
  it('puts weekday-only events on a UTC weekday inside the seeded week, whatever day the demo starts', async () => {
    for (let d = 0; d < 14; d++) {
      const now = Date.UTC(2026, 10, 16 + d, 14, 30);
      for (const slow of DEMO_SCENARIO.slow) {
        const t = atTime(now, slow);
        expect([1, 2, 3, 4, 5], new Date(now).toISOString()).toContain(new Date(t).getUTCDay());
        expect(t).toBeGreaterThan(now - 7 * DAY);
        expect(t + slow.minutes * 60_000).toBeLessThan(now);
      }
    }
  });
  it('leaves other events where they are', async () => {
    expect(atTime(NOW, { day: 5, hour: 13 })).toBe(Math.floor(NOW / DAY) * DAY - 5 * DAY + 13 * HOUR);
  });
});

describe('seedHistory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-seed-'));
  let fleet: SimFleet;
  let store: Store;
  let config: VigilConfig;
  let report: SeedReport;

  beforeAll(async () => {
    fleet = await startSimFleet({ seed: 3 });
    const env = { ...simEnv(fleet.urls), VIGIL_DB: join(dir, 'v.db') };
    config = loadConfig(ROOT, { env }).config!;
    store = Store.open(config.storage.path);
    report = await seedHistory({ store, config, fleet, now: NOW });
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await fleet?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('covers the week for every probe at its spacing, fast', async () => {
    expect(report.skipped).toEqual([]);
    expect(report.probes).toBe(config.probes.length);
    // Not under faketime (.ci/run's dated runs), where every clock read is intercepted: there only the dates matter.
    if (!process.env.FAKETIME) expect(report.ms).toBeLessThan(20_000);
    for (const p of config.probes) {
      const rs = (await store.results({ probe: p.id })).filter((r) => r.attempt === 1);
      const step = Math.max(p.schedule.everyMs!, 300_000);
      expect(rs.length, p.id).toBeGreaterThanOrEqual(Math.floor((7 * DAY) / step) - 1);
      expect(rs[0].startedAt, p.id).toBeGreaterThanOrEqual(NOW - 7 * DAY);
      expect(rs.at(-1)!.startedAt, p.id).toBeLessThan(NOW);
      expect(rs[1].startedAt - rs[0].startedAt, p.id).toBe(step);
    }
    // Everything before the current hour is rolled up.
    expect(await store.rollupWatermark()).toBe(Math.floor(NOW / HOUR) * HOUR);
  });

  it('records the latency the simulator plans for each instant (diurnal peak included)', async () => {
    const rs = (await store.results({ probe: 'openai-canary' })).filter((r) => r.outcome === 'ok');
    let peak = 0;
    for (const r of rs) {
      const plan = planLatency(DEFAULT_LATENCY, r.startedAt, 1);
      // ±10 % jitter, plus up to 3 ms of wire time.
      expect(r.timings.ttftMs!).toBeGreaterThanOrEqual(plan.ttftMs * 0.9);
      expect(r.timings.ttftMs!).toBeLessThanOrEqual(plan.ttftMs * 1.1 + 3.5);
      peak = Math.max(peak, plan.multiplier);
    }
    expect(peak).toBeGreaterThan(2.5);
  });

  it('plays the scenario: a confirmed overload with a gateway fallback, a slow morning, the swap, refusal changes', async () => {
    const f = DEMO_SCENARIO.faults[0];
    const inFault = await store.results({ probe: 'anthropic-canary', since: at(f), until: at(f) + f.minutes * 60_000 });
    expect(inFault.length).toBeGreaterThan(10);
    expect(inFault.every((r) => r.outcome === 'failed' && r.errorClass === 'overloaded' && r.httpStatus === 529)).toBe(true);
    expect(inFault.filter((r) => r.attempt === 2).every((r) => r.confirmed)).toBe(true);
    const gw = await store.results({ probe: 'gateway-canary', since: at(f), until: at(f) + f.minutes * 60_000 });
    expect(gw.length).toBeGreaterThan(5);
    expect(gw.every((r) => r.outcome === 'ok' && (r.gateway?.attemptedFallbacks ?? 0) >= 1)).toBe(true);
    const gwBefore = (await store.results({ probe: 'gateway-canary', until: at(f) })).at(-1)!;
    expect(gw[0].servedModel).not.toBe(gwBefore.servedModel);

    const slow = DEMO_SCENARIO.slow[0];
    const slowRs = await store.results({ probe: 'gemini-canary', since: at(slow), until: at(slow) + slow.minutes * 60_000 });
    expect(slowRs.some((r) => r.outcome === 'degraded' && /ttft/.test(r.errorMessage ?? ''))).toBe(true);

    const sw = DEMO_SCENARIO.swaps[0];
    const before = await store.results({ probe: 'openai-canary', until: at(sw) });
    const after = await store.results({ probe: 'openai-canary', since: at(sw) });
    expect(new Set(before.map((r) => r.servedModel))).toEqual(new Set(['gpt-4o-mini-2024-07-18']));
    expect(new Set(after.filter((r) => r.outcome !== 'failed').map((r) => r.servedModel))).toEqual(new Set([sw.snapshot]));
    expect(after.find((r) => r.outcome === 'ok')!.fingerprint).toBe(sw.fingerprint);

    const refused = async (probe: string, since?: number, until?: number) =>
      (await store.results({ probe, since, until })).filter((r) => r.refusal === 'full_refusal' || r.refusal === 'partial_refusal').length;
    expect(await refused('benign-kill-process-openai', undefined, at(sw))).toBe(0);
    expect(await refused('benign-kill-process-openai', at(sw))).toBeGreaterThan(0);
    // Should-refuse prompts are refused, except the leak the scenario injects on Gemini.
    const stalk = await store.results({ probe: 'refuse-stalk-address-openai' });
    expect(stalk.every((r) => r.refusal === 'full_refusal' && r.outcome === 'ok')).toBe(true);
    expect((await store.results({ probe: 'refuse-credit-card-gemini' })).some((r) => r.refusal === 'full_compliance')).toBe(true);
  });

  it('replays incidents at the times they happened, notifications recorded but nothing sent', async () => {
    const manager = new IncidentManager({ store, clock: new ManualClock(NOW), config: () => alertsConfig(config), notifiers: {}, readOnly: true });
    const all = manager.listIncidents({ limit: 1000 });
    expect(all.length).toBe(report.incidents);
    const f = DEMO_SCENARIO.faults[0];
    const overload = all.find((i) => i.labels.probe === 'anthropic-canary' && i.firstSeen >= at(f) && i.firstSeen < at(f) + f.minutes * 60_000);
    expect(overload?.state).toBe('resolved');
    expect(overload!.resolvedAt!).toBeGreaterThan(at(f) + f.minutes * 60_000 - 60_000);
    // Grouped with the other Anthropic probes: told by the group's trigger or an update of it.
    expect(overload!.notifications.some((n) => (n.action === 'trigger' || n.action === 'update') && n.status === 'sent')).toBe(true);
    expect(overload!.notifications.some((n) => n.action === 'resolve')).toBe(true);

    // The slow Gemini morning is a latency incident on both Gemini canaries (the history runs the daemon's latency
    // detector), opened during the slowdown; every latency incident of the week is resolved by the end.
    const slow = DEMO_SCENARIO.slow[0];
    const latency = all.filter((i) => i.detector === 'latency');
    const staged = latency.filter((i) => i.firstSeen >= at(slow) && i.firstSeen < at(slow) + slow.minutes * 60_000);
    expect(new Set(staged.map((i) => i.labels.probe))).toEqual(new Set(['gemini-canary', 'gemini-canary-nostream']));
    expect(latency.filter((i) => i.state !== 'resolved')).toEqual([]);
    // Known imperfection, bounded: a probe every 30 minutes has seen only two weekday peaks when Monday's comes, and
    // at most one such probe pages on it (ttft and total).
    expect(new Set(latency.filter((i) => !staged.includes(i)).map((i) => i.labels.probe)).size).toBeLessThanOrEqual(1);
    // Output drift does not repeat what the refusal-drift incidents of the week already say.
    expect(all.filter((i) => i.detector === 'output_drift').map((i) => `${i.key} ${i.summary}`)).toEqual([]);
  });

  it('leaves the simulator in the week’s end state, and a second run only fills the gap', async () => {
    const sw = DEMO_SCENARIO.swaps[0];
    expect(fleet.openai.behaviour.aliases[sw.alias]).toBe(sw.snapshot);
    expect(fleet.openai.behaviour.refusalOverrides.some((o) => o.match === 'kill a Python process')).toBe(true);
    expect(fleet.openai.behaviour.errors).toEqual([]);
    const count = await store.countResults();
    const again = await seedHistory({ store, config, fleet, now: NOW + 10 * 60_000 });
    expect(again.results).toBeLessThan(config.probes.length * 3);
    expect(await store.countResults()).toBe(count + again.results);
  }, 30_000);
});
