// Hour-of-week baseline with a compact, fixed-size state: per bucket a robust location and scale learnt online
// and a forward-decayed weight: 168 buckets × 3 float32 = 2 kB per series, allocated at the series' first value
// (nothing up front), plus one all-hours bucket.
//
// Learning is a robust exponentially weighted M-estimate (Huber ψ for the location, a clipped-square update for
// the scale; Gelper, Fried & Croux 2010, "Robust forecasting with exponential and Holt-Winters smoothing"): a
// spike moves the location by at most c·s/W, so one slow call neither pages through the baseline nor moves it.
// Weights decay by time (half-life), stored as forward-decayed sums (Cormode et al. 2009), so no per-bucket clock
// is needed and a bucket visited once a week forgets at the same half-life as one visited every minute.
//
// An hour never explains itself away: while a bucket is being visited (the values of this local hour keep
// arriving), it is read as it was when the visit began (`visit`), and learns meanwhile.
//
// Reading falls back from the hour of the week to the hour of the day (the week's 7 buckets of that hour pooled)
// to all hours while a bucket is young; a young bucket's location and scale are shrunk towards the coarser
// level's (a prior worth `prior` values), so a dozen similar values never make every wobble look extreme.

export const HOW = 168;
/** Fields per bucket: location, scale, forward-decayed weight. */
const F = 3;
const M = 0;
const S = 1;
const W = 2;
/** Huber clip for learning (in scales). */
const C = 2;
/** E[min(u², C²)] for a standard normal u: makes the clipped scale update consistent for Gaussian noise. */
const KAPPA = 0.9206;
/** Renormalise the forward-decay landmark well before float32 weights could overflow. */
const RENORM_EXP = 30;

export type BaselineLevel = 'hour_of_week' | 'hour_of_day' | 'global';

export interface BaselineRead {
  level: BaselineLevel;
  /** Robust location. */
  m: number;
  /** Robust σ-equivalent scale (shrunk, floored). */
  s: number;
  /** Decayed weight (effective values) behind it. */
  w: number;
}

export interface BaselineState {
  /** 168 × [location, scale, forward weight]; null until the first value. */
  how: Float32Array | null;
  /** The all-hours bucket, same fields. */
  all: [number, number, number];
  /** Forward-decay landmark (ms): stored weights are Σ g·exp(λ(t − landmark)). */
  landmark: number;
  /** The bucket being visited: its hour-of-week, the visit's key, and its fields when the visit began. */
  visit: { how: number; key: number; m: number; s: number; w: number } | null;
}

export interface BaselineParams {
  /** ln 2 / half-life (per ms). */
  lambda: number;
  /** Effective values a bucket needs before it is read. */
  minWeight: number;
  /** Prior weight (in values) of the coarser level in a young bucket's location and scale. */
  prior: number;
  /** Scale floor as a share of the all-hours scale: a bucket of identical values must not make z infinite. */
  relFloor: number;
}

export function emptyBaseline(): BaselineState {
  return { how: null, all: [0, 0, 0], landmark: 0, visit: null };
}

/** Floats of one series' hour-of-week buckets. */
export const BUCKET_FLOATS = HOW * F;

/**
 * Give two series of one probe (time to first token and total) their buckets in one buffer: each typed array
 * carries its own ArrayBuffer and off-heap backing store (about 250 bytes besides its 2 kB), so a pair shares
 * one. Only for series that have none yet, or whose buckets are copied in (a restored state).
 */
export function shareBuckets(a: BaselineState, b: BaselineState): void {
  if (a.how && b.how && a.how.buffer === b.how.buffer) return;
  const both = new Float32Array(2 * BUCKET_FLOATS);
  if (a.how) both.set(a.how, 0);
  if (b.how) both.set(b.how, BUCKET_FLOATS);
  a.how = both.subarray(0, BUCKET_FLOATS);
  b.how = both.subarray(BUCKET_FLOATS);
}

/** Keep exp(λ(t − landmark)) bounded (every ~1.6 years at a 14-day half-life): rescale the stored weights. */
function renormalise(b: BaselineState, t: number, lambda: number): void {
  if (lambda * (t - b.landmark) < RENORM_EXP) return;
  const k = Math.exp(-lambda * (t - b.landmark));
  if (b.how) for (let i = 0; i < HOW; i++) b.how[i * F + W] *= k;
  b.all[W] *= k;
  if (b.visit) b.visit.w *= k;
  b.landmark = t;
}

