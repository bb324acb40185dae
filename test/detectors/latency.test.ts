import { describe, expect, it } from 'vitest';
import { cloneLatencyState, createLatencyDetector, type LatencyDetectorOptions, type UpdateResult } from '../../src/detectors/latency.ts';
import { localHour } from '../../src/detectors/latency/local-hour.ts';
import { parseLatencyState, serialiseLatencyState } from '../../src/detectors/latency/persist.ts';
import { DAY, HOUR, MIN, generate, mulberry32, zoned, type Incident } from './latency-helpers.ts';

const TZ = 'America/New_York';

function run(points: { t: number; value: number }[], opts: LatencyDetectorOptions = {}) {
  const det = createLatencyDetector({ timezone: TZ, ...opts });
  const state = det.init();
  const out: (UpdateResult & { t: number; value: number })[] = [];
  for (const p of points) {
    const r = det.update(state, p);
    out.push({ ...r, alertState: { ...r.alertState }, t: p.t, value: p.value });
  }
  return { out, state, det };
}

const fired = (out: { transition: string | null; t: number }[]) => out.filter((r) => r.transition === 'fired').map((r) => r.t);

describe('diurnal latency detector on a generated month (9am ET weekday peak ×3, one slow call in ~300)', () => {
  // Monday 2026-02-23 00:00 ET; five weeks, so the US DST change (Sunday 2026-03-08) is inside.
  const start = zoned(TZ, 2026, 2, 23, 0);
  const incidents: Incident[] = [
    { start: zoned(TZ, 2026, 3, 11, 14), end: zoned(TZ, 2026, 3, 11, 16), factor: 2.5 }, // Wed afternoon
    { start: zoned(TZ, 2026, 3, 16, 8, 30), end: zoned(TZ, 2026, 3, 16, 10, 30), factor: 2 }, // Mon, on top of the peak, five days after the first
    { start: zoned(TZ, 2026, 3, 21, 3), end: zoned(TZ, 2026, 3, 21, 4, 30), factor: 2.2 }, // Sat night
    { start: zoned(TZ, 2026, 3, 26, 20), end: zoned(TZ, 2026, 3, 26, 21, 30), factor: 2 }, // Thu evening
  ];
  // Several seeds: the single slow calls land at different hours, the incidents' noise differs.
  for (const seed of [11, 3, 21]) {
    describe(`seed ${seed}`, () => {
      const points = generate({ start, days: 35, stepMs: 2 * MIN, timezone: TZ, baseMs: 1200, incidents, seed });
      // Slower only: what a probe pages on by default.
      const { out } = run(points, { direction: 'high' });

      it('has a real 9am peak and single slow calls in the data (the test can fail)', () => {
        const at = (d: number, h: number) => points.find((p) => p.t >= zoned(TZ, 2026, 3, d, h))!.value;
        expect(at(4, 9) / at(4, 3)).toBeGreaterThan(2.2); // Wed 9am vs 3am
        expect(points.filter((p, i) => i > 0 && p.value > 3 * points[i - 1].value).length).toBeGreaterThan(10);
      });

      it('pages each incident once, while it lasts, and says since when', () => {
        for (const inc of incidents) {
          const pages = fired(out).filter((t) => t >= inc.start && t < inc.end + HOUR);
          expect(pages, `incident at ${new Date(inc.start).toISOString()}`).toHaveLength(1);
          expect(pages[0]).toBeLessThan(inc.end); // detected during the incident, not after
          const r = out.find((x) => x.t === pages[0])!;
          expect(r.alertState.since!).toBeGreaterThanOrEqual(inc.start - 10 * MIN);
          expect(r.alertState.direction).toBe('high');
        }
      });

      it('stays quiet in the calm parts: single slow calls, every weekday peak, the DST change', () => {
        const excused = (t: number) => incidents.some((i) => t >= i.start && t < i.end + 4 * HOUR);
        const noisy = out.filter((r) => r.alert && !excused(r.t));
        expect(noisy.map((r) => new Date(r.t).toISOString()).slice(0, 5)).toEqual([]);
        expect(fired(out)).toHaveLength(incidents.length);
      });

      it('resolves each incident within the hysteresis time after it ends', () => {
        for (const inc of incidents) {
          const resolved = out.find((r) => r.t >= inc.start && r.transition === 'resolved');
          expect(resolved).toBeDefined();
          expect(resolved!.t).toBeLessThan(inc.end + 4 * HOUR);
        }
      });
    });
  }
});

