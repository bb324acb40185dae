// `vigil validate`: every config problem with file:line:column, or a per-probe table of projected
// canary cost. Exit code 0 when the config is valid, 1 when not.
import { estimateProbeCost } from './cost.ts';
import type { CostEstimate } from './cost.ts';
import { formatDuration } from './duration.ts';
import { formatErrors } from './errors.ts';
import type { Env } from './interpolate.ts';
import { loadConfig } from './load.ts';
import { loopbackLinkWarning } from './links.ts';
import { redactString, secretValues } from './redact.ts';
import type { ProbeSpec } from '../domain.ts';

export interface Out {
  write(chunk: string): unknown;
}

export interface ValidateOptions {
  /** Unset ${VARS} become warnings (checking structure in CI without secrets). */
  allowMissingEnv?: boolean;
}

export function validateCommand(dir: string, env: Env, out: Out, opts: ValidateOptions = {}): number {
  const { config, errors, warnings, missingEnv } = loadConfig(dir, { env, allowMissingEnv: opts.allowMissingEnv });
  const links = config ? loopbackLinkWarning(config, missingEnv) : null;
  if (links) warnings.push(links);
  if (warnings.length) out.write(`${formatErrors(warnings)}\n`);
  if (!config) {
    out.write(`${formatErrors(errors)}\n`);
    const files = new Set(errors.map((e) => e.file)).size;
    out.write(`\n${errors.length} error${errors.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}\n`);
    return 1;
  }
  const rows = config.probes.map((p) => ({ spec: p, cost: estimateProbeCost(p, config.pricing) }));
  const table = costTable(rows);
  // Probe fields can hold interpolated values; nothing secret reaches the terminal.
  out.write(redactString(table, secretValues(config)));
  out.write(
    `\nconfig OK: ${config.probes.length} probe${config.probes.length === 1 ? '' : 's'}, ${Object.keys(config.providers).length} provider(s)` +
      `${config.gateway ? `, gateway (${config.gateway.flavour})` : ''}, ${config.drills.length} drill(s), ${config.files.length} file(s)\n`,
  );
  return 0;
}

export function formatSchedule(s: ProbeSpec['schedule']): string {
  if (s.cron) return `cron "${s.cron}"${s.timezone !== 'UTC' ? ` ${s.timezone}` : ''}`;
  return `every ${formatDuration(s.everyMs ?? 0)}`;
}

/** USD with enough digits to be non-zero for canary-sized amounts. */
export function formatUsd(v: number | null): string {
  if (v === null) return 'n/a';
  if (v === 0) return '$0';
  if (v >= 100) return `$${v.toFixed(0)}`;
  if (v >= 0.01) return `$${v.toFixed(2)}`;
  return `$${v.toPrecision(2)}`;
}

export function costTable(rows: { spec: ProbeSpec; cost: CostEstimate }[]): string {
  const header = ['PROBE', 'TARGET', 'MODEL', 'SCHEDULE', 'RUNS/MONTH', 'EST. $/RUN', 'EST. $/MONTH'];
  const right = [false, false, false, false, true, true, true];
  const body = rows.map(({ spec, cost }) => [
    spec.id,
    spec.target,
    spec.model,
    formatSchedule(spec.schedule),
    Math.round(cost.runsPerMonth).toLocaleString('en-US'),
    formatUsd(cost.perRunUsd),
    formatUsd(cost.monthlyUsd),
  ]);
  const priced = rows.filter((r) => r.cost.monthlyUsd !== null);
  const total = priced.reduce((sum, r) => sum + (r.cost.monthlyUsd ?? 0), 0);
  const runs = rows.reduce((sum, r) => sum + r.cost.runsPerMonth, 0);
  const unpriced = rows.length - priced.length;
  const footer = [
    `TOTAL (${rows.length} probes${unpriced ? `, ${unpriced} without a price` : ''})`,
    '',
    '',
    '',
    Math.round(runs).toLocaleString('en-US'),
    '',
    formatUsd(total),
  ];
  const all = [header, ...body, footer];
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: string[]) =>
    r
      .map((cell, c) => (right[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return (
    [line(header), ...body.map(line), line(footer)].join('\n') +
    '\n\nEstimates: input ≈ characters/4 + 4 tokens per message; output = max_tokens (an upper bound);' +
    '\nconfirmation re-probes after failures come on top. Prices: shipped table + vigil.yaml `pricing:`.\n'
  );
}
