// Generated latency with an injected clock: a weekday 9am (probe timezone) peak ×3, seeded jitter, rare single
// slow calls, and incidents on top.
import { ManualClock } from '../../src/clock.ts';
import { localHour } from '../../src/detectors/latency/local-hour.ts';
import { createRng } from '../../src/sim/rng.ts';

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

/** The simulator's seeded PRNG (mulberry32), re-exported so the generated series stay the same. */
export const mulberry32 = createRng;

export interface Incident {
  start: number;
  end: number;
  factor: number;
}

export interface SeriesSpec {
  start: number;
  days: number;
  stepMs: number;
  timezone: string;
  baseMs: number;
  peakFactor?: number;
  incidents?: Incident[];
  /** Permanent multiplier from this instant on. */
  step?: { at: number; factor: number };
  /** Periods with another noise level (log-normal σ; the usual is 0.12): jittery or suspiciously steady. */
  noise?: { start: number; end: number; sigma: number }[];
  seed?: number;
}

/** Local fractional hour in `tz` (minutes from Intl through localHour's hour plus the UTC minute). */
function localFractionalHour(t: number, tz: string): { weekday: boolean; h: number } {
  const lh = localHour(t, tz);
  const minutes = new Date(t).getUTCMinutes(); // whole-hour offsets only in the zones used here
  return { weekday: lh.day < 5, h: lh.hour + minutes / 60 };
}

export function diurnalMultiplier(t: number, tz: string, peak = 3): number {
  const { weekday, h } = localFractionalHour(t, tz);
  return weekday ? 1 + (peak - 1) * Math.exp(-((h - 9) ** 2) / (2 * 1.5 ** 2)) : 1;
}

/** The series, with timestamps taken from a ManualClock advanced by `stepMs`. */
export function generate(spec: SeriesSpec): { t: number; value: number }[] {
  const rnd = mulberry32(spec.seed ?? 7);
  const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  const clock = new ManualClock(spec.start);
  const out: { t: number; value: number }[] = [];
  const end = spec.start + spec.days * DAY;
  while (clock.now() < end) {
    const t = clock.now();
    const sigma = spec.noise?.find((p) => t >= p.start && t < p.end)?.sigma ?? 0.12;
    let v = spec.baseMs * diurnalMultiplier(t, spec.timezone, spec.peakFactor ?? 3) * Math.exp(sigma * gauss());
    if (rnd() < 0.003) v *= 3 + 3 * rnd(); // one slow call now and then: must never page on its own
    for (const inc of spec.incidents ?? []) if (t >= inc.start && t < inc.end) v *= inc.factor;
    if (spec.step && t >= spec.step.at) v *= spec.step.factor;
    out.push({ t, value: Math.round(v) });
    clock.set(t + spec.stepMs);
  }
  return out;
}

/** Epoch ms of a wall-clock time in `tz` (search over the two possible offsets; fine for tests). */
export function zoned(tz: string, y: number, mo: number, d: number, h: number, mi = 0): number {
  const guess = Date.UTC(y, mo - 1, d, h, mi);
  for (let off = -14 * HOUR; off <= 14 * HOUR; off += 15 * MIN) {
    const t = guess - off;
    const lh = localHour(t, tz);
    const local = new Date(guess);
    const wantDay = (local.getUTCDay() + 6) % 7;
    if (lh.hour === h && lh.day === wantDay && new Date(t).getUTCMinutes() === mi) return t;
  }
  throw new Error('no such local time');
}
