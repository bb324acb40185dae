// The paging metric of ../shared/tools/nab_eval.py, restated in TypeScript so cross-validation can score
// thousands of detector runs in process (test/detectors/nab-score.test.ts cross-checks it against the script).
//   A page is a rising edge of `alert`; pages in the first 15 % of the rows (NAB's probation) are ignored.
//   window recall = windows with ≥ 1 page inside ÷ windows ending after the probation
//   false pages / day = pages outside every window ÷ days after the probation

export interface SeriesScore {
  windows: number;
  hit: number;
  fp: number;
  days: number;
  pages: number;
  /** (first page in window − window start) ÷ window length, per hit window. */
  delays: number[];
}

export interface PooledScore {
  recall: number;
  fpPerDay: number;
  meanDelay: number | null;
  windows: number;
  hit: number;
  fp: number;
  days: number;
}

/**
 * NAB timestamps as the script reads them: `T` or space, optional trailing `Z`, fractional seconds dropped,
 * naive times taken as UTC. NaN when unreadable.
 */
export function nabTime(s: string): number {
  let v = s.trim().replace('T', ' ');
  if (v.endsWith('Z')) v = v.slice(0, -1);
  const dot = v.indexOf('.');
  if (dot !== -1) v = v.slice(0, dot);
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(v);
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

/** Score one series: `t` row times (ms) and `alert` per row, in file order; `windows` as [start, end] ms. */
export function scoreSeries(t: ArrayLike<number>, alert: ArrayLike<boolean | number>, windows: readonly (readonly [number, number])[]): SeriesScore {
  const n = t.length;
  if (n === 0) return { windows: 0, hit: 0, fp: 0, days: 0, pages: 0, delays: [] };
  const probEnd = t[Math.floor(0.15 * n)];
  const pages: number[] = [];
  let prev = false;
  for (let i = 0; i < n; i++) {
    const a = !!alert[i];
    if (a && !prev && t[i] >= probEnd) pages.push(t[i]);
    prev = a;
  }
  const wins = windows.filter((w) => w[1] >= probEnd);
  let hit = 0;
  const delays: number[] = [];
  for (const [s, e] of wins) {
    const first = pages.find((p) => s <= p && p <= e);
    if (first !== undefined) {
      hit++;
      delays.push((first - s) / (e - s));
    }
  }
  let fp = 0;
  for (const p of pages) if (!wins.some(([s, e]) => s <= p && p <= e)) fp++;
  return { windows: wins.length, hit, fp, days: (t[n - 1] - probEnd) / 86_400_000, pages: pages.length, delays };
}

export function pool(scores: Iterable<SeriesScore>): PooledScore {
  let windows = 0;
  let hit = 0;
  let fp = 0;
  let days = 0;
  const delays: number[] = [];
  for (const s of scores) {
    windows += s.windows;
    hit += s.hit;
    fp += s.fp;
    days += s.days;
    delays.push(...s.delays);
  }
  return {
    recall: windows ? hit / windows : 0,
    fpPerDay: days ? fp / days : 0,
    meanDelay: delays.length ? delays.reduce((a, b) => a + b, 0) / delays.length : null,
    windows,
    hit,
    fp,
    days,
  };
}
