import { describe, expect, it } from 'vitest';
import { createLatencyDetector, type LatencyDetectorOptions, type UpdateResult } from '../../src/detectors/latency.ts';
import { localHour } from '../../src/detectors/latency/local-hour.ts';
import { addToReservoir, emptyReservoir, robust } from '../../src/detectors/latency/reservoir.ts';
import { DAY, HOUR, MIN, generate, mulberry32, zoned, type Incident } from './latency-helpers.ts';

const TZ = 'America/New_York';

function run(points: { t: number; value: number }[], opts: LatencyDetectorOptions = {}) {
  const det = createLatencyDetector({ timezone: TZ, ...opts });
  let state = det.init();
  const out: (UpdateResult & { t: number; value: number })[] = [];
  for (const p of points) {
    const r = det.update(state, p);
    state = r.state;
    out.push({ ...r, t: p.t, value: p.value });
  }
  return { out, state, det };
}

const fired = (out: { transition: string | null; t: number }[]) => out.filter((r) => r.transition === 'fired').map((r) => r.t);

describe('diurnal latency detector on a generated month (9am ET weekday peak ×3)', () => {
  // Monday 2026-02-23 00:00 ET; five weeks, so the US DST change (Sunday 2026-03-08) is inside.
  const start = zoned(TZ, 2026, 2, 23, 0);
  const incidents: Incident[] = [
    { start: zoned(TZ, 2026, 3, 11, 14), end: zoned(TZ, 2026, 3, 11, 16), factor: 2.5 }, // Wed afternoon
    { start: zoned(TZ, 2026, 3, 16, 8, 30), end: zoned(TZ, 2026, 3, 16, 10, 30), factor: 2 }, // Mon, on top of the peak
    { start: zoned(TZ, 2026, 3, 21, 3), end: zoned(TZ, 2026, 3, 21, 4, 30), factor: 2.2 }, // Sat night
    { start: zoned(TZ, 2026, 3, 26, 20), end: zoned(TZ, 2026, 3, 26, 21, 30), factor: 2 }, // Thu evening
  ];
  const points = generate({ start, days: 35, stepMs: 2 * MIN, timezone: TZ, baseMs: 1200, incidents, seed: 11 });
  const { out } = run(points);

  it('has a real 9am peak and single slow calls in the data (the test can fail)', () => {
    const at = (d: number, h: number) => points.find((p) => p.t >= zoned(TZ, 2026, 3, d, h))!.value;
    expect(at(4, 9) / at(4, 3)).toBeGreaterThan(2.2); // Wed 9am vs 3am
    expect(points.filter((p, i) => i > 0 && p.value > 3 * points[i - 1].value).length).toBeGreaterThan(10);
  });

  it('pages each incident, once, while it lasts', () => {
    for (const inc of incidents) {
      const pages = fired(out).filter((t) => t >= inc.start && t < inc.end + HOUR);
      expect(pages, `incident at ${new Date(inc.start).toISOString()}`).toHaveLength(1);
      expect(pages[0]).toBeLessThan(inc.end); // detected during the incident, not after
      const sinceAt = out.find((r) => r.t === pages[0])!.alertState.since!;
      expect(sinceAt).toBeGreaterThanOrEqual(inc.start - 10 * MIN);
      expect(out.find((r) => r.t === pages[0])!.alertState.direction).toBe('high');
    }
  });

  it('stays quiet in the calm parts, including every weekday 9am peak and the DST change', () => {
    const warmup = start + DAY;
    const excused = (t: number) => incidents.some((i) => t >= i.start && t < i.end + 3 * HOUR);
    const noisy = out.filter((r) => r.t >= warmup && r.alert && !excused(r.t));
    expect(noisy.map((r) => new Date(r.t).toISOString()).slice(0, 5)).toEqual([]);
    expect(fired(out)).toHaveLength(incidents.length);
  });

  it('resolves each incident within the hysteresis time after it ends', () => {
    for (const inc of incidents) {
      const resolved = out.find((r) => r.t >= inc.start && r.transition === 'resolved');
      expect(resolved).toBeDefined();
      expect(resolved!.t).toBeLessThan(inc.end + 3 * HOUR);
    }
  });
});

