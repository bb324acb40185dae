// The demo's month of history: real template calls against the simulator, replayed with each provider's planned
// latency and the scenario's incidents, swap and refusal changes; a restart keeps it and fills only the gap.
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
import { latencyMultiplier, planLatency } from '../../src/sim/latency.ts';
import { PROVIDER_LATENCY } from '../../src/sim/profiles.ts';
import { Store } from '../../src/store/store.ts';
import { DEMO_SCENARIO, atTime, seedDemoHistory } from '../../src/ui/seed-history.ts';
import type { DemoHistory } from '../../src/ui/seed-history.ts';
import { totalsSince } from '../../src/ui/queries.ts';
import { historyLine } from '../../src/cli/demo.ts';
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

describe('seedDemoHistory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-seed-'));
  let fleet: SimFleet;
  let store: Store;
  let config: VigilConfig;
  let report: DemoHistory;
  let env: Record<string, string>;

  beforeAll(async () => {
    // As the demo runs it: each provider with its own latency profile.
    fleet = await startSimFleet({ seed: 3, realistic: true });
    env = { ...simEnv(fleet.urls), VIGIL_DB: join(dir, 'v.db') };
    config = loadConfig(ROOT, { env }).config!;
    report = await seedDemoHistory({ configDir: ROOT, env, fleet, clock: new ManualClock(NOW) });
    store = Store.open(config.storage.path);
  }, 90_000);

  afterAll(async () => {
    await store?.close();
    await fleet?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('covers 30 days for every probe: the last 7 at its spacing, sparser before', async () => {
    expect(report.skipped).toEqual([]);
    expect(report.probes).toBe(config.probes.length);
    expect(report.kept).toBe(false);
    for (const p of config.probes) {
      const rs = (await store.results({ probe: p.id })).filter((r) => r.attempt === 1);
      const recent = rs.filter((r) => r.startedAt >= NOW - 7 * DAY);
      const older = rs.filter((r) => r.startedAt < NOW - 7 * DAY);
      const step = Math.max(p.schedule.everyMs!, 300_000);
      const oldStep = Math.max(p.schedule.everyMs!, p.kind === 'canary' ? 900_000 : HOUR);
      expect(recent.length, p.id).toBeGreaterThanOrEqual(Math.floor((7 * DAY) / step) - 1);
      expect(recent[1].startedAt - recent[0].startedAt, p.id).toBe(step);
      expect(older.length, p.id).toBeGreaterThanOrEqual(Math.floor((23 * DAY) / oldStep) - 1);
      expect(older[1].startedAt - older[0].startedAt, p.id).toBe(oldStep);
      expect(rs[0].startedAt, p.id).toBeGreaterThanOrEqual(NOW - 30 * DAY);
      expect(rs[0].startedAt, p.id).toBeLessThan(NOW - 30 * DAY + oldStep);
      expect(rs.at(-1)!.startedAt, p.id).toBeLessThan(NOW);
    }
    // Everything before the current hour is rolled up.
    expect(await store.rollupWatermark()).toBe(Math.floor(NOW / HOUR) * HOUR);
    // The report counts what the store holds, as the status page does.
    let total = 0;
    for (const t of (await totalsSince(store, NOW - 30 * DAY, NOW)).values()) total += t.count;
    expect(report.totalResults).toBe(total);
    expect(report.totalResults).toBe(report.results);
  });

  it('records the latency each provider plans for each instant (its own diurnal shape included)', async () => {
    for (const [probe, provider] of [['openai-canary', 'openai'], ['anthropic-canary', 'anthropic'], ['gemini-canary', 'gemini']] as const) {
      const cfg = PROVIDER_LATENCY[provider];
      const rs = (await store.results({ probe })).filter((r) => r.outcome === 'ok');
      let peak = 0;
      for (const r of rs) {
        const plan = planLatency(cfg, r.startedAt, 1);
        // ± the profile's jitter, plus up to 3 ms of wire time.
        expect(r.timings.ttftMs!, `${probe} ${new Date(r.startedAt).toISOString()}`).toBeGreaterThanOrEqual(plan.ttftMs * (1 - cfg.jitter));
        expect(r.timings.ttftMs!, `${probe} ${new Date(r.startedAt).toISOString()}`).toBeLessThanOrEqual(plan.ttftMs * (1 + cfg.jitter) + 3.5);
        peak = Math.max(peak, plan.multiplier);
      }
      expect(peak, probe).toBeGreaterThan(Math.max(...[cfg.diurnal!, ...(cfg.bumps ?? [])].map((d) => d.peakMultiplier)) - 0.3);
    }
  });

  it('gives each provider its own latency: medians differ, Gemini is slow in its Sunday maintenance window', async () => {
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const ttft = async (probe: string, keep: (t: number) => boolean = () => true) =>
      (await store.results({ probe, since: NOW - 7 * DAY })).filter((r) => r.outcome === 'ok' && keep(r.startedAt)).map((r) => r.timings.ttftMs!);
    const med = {
      openai: median(await ttft('openai-canary')),
      anthropic: median(await ttft('anthropic-canary')),
      gemini: median(await ttft('gemini-canary')),
    };
    expect(med.openai).toBeLessThan(med.gemini);
    expect(med.gemini).toBeLessThan(med.anthropic);
    // Where the profile plans the maintenance window (> ×2), Gemini's TTFT is well over its own median.
    const inWindow = (t: number) => latencyMultiplier({ diurnal: null, bumps: PROVIDER_LATENCY.gemini.bumps }, t) > 2;
    const slow = await ttft('gemini-canary', inWindow);
    expect(slow.length).toBeGreaterThan(0);
    expect(median(slow)).toBeGreaterThan(1.7 * med.gemini);
    expect(median(await ttft('openai-canary', inWindow))).toBeLessThan(1.2 * med.openai);
  });

  it('uptime over 7 and 30 days differs as the scenario says: a bad month for Anthropic, a clean week for Gemini, the gateway always up', async () => {
    const uptime = async (days: number) => {
      const t = await totalsSince(store, NOW - days * DAY, NOW);
      return (probe: string) => 1 - t.get(probe)!.failures / t.get(probe)!.count;
    };
    const [d7, d30] = [await uptime(7), await uptime(30)];
    expect(d30('anthropic-canary')).toBeLessThan(d7('anthropic-canary') - 0.001);
    expect(d7('anthropic-canary')).toBeLessThan(1);
    expect(d30('openai-canary')).toBeLessThan(d7('openai-canary'));
    expect(d7('gemini-canary')).toBe(1);
    expect(d30('gemini-canary')).toBeLessThan(1);
    // The gateway falls back over every upstream fault.
    expect(d7('gateway-canary')).toBe(1);
    expect(d30('gateway-canary')).toBe(1);
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
    expect(new Set(before.filter((r) => r.outcome !== 'failed').map((r) => r.servedModel))).toEqual(new Set(['gpt-4o-mini-2024-07-18']));
    expect(new Set(after.filter((r) => r.outcome !== 'failed').map((r) => r.servedModel))).toEqual(new Set([sw.snapshot]));
    expect(after.find((r) => r.outcome === 'ok')!.fingerprint).toBe(sw.fingerprint);

    const refused = async (probe: string, since?: number, until?: number) =>
      (await store.results({ probe, since, until })).filter((r) => r.refusal === 'full_refusal' || r.refusal === 'partial_refusal').length;
    expect(await refused('benign-kill-process-openai', undefined, at(sw))).toBe(0);
    expect(await refused('benign-kill-process-openai', at(sw))).toBeGreaterThan(0);
    // Should-refuse prompts are refused whenever the provider answers (during its outages nothing is answered),
    // except the leak the scenario injects on Gemini.
    const stalk = await store.results({ probe: 'refuse-stalk-address-openai' });
    const answered = stalk.filter((r) => r.httpStatus === 200);
    expect(answered.length).toBeGreaterThan(stalk.length * 0.95);
    expect(answered.every((r) => r.refusal === 'full_refusal' && r.outcome === 'ok')).toBe(true);
    expect(stalk.filter((r) => r.httpStatus !== 200).every((r) => ['server_error', 'rate_limited'].includes(r.errorClass!))).toBe(true);
    expect((await store.results({ probe: 'refuse-credit-card-gemini' })).some((r) => r.refusal === 'full_compliance')).toBe(true);
  });

  it('replays incidents at the times they happened, notifications recorded but nothing sent', async () => {
    const manager = new IncidentManager({ store, clock: new ManualClock(NOW), config: () => alertsConfig(config), notifiers: {}, readOnly: true });
    const all = await manager.listIncidents({ limit: 1000 });
    expect(all.length).toBe(report.incidents);
    const f = DEMO_SCENARIO.faults[0];
    const overload = all.find((i) => i.labels.probe === 'anthropic-canary' && i.firstSeen >= at(f) && i.firstSeen < at(f) + f.minutes * 60_000);
    expect(overload?.state).toBe('resolved');
    expect(overload!.resolvedAt!).toBeGreaterThan(at(f) + f.minutes * 60_000 - 60_000);
    // Grouped with the other Anthropic probes: told by the group's trigger or an update of it.
    expect(overload!.notifications.some((n) => (n.action === 'trigger' || n.action === 'update') && n.status === 'sent')).toBe(true);
    expect(overload!.notifications.some((n) => n.action === 'resolve')).toBe(true);

    // The slow Gemini morning is a latency incident on both Gemini canaries (the history runs the daemon's latency
    // detector), opened during the slowdown; every latency incident of the month is resolved by the end.
    const slow = DEMO_SCENARIO.slow[0];
    const latency = all.filter((i) => i.detector === 'latency');
    const staged = latency.filter((i) => i.firstSeen >= at(slow) && i.firstSeen < at(slow) + slow.minutes * 60_000);
    // Over a month every Gemini probe has learnt its baseline, so the safety sets on Gemini may page on it too; no
    // probe of another provider does.
    const stagedProbes = new Set(staged.map((i) => i.labels.probe));
    expect(stagedProbes).toContain('gemini-canary');
    expect(stagedProbes).toContain('gemini-canary-nostream');
    for (const id of stagedProbes) expect(config.probes.find((p) => p.id === id)?.target, id).toBe('provider:gemini');
    expect(latency.filter((i) => i.state !== 'resolved')).toEqual([]);
    // In its first weeks the detector meets each weekly pattern (Gemini's Sunday window, Anthropic's US mornings)
    // for the first time and may page on it, as on a new deployment; by the last week it knows them, and nothing
    // but the staged morning pages there (at most one probe every 30 minutes on a weekday peak it saw twice).
    const lastWeek = latency.filter((i) => !staged.includes(i) && i.firstSeen >= NOW - 7 * DAY);
    expect(new Set(lastWeek.map((i) => i.labels.probe)).size, lastWeek.map((i) => `${i.labels.probe} ${i.summary}`).join('\n')).toBeLessThanOrEqual(1);
    // Output drift does not repeat what the refusal-drift incidents of the week already say.
    expect(all.filter((i) => i.detector === 'output_drift').map((i) => `${i.key} ${i.summary}`)).toEqual([]);
  });

  it('leaves the simulator in the month’s end state; a restart keeps the month, fills only the gap, and says so', async () => {
    const sw = DEMO_SCENARIO.swaps[0];
    expect(fleet.openai.behaviour.aliases[sw.alias]).toBe(sw.snapshot);
    expect(fleet.openai.behaviour.refusalOverrides.some((o) => o.match === 'kill a Python process')).toBe(true);
    expect(fleet.openai.behaviour.errors).toEqual([]);
    expect(historyLine(report)).toMatch(/^[\d,]+ results over the past 30 days, \d+ incidents; seeded in \d+\.\d s$/);
    const count = await store.countResults();
    const faulted = async () => (await store.results({})).filter((r) => r.outcome === 'failed' && r.errorClass !== 'assertion').length;
    const failed = await faulted();
    await store.close();
    // Two hours later: the scenario still counts from the first seeding, so no fault is replayed into the gap.
    const again = await seedDemoHistory({ configDir: ROOT, env, fleet, clock: new ManualClock(NOW + 2 * HOUR) });
    store = Store.open(config.storage.path);
    expect(again.kept).toBe(true);
    expect(again.results).toBeGreaterThan(0);
    expect(again.results).toBeLessThan(config.probes.length * 30);
    expect(await store.countResults()).toBe(count + again.results);
    expect(await faulted()).toBe(failed);
    // What the banner says is the month, not the gap.
    expect(again.totalResults).toBeGreaterThan(report.totalResults * 0.99);
    expect(again.totalIncidents).toBeGreaterThanOrEqual(report.totalIncidents);
    expect(historyLine(again)).toMatch(new RegExp(`^${again.totalResults.toLocaleString('en-US')} results over the past 30 days, \\d+ incidents; kept from the last run, ${again.results.toLocaleString('en-US')} added for the time it was stopped \\(\\d+\\.\\d s\\)$`));
  }, 60_000);
});
