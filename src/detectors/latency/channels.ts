// The evidence channels of the latency detector and their self-calibration: pure helpers over the recent window
// of robust z values (value minus the hour's median, over the hour's spread).
//
// Each channel reduces the recent points to one statistic and compares it with the long-run mean and spread of
// that statistic on this series (exponentially weighted), so every channel is calibrated on the series' own
// behaviour: a series whose calls are always jumpy, or whose baseline is imperfect so residuals come in runs,
// has to be more unusual than its own usual to page. No channel looks at a single point.
//   typical — median z of the short window: the typical call is slower (faster) than usual for the hour.
//   tail    — mean of log(1 + z⁺) (or z⁻) over the short window: enough slow calls to matter even if the typical
//             one is fine; one slow call is diluted by the window and the log.
//   spread  — log of the robust spread of successive differences over the long window: latency got jittery,
//             or suspiciously steady (a cache or a canned error answering instead of the model).

export type Channel = 'typical' | 'tail' | 'spread';

/**
 * Rarity (in long-run standard deviations) each channel needs to fire, as a multiple of the detector threshold.
 * Chosen on the NAB development set by comparing configurations at matched false-page rates (see the README),
 * then checked on the two halves and leave-one-file-out; the probe tests (a generated month) pass with them.
 */
export const CHANNEL_SCALE: Readonly<Record<Channel, number>> = { tail: 1.25, typical: 1.5625, spread: 1.875 };

/** Exponentially weighted mean and variance of one statistic. */
export interface Calibration {
  mean: number;
  variance: number;
  n: number;
}

export const emptyCalibration = (): Calibration => ({ mean: 0, variance: 0, n: 0 });

/** Learn one observation; `alpha` is the long-run weight (1 / points averaged over). Mutates `c`. */
export function calibrate(c: Calibration, v: number, alpha: number): void {
  c.n++;
  // Plain average until the horizon fills, then exponential: early estimates are not dominated by the prior 0.
  const w = Math.max(alpha, 1 / c.n);
  const d = v - c.mean;
  c.mean += w * d;
  c.variance = (1 - w) * (c.variance + w * d * d);
}

/** How many long-run standard deviations `v` is above the calibrated mean (0 until `minN` observations). */
export function rarity(c: Calibration, v: number, minN: number): number {
  if (c.n < minN) return 0;
  return (v - c.mean) / Math.max(Math.sqrt(c.variance), 1e-3);
}

/** Mean of log(1 + z⁺) and of log(1 + z⁻) over the last `n` of `z`. */
export function tailMeans(z: readonly number[], n: number): { up: number; down: number } {
  const from = Math.max(0, z.length - n);
  const k = z.length - from;
  if (k === 0) return { up: 0, down: 0 };
  let up = 0;
  let down = 0;
  for (let i = from; i < z.length; i++) {
    const v = z[i];
    if (v > 0) up += Math.log1p(v);
    else down += Math.log1p(-v);
  }
  return { up: up / k, down: down / k };
}

/** Median of the last `n` of `z` (0 when empty). */
export function tailMedian(z: readonly number[], n: number): number {
  const w = z.slice(Math.max(0, z.length - n)).sort((a, b) => a - b);
  return w.length ? quantile(w, 0.5) : 0;
}

/**
 * log of the median absolute deviation of successive differences (x[i] − x[i−1]) / scale[i] over the last `n`
 * points. Differences cancel the level and the daily shape; dividing by each point's hour-of-day spread keeps a
 * busy hour (proportionally noisier) from looking jittery. null with fewer than 3 differences.
 */
export function logDiffSpread(x: readonly number[], scale: readonly number[], n: number): number | null {
  const d: number[] = [];
  for (let i = Math.max(1, x.length - n); i < x.length; i++) d.push((x[i] - x[i - 1]) / scale[i]);
  if (d.length < 3) return null;
  d.sort((a, b) => a - b);
  const med = quantile(d, 0.5);
  const dev = d.map((v) => Math.abs(v - med)).sort((a, b) => a - b);
  return Math.log(Math.max(quantile(dev, 0.5), 1e-12));
}

function quantile(s: readonly number[], q: number): number {
  if (s.length === 1) return s[0];
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}
