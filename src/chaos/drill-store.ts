// drill_runs (migrations 004 and 007): one row per drill run with its journal, written as the run goes: inserted
// as `running` at its first journal entry, its journal and faults updated at every step, replaced by the final
// run when it ends. A row still `running` whose process is gone is an interrupted run (see DrillService.recover).
// Asynchronous SQL on the store (SQLite or Postgres); the run's probe results live in probe_results (drill_id
// set) and are read from there.
import type { Sql, SqlValue } from '../store/sql.ts';
import type { DrillRun } from './drill.ts';

/** A stored run; `results` are not kept here (see DrillStore.resultsOf on the Store). */
export type StoredDrillRun = Omit<DrillRun, 'results'> & {
  /** host:pid of the process that ran it (null for runs stored before migration 7). */
  runner: string | null;
};

/** The list view: everything but the journal and the attempts. */
export type DrillRunSummary = Omit<StoredDrillRun, 'journal' | 'attempts'>;

/** What a run in progress has done so far (written at every journal entry). */
export type DrillProgress = Pick<DrillRun, 'runId' | 'drillId' | 'owner' | 'severity' | 'startedAt' | 'injected' | 'journal' | 'faults' | 'attempts' | 'provesConfigOnly' | 'check'>;

interface Row {
  run_id: string;
  drill_id: string;
  owner: string;
  started_at: number;
  finished_at: number | null;
  verdict: DrillRun['verdict'];
  failure: string | null;
  reason: string;
  injected: string;
  served_by: string | null;
  fallback_latency_ms: number | null;
  baseline_ms: number | null;
  runner: string | null;
  detail: string;
}

// check, findings and warnings came with safety drills: absent from older rows.
type Detail = Pick<DrillRun, 'attempts' | 'faults' | 'rollback' | 'journal' | 'severity' | 'provesConfigOnly'> & Partial<Pick<DrillRun, 'check' | 'findings' | 'warnings'>>;

function fromRow(r: Row, full: boolean): StoredDrillRun | DrillRunSummary {
  const d = JSON.parse(r.detail) as Detail;
  const lastAt = d.journal.length > 0 ? d.journal[d.journal.length - 1].at : r.started_at;
  const base: DrillRunSummary = {
    drillId: r.drill_id,
    runId: r.run_id,
    owner: r.owner,
    severity: d.severity,
    startedAt: r.started_at,
    finishedAt: r.finished_at ?? lastAt,
    verdict: r.verdict,
    reason: r.reason,
    failure: r.failure as DrillRun['failure'],
    injected: r.injected,
    servedBy: r.served_by,
    fallbackLatencyMs: r.fallback_latency_ms,
    baselineMs: r.baseline_ms,
    faults: d.faults,
    provesConfigOnly: d.provesConfigOnly,
    rollback: d.rollback,
    check: d.check ?? 'fallback',
    findings: d.findings ?? [],
    warnings: d.warnings ?? [],
    runner: r.runner,
  };
  return full ? { ...base, attempts: d.attempts, journal: d.journal } : base;
}

const NOT_DONE = { ok: true, detail: 'not rolled back yet (running)' };

const COLUMNS = 'run_id, drill_id, owner, started_at, finished_at, verdict, failure, reason, injected, served_by, fallback_latency_ms, baseline_ms, runner, detail';

export class DrillStore {
  private readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** A run in progress: inserted as `running` on the first call, its journal updated on the next ones. */
  async progress(p: DrillProgress, runner: string): Promise<void> {
    const last = p.journal[p.journal.length - 1];
    const detail: Detail = {
      attempts: p.attempts,
      faults: p.faults,
      rollback: NOT_DONE,
      journal: p.journal,
      severity: p.severity,
      provesConfigOnly: p.provesConfigOnly,
      check: p.check,
    };
    const reason = last ? `running: ${last.step}: ${last.detail}`.slice(0, 500) : 'running';
    // Progress never overwrites a run that has ended (a late write after the final insert is a no-op).
    await this.sql.run(
      `INSERT INTO drill_runs (${COLUMNS})
       VALUES (?, ?, ?, ?, NULL, 'running', NULL, ?, ?, NULL, NULL, NULL, ?, ?)
       ON CONFLICT (run_id) DO UPDATE SET reason = excluded.reason, injected = excluded.injected, detail = excluded.detail
       WHERE drill_runs.verdict = 'running'`,
      [p.runId, p.drillId, p.owner, p.startedAt, reason, p.injected, runner, JSON.stringify(detail)],
    );
  }

  /** The run as it ended (replaces its `running` row). */
  async insert(run: Omit<DrillRun, 'results'> & { results?: unknown }, runner: string | null = null): Promise<void> {
    const detail: Detail = {
      attempts: run.attempts,
      faults: run.faults,
      rollback: run.rollback,
      journal: run.journal,
      severity: run.severity,
      provesConfigOnly: run.provesConfigOnly,
      check: run.check,
      findings: run.findings,
      warnings: run.warnings,
    };
    const params: SqlValue[] = [
      run.runId,
      run.drillId,
      run.owner,
      run.startedAt,
      run.finishedAt,
      run.verdict,
      run.failure,
      run.reason,
      run.injected,
      run.servedBy,
      run.fallbackLatencyMs,
      run.baselineMs,
      runner,
      JSON.stringify(detail),
    ];
    const set = COLUMNS.split(', ').slice(1).map((c) => `${c} = excluded.${c}`).join(', ');
    await this.sql.run(`INSERT INTO drill_runs (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET ${set}`, params);
  }

  async run(runId: string): Promise<StoredDrillRun | null> {
    const r = await this.sql.get<Row>('SELECT * FROM drill_runs WHERE run_id = ?', [runId]);
    return r ? (fromRow(r, true) as StoredDrillRun) : null;
  }

  /** Newest first (ties by run id); with the journal when `full`. */
  async runs(drillId: string, limit = 20, full = false): Promise<(StoredDrillRun | DrillRunSummary)[]> {
    const rows = await this.sql.all<Row>('SELECT * FROM drill_runs WHERE drill_id = ? ORDER BY started_at DESC, run_id DESC LIMIT ?', [drillId, limit]);
    return rows.map((r) => fromRow(r, full));
  }

  /** Runs still marked `running` (in progress somewhere, or interrupted and not yet found), oldest first. */
  async running(): Promise<StoredDrillRun[]> {
    const rows = await this.sql.all<Row>("SELECT * FROM drill_runs WHERE verdict = 'running' ORDER BY started_at, run_id");
    return rows.map((r) => fromRow(r, true) as StoredDrillRun);
  }

  /** The newest run of every drill that has one. */
  async latest(): Promise<Map<string, DrillRunSummary>> {
    const out = new Map<string, DrillRunSummary>();
    const rows = await this.sql.all<Row>(
      'SELECT * FROM drill_runs r WHERE started_at = (SELECT MAX(started_at) FROM drill_runs WHERE drill_id = r.drill_id) ORDER BY drill_id, run_id DESC',
    );
    for (const r of rows) if (!out.has(r.drill_id)) out.set(r.drill_id, fromRow(r, false));
    return out;
  }

  /** Retention: drop finished runs started before `beforeMs`; returns how many. */
  async prune(beforeMs: number): Promise<number> {
    return (await this.sql.run("DELETE FROM drill_runs WHERE started_at < ? AND verdict <> 'running'", [beforeMs])).changes;
  }
}
