import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sharedDataDir } from '../../src/detectors/cv/data-dir.ts';
import { defaultGrid, leaveOneFamilyOut, runGrid } from '../../src/detectors/cv/latency-cv.ts';
import { loadNab, nabPresent } from '../../src/detectors/cv/nab-data.ts';
import { nabTime, pool, scoreSeries } from '../../src/detectors/cv/nab-score.ts';
import { evalLatencyCsv, evalLatencyDir, evalLatencyText, parseTimestamp } from '../../src/detectors/eval-latency.ts';
import { DAY, HOUR, MIN, generate } from './latency-helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'vigil-eval-latency-'));
  dirs.push(d);
  return d;
};

const nabTs = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 19);
const start = Date.UTC(2026, 0, 5);
const incident = { start: start + 16 * DAY + 14 * HOUR, end: start + 16 * DAY + 18 * HOUR, factor: 3 };
function csvOf(points: { t: number; value: number | string }[]): string {
  return ['timestamp,value', ...points.map((p) => `${nabTs(p.t)},${p.value}`)].join('\n') + '\n';
}
const rows = (csv: string) => csv.trim().split('\n').map((l) => l.split(','));
const edgesOf = (out: string[][]) =>
  out.slice(1).flatMap((r, i) => (r[3] === '1' && (i === 0 || out[i][3] === '0') ? [Date.parse(r[0].replace(' ', 'T') + 'Z')] : []));