/** Robust update of one bucket (fields at `o` of `a`) with value x of weight g. */
function learnBucket(a: Float32Array | number[], o: number, x: number, fg: number, prior: number): void {
  const w0 = a[o + W];
  if (!(w0 > 0)) {
    // First value: the location is the value; the scale starts from the prior (the coarser level's), if any.
    a[o + M] = x;
    a[o + S] = prior;
    a[o + W] = fg;
    return;
  }
  const w1 = w0 + fg;
  const r = fg / w1;
  const m = a[o + M];
  const s = a[o + S];
  if (!(s > 0)) {
    // No scale yet (the series' second value, or only identical values so far): the difference is the guess.
    a[o + M] = m + r * (x - m);
    a[o + S] = Math.abs(x - m) / 0.6745;
    a[o + W] = w1;
    return;
  }
  const u = (x - m) / s;
  const cu = u > C ? C : u < -C ? -C : u;
  a[o + M] = m + r * s * cu;
  a[o + S] = Math.sqrt((1 - r) * s * s + (r * s * s * cu * cu) / KAPPA);
  a[o + W] = w1;
}

/** The key of a visit: the bucket and the (detector-clock) hour it started in. */
const visitKey = (how: number, t: number): number => Math.floor(t / 3_600_000) * HOW + how;

/** The visit this value belongs to: the current one, or a snapshot of the bucket as it is now (a new visit). */
function visitFor(b: BaselineState, how: number, t: number): NonNullable<BaselineState['visit']> {
  const key = visitKey(how, t);
  if (b.visit && b.visit.key === key && b.visit.how === how) return b.visit;
  const h = b.how;
  const o = how * F;
  return h ? { how, key, m: h[o + M], s: h[o + S], w: h[o + W] } : { how, key, m: 0, s: 0, w: 0 };
}

export function learn(b: BaselineState, how: number, x: number, g: number, t: number, p: BaselineParams): void {
  renormalise(b, t, p.lambda);
  b.visit = visitFor(b, how, t);
  if (!b.how) b.how = new Float32Array(BUCKET_FLOATS);
  const fg = g * Math.exp(p.lambda * (t - b.landmark));
  learnBucket(b.how, how * F, x, fg, b.all[S]);
  learnBucket(b.all, 0, x, fg, 0);
}

/**
 * Location and scale for a value at hour-of-week `how` and detector time `t` (≥ the last learnt one); null before
 * the series has a scale. Reads only: the visit starts when the value is learnt.
 */
export function read(b: BaselineState, how: number, t: number, p: BaselineParams): BaselineRead | null {
  const all = b.all;
  const decay = Math.exp(-p.lambda * (t - b.landmark));
  const wAll = all[W] * decay;
  if (!b.how || !(all[S] > 0) || wAll < p.minWeight) return null;
  const sAll = all[S];
  const floor = Math.max(p.relFloor * sAll, 1e-9 * Math.abs(all[M]), 1e-12);
  const h = b.how;
  const v = visitFor(b, how, t);
  // The week's buckets of this hour, pooled (mixture mean and variance); the visited one as the visit began.
  const hour = how % 24;
  let sw = 0;
  let swm = 0;
  let swq = 0;
  for (let d = 0; d < 7; d++) {
    const i = d * 24 + hour;
    const o = i * F;
    const cur = i === v.how;
    const w = (cur ? v.w : h[o + W]) * decay;
    if (!(w > 0)) continue;
    const m = cur ? v.m : h[o + M];
    const s = cur ? v.s : h[o + S];
    sw += w;
    swm += w * m;
    swq += w * (s * s + m * m);
  }
  const shrink = (x: number, w: number, ref: number) => (w * x + p.prior * ref) / (w + p.prior);
  const shrinkS = (s: number, w: number, ref: number) => Math.sqrt(shrink(s * s, w, ref * ref));
  if (sw >= p.minWeight) {
    const mHod = swm / sw;
    const sHod = shrinkS(Math.sqrt(Math.max(swq / sw - mHod * mHod, 0)), sw, sAll);
    const wb = v.w * decay;
    if (wb >= p.minWeight) {
      return { level: 'hour_of_week', m: shrink(v.m, wb, mHod), s: Math.max(shrinkS(v.s, wb, sHod), floor), w: wb };
    }
    return { level: 'hour_of_day', m: mHod, s: Math.max(sHod, floor), w: sw };
  }
  return { level: 'global', m: all[M], s: Math.max(sAll, floor), w: wAll };
}
