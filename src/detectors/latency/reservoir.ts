// A time-decayed sample of one bucket's values, from which we read a median and a MAD.
//
// Gumbel-top-k (forward decay): every value gets priority t·ln2/halfLife + ln(weight) + Gumbel noise and the
// bucket keeps the `capacity` highest priorities. That is a weighted sample without replacement with weight
// 2^(t/halfLife): old values fade out at the configured half-life whatever the sampling rate, so a permanent
// shift is learnt, while a short incident is only a small share of the sample. Bounded size, plain JSON.

const HOUR_MS = 3_600_000;

export interface Reservoir {
  /** Sampled values. */
  v: number[];
  /** Their priorities (same index). */
  p: number[];
  /** Decayed count of everything ever added (maturity), as of `t`. */
  n: number;
  /** Epoch ms of the last add. */
  t: number;
  /** Distinct clock hours that added to it (how many weeks/days a bucket has seen), for maturity. */
  visits: number;
}

export const emptyReservoir = (): Reservoir => ({ v: [], p: [], n: 0, t: 0, visits: 0 });

/** Decayed count as of `t`. */
export function decayedCount(r: Reservoir, t: number, halfLifeMs: number): number {
  if (r.n === 0) return 0;
  return r.n * Math.pow(2, -Math.max(0, t - r.t) / halfLifeMs);
}

/** Add `value` seen at `t` with `weight` (≤ 1 while alerting, so an incident is learnt slowly). `u` ∈ (0,1). */
export function addToReservoir(
  r: Reservoir,
  value: number,
  t: number,
  weight: number,
  u: number,
  capacity: number,
  halfLifeMs: number,
): void {
  if (r.visits === 0 || Math.floor(t / HOUR_MS) !== Math.floor(r.t / HOUR_MS)) r.visits++;
  r.n = decayedCount(r, t, halfLifeMs) + weight;
  r.t = Math.max(r.t, t);
  const priority = (t / halfLifeMs) * Math.LN2 + Math.log(weight) - Math.log(-Math.log(u));
  if (r.v.length < capacity) {
    r.v.push(value);
    r.p.push(priority);
    return;
  }
  let min = 0;
  for (let i = 1; i < r.p.length; i++) if (r.p[i] < r.p[min]) min = i;
  if (priority > r.p[min]) {
    r.v[min] = value;
    r.p[min] = priority;
  }
}

export interface Robust {
  median: number;
  /** Median absolute deviation (raw, not scaled to σ). */
  mad: number;
  /** Upper quantile of the sample (for the "baseline p95" shown to people). */
  p95: number;
  /** 10th and 90th percentiles: the spread of each side, for skewed data (latency has a long upper tail). */
  p10: number;
  p90: number;
}

/** Median, MAD and p95 of the sample, or null when empty. */
export function robust(r: Reservoir): Robust | null {
  const n = r.v.length;
  if (n === 0) return null;
  const s = r.v.slice().sort((a, b) => a - b);
  const median = quantileSorted(s, 0.5);
  const dev = s.map((x) => Math.abs(x - median)).sort((a, b) => a - b);
  return {
    median,
    mad: quantileSorted(dev, 0.5),
    p95: quantileSorted(s, 0.95),
    p10: quantileSorted(s, 0.1),
    p90: quantileSorted(s, 0.9),
  };
}

/** Linear-interpolated quantile of an ascending array. */
export function quantileSorted(s: readonly number[], q: number): number {
  if (s.length === 1) return s[0];
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}
