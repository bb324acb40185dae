// The drift monitors' guard (samples kept out of the baseline for guardMs) is bounded whatever the probe's rate,
// and releases into the baseline exactly what the samples one by one would have given.
import { describe, expect, it } from 'vitest';
import { addCount, bernoulliStep, emptyCount, gaussianStep, GUARD_BUCKETS, newBernoulli, newGaussian, type BernoulliParams, type GaussianParams } from '../../src/detectors/stats.ts';

const MIN = 60_000;
const DAY = 1440 * MIN;
const bern: BernoulliParams = { h: 8, minShift: 0.1, minRate: 0.01, halfLifeMs: 7 * DAY, guardMs: DAY, minBaseline: 50, resolveEvidence: Math.log(100), acceptAfterMs: 7 * DAY };
const gauss: GaussianParams = {
  h: 8,
  shiftSd: 1,
  relSdFloor: 0.1,
  absSdFloor: 1,
  zClip: 2.5,
  halfLifeMs: 7 * DAY,
  guardMs: DAY,
  minBaseline: 50,
  resolveEvidence: Math.log(100),
  acceptAfterMs: 7 * DAY,
};
const decay = (dt: number) => Math.pow(0.5, dt / bern.halfLifeMs);

describe('drift monitor guard', () => {
  it('stays a few buckets long over a week of a probe every minute', () => {
    const b = newBernoulli();
    const g = newGaussian();
    const t0 = Date.UTC(2026, 0, 5);
    let longest = 0;
    for (let i = 0; i < 7 * 1440; i++) {
      const t = t0 + i * MIN;
      bernoulliStep(b, i % 17 === 0 ? 1 : 0, t, bern);
      gaussianStep(g, 20 + (i % 5), t, gauss);
      longest = Math.max(longest, b.guard.length / 3, g.guard.length / 4);
    }
    expect(longest).toBeGreaterThanOrEqual(GUARD_BUCKETS);
    expect(longest).toBeLessThanOrEqual(GUARD_BUCKETS + 1);
  });

  it('adds to the baseline what the samples one by one would have, once they are guardMs old', () => {
    const b = newBernoulli();
    const t0 = Date.UTC(2026, 0, 5, 0, 0, 0);
    const xs: [number, 0 | 1][] = [];
    // A steady 1-in-9 rate (no alarm, so released samples go to the baseline) at irregular times, for 2 days.
    let t = t0;
    for (let i = 0; i < 2500; i++) {
      t += MIN * (0.5 + ((i * 7919) % 13) / 10);
      const x = (i % 9 === 0 ? 1 : 0) as 0 | 1;
      xs.push([t, x]);
      bernoulliStep(b, x, t, bern);
    }
    expect(b.firing).toBeNull();
    // Released: every sample up to the baseline's time, which trails the newest by guardMs and at most a bucket.
    const baseT = b.base.t;
    expect(baseT).toBeLessThanOrEqual(t - bern.guardMs);
    expect(baseT).toBeGreaterThan(t - bern.guardMs - bern.guardMs / GUARD_BUCKETS - 2 * MIN);
    const ref = emptyCount();
    for (const [ts, x] of xs) if (ts <= baseT) addCount(ref, x, ts, bern.halfLifeMs);
    expect(b.base.n).toBeCloseTo(ref.n, 9);
    expect(b.base.k).toBeCloseTo(ref.k, 9);
    // And the guard holds the rest, with nothing lost: its weights are the later samples' decayed as a bucket's.
    let guarded = 0;
    for (let i = 0; i < b.guard.length; i += 3) guarded += b.guard[i + 1];
    const later = xs.filter(([ts]) => ts > baseT).length;
    expect(guarded).toBeLessThanOrEqual(later);
    expect(guarded).toBeGreaterThan(later * decay(bern.guardMs / GUARD_BUCKETS + MIN));
  });

  it('merges moments as one-by-one updates would', () => {
    const a = newGaussian();
    const one = newGaussian();
    const t0 = Date.UTC(2026, 0, 5);
    // Same samples; `one` has no guard (each value straight into the baseline once warm).
    const unguarded = { ...gauss, guardMs: 0 };
    const values: [number, number][] = [];
    for (let i = 0; i < 3000; i++) values.push([t0 + i * 2 * MIN, 30 + ((i * 37) % 11) - (i > 2000 ? 4 : 0)]);
    for (const [ts, x] of values) gaussianStep(a, x, ts, gauss);
    const cut = a.base.t;
    for (const [ts, x] of values) if (ts <= cut) gaussianStep(one, x, ts, unguarded);
    expect(a.base.w).toBeCloseTo(one.base.w, 6);
    expect(a.base.mean).toBeCloseTo(one.base.mean, 9);
    expect(a.base.m2).toBeCloseTo(one.base.m2, 4);
  });

  it('reads a guard saved as [time, value] pairs', () => {
    const b = newBernoulli();
    const t0 = Date.UTC(2026, 0, 5);
    // Past warm-up (its samples go straight to the baseline), then a saved guard of 100 pairs.
    for (let i = 0; i < 60; i++) bernoulliStep(b, 0, t0 + i * MIN, bern);
    const legacy = Array.from({ length: 100 }, (_, i) => [t0 + (50 + i) * MIN, i % 10 === 0 ? 1 : 0]);
    (b as unknown as { guard: unknown }).guard = legacy;
    bernoulliStep(b, 0, t0 + 150 * MIN, bern);
    expect(b.guard.every((v) => typeof v === 'number')).toBe(true);
    expect(b.guard.length / 3).toBeLessThanOrEqual(2);
    // Nothing was a day old: all 101 samples are still guarded.
    let n = 0;
    for (let i = 0; i < b.guard.length; i += 3) n += b.guard[i + 1];
    expect(n).toBeGreaterThan(100 * decay(DAY) - 1e-9);
    expect(n).toBeLessThanOrEqual(101);
  });
});
