// A simulated day: 200 probes every 60 s on 4 providers, a fake runner that takes fake time and sometimes
// fails transiently. Checks spread, alignment (no drift), no overlap, the provider cap and skew.

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { hashFraction } from '../../src/scheduler/index.ts';
import { HOUR, MIN, harness, spec } from './helpers.ts';

const N = 200;
const PROVIDERS = ['provider:openai', 'provider:anthropic', 'provider:gemini', 'gateway'];
const START = Date.UTC(2026, 0, 5, 0, 0, 0);

function specs() {
  return Array.from({ length: N }, (_, i) => spec(`canary-${String(i).padStart(3, '0')}`, { target: PROVIDERS[i % 4] }));
}

/** Deterministic pseudo-random in [0,1) per (probe, slot, attempt). */
const rnd = (id: string, planned: number, attempt: number) => hashFraction(`${id}/${planned}/${attempt}`);

describe('scheduler: 24 h of 200 probes at 60 s', () => {
  it('spreads, aligns, never overlaps, respects the cap, confirms failures', async () => {
    const clock = new ManualClock(START);
    const { scheduler, runner, rec } = harness(clock, (s, ctx) => {
      const r = rnd(s.id, ctx.plannedAt, ctx.attempt);
      // 0.2-6 s per attempt; 2 % of first attempts fail with a timeout, half of those recover on retry.
      const durationMs = 200 + Math.floor(r * 5800);
      if (ctx.attempt === 1 && r < 0.02) return { durationMs, outcome: 'failed', errorClass: 'timeout' };
      if (ctx.attempt === 2 && rnd(s.id, ctx.plannedAt, 1) < 0.01) return { durationMs, outcome: 'failed', errorClass: 'timeout' };
      return { durationMs };
    });
    const t0 = performance.now();
    scheduler.start(specs());
    const phases = Object.values(scheduler.stats().nextPlanned).map((t) => (t! - START) % MIN);
    await clock.advance(24 * HOUR);
    const elapsed = performance.now() - t0;
    await scheduler.stop({ deadlineMs: 10_000 });

    // Phases uniform over the minute: Kolmogorov-Smirnov distance below the 5 % critical value.
    const sorted = [...phases].sort((a, b) => a - b);
    const ks = Math.max(...sorted.map((p, i) => Math.max((i + 1) / N - p / MIN, p / MIN - i / N)));
    expect(ks).toBeLessThan(1.36 / Math.sqrt(N));

    // Starts per wall-clock second, over the whole day: ceil(200/60) = 4 is the ideal; hashing is random,
    // so allow the usual max of 60 Poisson(3.3) buckets plus a little (a burst would be 200).
    const firstAttempts = runner.calls.filter((c) => c.attempt === 1);
    const perSecond = new Map<number, number>();
    for (const c of firstAttempts) perSecond.set(Math.floor(c.startedAt / 1000), (perSecond.get(Math.floor(c.startedAt / 1000)) ?? 0) + 1);
    const maxPerSecond = Math.max(...perSecond.values());
    expect(maxPerSecond).toBeLessThanOrEqual(Math.ceil(N / 60) + 6);

    // Every probe ran every minute, on its own aligned grid: no drift after 1440 runs.
    expect(firstAttempts.length).toBe(N * 1440);
    const byProbe = new Map<string, number[]>();
    for (const c of firstAttempts) (byProbe.get(c.id) ?? byProbe.set(c.id, []).get(c.id)!).push(c.plannedAt);
    for (const planned of byProbe.values()) {
      expect(planned.length).toBe(1440);
      const phase = (planned[0] - START) % MIN;
      expect(planned.every((p, k) => p === planned[0] + k * MIN)).toBe(true);
      expect((planned[1439] - START) % MIN).toBe(phase);
    }

    expect(runner.maxPerProbe).toBe(1);
    for (const t of PROVIDERS) expect(runner.maxByTarget.get(t)).toBeLessThanOrEqual(4);
    expect(rec.skips).toEqual([]);
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
      `day: ${firstAttempts.length} runs, ${retries.length} re-probes, max ${maxPerSecond} starts/s, KS ${ks.toFixed(3)}, ` +
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
