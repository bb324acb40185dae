// Leave-one-family-out cross-validation of the latency detector on the NAB development set.
//
// Every candidate setting in the grid is run once over every series (each run is the online detector from a
// fresh state, exactly as `vigil eval latency` runs it). Then, for each of NAB's folders (families), the setting
// that scores best on the other six is chosen and the held-out family is scored with it: the held-out figures
// and their pooled sum are what the detector is expected to do on data it was not tuned on. The setting chosen on
// all seven families is what ships as the default (DEFAULT_OPTIONS).
import { decideSeries } from '../eval-latency.ts';
import type { LatencyDetectorOptions } from '../latency/detector.ts';
import type { NabSeries } from './nab-data.ts';
import { pool, scoreSeries, type PooledScore, type SeriesScore } from './nab-score.ts';

const DAY = 86_400_000;

export interface Candidate {
  name: string;
  options: LatencyDetectorOptions;
}

/**
 * The settings the cross-validation chooses between: how far a statistic must beat its record and how long a
 * record is remembered (the two knobs that trade recall for false pages). The structure of the detector and the
 * range of this grid were explored on the whole development set; the cross-validation shows how much the choice
 * within it depends on any one family.
 */
export function defaultGrid(): Candidate[] {
  const out: Candidate[] = [];
  for (const margin of [0.1, 0.15, 0.2]) {
    for (const days of [8, 12, 20, 30]) {
      out.push({ name: `margin ${margin}, record half-life ${days}d`, options: { margin, recordHalfLifeMs: days * DAY } });
    }
  }
  return out;
}

/**
 * What a setting is chosen by: window recall minus `lambda` × false pages per day (λ = 1: one window found is
 * worth about 16 false pages over the development set's 1,563 days).
 */
export function objective(s: PooledScore, lambda = 1): number {
  return s.recall - lambda * s.fpPerDay;
}

/** Per candidate, per series: the score of the detector's decisions. */
export function runGrid(series: readonly NabSeries[], grid: readonly Candidate[], onProgress?: (done: number) => void): SeriesScore[][] {
  return grid.map((c, i) => {
    const scores = series.map((s) => scoreSeries(s.t, decideSeries(s.rows, c.options, s.rel).alert, s.windows));
    onProgress?.(i + 1);
    return scores;
  });
}

export interface FamilyResult {
  family: string;
  /** The candidate chosen on the other families. */
  chosen: string;
  heldOut: PooledScore;
}

export interface LofoResult {
  families: FamilyResult[];
  /** Sum of the held-out families' counts. */
  pooled: PooledScore;
  /** The candidate chosen on all families (what ships), and its in-sample score. */
  overall: { chosen: string; score: PooledScore };
}

function best(scores: SeriesScore[][], include: (i: number) => boolean): number {
  let bestI = 0;
  let bestJ = -Infinity;
  scores.forEach((perSeries, ci) => {
    const j = objective(pool(perSeries.filter((_, si) => include(si))));
    // Ties go to the earlier candidate: deterministic.
    if (j > bestJ + 1e-12) {
      bestJ = j;
      bestI = ci;
    }
  });
  return bestI;
}

export function leaveOneFamilyOut(series: readonly NabSeries[], grid: readonly Candidate[], scores: SeriesScore[][]): LofoResult {
  const families = [...new Set(series.map((s) => s.family))].sort();
  const held: SeriesScore[] = [];
  const out: FamilyResult[] = families.map((family) => {
    const ci = best(scores, (si) => series[si].family !== family);
    const mine = scores[ci].filter((_, si) => series[si].family === family);
    held.push(...mine);
    return { family, chosen: grid[ci].name, heldOut: pool(mine) };
  });
  const ci = best(scores, () => true);
  return { families: out, pooled: pool(held), overall: { chosen: grid[ci].name, score: pool(scores[ci]) } };
}
