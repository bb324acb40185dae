// `vigil report latency`: the hour-of-week profile of a probe from the store's hourly rollups, as a heatmap-style
// table (rows Mon..Sun, columns 00..23 local time) with a shading character AND the number in every cell, so it
// reads without colour: "slowest at 9am ET" is visible at a glance and checkable by the figure.
import type { HourlyRollup } from '../store/store.ts';
import { localHour } from './latency/local-hour.ts';
import { quantileSorted } from './latency/detector.ts';

export type ReportMetric = 'ttft' | 'total';
export type ReportStat = 'p50' | 'p95';

export interface LatencyReportOptions {
  probe: string;
  /** IANA zone for rows/columns (the probe's). */
  timezone: string;
  metrics?: ReportMetric[];
  stats?: ReportStat[];
}

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
/** Light to dark; a blank cell has no data. */
export const SHADES = ['·', '░', '▒', '▓', '█'];
const METRIC_TITLE: Record<ReportMetric, string> = { ttft: 'time to first token', total: 'total time' };

/** Compact milliseconds in at most 5 characters: 850, 2.4s, 12.5s, 125s. */
export function compactMs(v: number): string {
  if (v < 1000) return String(Math.round(v));
  if (v < 10_000) return `${(v / 1000).toFixed(1)}s`;
  if (v < 100_000) return `${(v / 1000).toFixed(1)}s`.replace(/\.0s$/, 's');
  return `${Math.round(v / 1000)}s`;
}

/**
 * The 7×24 grid of one statistic: per local hour-of-week, the median over weeks of the hourly values
 * (a typical week, not one odd Monday). null where there is no data.
 */
export function hourOfWeekGrid(
  rollups: readonly HourlyRollup[],
  timezone: string,
  metric: ReportMetric,
  stat: ReportStat,
): (number | null)[][] {
  const cells: number[][] = Array.from({ length: 168 }, () => []);
  for (const r of rollups) {
    const v = r[metric][stat];
    if (v === null || !Number.isFinite(v)) continue;
    cells[localHour(r.hourStart, timezone).how].push(v);
  }
  return DAYS.map((_, d) =>
    Array.from({ length: 24 }, (_, h) => {
      const vs = cells[d * 24 + h].sort((a, b) => a - b);
      return vs.length ? quantileSorted(vs, 0.5) : null;
    }),
  );
}

function shadeOf(v: number, sorted: number[]): string {
  // Quintiles of the cells themselves: contrast wherever the profile lies.
  const below = sorted.filter((x) => x < v).length;
  const q = sorted.length > 1 ? below / (sorted.length - 1) : 0;
  return SHADES[Math.min(SHADES.length - 1, Math.floor(q * SHADES.length))];
}

function table(grid: (number | null)[][], title: string): string[] {
  const values = grid.flat().filter((v): v is number => v !== null).sort((a, b) => a - b);
  const lines = [title];
  lines.push('     ' + Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0').padStart(6)).join(''));
  for (let d = 0; d < 7; d++) {
    const row = grid[d].map((v) => (v === null ? '     -' : `${shadeOf(v, values)}${compactMs(v).padStart(5)}`));
    lines.push(`${DAYS[d]}  ${row.join('')}`);
  }
  let max: [number, number] | null = null;
  let min: [number, number] | null = null;
  for (let d = 0; d < 7; d++) {
    for (let h = 0; h < 24; h++) {
      const v = grid[d][h];
      if (v === null) continue;
      if (!max || v > grid[max[0]][max[1]]!) max = [d, h];
      if (!min || v < grid[min[0]][min[1]]!) min = [d, h];
    }
  }
  if (max && min) {
    const at = ([d, h]: [number, number]) => `${DAYS[d]} ${String(h).padStart(2, '0')}:00 (${compactMs(grid[d][h]!)})`;
    lines.push(`slowest ${at(max)}, fastest ${at(min)}`);
  }
  return lines;
}

/** The report text. `rollups` may hold other probes: only `opts.probe` is used. */
export function formatLatencyReport(rollups: readonly HourlyRollup[], opts: LatencyReportOptions): string {
  const mine = rollups.filter((r) => r.probeId === opts.probe);
  const metrics = opts.metrics ?? ['ttft', 'total'];
  const stats = opts.stats ?? ['p50', 'p95'];
  const head = `latency profile of ${opts.probe}, hour of week in ${opts.timezone}`;
  if (mine.length === 0) return `${head}\nno hourly rollups yet (they appear after the first complete hour)\n`;
  const first = Math.min(...mine.map((r) => r.hourStart));
  const last = Math.max(...mine.map((r) => r.hourStart));
  const out = [
    `${head}: ${mine.length} hours from ${new Date(first).toISOString().slice(0, 16)}Z to ${new Date(last).toISOString().slice(0, 16)}Z`,
    `cells: median over weeks of the hourly value; shading ${SHADES.join(' ')} = fastest … slowest fifth, - = no data`,
  ];
  for (const metric of metrics) {
    for (const stat of stats) {
      const grid = hourOfWeekGrid(mine, opts.timezone, metric, stat);
      if (grid.flat().every((v) => v === null)) continue;
      out.push('', ...table(grid, `${METRIC_TITLE[metric]} ${stat}`));
    }
  }
  return out.join('\n') + '\n';
}
