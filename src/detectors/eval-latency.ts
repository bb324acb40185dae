// `vigil eval latency`: run the daemon's online latency detector over `timestamp,value` CSVs and write
// `timestamp,value,score,alert` (alert 0/1 at each row). Rows are fed in file order, one at a time, through
// the same createLatencyDetector the daemon uses: nothing after a row influences that row's decision.
//
// Real series are untidy, and every row gets a decision whatever it holds: a missing or non-numeric value, an
// unreadable timestamp, a clock that steps back (a repeated hour), duplicate timestamps and gaps all go through
// the detector, which learns nothing from what it cannot read and keeps its own clock from running backwards.
// Only a file without `timestamp,value` columns is refused.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { createLatencyDetector, type LatencyDetectorOptions } from './latency/detector.ts';

export class EvalLatencyInputError extends Error {
  override name = 'EvalLatencyInputError';
}

export interface EvalLatencySummary {
  rows: number;
  /** Rising edges of `alert`. */
  pages: number;
  /** Rows with alert = 1. */
  alertRows: number;
  /** Rows the detector could not learn from (unreadable time or value); they still got a decision. */
  unreadable: number;
  /** Rows whose time is earlier than an earlier row's (a clock stepping back). */
  backwards: number;
  /** What was wrong with the first few unreadable rows, as `file:line: message`. */
  warnings: string[];
}

export interface SeriesRow {
  /** As written in the file. */
  timestamp: string;
  /** Epoch ms, NaN when unreadable. */
  t: number;
  /** As written in the file. */
  raw: string;
  /** NaN when missing or not a number. */
  value: number;
  /** 1-based line of the file (header = 1). */
  line: number;
}

/**
 * Timestamps without a zone (NAB's `2014-04-01 00:00:00`) are read as UTC; ISO strings with `Z` or an offset,
 * and epoch seconds or milliseconds, are honoured. NaN when unreadable.
 */
export function parseTimestamp(s: string): number {
  const v = s.trim();
  if (v === '') return NaN;
  if (/^\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    return n < 1e11 ? n * 1000 : n; // epoch seconds vs ms
  }
  const iso = v.replace(' ', 'T');
  const hasZone = /(Z|[+-]\d\d:?\d\d)$/i.test(iso);
  return Date.parse(hasZone ? iso : `${iso}Z`);
}

/** Parse the CSV into rows; throws only when the file has no usable header. */
export function readSeriesText(input: string, source = 'input'): { rows: SeriesRow[]; header: string[] } {
  let records: string[][];
  try {
    records = parse(input, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: true }) as string[][];
  } catch (err) {
    throw new EvalLatencyInputError(`${source}: not a valid CSV: ${(err as Error).message}`);
  }
  if (records.length === 0) throw new EvalLatencyInputError(`${source}: empty file (expected timestamp,value)`);
  const header = records[0].map((h) => h.toLowerCase());
  const ti = header.indexOf('timestamp');
  const vi = header.indexOf('value');
  if (ti === -1 || vi === -1) {
    throw new EvalLatencyInputError(`${source}: needs columns timestamp,value (header: ${records[0].join(',')})`);
  }
  const rows: SeriesRow[] = [];
  for (let i = 1; i < records.length; i++) {
    const r = records[i];
    const timestamp = r[ti] ?? '';
    const raw = r[vi] ?? '';
    rows.push({ timestamp, t: parseTimestamp(timestamp), raw, value: raw === '' ? NaN : Number(raw), line: i + 1 });
  }
  return { rows, header };
}

export interface SeriesDecisions {
  score: Float64Array;
  alert: Uint8Array;
  summary: EvalLatencySummary;
}

/** Run a fresh detector over the rows in order; a decision per row. Pure. */
export function decideSeries(rows: readonly SeriesRow[], opts: LatencyDetectorOptions = {}, source = 'input'): SeriesDecisions {
  const det = createLatencyDetector(opts);
  const state = det.init();
  const score = new Float64Array(rows.length);
  const alert = new Uint8Array(rows.length);
  let pages = 0;
  let alertRows = 0;
  let unreadable = 0;
  let backwards = 0;
  let latest = -Infinity;
  const warnings: string[] = [];
  rows.forEach((row, i) => {
    if (!Number.isFinite(row.t) || !Number.isFinite(row.value)) {
      unreadable++;
      if (warnings.length < 5) {
        const what = !Number.isFinite(row.t) ? `unreadable timestamp "${row.timestamp}"` : `no numeric value ("${row.raw}")`;
        warnings.push(`${source}:${row.line}: ${what}; kept with the current decision, not learnt`);
      }
    }
    if (row.t < latest) backwards++;
    if (row.t > latest) latest = row.t;
    const r = det.update(state, { t: row.t, value: row.value });
    if (r.transition === 'fired') pages++;
    if (r.alert) alertRows++;
    score[i] = r.score;
    alert[i] = r.alert ? 1 : 0;
  });
  return { score, alert, summary: { rows: rows.length, pages, alertRows, unreadable, backwards, warnings } };
}

/** Label CSV text; returns the output CSV and a summary. Pure. */
export function evalLatencyText(
  input: string,
  opts: LatencyDetectorOptions = {},
  source = 'input',
): { csv: string; summary: EvalLatencySummary } {
  const { rows } = readSeriesText(input, source);
  const d = decideSeries(rows, opts, source);
  const out: (string | number)[][] = [['timestamp', 'value', 'score', 'alert']];
  rows.forEach((row, i) => out.push([row.timestamp, row.raw, Math.round(d.score[i] * 1000) / 1000, d.alert[i]]));
  return { csv: stringify(out, { record_delimiter: '\n' }), summary: d.summary };
}

/** Read `inputPath`, run the detector over it, write `outputPath` (parent folders created). */
export async function evalLatencyCsv(
  inputPath: string,
  outputPath: string,
  opts: LatencyDetectorOptions = {},
): Promise<EvalLatencySummary> {
  const { csv, summary } = evalLatencyText(await readFile(inputPath, 'utf8'), opts, inputPath);
  await mkdir(dirname(outputPath), { recursive: true });
  await writeFile(outputPath, csv, 'utf8');
  return summary;
}

/** Every *.csv under `inputDir` (recursively) → the same relative path under `outputDir`. */
export async function evalLatencyDir(
  inputDir: string,
  outputDir: string,
  opts: LatencyDetectorOptions = {},
): Promise<Record<string, EvalLatencySummary>> {
  const files = (await readdir(inputDir, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile() && d.name.toLowerCase().endsWith('.csv'))
    .map((d) => relative(inputDir, join(d.parentPath, d.name)))
    .sort();
  if (files.length === 0) throw new EvalLatencyInputError(`${inputDir}: no .csv files`);
  const out: Record<string, EvalLatencySummary> = {};
  for (const rel of files) out[rel] = await evalLatencyCsv(join(inputDir, rel), join(outputDir, rel), opts);
  return out;
}
