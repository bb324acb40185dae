// Shared statistics for the drift detectors: decayed baselines, CUSUM monitors for rates (Bernoulli) and for
// levels (Gaussian), the false-alarm budget → threshold rule, and a two-proportion test for evidence.
// Pure and allocation-light; every state is a plain JSON object so a detector can be persisted or rebuilt by
// replaying stored results.
//
// The maths, once:
//  * CUSUM (Page 1954) on log-likelihood ratios: S ← max(0, S + ln(f1(x)/f0(x))), alarm when S ≥ h. It is the
//    fastest detector of a change from f0 to f1 for a given false-alarm rate (Lorden 1971; Moustakides 1986).
//  * Threshold from a budget: the CUSUM is a chain of one-sided SPRTs restarted at 0; under f0 each SPRT reaches
//    e^h with probability ≤ e^-h (Wald's likelihood-ratio bound) and lasts ≥ 1 sample, so the mean number of
//    samples between false alarms is ARL0 ≥ e^h. Given a budget of F false alarms per month over N samples per
//    month, ARL0 = N / F and h = ln(N / F) keeps the expected false alarms at or under F. The bound is
//    conservative (real ARL0 is a few times e^h), which buys slack for the baseline being an estimate.
//  * Detection delay for a true rate p: about (h + overshoot) / E_p[llr] samples (Wald), see `bernoulliDelay`.
//  * Resolution uses the mirror test: R ← max(0, R − llr) accumulates evidence for f0 over f1 while firing, and
//    the signal resolves when R ≥ ln(1/α) (α = 0.01: one wrong resolve per hundred recoveries tested).
//  * Baselines forget with a half-life (a permanent change is eventually learnt) and see samples only after a
//    guard delay, so the change being tested does not leak into the baseline it is tested against.

export const MONTH_MS = (365.25 / 12) * 86_400_000;

/** Threshold h for a CUSUM on log-likelihood ratios, from the mean samples between false alarms (ARL0 ≥ e^h). */
export function thresholdForArl(arl0: number): number {
  return Math.log(Math.max(arl0, Math.E));
}

/** ARL0 for a budget: `samplesPerMonth` tested against `falseAlarmsPerMonth` expected false alarms. */
export function arlForBudget(samplesPerMonth: number, falseAlarmsPerMonth: number): number {
  if (!(falseAlarmsPerMonth > 0)) return Number.POSITIVE_INFINITY;
  return Math.max(samplesPerMonth, 1) / falseAlarmsPerMonth;
}

/** ln(1/α) evidence needed to resolve (α: chance of resolving while the change is still there). */
export const RESOLVE_EVIDENCE = Math.log(100);

// ---------------------------------------------------------------------------------------------------------------
// Decayed baselines.

/** Exponentially forgotten count of Bernoulli samples: `n` weights, `k` of them positive, as of time `t`. */
export interface DecayedCount {
  n: number;
  k: number;
  t: number;
}

export function emptyCount(t = 0): DecayedCount {
  return { n: 0, k: 0, t };
}

function decay(dtMs: number, halfLifeMs: number): number {
  return dtMs <= 0 || !Number.isFinite(halfLifeMs) ? 1 : Math.pow(0.5, dtMs / halfLifeMs);
}

/** Add one sample taken at `t` (samples arriving out of order are added without decay). */
export function addCount(c: DecayedCount, x: 0 | 1, t: number, halfLifeMs: number): void {
  const f = decay(t - c.t, halfLifeMs);
  c.n = c.n * f + 1;
  c.k = c.k * f + x;
  if (t > c.t) c.t = t;
}

/** Point estimate with half a pseudo-count each side (never exactly 0 or 1). */
export function rateOf(c: DecayedCount): number {
  return (c.k + 0.5) / (c.n + 1);
}

/** Exponentially forgotten mean and variance (West 1979, weighted incremental). */
export interface DecayedMoments {
  w: number;
  mean: number;
  m2: number;
  t: number;
}

export function emptyMoments(t = 0): DecayedMoments {
  return { w: 0, mean: 0, m2: 0, t };
}

