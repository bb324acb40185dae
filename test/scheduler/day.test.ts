// A simulated day: 200 probes every 60 s on 4 providers, a fake runner that takes fake time and sometimes
// fails transiently. Checks spread, alignment (no drift), no overlap, the provider cap and skew.

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { hashFraction } from '../../src/scheduler/index.ts';
import type { Behaviour } from './helpers.ts';
import { HOUR, MIN, harness, spec } from './helpers.ts';
import { QuickClock } from './quick-clock.ts';

const N = 200;
const PROVIDERS = ['provider:openai', 'provider:anthropic', 'provider:gemini', 'gateway'];
const START = Date.UTC(2026, 0, 5, 0, 0, 0);

function specs() {
  return Array.from({ length: N }, (_, i) => spec(`canary-${String(i).padStart(3, '0')}`, { target: PROVIDERS[i % 4] }));
}

/** Deterministic pseudo-random in [0,1) per (probe, slot, attempt). */
const rnd = (id: string, planned: number, attempt: number) => hashFraction(`${id}/${planned}/${attempt}`);

/** 0.2-6 s per attempt; 2 % of first attempts fail with a timeout, half of those recover on retry. */
function behave(s: { id: string }, ctx: { plannedAt: number; attempt: number }): Behaviour {
  const r = rnd(s.id, ctx.plannedAt, ctx.attempt);
  const durationMs = 200 + Math.floor(r * 5800);
  if (ctx.attempt === 1 && r < 0.02) return { durationMs, outcome: 'failed', errorClass: 'timeout' };
  if (ctx.attempt === 2 && rnd(s.id, ctx.plannedAt, 1) < 0.01) return { durationMs, outcome: 'failed', errorClass: 'timeout' };
  return { durationMs };
}

describe('scheduler: 24 h of 200 probes at 60 s', () => {
  it('QuickClock records the same hour as ManualClock (so the day below is faithful)', async () => {
    const runOn = async (clock: ManualClock) => {
      const { scheduler, rec } = harness(clock, behave);
      scheduler.start(specs());
      await clock.advance(HOUR);
      await scheduler.stop({ deadlineMs: 0 });
      return rec.results.map((r) => [r.result.probeId, r.result.attempt, r.result.outcome, r.meta.plannedAt, r.meta.startedAt]);
    };
    const a = await runOn(new ManualClock(START));
    const b = await runOn(new QuickClock(START));
    expect(a.length).toBeGreaterThan(N * 59);
    expect(b).toEqual(a);
  });

  it('spreads, aligns, never overlaps, respects the cap, confirms failures', async () => {
    const clock = new QuickClock(START);
    const { scheduler, runner, rec } = harness(clock, behave);
    const t0 = performance.now();
    scheduler.start(specs());
    const phases = Object.values(scheduler.stats().nextPlanned).map((t) => (t! - START) % MIN);
    await clock.advance(24 * HOUR);
    const elapsed = performance.now() - t0;
    const stopped = scheduler.stop({ deadlineMs: 10_000 });
    await clock.advance(10_000); // the deadline runs on the fake clock too
    await stopped;

    // Phases uniform over the minute: Kolmogorov-Smirnov distance below the 5 % critical value.
    const sorted = [...phases].sort((a, b) => a - b);
    const ks = Math.max(...sorted.map((p, i) => Math.max((i + 1) / N - p / MIN, p / MIN - i / N)));
    expect(ks).toBeLessThan(1.36 / Math.sqrt(N));

    // Planned slots per second of the minute: ceil(200/60) = 4 is the ideal. A hash of the id is random, so
    // the fullest of 60 buckets holds ~7-9 (Poisson(3.3) max), not 4; a burst would be 200.
    const phaseBuckets = new Array<number>(60).fill(0);
    for (const p of phases) phaseBuckets[Math.floor(p / 1000)]++;
    const maxPhaseBucket = Math.max(...phaseBuckets);
    expect(maxPhaseBucket).toBeLessThanOrEqual(Math.ceil(N / 60) + 4);

    // Actual starts per wall-clock second over the day: also shifted by provider-queue waits (a freed slot
    // starts the next queued run), so a looser bound; still nowhere near a burst.
    const firstAttempts = runner.calls.filter((c) => c.attempt === 1);
    const perSecond = new Map<number, number>();
    for (const c of firstAttempts) perSecond.set(Math.floor(c.startedAt / 1000), (perSecond.get(Math.floor(c.startedAt / 1000)) ?? 0) + 1);
    const maxPerSecond = Math.max(...perSecond.values());
    expect(maxPerSecond).toBeLessThanOrEqual(3 * Math.ceil(N / 60));

    // Every probe ran every minute, on its own aligned grid: no drift after 1440 runs.
    // (A few runs may still wait in a provider queue at the end: stop() drops those as `stopped`.)
    const stoppedSkips = rec.skips.filter((k) => k.reason === 'stopped');
    expect(stoppedSkips.length).toBeLessThan(20);
    expect(firstAttempts.length + stoppedSkips.length).toBe(N * 1440);
    const byProbe = new Map<string, number[]>();
    for (const c of [...firstAttempts, ...stoppedSkips]) (byProbe.get(c.id) ?? byProbe.set(c.id, []).get(c.id)!).push(c.plannedAt);
    for (const planned of byProbe.values()) planned.sort((a, b) => a - b);
    for (const planned of byProbe.values()) {
      expect(planned.length).toBe(1440);
      const phase = (planned[0] - START) % MIN;
      expect(planned.every((p, k) => p === planned[0] + k * MIN)).toBe(true);
      expect((planned[1439] - START) % MIN).toBe(phase);
    }

    expect(runner.maxPerProbe).toBe(1);
    for (const t of PROVIDERS) expect(runner.maxByTarget.get(t)).toBeLessThanOrEqual(4);
    expect(rec.skips.filter((k) => k.reason !== 'stopped')).toEqual([]);
    expect(rec.errors).toEqual([]);

    // Confirmation in the mix: every failed first attempt got exactly one re-probe.
    const failedFirst = rec.results.filter((r) => r.result.attempt === 1 && r.result.outcome === 'failed');
    const retries = runner.calls.filter((c) => c.attempt === 2);
    expect(failedFirst.length).toBeGreaterThan(0);
    expect(retries.length).toBe(failedFirst.length);
    expect(rec.results.length).toBe(runner.calls.length);

    const skews = rec.results.map((r) => r.meta.skewMs).sort((a, b) => a - b);
    const p99 = skews[Math.floor(skews.length * 0.99)];
    console.log(
      `day: ${firstAttempts.length} runs, ${retries.length} re-probes, max ${maxPhaseBucket} slots/s of the minute, max ${maxPerSecond} starts/s, KS ${ks.toFixed(3)}, ` +
        `skew p99 ${p99} ms max ${skews.at(-1)} ms, max per provider ${[...runner.maxByTarget.values()].join('/')}, ${elapsed.toFixed(0)} ms wall`,
    );
  });

  it('keeps phases across a restart (hash of the id, not of the probe set)', () => {
    const a = harness(new ManualClock(START), () => ({ durationMs: 1 })).scheduler;
    const b = harness(new ManualClock(START + 7 * HOUR + 123), () => ({ durationMs: 1 })).scheduler;
    a.start(specs());
    b.start(specs().reverse().slice(50));
    const pa = a.stats().nextPlanned;
    const pb = b.stats().nextPlanned;
    for (const id of Object.keys(pb)) expect((pb[id]! - START) % MIN).toBe((pa[id]! - START) % MIN);
    void a.stop();
    void b.stop();
  });
});