describe('learning and limits', () => {
  const start = zoned(TZ, 2026, 1, 5, 0); // a Monday in winter (no DST change in the run)

  it('learns a permanent step change: one page, then it resolves and stays quiet', () => {
    const stepAt = start + 15 * DAY + 11 * HOUR;
    const points = generate({ start, days: 42, stepMs: 5 * MIN, timezone: TZ, baseMs: 900, step: { at: stepAt, factor: 2 }, seed: 3 });
    const { out, det, state } = run(points, { direction: 'high' });
    const pages = fired(out).filter((t) => t >= start + DAY);
    expect(pages).toHaveLength(1);
    expect(pages[0]).toBeGreaterThanOrEqual(stepAt);
    expect(pages[0]).toBeLessThan(stepAt + 2 * HOUR);
    const resolvedAt = out.find((r) => r.t > pages[0] && r.transition === 'resolved')?.t;
    expect(resolvedAt).toBeDefined();
    expect(resolvedAt! - stepAt).toBeLessThan(14 * DAY);
    // The last two weeks at the new level page nothing, and the baseline has moved to the new level.
    expect(out.filter((r) => r.t > stepAt + 21 * DAY && r.alert)).toHaveLength(0);
    const weekBefore = out.find((r) => r.t >= stepAt - 7 * DAY)!; // same hour of the week, a week before the step
    const now = det.baselineAt(state, weekBefore.t + 5 * 7 * DAY)!;
    expect(now.level).toBe('hour_of_week');
    expect(now.median / weekBefore.baseline!.median).toBeGreaterThan(1.6);
  });

  it('pages a slow drift: latency doubling over six hours, no step anywhere', () => {
    const d0 = start + 17 * DAY + 8 * HOUR;
    for (const seed of [8, 9]) {
      const base = generate({ start, days: 21, stepMs: 5 * MIN, timezone: TZ, baseMs: 900, seed });
      const points = base.map((p) => {
        const f = p.t < d0 || p.t > d0 + 10 * HOUR ? 1 : 1 + Math.min(1, (p.t - d0) / (6 * HOUR));
        return { t: p.t, value: Math.round(p.value * f) };
      });
      const pages = fired(run(points, { direction: 'high' }).out);
      expect(pages.length).toBeGreaterThanOrEqual(1);
      expect(pages[0]).toBeGreaterThan(d0 + HOUR); // not at the first slightly slower call
      expect(pages[0]).toBeLessThan(d0 + 8 * HOUR);
      expect(pages.every((t) => t < d0 + 14 * HOUR)).toBe(true);
      expect(fired(run(base, { direction: 'high' }).out)).toHaveLength(0);
    }
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
    expect(fired(run(points, { direction: 'high' }).out).filter((t) => t >= inc.start && t < inc.end)).toHaveLength(1);
    expect(fired(run(points, { direction: 'high', slo: { floor: 2000 } }).out)).toHaveLength(0);
  });

  it('pages faster-than-usual (a cache or a canned answer) when asked to, and not by default on a probe', () => {
    const fast = { start: start + 16 * DAY + 13 * HOUR, end: start + 16 * DAY + 16 * HOUR, factor: 0.3 };
    const points = generate({ start, days: 21, stepMs: 5 * MIN, timezone: TZ, baseMs: 900, incidents: [fast], seed: 5 });
    const low = run(points, { direction: 'low' }).out.filter((r) => r.transition === 'fired' && r.t >= start + 8 * DAY);
    expect(low).toHaveLength(1);
    expect(low[0].t).toBeGreaterThanOrEqual(fast.start);
    expect(low[0].t).toBeLessThan(fast.end);
    expect(low[0].alertState.direction).toBe('low');
    expect(fired(run(points, { direction: 'high' }).out)).toHaveLength(0);
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
    const week = run(points, { direction: 'high' }).out.filter((r) => r.t >= zoned(TZ, 2026, 3, 7, 0) && r.t < zoned(TZ, 2026, 3, 15, 0));
    expect(week.some((r) => r.alert)).toBe(false);
  });

  it('does not page on small integer counts: a new maximum one count above the old one is not news', () => {
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
    // The data does set new records after the first week, one count at a time (the test can fail).
    let max = -Infinity;
    const records: number[] = [];
    for (const p of points) {
      if (p.value > max && p.t > t0 + 5 * DAY) records.push(p.value - max);
      max = Math.max(max, p.value);
    }
    expect(records).toContain(1);
  });

  it('is resumable: a serialise/parse round trip of the state mid-stream changes nothing', () => {
    const points = generate({ start, days: 10, stepMs: 10 * MIN, timezone: TZ, baseMs: 700, seed: 1, incidents: [{ start: start + 8 * DAY, end: start + 8 * DAY + 3 * HOUR, factor: 3 }] });
    const whole = run(points).out;
    const det = createLatencyDetector({ timezone: TZ });
    let state = det.init();
    const resumed: UpdateResult[] = [];
    points.forEach((p, i) => {
      if (i === 700) state = parseLatencyState(serialiseLatencyState({ ttft: state, total: state })).total;
      resumed.push({ ...det.update(state, p) });
    });
    expect(resumed.map((r) => [r.score, r.alert])).toEqual(whole.map((r) => [r.score, r.alert]));
    expect(whole.some((r) => r.alert)).toBe(true);
  });

  it('updates only the state it is given: a clone carries on independently', () => {
    const det = createLatencyDetector({ timezone: TZ });
    const s1 = det.init();
    for (const p of generate({ start, days: 3, stepMs: 10 * MIN, timezone: TZ, baseMs: 700, seed: 2 })) det.update(s1, p);
    const copy = cloneLatencyState(s1);
    const snapshot = serialiseLatencyState({ ttft: copy, total: copy });
    det.update(s1, { t: start + 3 * DAY, value: 90_000 });
    expect(serialiseLatencyState({ ttft: copy, total: copy })).toBe(snapshot);
    expect(s1.count).toBe(copy.count + 1);
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
    expect(() => createLatencyDetector({ window: 99 })).toThrow(/window/);
    expect(() => createLatencyDetector({ margin: 0 })).toThrow(/margin/);
    expect(() => createLatencyDetector({ priorSamples: -1 })).toThrow(/priorSamples/);
  });
});