describe('eval latency (CSV contract)', () => {
  // A daily shape without a weekly one: the contract runs the detector's defaults (slower and faster), and a
  // weekday-only peak would make the first weekend look "faster than usual" before hour-of-week buckets exist.
  const points = generate({ start, days: 21, stepMs: 10 * MIN, timezone: 'UTC', baseMs: 500, peakFactor: 1, incidents: [incident], seed: 4 }).map((p) => ({
    t: p.t,
    value: Math.round(p.value * (1 + 0.5 * Math.sin((2 * Math.PI * (p.t % DAY)) / DAY))),
  }));

  it('round-trips a CSV: same rows and timestamps, score and 0/1 alert, one page during the incident', async () => {
    const d = tmp();
    writeFileSync(join(d, 'in.csv'), csvOf(points));
    const summary = await evalLatencyCsv(join(d, 'in.csv'), join(d, 'out', 'out.csv'));
    const out = rows(readFileSync(join(d, 'out', 'out.csv'), 'utf8'));
    expect(out[0]).toEqual(['timestamp', 'value', 'score', 'alert']);
    expect(out).toHaveLength(points.length + 1);
    expect(out.slice(1).map((r) => r[0])).toEqual(points.map((p) => nabTs(p.t)));
    expect(out.slice(1).map((r) => Number(r[1]))).toEqual(points.map((p) => p.value));
    expect(new Set(out.slice(1).map((r) => r[3]))).toEqual(new Set(['0', '1']));
    expect(out.slice(1).every((r) => Number.isFinite(Number(r[2])))).toBe(true);
    const edges = edgesOf(out);
    expect(edges).toHaveLength(1);
    expect(edges[0]).toBeGreaterThanOrEqual(incident.start);
    expect(edges[0]).toBeLessThan(incident.end);
    expect(summary).toMatchObject({ rows: points.length, pages: 1, unreadable: 0, backwards: 0 });
  });

  it('is online: the decision at a row does not depend on later rows', () => {
    const full = rows(evalLatencyText(csvOf(points)).csv);
    const cut = Math.floor(points.length * 0.8);
    const prefix = rows(evalLatencyText(csvOf(points.slice(0, cut))).csv);
    expect(prefix).toEqual(full.slice(0, cut + 1));
  });

  it('keeps relative paths for a directory and skips non-CSV files', async () => {
    const d = tmp();
    mkdirSync(join(d, 'in', 'a', 'b'), { recursive: true });
    writeFileSync(join(d, 'in', 'a', 'b', 's1.csv'), csvOf(points.slice(0, 300)));
    writeFileSync(join(d, 'in', 's2.csv'), csvOf(points.slice(0, 100)));
    writeFileSync(join(d, 'in', 'README.md'), '# not data');
    const res = await evalLatencyDir(join(d, 'in'), join(d, 'out'));
    expect(Object.keys(res).sort()).toEqual([join('a', 'b', 's1.csv'), 's2.csv']);
    expect(rows(readFileSync(join(d, 'out', 'a', 'b', 's1.csv'), 'utf8'))).toHaveLength(301);
    expect(existsSync(join(d, 'out', 'README.md'))).toBe(false);
  });

  it('emits a decision for every row of an untidy file and never aborts', () => {
    // A repeated hour (clock stepped back), duplicate timestamps, a gap, missing and non-numeric values, an
    // unreadable timestamp and a constant stretch, all in one file, with the incident still in it.
    const base = points.map((p) => ({ t: p.t, value: p.value as number | string }));
    const stepBack = base.findIndex((p) => p.t >= start + 5 * DAY);
    const untidy = [
      ...base.slice(0, stepBack),
      ...base.slice(stepBack - 6, stepBack).map((p) => ({ t: p.t, value: Number(p.value) + 3 })), // the hour again
      ...base.slice(stepBack, stepBack + 50).flatMap((p, i) => (i % 5 ? [p] : [p, p])), // duplicates
      ...base.slice(stepBack + 50).filter((p) => p.t < start + 8 * DAY || p.t >= start + 9 * DAY), // a day's gap
    ].map((p, i) => (i % 97 === 3 ? { t: p.t, value: '' } : i % 131 === 7 ? { t: p.t, value: 'n/a' } : p));
    const lines = csvOf(untidy).trim().split('\n');
    lines.splice(3, 0, 'yesterday,500');
    const stuck = [Date.parse(lines[900].split(',')[0].replace(' ', 'T') + 'Z'), Date.parse(lines[960].split(',')[0].replace(' ', 'T') + 'Z')];
    for (let i = 900; i < 960; i++) lines[i] = `${lines[i].split(',')[0]},${lines[899].split(',')[1]}`; // a stuck exporter
    const { csv, summary } = evalLatencyText(lines.join('\n') + '\n', {}, 'untidy.csv');
    const out = rows(csv);
    expect(out).toHaveLength(lines.length);
    expect(out.slice(1).map((r) => r[0])).toEqual(lines.slice(1).map((l) => l.split(',')[0]));
    expect(out.slice(1).every((r) => r[3] === '0' || r[3] === '1')).toBe(true);
    expect(summary.backwards).toBeGreaterThan(0);
    expect(summary.unreadable).toBeGreaterThan(10);
    expect(summary.warnings[0]).toMatch(/^untidy\.csv:\d+: /);
    expect(summary.warnings.some((w) => w.includes('unreadable timestamp "yesterday"'))).toBe(true);
    // The incident still pages once; the only other page allowed is the stuck stretch itself (a constant value
    // is "faster than usual" at the hours it should have risen, and the contract pages both directions).
    const edges = edgesOf(out);
    expect(edges.filter((t) => t >= incident.start && t < incident.end)).toHaveLength(1);
    expect(edges.filter((t) => !(t >= incident.start && t < incident.end) && !(t >= stuck[0] && t < stuck[1] + 6 * HOUR))).toEqual([]);
  });

  it('refuses only a file it cannot read at all, naming it', () => {
    expect(() => evalLatencyText('time,val\n1,2\n', {}, 'x.csv')).toThrow(/x\.csv: needs columns timestamp,value/);
    expect(() => evalLatencyText('', {}, 'x.csv')).toThrow(/x\.csv: empty file/);
  });

  it('reads NAB, ISO and epoch timestamps', () => {
    expect(parseTimestamp('2014-04-01 00:05:00')).toBe(Date.UTC(2014, 3, 1, 0, 5));
    expect(parseTimestamp('2014-04-01T00:05:00.000000')).toBe(Date.UTC(2014, 3, 1, 0, 5));
    expect(parseTimestamp('2014-04-01T02:05:00+02:00')).toBe(Date.UTC(2014, 3, 1, 0, 5));
    expect(parseTimestamp('1396310700')).toBe(Date.UTC(2014, 3, 1, 0, 5));
    expect(parseTimestamp('soon')).toBeNaN();
  });
});

