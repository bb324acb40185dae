// `vigil eval latency`: run the daemon's online latency detector over `timestamp,value` CSVs and write
// `timestamp,value,score,alert` (alert 0/1 at each row). Rows are fed in file order, one at a time, through
// the same createLatencyDetector the daemon uses: nothing after a row influences that row's decision.
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
}

/**
 * Timestamps without a zone (NAB's `2014-04-01 00:00:00`) are read as UTC; ISO strings with `Z` or an offset,
 * and epoch seconds or milliseconds, are honoured.
 */
export function parseTimestamp(s: string): number {
  const v = s.trim();
  if (/^\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    return n < 1e11 ? n * 1000 : n; // epoch seconds vs ms
  }
  const iso = v.replace(' ', 'T');
  const hasZone = /(Z|[+-]\d\d:?\d\d)$/i.test(iso);
  const t = Date.parse(hasZone ? iso : `${iso}Z`);
  if (Number.isNaN(t)) throw new EvalLatencyInputError(`unreadable timestamp "${s}"`);
  return t;
}

/** Label CSV text; returns the output CSV and a summary. Pure. */
export function evalLatencyText(
  input: string,
  opts: LatencyDetectorOptions = {},
  source = 'input',
): { csv: string; summary: EvalLatencySummary } {
  let records: string[][];
  try {
    records = parse(input, { bom: true, skip_empty_lines: true, trim: true }) as string[][];
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
  const det = createLatencyDetector(opts);
  let state = det.init();
  const out: (string | number)[][] = [['timestamp', 'value', 'score', 'alert']];
  let pages = 0;
  let alertRows = 0;
  let prevT = -Infinity;
  for (let i = 1; i < records.length; i++) {
    const row = records[i];
    const ts = row[ti];
    let t: number;
    try {
      t = parseTimestamp(ts);
    } catch (err) {
      throw new EvalLatencyInputError(`${source}:${i + 1}: ${(err as Error).message}`);
    }
    if (t < prevT) throw new EvalLatencyInputError(`${source}:${i + 1}: rows must be in time order (${ts})`);
    prevT = t;
    const raw = row[vi];
    const value = raw === '' || raw === undefined ? NaN : Number(raw);
    const r = det.update(state, { t, value });
    state = r.state;
    if (r.transition === 'fired') pages++;
    if (r.alert) alertRows++;
    out.push([ts, raw ?? '', Math.round(r.score * 1000) / 1000, r.alert ? 1 : 0]);
  }
  return { csv: stringify(out, { record_delimiter: '\n' }), summary: { rows: records.length - 1, pages, alertRows } };
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
