// Deprecation countdown: at each lead time (default 90, 30, 7 and 1 days before the shutdown date, and once
// more on the day), one signal per owner of a probe or consumer using the model, naming the replacement and
// the docs link. Each lead time fires exactly once per model, owner and shutdown date (persisted, so a
// restart never repeats one); the signal of the previous lead time is resolved when the next one fires, so
// one incident per model and owner is open at a time. The date logic is pure (top half); `Countdown` holds
// the state.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Severity, Signal } from '../domain.ts';
import { transaction } from '../store/db.ts';
import { byOwner, describeUsers, usersOf } from './inventory.ts';
import type { EffectiveDeprecation } from './registry.ts';
import type { ModelUser } from './types.ts';

export const DEPRECATION_DETECTOR = 'deprecation';
export const DEFAULT_LEAD_DAYS: readonly number[] = [90, 30, 7, 1];
const DAY = 86_400_000;

/** Whole days from `now` until 00:00 UTC of `date` (rounded up: 89.5 days left is day 90). ≤ 0 on or after. */
export function daysLeft(date: string, now: number): number {
  return Math.ceil((Date.parse(`${date}T00:00:00Z`) - now) / DAY);
}

/** The most urgent lead time reached (0 on or after the date), or null when none is due yet. */
export function dueLead(days: number, leads: readonly number[]): number | null {
  if (days <= 0) return 0;
  const reached = leads.filter((l) => l > 0 && days <= l);
  return reached.length ? Math.min(...reached) : null;
}

export function leadSeverity(lead: number): Severity {
  if (lead > 30) return 'info';
  if (lead > 7) return 'warning';
  return 'critical';
}

export function countdownKey(model: string, owner: string, lead: number): string {
  return `${model}@${owner}:T-${lead}d`;
}

/** Pure: the signal for one lead time of one deprecation, for one owner. */
export function countdownSignal(dep: EffectiveDeprecation, owner: string, users: readonly ModelUser[], lead: number, days: number, at: number): Signal {
  const who = describeUsers(users);
  const when = days <= 0 ? `was retired on ${dep.shutdownAt}` : `shuts down on ${dep.shutdownAt} (${days} day${days === 1 ? '' : 's'} left)`;
  const move = dep.replacement ? `; move to ${dep.replacement}` : '';
  const link = dep.url ? ` — ${dep.url}` : '';
  return {
    detector: DEPRECATION_DETECTOR,
    key: countdownKey(dep.model, owner, lead),
    severity: leadSeverity(lead),
    status: 'firing',
    summary: `${dep.model} ${when}, used by ${who}${move}${link}`,
    evidence: {
      model: dep.model,
      shutdown_at: dep.shutdownAt,
      days_left: days,
      lead_days: lead,
      replacement: dep.replacement,
      url: dep.url,
      used_by: who,
      sources: Object.entries(dep.dates)
        .map(([o, d]) => `${o} ${d}`)
        .join('; '),
      disagreement: dep.disagreement,
    },
    labels: { owner, model: dep.model, ...(dep.provider ? { provider: dep.provider } : {}) },
    at,
  };
}

interface NoticeRow {
  model: string;
  provider: string;
  owner: string;
  shutdown_at: string;
  lead_days: number;
}

export interface CountdownReport {
  fired: Signal[];
  resolved: Signal[];
}

export class Countdown {
  private readonly db: DatabaseSync;
  private readonly leads: number[];
  private readonly qHas: StatementSync;
  private readonly qInsert: StatementSync;
  private readonly qOpen: StatementSync;
  private readonly qResolve: StatementSync;