describe('the NAB paging metric (nab-score.ts)', () => {
  it('scores rising edges after the 15 % probation, hits and false pages, as nab_eval.py does', () => {
    const t = Array.from({ length: 100 }, (_, i) => Date.UTC(2014, 0, 1) + i * HOUR);
    const alert = new Array(100).fill(0);
    alert[5] = 1; // in the probation: ignored
    alert[30] = alert[31] = 1; // one page inside the window
    alert[60] = 1; // a false page
    alert[70] = alert[72] = 1; // two more false pages (two rising edges)
    const s = scoreSeries(t, alert, [[t[25], t[40]], [t[80], t[90]]]);
    expect(s).toMatchObject({ windows: 2, hit: 1, fp: 3, pages: 4 });
    expect(s.days).toBeCloseTo((t[99] - t[15]) / DAY, 9);
    expect(s.delays[0]).toBeCloseTo(5 / 15, 9);
    expect(nabTime('2014-04-10 07:15:00.000000')).toBe(Date.UTC(2014, 3, 10, 7, 15));
    expect(nabTime('2014-04-10T07:15:00Z')).toBe(Date.UTC(2014, 3, 10, 7, 15));
  });
});

// ── NAB development set ──────────────────────────────────────────────────────────────────────────────────────
const DATA = sharedDataDir();
const NAB = join(DATA, 'nab');
const NAB_EVAL = join(DATA, '..', 'tools', 'nab_eval.py');
const python = spawnSync('python3', ['--version']).status === 0;

describe.skipIf(!nabPresent(NAB))('NAB development set', () => {
  it.skipIf(!python || !existsSync(NAB_EVAL))(
    'the in-process metric agrees with ../shared/tools/nab_eval.py on the detector\'s own output',
    { timeout: 300_000 },
    async () => {
      const out = tmp();
      await evalLatencyDir(join(NAB, 'data'), out);
      const printed = execFileSync('python3', [NAB_EVAL, '--windows', join(NAB, 'windows.json'), '--outputs', out], { encoding: 'utf8' });
      const theirs = JSON.parse(printed.trim().split('\n').at(-1)!) as { recall: number; fp_per_day: number; hit: number; fp: number; windows: number };
      const ours = pool(
        loadNab(NAB).map((s) => {
          const alert = rows(readFileSync(join(out, s.rel), 'utf8')).slice(1).map((r) => r[3] === '1');
          return scoreSeries(s.t, alert, s.windows);
        }),
      );
      expect({ hit: ours.hit, fp: ours.fp, windows: ours.windows }).toEqual({ hit: theirs.hit, fp: theirs.fp, windows: theirs.windows });
      expect(ours.fpPerDay).toBeCloseTo(theirs.fp_per_day, 9);
    },
  );

  it('leave-one-family-out: held-out figures at or above the measured floors', { timeout: 600_000 }, () => {
    const series = loadNab(NAB);
    const grid = defaultGrid();
    const r = leaveOneFamilyOut(series, grid, runGrid(series, grid));
    // Measured (npm run eval:cv): pooled held-out 0.841 (69/82) at 0.066 false pages/day (103); numenta HTM scores
    // 0.79 / 0.074 on the same set. Floors: two windows fewer and five more false pages than measured (115 would
    // be HTM's rate).
    expect(r.pooled.windows).toBe(82);
    expect(r.pooled.hit).toBeGreaterThanOrEqual(67);
    expect(r.pooled.fp).toBeLessThanOrEqual(108);
    expect(r.pooled.recall).toBeGreaterThan(0.79);
    expect(r.pooled.fpPerDay).toBeLessThanOrEqual(0.074);
    // Per family (held out), one window and a few false pages under what was measured.
    const fam = Object.fromEntries(r.families.map((f) => [f.family, f.heldOut]));
    expect(fam.artificialNoAnomaly.fp).toBe(0);
    expect(fam.artificialWithAnomaly.hit).toBeGreaterThanOrEqual(4);
    expect(fam.realAWSCloudwatch.hit).toBeGreaterThanOrEqual(17);
    expect(fam.realAdExchange.hit).toBeGreaterThanOrEqual(12);
    expect(fam.realKnownCause.hit).toBeGreaterThanOrEqual(9);
    expect(fam.realTraffic.hit).toBeGreaterThanOrEqual(7);
    expect(fam.realTweets.hit).toBeGreaterThanOrEqual(13);
  });
});