describe('untidy series: a decision for every value, nothing aborts, nothing pages by itself', () => {
  const start = Date.UTC(2026, 0, 5);
  const calm = generate({ start, days: 21, stepMs: 5 * MIN, timezone: 'UTC', baseMs: 800, seed: 12 });
  // Slower side, as probes page by default (the faster side is tested above).
  const quiet = (points: { t: number; value: number }[]) => {
    const { out } = run(points, { timezone: 'UTC', direction: 'high' });
    expect(out).toHaveLength(points.length);
    expect(out.every((r) => Number.isFinite(r.score))).toBe(true);
    return fired(out);
  };

  it('a calm month pages nothing (the reference for the cases below)', () => {
    expect(quiet(calm)).toEqual([]);
  });

  it('a clock that steps back an hour and repeats it', () => {
    const cut = calm.findIndex((p) => p.t >= start + 10 * DAY);
    const repeated = calm.slice(cut - 12, cut).map((p, i) => ({ t: p.t, value: calm[cut + i].value }));
    const points = [...calm.slice(0, cut), ...repeated, ...calm.slice(cut)];
    expect(quiet(points)).toEqual([]);
  });

  it('duplicate timestamps', () => {
    const points = calm.flatMap((p, i) => (i % 7 === 0 ? [p, { t: p.t, value: Math.round(p.value * 1.02) }] : [p]));
    expect(quiet(points)).toEqual([]);
  });

  it('a two-day gap', () => {
    const points = calm.filter((p) => p.t < start + 9 * DAY || p.t >= start + 11 * DAY);
    expect(quiet(points)).toEqual([]);
  });

  it('missing values: each keeps the current decision and teaches nothing', () => {
    const points = calm.map((p, i) => (i % 11 === 5 ? { t: p.t, value: NaN } : p));
    expect(quiet(points)).toEqual([]);
    const det = createLatencyDetector({ timezone: 'UTC' });
    const s = det.init();
    for (const p of calm.slice(0, 500)) det.update(s, p);
    const count = s.count;
    const r = det.update(s, { t: calm[500].t, value: NaN });
    expect(r.alert).toBe(false);
    expect(s.count).toBe(count);
    expect(det.update(s, { t: NaN, value: 900 }).alert).toBe(false);
    expect(s.count).toBe(count);
    expect(s.rows).toBe(502);
  });

  it('a constant stretch (a stuck exporter) and the return to normal, slower side', () => {
    const from = start + 12 * DAY;
    const points = calm.map((p) => (p.t >= from && p.t < from + 8 * HOUR ? { t: p.t, value: 800 } : p));
    expect(run(points, { timezone: 'UTC', direction: 'high' }).out.filter((r) => r.transition === 'fired')).toEqual([]);
  });

  it('a stuck clock (every value at the same timestamp for an hour)', () => {
    const cut = calm.findIndex((p) => p.t >= start + 12 * DAY);
    const points = calm.map((p, i) => (i >= cut && i < cut + 12 ? { t: calm[cut].t, value: p.value } : p));
    expect(quiet(points)).toEqual([]);
  });
});
