// Deprecation countdown: at each lead time (default 90, 30, 7 and 1 days before the shutdown date, and once
// more on the day), one signal per owner of a probe or consumer using the model, naming the replacement and
// the docs link. Each lead time fires exactly once per model, owner and shutdown date (persisted, so a
// restart never repeats one); the signal of the previous lead time is resolved when the next one fires, so
// one incident per model and owner is open at a time. The date logic is pure (top half); `Countdown` holds
// the state.
import type { Sql } from '../store/sql.ts';
import type { Severity, Signal } from '../domain.ts';
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

const NOTICE_KEY = 'model = ? AND provider = ? AND owner = ? AND shutdown_at = ? AND lead_days = ?';

/** The countdown notices, on the store's asynchronous SQL (SQLite or Postgres). */
export class Countdown {
  private readonly sql: Sql;
  private readonly leads: number[];

  constructor(sql: Sql, opts: { leadDays?: readonly number[] } = {}) {
    this.sql = sql;
    this.leads = [...new Set(opts.leadDays ?? DEFAULT_LEAD_DAYS)].filter((l) => l > 0).sort((a, b) => b - a);
  }

  /**
   * Fire what is due at `now` and resolve what is superseded or no longer relevant (the deprecation went away,
   * its date moved, or the owner stopped using the model). Recorded in one transaction; the signals go to `sink`
   * once it has committed (a rolled-back check signals nothing, and the next check tries again). Run on one
   * instance at a time (the leader): the notices are what makes each lead time fire once.
   */
  async check(deps: readonly EffectiveDeprecation[], users: readonly ModelUser[], now: number, sink: (s: Signal) => void): Promise<CountdownReport> {
    const report: CountdownReport = { fired: [], resolved: [] };
    const active = new Set<string>();
    const out: Signal[] = [];
    const open = () => this.sql.all<NoticeRow>('SELECT model, provider, owner, shutdown_at, lead_days FROM deprecation_notices WHERE emitted = 1 AND resolved = 0');
    const resolve = (r: NoticeRow) => this.sql.run(`UPDATE deprecation_notices SET resolved = 1 WHERE ${NOTICE_KEY}`, [r.model, r.provider, r.owner, r.shutdown_at, r.lead_days]);
    const insert = (model: string, provider: string, owner: string, shutdownAt: string, lead: number, emitted: number, resolved: number) =>
      this.sql.run(
        `INSERT INTO deprecation_notices (model, provider, owner, shutdown_at, lead_days, fired_at, emitted, resolved)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        [model, provider, owner, shutdownAt, lead, now, emitted, resolved],
      );
    await this.sql.transaction(async () => {
      for (const dep of deps) {
        const using = usersOf(users, dep);
        if (using.length === 0) continue;
        const days = daysLeft(dep.shutdownAt, now);
        const lead = dueLead(days, this.leads);
        if (lead === null) continue;
        const provider = dep.provider ?? '';
        for (const [owner, theirs] of byOwner(using)) {
          active.add(`${dep.model}\0${provider}\0${owner}\0${dep.shutdownAt}`);
          if (await this.sql.get(`SELECT 1 AS x FROM deprecation_notices WHERE ${NOTICE_KEY}`, [dep.model, provider, owner, dep.shutdownAt, lead])) continue;
          // Supersede the previous lead's signal, then pass over leads that are already behind us.
          for (const o of await open()) {
            if (o.model === dep.model && o.provider === provider && o.owner === owner && o.shutdown_at === dep.shutdownAt && o.lead_days > lead) {
              await resolve(o);
              out.push(resolvedSignal(o, now, 'superseded by the next countdown notice'));
            }
          }
          for (const l of this.leads) if (l > lead) await insert(dep.model, provider, owner, dep.shutdownAt, l, 0, 1);
          await insert(dep.model, provider, owner, dep.shutdownAt, lead, 1, 0);
          out.push(countdownSignal(dep, owner, theirs, lead, days, now));
        }
      }
      for (const o of await open()) {
        if (active.has(`${o.model}\0${o.provider}\0${o.owner}\0${o.shutdown_at}`)) continue;
        await resolve(o);
        out.push(resolvedSignal(o, now, 'no longer applies (model not used by this owner, or the deprecation changed)'));
      }
    });
    for (const s of out) {
      sink(s);
      (s.status === 'firing' ? report.fired : report.resolved).push(s);
    }
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