  constructor(db: DatabaseSync, opts: { leadDays?: readonly number[] } = {}) {
    this.db = db;
    this.leads = [...new Set(opts.leadDays ?? DEFAULT_LEAD_DAYS)].filter((l) => l > 0).sort((a, b) => b - a);
    this.qHas = db.prepare('SELECT 1 FROM deprecation_notices WHERE model = ? AND provider = ? AND owner = ? AND shutdown_at = ? AND lead_days = ?');
    this.qInsert = db.prepare(
      `INSERT OR IGNORE INTO deprecation_notices (model, provider, owner, shutdown_at, lead_days, fired_at, emitted, resolved)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.qOpen = db.prepare('SELECT model, provider, owner, shutdown_at, lead_days FROM deprecation_notices WHERE emitted = 1 AND resolved = 0');
    this.qResolve = db.prepare(
      'UPDATE deprecation_notices SET resolved = 1 WHERE model = ? AND provider = ? AND owner = ? AND shutdown_at = ? AND lead_days = ?',
    );
  }

  /**
   * Fire what is due at `now` and resolve what is superseded or no longer relevant (the deprecation went away,
   * its date moved, or the owner stopped using the model). Signals go to `sink` inside the transaction that
   * records them: if the sink throws, nothing is recorded and the next check tries again.
   */
  check(deps: readonly EffectiveDeprecation[], users: readonly ModelUser[], now: number, sink: (s: Signal) => void): CountdownReport {
    const report: CountdownReport = { fired: [], resolved: [] };
    const active = new Set<string>();
    const emit = (s: Signal) => {
      sink(s);
      (s.status === 'firing' ? report.fired : report.resolved).push(s);
    };
    transaction(this.db, () => {
      for (const dep of deps) {
        const using = usersOf(users, dep);
        if (using.length === 0) continue;
        const days = daysLeft(dep.shutdownAt, now);
        const lead = dueLead(days, this.leads);
        if (lead === null) continue;
        const provider = dep.provider ?? '';
        for (const [owner, theirs] of byOwner(using)) {
          active.add(`${dep.model}\0${provider}\0${owner}\0${dep.shutdownAt}`);
          if (this.qHas.get(dep.model, provider, owner, dep.shutdownAt, lead)) continue;
          // Supersede the previous lead's signal, then pass over leads that are already behind us.
          for (const open of this.qOpen.all() as unknown as NoticeRow[]) {
            if (open.model === dep.model && open.provider === provider && open.owner === owner && open.shutdown_at === dep.shutdownAt && open.lead_days > lead) {
              this.qResolve.run(open.model, open.provider, open.owner, open.shutdown_at, open.lead_days);
              emit(resolvedSignal(open, now, 'superseded by the next countdown notice'));
            }
          }
          for (const l of this.leads) if (l > lead) this.qInsert.run(dep.model, provider, owner, dep.shutdownAt, l, now, 0, 1);
          this.qInsert.run(dep.model, provider, owner, dep.shutdownAt, lead, now, 1, 0);
          emit(countdownSignal(dep, owner, theirs, lead, days, now));
        }
      }
      for (const open of this.qOpen.all() as unknown as NoticeRow[]) {
        if (active.has(`${open.model}\0${open.provider}\0${open.owner}\0${open.shutdown_at}`)) continue;
        this.qResolve.run(open.model, open.provider, open.owner, open.shutdown_at, open.lead_days);
        emit(resolvedSignal(open, now, 'no longer applies (model not used by this owner, or the deprecation changed)'));
      }
    });
    return report;
  }
}

function resolvedSignal(row: NoticeRow, at: number, why: string): Signal {
  return {
    detector: DEPRECATION_DETECTOR,
    key: countdownKey(row.model, row.owner, row.lead_days),
    severity: leadSeverity(row.lead_days),
    status: 'resolved',
    summary: `${row.model} countdown notice (${row.lead_days} days, shutdown ${row.shutdown_at}) ${why}`,
    evidence: { model: row.model, shutdown_at: row.shutdown_at, lead_days: row.lead_days },
    labels: { owner: row.owner, model: row.model, ...(row.provider ? { provider: row.provider } : {}) },
    at,
  };
}
