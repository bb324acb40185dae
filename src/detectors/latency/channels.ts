// The evidence channels of the latency detector and their self-calibration. Pure helpers over the window of
// robust z values (value minus the hour's median, over the hour's spread).
//
// Each channel reduces the recent z values to one number per side (slower / faster), and the detector compares
// it with the long-run mean and spread of that SAME number on this series (exponentially weighted), so every
// channel is calibrated on the series' own behaviour: a series whose calls are always jumpy, or whose baseline
// is imperfect so residuals come in runs, has to be jumpier than its own usual to page.
//   level  — mean of log(1 + z⁺) (or z⁻) over the short window: "this hour is slow", robust to one slow call.
//   shift  — the same over the long window: a smaller but persistent shift (a day after a deploy, a slow drift).
//   spread — log of the robust spread of z over the long window: latency got jittery (or suspiciously steady).

export type Channel = 'level' | 'shift' | 'spread';
export const CHANNELS: readonly Channel[] = ['level', 'shift', 'spread'];

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
export function rarity(c: Calibration, v: number, minN: number, minSd: number): number {
  if (c.n < minN) return 0;
  return (v - c.mean) / Math.max(Math.sqrt(c.variance), minSd);
}

/** Mean of log(1 + z⁺) and log(1 + z⁻) over the last `n` of `z` (all of them if fewer). */
export function sideMeans(z: readonly number[], n: number): { up: number; down: number } {
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

/** log(1.4826 · MAD) of the last `n` of `z`: 0 when the window is exactly as spread as the baseline says. */
export function logSpread(z: readonly number[], n: number): number {
  const w = z.slice(Math.max(0, z.length - n)).sort((a, b) => a - b);
  if (w.length < 2) return 0;
  const med = quantile(w, 0.5);
  const dev = w.map((v) => Math.abs(v - med)).sort((a, b) => a - b);
  return Math.log(Math.max(1.4826 * quantile(dev, 0.5), 1e-3));
}

function quantile(s: readonly number[], q: number): number {
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}
