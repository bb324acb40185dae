// `vigil deprecations`: the table of dated retirements, who uses each model, and what to move to. Pure.
import { daysLeft } from './countdown.ts';
import { usersOf } from './inventory.ts';
import type { EffectiveDeprecation } from './registry.ts';
import type { ModelUser } from './types.ts';

export type LifecycleState = 'retired' | 'retiring';

/** Retired from 00:00 UTC of the shutdown day on (`daysLeft` ≤ 0). */
export function lifecycleState(daysLeft: number): LifecycleState {
  return daysLeft <= 0 ? 'retired' : 'retiring';
}

/** "retired 42 days ago", "retired today", "retires tomorrow", "retires in 12 days". */
export function describeDaysLeft(daysLeft: number): string {
  if (daysLeft < 0) return `retired ${-daysLeft} day${daysLeft === -1 ? '' : 's'} ago`;
  if (daysLeft === 0) return 'retired today';
  return daysLeft === 1 ? 'retires tomorrow' : `retires in ${daysLeft} days`;
}

export interface DeprecationRow {
  model: string;
  provider: string | null;
  shutdownAt: string;
  daysLeft: number;
  /** `retired` once the shutdown day has begun (00:00 UTC), `retiring` before. */
  state: LifecycleState;
  owners: string[];
  /** `probe openai-canary`, `consumer search-rerank`. */
  usedBy: string[];
  replacement: string | null;
  url: string | null;
  sources: string[];
  disagreement: boolean;
}

/**
 * Rows for the table: models in use, plus deprecations declared in vigil.yaml, by webhook or by a model
 * list even when nothing uses them; `all` adds the unused rows of the shipped table too.
 */
export function deprecationRows(deps: readonly EffectiveDeprecation[], users: readonly ModelUser[], now: number, opts: { all?: boolean } = {}): DeprecationRow[] {
  const rows: DeprecationRow[] = [];
  for (const d of deps) {
    const using = usersOf(users, d);
    const sources = Object.keys(d.dates);
    const declared = sources.some((o) => !o.startsWith('shipped:'));
    if (!using.length && !declared && !opts.all) continue;
    const days = daysLeft(d.shutdownAt, now);
    rows.push({
      model: d.model,
      provider: d.provider,
      shutdownAt: d.shutdownAt,
      daysLeft: days,
      state: lifecycleState(days),
      owners: [...new Set(using.map((u) => u.owner))].sort(),
      usedBy: [...new Set(using.map((u) => `${u.kind} ${u.id}`))].sort(),
      replacement: d.replacement,
      url: d.url,
      sources: sources.map((o) => `${o} ${d.dates[o]}`),
      disagreement: d.disagreement,
    });
  }
  return rows.sort((a, b) => a.shutdownAt.localeCompare(b.shutdownAt) || a.model.localeCompare(b.model));
}

/**
 * Fixed-width text table; retired models still in use are called out above it (requests to them fail or are
 * answered by another model). A note lists date disagreements.
 */
export function formatDeprecations(rows: readonly DeprecationRow[]): string {
  if (rows.length === 0) return 'No known deprecations for the models in use.\n';
  const head = ['MODEL', 'STATE', 'SHUTDOWN', 'WHEN', 'OWNERS', 'REPLACEMENT'];
  const body = rows.map((r) => [
    r.model,
    r.state === 'retired' ? (r.owners.length ? 'RETIRED' : 'retired') : 'retiring',
    r.shutdownAt + (r.disagreement ? '*' : ''),
    describeDaysLeft(r.daysLeft),
    r.owners.join(', ') || '-',
    r.replacement ?? '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  let out = '';
  const stillUsed = rows.filter((r) => r.state === 'retired' && r.owners.length);
  if (stillUsed.length) {
    out += `!! ${stillUsed.length} retired model${stillUsed.length === 1 ? ' is' : 's are'} still in use: requests to ${stillUsed.length === 1 ? 'it' : 'them'} fail or are answered by another model.\n`;
    for (const r of stillUsed) out += `!!   ${r.model} (${describeDaysLeft(r.daysLeft)}) used by ${r.usedBy.join(', ')}; move to ${r.replacement ?? 'a supported model'}\n`;
    out += '\n';
  }
  out += [line(head), ...body.map(line)].join('\n') + '\n';
  const disputed = rows.filter((r) => r.disagreement);
  if (disputed.length) {
    out += '\n* sources disagree; the earliest date is shown:\n';
    for (const r of disputed) out += `  ${r.model}: ${r.sources.join('; ')}\n`;
  }
  const links = rows.filter((r) => r.url && r.owners.length);
  if (links.length) {
    out += '\nDocs:\n';
    for (const r of links) out += `  ${r.model}: ${r.url}\n`;
  }
  return out;
}