export function addMoment(m: DecayedMoments, x: number, t: number, halfLifeMs: number): void {
  const f = decay(t - m.t, halfLifeMs);
  m.w *= f;
  m.m2 *= f;
  const w = m.w + 1;
  const d = x - m.mean;
  m.mean += d / w;
  m.m2 += d * (x - m.mean);
  m.w = w;
  if (t > m.t) m.t = t;
}

export function sdOf(m: DecayedMoments): number {
  return m.w > 1 ? Math.sqrt(Math.max(m.m2, 0) / (m.w - 1)) : 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Bernoulli monitor: a rate that should not go UP (refusals of benign prompts, leaks, invalid JSON, truncation).

export interface BernoulliParams {
  /** CUSUM threshold (thresholdForArl). */
  h: number;
  /** Smallest absolute rise worth detecting: the CUSUM is tuned to p1 = p0 + minShift. */
  minShift: number;
  /**
   * Practical effect: the rate observed since the change must be at least this much above the baseline for the
   * alarm to go off (0 = significance alone). Evidence keeps accumulating meanwhile, capped at the threshold.
   */
  minEffect?: number;
  /** Floor for the baseline rate: a rate learnt as ~0 would make one stray event look like a change. */
  minRate: number;
  halfLifeMs: number;
  /** Samples younger than this stay out of the baseline. */
  guardMs: number;
  /** Effective baseline samples before testing starts. */
  minBaseline: number;
  /** Evidence (ln LR) for "back to baseline" that resolves a firing monitor. */
  resolveEvidence: number;
  /** A change still present after this long is accepted as the new baseline (resolves, reason `accepted`). */
  acceptAfterMs: number;
}

export interface BernoulliFiring {
  at: number;
  /** When the change most likely began (the CUSUM's last zero before the alarm). */
  changeAt: number;
  p0: number;
  p1: number;
  /** Samples and positives from changeAt to the alarm. */
  n: number;
  k: number;
}

export interface BernoulliState {
  base: DecayedCount;
  /** Samples released from the guard while firing: the new level, adopted if the change is accepted. */
  alt: DecayedCount;
  /** Samples not in the baseline yet: time buckets of [latest t, n, k] (see the guard, below). */
  guard: number[];
  s: number;
  changeAt: number | null;
  nSince: number;
  kSince: number;
  recover: number;
  /** Samples and positives since the recovery statistic last left 0 (the "after" of a resolve). */
  nRecover: number;
  kRecover: number;
  firing: BernoulliFiring | null;
  samples: number;
}

export type MonitorEvent =
  | { type: 'fire'; at: number }
  | { type: 'resolve'; at: number; reason: 'recovered' | 'accepted' };

export function newBernoulli(): BernoulliState {
  return {
    base: emptyCount(),
    alt: emptyCount(),
    guard: [],
    s: 0,
    changeAt: null,
    nSince: 0,
    kSince: 0,
    recover: 0,
    nRecover: 0,
    kRecover: 0,
    firing: null,
    samples: 0,
  };
}

/** The baseline rate the test uses now (floored). */
export function baselineRate(st: BernoulliState, p: Pick<BernoulliParams, 'minRate'>): number {
  return Math.max(p.minRate, rateOf(st.base));
}

export function bernoulliReady(st: BernoulliState, p: Pick<BernoulliParams, 'minBaseline'>): boolean {
  return st.base.n >= p.minBaseline;
}

function bernoulliLlr(x: 0 | 1, p0: number, p1: number): number {
  return x ? Math.log(p1 / p0) : Math.log((1 - p1) / (1 - p0));
}

// ---------------------------------------------------------------------------------------------------------------
// The guard: samples kept out of the baseline for `guardMs`. Kept one by one it grew with the probe's rate (a day
// of a probe every minute is 1,440 samples per monitor, about 260 kB a probe), so it holds GUARD_BUCKETS time
// buckets of guardMs / GUARD_BUCKETS each, every bucket its samples already summed the way the baseline sums them
// (decayed counts or moments as of the bucket's latest sample). Releasing a bucket adds exactly what adding its
// samples one by one would have; a sample reaches the baseline once its bucket's latest sample is guardMs old,
// so at most one bucket width (guardMs / 4) later than alone: a longer guard, never a shorter one. Flat arrays of
// numbers, at most GUARD_BUCKETS + 1 buckets: under 200 bytes a monitor.

export const GUARD_BUCKETS = 4;
const BERNOULLI_STRIDE = 3; // t (latest sample), n, k
const GAUSSIAN_STRIDE = 4; // t (latest sample), w, mean, m2

/** Add a bucket's decayed count (n, k as of t) to `c`: the same as adding its samples one by one. */
function mergeCount(c: DecayedCount, n: number, k: number, t: number, halfLifeMs: number): void {
  const f = decay(t - c.t, halfLifeMs);
  c.n = c.n * f + n;
  c.k = c.k * f + k;
  if (t > c.t) c.t = t;
}

/** Add a bucket's decayed moments (as of t) to `m` (the weighted parallel merge; one value: addMoment). */
function mergeMoments(m: DecayedMoments, w: number, mean: number, m2: number, t: number, halfLifeMs: number): void {
  const f = decay(t - m.t, halfLifeMs);
  const wa = m.w * f;
  const total = wa + w;
  if (total > 0) {
    const d = mean - m.mean;
    m.mean += (d * w) / total;
    m.m2 = m.m2 * f + m2 + (d * d * wa * w) / total;
    m.w = total;
  }
  if (t > m.t) m.t = t;
}

const bucketOf = (t: number, guardMs: number) => Math.floor(t / (guardMs / GUARD_BUCKETS));

/** Put a sample in the guard: into the newest bucket if it belongs there (or is older), else a new bucket. */
function guardCount(g: number[], x: 0 | 1, t: number, p: Pick<BernoulliParams, 'guardMs' | 'halfLifeMs'>): void {
  const o = g.length - BERNOULLI_STRIDE;
  if (o >= 0 && bucketOf(g[o], p.guardMs) >= bucketOf(t, p.guardMs)) {
    const f = decay(t - g[o], p.halfLifeMs);
    g[o + 1] = g[o + 1] * f + 1;
    g[o + 2] = g[o + 2] * f + x;
    if (t > g[o]) g[o] = t;
  } else g.push(t, 1, x);
}

function guardMoment(g: number[], x: number, t: number, p: Pick<GaussianParams, 'guardMs' | 'halfLifeMs'>): void {
  const o = g.length - GAUSSIAN_STRIDE;
  if (o >= 0 && bucketOf(g[o], p.guardMs) >= bucketOf(t, p.guardMs)) {
    const m = { t: g[o], w: g[o + 1], mean: g[o + 2], m2: g[o + 3] };
    addMoment(m, x, t, p.halfLifeMs);
    g[o] = m.t;
    g[o + 1] = m.w;
    g[o + 2] = m.mean;
    g[o + 3] = m.m2;
  } else g.push(t, 1, x, 0);
}

/** Hand `merge` each bucket (its offset) whose samples are all at or before `before` (all: Infinity), and drop them. */
function releaseBuckets(g: number[], stride: number, before: number, merge: (o: number) => void): void {
  let i = 0;
  for (; i < g.length && g[i] <= before; i += stride) merge(i);
  if (i > 0) g.splice(0, i);
}

function releaseCounts(g: number[], before: number, sink: DecayedCount, halfLifeMs: number): void {
  releaseBuckets(g, BERNOULLI_STRIDE, before, (o) => mergeCount(sink, g[o + 1], g[o + 2], g[o], halfLifeMs));
}

function releaseMoments(g: number[], before: number, sink: DecayedMoments, halfLifeMs: number): void {
  releaseBuckets(g, GAUSSIAN_STRIDE, before, (o) => mergeMoments(sink, g[o + 1], g[o + 2], g[o + 3], g[o], halfLifeMs));
}

/** A state saved before the guard was bucketed holds [t, x] pairs: bucket them (once, at its first sample). */
function legacyGuard(g: unknown[], put: (g: number[], x: number, t: number) => void): number[] {
  if (g.length === 0 || !Array.isArray(g[0])) return g as number[];
  const out: number[] = [];
  for (const [t, x] of g as [number, number][]) put(out, x, t);
  return out;
}

/**
 * How far above p0 the rate of k events in n samples is, at the lower end of its ±2 standard errors: the run a
 * CUSUM alarms on starts where the events bunched, so its raw rate overstates the rise.
 */
function lowerRise(k: number, n: number, p0: number): number {
  if (n === 0) return 0;
  const r = k / n;
  return r - 2 * Math.sqrt(Math.max(r * (1 - r), p0 * (1 - p0)) / n) - p0;
}

/** Feed one sample (x = 1: the event whose rate must not rise) taken at `t`. Mutates `st`. */
export function bernoulliStep(st: BernoulliState, x: 0 | 1, t: number, p: BernoulliParams): MonitorEvent | null {
  st.samples++;
  if (!st.firing && !bernoulliReady(st, p)) {
    // Warm-up: learn straight away (no guard), test nothing yet.
    addCount(st.base, x, t, p.halfLifeMs);
    return null;
  }
  st.guard = legacyGuard(st.guard, (g, v, ts) => guardCount(g, v as 0 | 1, ts, p));
  if (p.guardMs > 0) {
    guardCount(st.guard, x, t, p);
    releaseCounts(st.guard, t - p.guardMs, st.firing ? st.alt : st.base, p.halfLifeMs);
  } else addCount(st.firing ? st.alt : st.base, x, t, p.halfLifeMs);

  if (st.firing) {
    const f = st.firing;
    const prev = st.recover;
    st.recover = Math.max(0, st.recover - bernoulliLlr(x, f.p0, f.p1));
    if (st.recover > 0 && prev === 0) {
      st.nRecover = 0;
      st.kRecover = 0;
    }
    if (st.recover > 0) {
      st.nRecover++;
      st.kRecover += x;
    }
    if (st.recover >= p.resolveEvidence) return resolveBernoulli(st, t, 'recovered');
    if (t - f.at >= p.acceptAfterMs) {
      // The new level has lasted: learn it (firing-period samples plus the guard) and stop alarming.
      const adopted = st.alt;
      releaseCounts(st.guard, Infinity, adopted, p.halfLifeMs);
      st.base = adopted;
      return resolveBernoulli(st, t, 'accepted');
    }
    return null;
  }

  const p0 = baselineRate(st, p);
  const p1 = p0 + p.minShift;
  if (p1 >= 1) return null; // already at the ceiling: no rise left to detect
  const prev = st.s;
  st.s = Math.max(0, st.s + bernoulliLlr(x, p0, p1));
  if (st.s > 0 && prev === 0) {
    st.changeAt = t;
    st.nSince = 0;
    st.kSince = 0;
  }
  if (st.s > 0) {
    st.nSince++;
    st.kSince += x;
  } else {
    st.changeAt = null;
    st.nSince = 0;
    st.kSince = 0;
  }
  if (st.s >= p.h && (p.minEffect ?? 0) > 0 && lowerRise(st.kSince, st.nSince, p0) < (p.minEffect ?? 0)) {
    // Significant but too small to act on: hold at the threshold until the effect is there (or the run ends).
    st.s = p.h;
    return null;
  }
  if (st.s >= p.h) {
    st.firing = { at: t, changeAt: st.changeAt ?? t, p0, p1, n: st.nSince, k: st.kSince };
    st.s = 0;
    st.recover = 0;
    st.nRecover = 0;
    st.kRecover = 0;
    st.alt = emptyCount(t);
    return { type: 'fire', at: t };
  }
  return null;
}

function resolveBernoulli(st: BernoulliState, t: number, reason: 'recovered' | 'accepted'): MonitorEvent {
  st.firing = null;
  st.alt = emptyCount(t);
  st.s = 0;
  st.changeAt = null;
  st.nSince = 0;
  st.kSince = 0;
  st.recover = 0;
  return { type: 'resolve', at: t, reason };
}

/**
 * Expected samples to detect a true rate `p` with a CUSUM tuned to p0 → p1 and threshold h (Wald's
 * approximation plus one sample of overshoot); Infinity when p does not drift the statistic upwards.
 */
export function bernoulliDelay(p0: number, p1: number, p: number, h: number): number {
  const up = Math.log(p1 / p0);
  const down = Math.log((1 - p1) / (1 - p0));
  const drift = p * up + (1 - p) * down;
  return drift > 0 ? h / drift + 1 : Number.POSITIVE_INFINITY;
}

// ---------------------------------------------------------------------------------------------------------------
// Gaussian monitor: a level that may shift either way (answer length), on clipped robust z-scores.

export interface GaussianParams {
  /** Threshold per side (each side gets half the budget). */
  h: number;
  /** Shift to detect, in baseline standard deviations (the CUSUM reference is δ/2). */
  shiftSd: number;
  /** The sd used is at least relSdFloor × |mean| and absSdFloor: deterministic answers have sd ≈ 0. */
  relSdFloor: number;
  absSdFloor: number;
  /** z-scores are clipped to ±zClip so one odd answer cannot carry an alarm on its own. */
  zClip: number;
  /**
   * Practical effect: the mean observed since the change must differ from the baseline by at least this share of
   * it and this much in absolute terms for the alarm to go off (0 = significance alone).
   */
  minRelChange?: number;
  minAbsChange?: number;
  halfLifeMs: number;
  guardMs: number;
  minBaseline: number;
  resolveEvidence: number;
  acceptAfterMs: number;
}

export interface GaussianFiring {
  at: number;
  changeAt: number;
  direction: 'up' | 'down';
  mean: number;
  sd: number;
  /** Mean of the samples from changeAt to the alarm. */
  observedMean: number;
  n: number;
}

export interface GaussianState {
  base: DecayedMoments;
  alt: DecayedMoments;
  /** Values not in the baseline yet: time buckets of [latest t, w, mean, m2] (see the guard, below). */
  guard: number[];
  up: number;
  down: number;
  upSince: { at: number; n: number; sum: number } | null;
  downSince: { at: number; n: number; sum: number } | null;
  recover: number;
  recent: { n: number; sum: number };
  firing: GaussianFiring | null;
  samples: number;
}

export function newGaussian(): GaussianState {
  return {
    base: emptyMoments(),
    alt: emptyMoments(),
    guard: [],
    up: 0,
    down: 0,
    upSince: null,
    downSince: null,
    recover: 0,
    recent: { n: 0, sum: 0 },
    firing: null,
    samples: 0,
  };
}

export function gaussianScale(m: DecayedMoments, p: Pick<GaussianParams, 'relSdFloor' | 'absSdFloor'>): number {
  return Math.max(sdOf(m), p.relSdFloor * Math.abs(m.mean), p.absSdFloor);
}

function clip(z: number, c: number): number {
  return z > c ? c : z < -c ? -c : z;
}

/** Feed one value taken at `t`. Mutates `st`. */
export function gaussianStep(st: GaussianState, x: number, t: number, p: GaussianParams): MonitorEvent | null {
  st.samples++;
  if (!st.firing && st.base.w < p.minBaseline) {
    addMoment(st.base, x, t, p.halfLifeMs);
    return null;
  }
  st.guard = legacyGuard(st.guard, (g, v, ts) => guardMoment(g, v, ts, p));
  if (p.guardMs > 0) {
    guardMoment(st.guard, x, t, p);
    releaseMoments(st.guard, t - p.guardMs, st.firing ? st.alt : st.base, p.halfLifeMs);
  } else addMoment(st.firing ? st.alt : st.base, x, t, p.halfLifeMs);
  const d = p.shiftSd;

  if (st.firing) {
    const f = st.firing;
    const z = clip((x - f.mean) / f.sd, p.zClip);
    const zDir = f.direction === 'up' ? z : -z;
    const prev = st.recover;
    // Evidence for N(0,1) over N(δ,1) in the alarm's direction.
    st.recover = Math.max(0, st.recover + (d * d) / 2 - d * zDir);
    if (st.recover > 0 && prev === 0) st.recent = { n: 0, sum: 0 };
    if (st.recover > 0) {
      st.recent.n++;
      st.recent.sum += x;
    }
    if (st.recover >= p.resolveEvidence) return resolveGaussian(st, t, 'recovered');
    if (t - f.at >= p.acceptAfterMs) {
      const adopted = st.alt;
      releaseMoments(st.guard, Infinity, adopted, p.halfLifeMs);
      st.base = adopted;
      return resolveGaussian(st, t, 'accepted');
    }
    return null;
  }

  const mean = st.base.mean;
  const sd = gaussianScale(st.base, p);
  const z = clip((x - mean) / sd, p.zClip);
  const k = (d * d) / 2;
  const upPrev = st.up;
  st.up = Math.max(0, st.up + d * z - k);
  st.upSince = st.up > 0 ? (upPrev === 0 || !st.upSince ? { at: t, n: 1, sum: x } : { at: st.upSince.at, n: st.upSince.n + 1, sum: st.upSince.sum + x }) : null;
  const downPrev = st.down;
  st.down = Math.max(0, st.down - d * z - k);
  st.downSince =
    st.down > 0 ? (downPrev === 0 || !st.downSince ? { at: t, n: 1, sum: x } : { at: st.downSince.at, n: st.downSince.n + 1, sum: st.downSince.sum + x }) : null;
  let dir: 'up' | 'down' | null = st.up >= p.h ? 'up' : st.down >= p.h ? 'down' : null;
  if (dir) {
    const run = (dir === 'up' ? st.upSince : st.downSince) ?? { at: t, n: 1, sum: x };
    const need = Math.max((p.minRelChange ?? 0) * Math.abs(mean), p.minAbsChange ?? 0);
    // The run's mean, less two standard errors (the run starts where the values bunched, so it overstates).
    if (need > 0 && Math.abs(run.sum / run.n - mean) - (2 * sd) / Math.sqrt(run.n) < need) {
      // Significant but too small to act on: hold at the threshold until the effect is there (or the run ends).
      if (dir === 'up') st.up = p.h;
      else st.down = p.h;
      dir = null;
    }
  }
  if (dir) {
    const since = (dir === 'up' ? st.upSince : st.downSince) ?? { at: t, n: 1, sum: x };
    st.firing = { at: t, changeAt: since.at, direction: dir, mean, sd, observedMean: since.sum / since.n, n: since.n };
    st.up = 0;
    st.down = 0;
    st.upSince = null;
    st.downSince = null;
    st.recover = 0;
    st.recent = { n: 0, sum: 0 };
    st.alt = emptyMoments(t);
    return { type: 'fire', at: t };
  }
  return null;
}

function resolveGaussian(st: GaussianState, t: number, reason: 'recovered' | 'accepted'): MonitorEvent {
  st.firing = null;
  st.alt = emptyMoments(t);
  st.up = 0;
  st.down = 0;
  st.upSince = null;
  st.downSince = null;
  st.recover = 0;
  return { type: 'resolve', at: t, reason };
}

// ---------------------------------------------------------------------------------------------------------------
// Two-proportion test (evidence: which prompts changed).

/** Upper tail of the standard normal, P(Z > z) (erfc via Numerical Recipes' Chebyshev fit, |ε| < 1.2e-7). */
export function normalSf(z: number): number {
  const x = z / Math.SQRT2;
  const a = Math.abs(x);
  const t = 1 / (1 + a / 2);
  const r =
    t *
    Math.exp(
      -a * a -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  const erfc = x >= 0 ? r : 2 - r;
  return erfc / 2;
}

/** One-sided test that rate 2 (k2/n2) exceeds rate 1 (k1/n1), pooled z; p-value P(Z ≥ z). */
export function twoProportionTest(k1: number, n1: number, k2: number, n2: number): { z: number; p: number } {
  if (n1 <= 0 || n2 <= 0) return { z: 0, p: 1 };
  const pool = (k1 + k2) / (n1 + n2);
  const se = Math.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2));
  if (se === 0) return { z: 0, p: 1 };
  const z = (k2 / n2 - k1 / n1) / se;
  return { z, p: normalSf(z) };
}
