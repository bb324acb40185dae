// `vigil eval refusal`: label every completion of a CSV with the refusal classifier.
// Reads a CSV with at least `prompt` and `completion` columns (any others are kept, in order) and writes it back
// with a `vigil_label` column (replaced in place when the input already has one). Parsing and writing go through
// csv-parse / csv-stringify, so quoted fields with commas, quotes and newlines survive the round trip.

import { readFile, writeFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { RefusalLabel } from '../domain.ts';
import { classifyRefusal } from './refusal.ts';

export const LABEL_COLUMN = 'vigil_label';
const REQUIRED = ['prompt', 'completion'] as const;

export interface EvalRefusalSummary {
  rows: number;
  counts: Record<RefusalLabel, number>;
}

/** Thrown for input the evaluator cannot use (missing columns, ragged rows); the CLI prints the message. */
export class EvalInputError extends Error {
  override name = 'EvalInputError';
}

/** Label CSV text; returns the output CSV text and counts. Pure apart from the classifier. */
export function evalRefusalText(input: string, source = 'input'): { csv: string; summary: EvalRefusalSummary } {
  let records: string[][];
  try {
    records = parse(input, {
      bom: true,
      // Ragged rows are an error (a stray quote usually causes them); empty lines are skipped.
      skip_empty_lines: true,
      relax_column_count: false,
    }) as string[][];
  } catch (err) {
    throw new EvalInputError(`${source}: not a valid CSV: ${(err as Error).message}`);
  }
  if (records.length === 0) throw new EvalInputError(`${source}: empty file (expected a header with prompt,completion)`);
  const header = records[0].map((h) => h.trim());
  for (const col of REQUIRED) {
    if (!header.includes(col)) {
      throw new EvalInputError(`${source}: missing column "${col}" (header: ${header.join(',')})`);
    }
  }
  const completionAt = header.indexOf('completion');
  let labelAt = header.indexOf(LABEL_COLUMN);
  const outHeader = [...header];
  if (labelAt === -1) {
    labelAt = outHeader.length;
    outHeader.push(LABEL_COLUMN);
  }
  const counts: Record<RefusalLabel, number> = { full_compliance: 0, full_refusal: 0, partial_refusal: 0 };
  const out: string[][] = [outHeader];
  for (let i = 1; i < records.length; i++) {
    const row = [...records[i]];
    const label = classifyRefusal(row[completionAt] ?? '');
    counts[label]++;
    while (row.length <= labelAt) row.push('');
    row[labelAt] = label;
    out.push(row);
  }
  // Quote only where needed (commas, quotes, newlines), as the input files do; CRLF-free output.
  const csv = stringify(out, { record_delimiter: '\n' });
  return { csv, summary: { rows: records.length - 1, counts } };
}

/** Read `inputPath`, label each completion, write `outputPath`. Resolves to per-label counts. */
export async function evalRefusalCsv(inputPath: string, outputPath: string): Promise<EvalRefusalSummary> {
  const input = await readFile(inputPath, 'utf8');
  const { csv, summary } = evalRefusalText(input, inputPath);
  await writeFile(outputPath, csv, 'utf8');
  return summary;
}
