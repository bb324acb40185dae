// The NAB development set (../shared/data/nab): series, their family (top folder) and labelled windows.
// Read in place, never copied into the project.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSeriesText, type SeriesRow } from '../eval-latency.ts';
import { nabTime } from './nab-score.ts';

export interface NabSeries {
  /** Path relative to data/, e.g. `realTweets/Twitter_volume_GOOG.csv`. */
  rel: string;
  family: string;
  rows: SeriesRow[];
  /** Row times as the scorer reads them (ms). */
  t: number[];
  windows: [number, number][];
}

export function nabPresent(nabDir: string): boolean {
  return existsSync(join(nabDir, 'windows.json')) && existsSync(join(nabDir, 'data'));
}

/** Every series that has labelled windows (windows.json lists each scored file, with or without windows). */
export function loadNab(nabDir: string): NabSeries[] {
  const windows = JSON.parse(readFileSync(join(nabDir, 'windows.json'), 'utf8')) as Record<string, [string, string][]>;
  return Object.keys(windows)
    .sort()
    .map((rel) => {
      const path = join(nabDir, 'data', rel);
      const { rows } = readSeriesText(readFileSync(path, 'utf8'), path);
      return {
        rel,
        family: rel.split('/')[0],
        rows,
        t: rows.map((r) => nabTime(r.timestamp)),
        windows: windows[rel].map(([a, b]) => [nabTime(a), nabTime(b)] as [number, number]),
      };
    });
}