describe('learning and limits', () => {
  const start = zoned(TZ, 2026, 1, 5, 0); // a Monday in winter (no DST change in the run)

  it('learns a permanent step change: one page, then it resolves and stays quiet', () => {
    const stepAt = start + 15 * DAY + 11 * HOUR;
    const points = generate({ start, days: 42, stepMs: 5 * MIN, timezone: TZ, baseMs: 900, step: { at: stepAt, factor: 2 }, seed: 3 });
    const { out, det, state } = run(points);
    const pages = fired(out).filter((t) => t >= start + DAY);
    expect(pages.length).toBeGreaterThanOrEqual(1);
    expect(pages[0]).toBeGreaterThanOrEqual(stepAt);
    expect(pages[0]).toBeLessThan(stepAt + 2 * HOUR);
    const resolvedAt = out.find((r) => r.t > pages[0] && r.transition === 'resolved')?.t;
    expect(resolvedAt).toBeDefined();
    expect(resolvedAt! - stepAt).toBeLessThan(7 * DAY);
    // The last two weeks at the new level page nothing, and the baseline has moved to the new level.
    expect(out.filter((r) => r.t > stepAt + 14 * DAY && r.alert)).toHaveLength(0);
    const weekBefore = out.find((r) => r.t >= stepAt - 7 * DAY)!; // same hour of the week, a week before the step
    const now = det.baselineAt(state, weekBefore.t + 5 * 7 * DAY)!;
    expect(now.level).toBe('hour_of_week');
    expect(now.median / weekBefore.baseline!.median).toBeGreaterThan(1.6);
  });

  it('fires on the SLO ceiling even when the latency is normal for the hour, as critical cause "slo"', () => {
    // Flat 12 s total time, perfectly "normal" for every hour: only the 10 s ceiling can page.
    const points = generate({ start, days: 3, stepMs: 5 * MIN, timezone: TZ, baseMs: 12_000, peakFactor: 1, seed: 5 });
    const withSlo = run(points, { slo: { ceiling: 10_000 } }).out;
    expect(fired(withSlo)).toHaveLength(1);
    expect(fired(withSlo)[0]).toBeLessThan(start + HOUR); // no warm-up for an absolute SLO
    expect(withSlo.find((r) => r.transition === 'fired')!.alertState.cause).toBe('slo');
    expect(withSlo.at(-1)!.alert).toBe(true);
    expect(fired(run(points).out)).toHaveLength(0);
  });

  it('never pages slowness below the floor ("slow for 3am, but fine for users")', () => {
    const inc = { start: start + 9 * DAY + 3 * HOUR, end: start + 9 * DAY + 5 * HOUR, factor: 2.5 };
    const points = generate({ start, days: 12, stepMs: 5 * MIN, timezone: TZ, baseMs: 200, incidents: [inc], seed: 9 });
    expect(fired(run(points).out).filter((t) => t >= inc.start && t < inc.end)).toHaveLength(1);
    expect(fired(run(points, { slo: { floor: 2000 } }).out)).toHaveLength(0);
  });

  it('buckets by local time across DST: the 9am peak keeps its baseline when ET moves from UTC−5 to UTC−4', () => {
    const dstStart = zoned(TZ, 2026, 2, 2, 0);
    const points = generate({ start: dstStart, days: 42, stepMs: 5 * MIN, timezone: TZ, baseMs: 1000, seed: 21 });
    // Tuesday 7am EDT, two days after the change, on the rising flank of the peak (×1.8 at 7:00, ×1.3 at 6:00).
    const sevenAfter = zoned(TZ, 2026, 3, 10, 7);
    const upTo = points.filter((p) => p.t < sevenAfter);
    const local = run(upTo);
    const utc = run(upTo, { timezone: 'UTC' });
    const bLocal = local.det.baselineAt(local.state, sevenAfter)!;
    const bUtc = utc.det.baselineAt(utc.state, sevenAfter)!;
    expect(bLocal.level).toBe('hour_of_week');
    expect(bLocal.median).toBeGreaterThan(1600);
    expect(bUtc.median).toBeLessThan(bLocal.median * 0.8); // UTC buckets still expect what was 6am EST
    // And the whole DST week stays quiet for the zone-aware detector.
    const week = run(points).out.filter((r) => r.t >= zoned(TZ, 2026, 3, 7, 0) && r.t < zoned(TZ, 2026, 3, 15, 0));
    expect(week.some((r) => r.alert)).toBe(false);
  });

  it('pages a long stretch of suspiciously steady latency once (the jitter channel), and nothing else', () => {
    // Four hours at the usual level but with 1/12 of the usual noise: a cache or a canned answer, not the model.
    const steady = { start: start + 16 * DAY + 13 * HOUR, end: start + 16 * DAY + 17 * HOUR, sigma: 0.01 };
    const points = generate({ start, days: 21, stepMs: 5 * MIN, timezone: TZ, baseMs: 900, noise: [steady], seed: 5 });
    const { out } = run(points);
    const pages = out.filter((r) => r.transition === 'fired');
    expect(pages).toHaveLength(1);
    expect(pages[0].t).toBeGreaterThanOrEqual(steady.start);
    expect(pages[0].t).toBeLessThan(steady.end);
    expect(pages[0].alertState).toMatchObject({ direction: 'low', channel: 'spread', cause: 'anomaly' });
    // The same month with the usual noise throughout pages nothing.
    expect(fired(run(generate({ start, days: 21, stepMs: 5 * MIN, timezone: TZ, baseMs: 900, seed: 5 })).out)).toHaveLength(0);
  });

  it('does not page on small integer counts: a young bucket\'s spread is shrunk towards the hour of day', () => {
    const rnd = mulberry32(1);
    const points: { t: number; value: number }[] = [];
    const t0 = Date.UTC(2026, 0, 5);
    for (let t = t0; t < t0 + 21 * DAY; t += 5 * MIN) {
      const mean = 3 + 2 * Math.sin((2 * Math.PI * new Date(t).getUTCHours()) / 24);
      let k = 0;
      let p = Math.exp(-mean);
      let cdf = p;
      const u = rnd();
      while (u > cdf) p *= mean / ++k, (cdf += p); // Poisson(mean): MAD is 0 or 1 in many hours
      points.push({ t, value: k });
    }
    expect(fired(run(points, { timezone: 'UTC' }).out)).toHaveLength(0);
    // Without the shrinkage, hours whose dozen values happen to agree page on every wobble (the test can fail).
    expect(fired(run(points, { timezone: 'UTC', priorSamples: 0 }).out).length).toBeGreaterThan(3);
  });

  it('forgets at the half-life even in a sparse bucket (2 values a week kept for months)', () => {
    const r = emptyReservoir();
    const week = 7 * DAY;
    const rnd = mulberry32(3);
    // 20 weeks at 100, then 3 weeks at 200: 46 values, all kept (capacity 48), so nothing is ever evicted.
    for (let w = 0; w < 23; w++) {
      for (const off of [0, 30 * MIN]) addToReservoir(r, w < 20 ? 100 : 200, start + w * week + off, 1, rnd() * 0.98 + 0.01, 48, 14 * DAY);
    }
    expect(r.v).toHaveLength(46);
    // An unweighted median would still say 100; the decayed one has moved most of the way.
    expect(robust(r)!.median).toBeGreaterThan(150);
    // A dense bucket (thinned by sampling) reads as an even sample of the recent past, not dominated by the newest.
    const dense = emptyReservoir();
    for (let i = 0; i < 2000; i++) addToReservoir(dense, i % 2 ? 300 : 100, start + i * MIN, 1, rnd() * 0.98 + 0.01, 48, 14 * DAY);
    expect(dense.tau).not.toBeNull();
    const m = robust(dense)!;
    expect(m.p10).toBe(100);
    expect(m.p90).toBe(300);
  });

  it('is resumable: a JSON round trip of the state mid-stream changes nothing', () => {
    const points = generate({ start, days: 10, stepMs: 10 * MIN, timezone: TZ, baseMs: 700, seed: 1 });
    const whole = run(points).out;
    const det = createLatencyDetector({ timezone: TZ });
    let state = det.init();
    const resumed: UpdateResult[] = [];
    points.forEach((p, i) => {
      if (i === 700) state = JSON.parse(JSON.stringify(state));
      const r = det.update(state, p);
      state = r.state;
      resumed.push(r);
    });
    expect(resumed.map((r) => [r.score, r.alert])).toEqual(whole.map((r) => [r.score, r.alert]));
  });

  it('does not mutate the state it is given', () => {
    const det = createLatencyDetector({ timezone: TZ });
    const s0 = det.init();
    const s1 = det.update(s0, { t: start, value: 100 }).state;
    const snapshot = JSON.stringify(s1);
    det.update(s1, { t: start + MIN, value: 900 });
    expect(JSON.stringify(s1)).toBe(snapshot);
    expect(s0.count).toBe(0);
  });

  it('maps instants to local hour of the week through DST and half-hour zones', () => {
    // US spring forward: 01:59 EST is followed by 03:00 EDT (Sunday = day 6).
    expect(localHour(Date.UTC(2026, 2, 8, 6, 59), TZ)).toEqual({ day: 6, hour: 1, how: 6 * 24 + 1 });
    expect(localHour(Date.UTC(2026, 2, 8, 7, 0), TZ)).toEqual({ day: 6, hour: 3, how: 6 * 24 + 3 });
    // India is UTC+5:30: the local hour changes at :30 UTC.
    expect(localHour(Date.UTC(2026, 0, 5, 0, 29), 'Asia/Kolkata').hour).toBe(5);
    expect(localHour(Date.UTC(2026, 0, 5, 0, 30), 'Asia/Kolkata')).toEqual({ day: 0, hour: 6, how: 6 });
  });

  it('rejects an unknown timezone and nonsense options up front', () => {
    expect(() => createLatencyDetector({ timezone: 'Mars/Olympus' })).toThrow(RangeError);
    expect(() => createLatencyDetector({ window: 0 })).toThrow(/window/);
    expect(() => createLatencyDetector({ spreadWindow: 1.5 })).toThrow(/spreadWindow/);
    expect(() => createLatencyDetector({ priorSamples: -1 })).toThrow(/priorSamples/);
  });
});
