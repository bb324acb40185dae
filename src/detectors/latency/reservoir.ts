// A time-decayed sample of one bucket's values, from which we read a weighted median and MAD.
//
// Gumbel-top-k (forward decay): every value gets priority f + Gumbel noise, with f = t·ln2/halfLife + ln(weight),
// and the bucket keeps the `capacity` highest priorities. That is a weighted sample without replacement with
// weight 2^(t/halfLife). Bounded size, plain JSON.
//
// A dense bucket (more arrivals than capacity) is thinned by the sampling itself, but a sparse one (an hour-of-week
// bucket of a 30-minute series gets 2 values a week) keeps every value for months, so an unweighted median would
// not forget at the half-life. Reading therefore weights each kept value by its decay weight divided by its
// probability of having been kept given the sampling threshold τ (the highest priority ever evicted; the
// conditional Horvitz–Thompson estimator of bottom-k sampling): dense buckets read as an even sample, sparse ones
// as decay-weighted, and old behaviour fades at the configured half-life whatever the sampling rate.

const HOUR_MS = 3_600_000;

export interface Reservoir {
  /** Sampled values. */
  v: number[];
  /** Their priorities (same index). */
  p: number[];
  /** Their log forward weights t·ln2/halfLife + ln(weight) (same index). */
  f: number[];
  /** Highest priority ever evicted (every kept value is above it), null while nothing was evicted. */
  tau: number | null;
  /** Decayed count of everything ever added (maturity), as of `t`. */
  n: number;
  /** Epoch ms of the last add. */
  t: number;
  /** Distinct clock hours that added to it (how many weeks/days a bucket has seen), for maturity. */
  visits: number;
}

export const emptyReservoir = (): Reservoir => ({ v: [], p: [], f: [], tau: null, n: 0, t: 0, visits: 0 });

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
  const f = (t / halfLifeMs) * Math.LN2 + Math.log(weight);
  const priority = f - Math.log(-Math.log(u));
  if (r.v.length < capacity) {
    r.v.push(value);
    r.p.push(priority);
    r.f.push(f);
    return;
  }
  let min = 0;
  for (let i = 1; i < r.p.length; i++) if (r.p[i] < r.p[min]) min = i;
  const evicted = Math.min(priority, r.p[min]);
  r.tau = r.tau === null ? evicted : Math.max(r.tau, evicted);
  if (priority > r.p[min]) {
    r.v[min] = value;
    r.p[min] = priority;
    r.f[min] = f;
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

/** Estimation weights of the kept values (see the header): decay weight over inclusion probability. */
export function sampleWeights(r: Reservoir): number[] {
  if (r.v.length === 0) return [];
  const top = Math.max(...r.f);
  return r.f.map((f) => {
    const w = Math.exp(f - top); // decay weight relative to the newest value, in (0, 1]
    if (r.tau === null) return w;
    const incl = -Math.expm1(-Math.exp(f - r.tau)); // P(Gumbel priority > τ)
    return w / Math.max(incl, 1e-300);
  });
}

/** Weighted median, MAD and quantiles of the sample, or null when empty. */
export function robust(r: Reservoir): Robust | null {
  const n = r.v.length;
  if (n === 0) return null;
  const w = sampleWeights(r);
  const idx = r.v.map((_, i) => i).sort((a, b) => r.v[a] - r.v[b]);
  const xs = idx.map((i) => r.v[i]);
  const ws = idx.map((i) => w[i]);
  const median = weightedQuantile(xs, ws, 0.5);
  const devIdx = xs.map((_, i) => i).sort((a, b) => Math.abs(xs[a] - median) - Math.abs(xs[b] - median));
  const mad = weightedQuantile(
    devIdx.map((i) => Math.abs(xs[i] - median)),
    devIdx.map((i) => ws[i]),
    0.5,
  );
  return {
    median,
    mad,
    p95: weightedQuantile(xs, ws, 0.95),
    p10: weightedQuantile(xs, ws, 0.1),
    p90: weightedQuantile(xs, ws, 0.9),
  };
}

/**
 * Quantile of ascending `xs` with weights `ws`: linear interpolation between the weighted positions of
 * neighbouring values (each value sits at the middle of its weight), so equal weights give quantileSorted.
 */
export function weightedQuantile(xs: readonly number[], ws: readonly number[], q: number): number {
  const n = xs.length;
  if (n === 1) return xs[0];
  let total = 0;
  for (const w of ws) total += w;
  if (!(total > 0)) return quantileSorted(xs, q);
  // Position of value i: cumulative weight before it plus half its own, rescaled so the first sits at 0 and the
  // last at 1 (as in quantileSorted with equal weights).
  const first = ws[0] / 2;
  const last = total - ws[n - 1] / 2;
  const span = last - first;
  if (!(span > 0)) return quantileSorted(xs, q);
  const target = first + q * span;
  let cum = 0;
  let prevPos = first;
  for (let i = 0; i < n; i++) {
    const pos = cum + ws[i] / 2;
    if (pos >= target) {
      if (i === 0) return xs[0];
      const frac = pos > prevPos ? (target - prevPos) / (pos - prevPos) : 1;
      return xs[i - 1] + (xs[i] - xs[i - 1]) * frac;
    }
    prevPos = pos;
    cum += ws[i];
  }
  return xs[n - 1];
}

/** Linear-interpolated quantile of an ascending array. */
export function quantileSorted(s: readonly number[], q: number): number {
  if (s.length === 1) return s[0];
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}
