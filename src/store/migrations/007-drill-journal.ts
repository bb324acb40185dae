// Migration 7: drill runs are written as they go. A run is inserted as `running` when it starts and its journal
// is updated at every step; a run whose process died (kill -9, power loss) is found at the next start and marked
// `interrupted`, with what it had done. SQLite cannot change a CHECK constraint in place, so the table is
// rebuilt: `finished_at` becomes nullable (a running run has not finished), the verdict list gains `running` and
// `interrupted`, and `runner` says which process runs it (host:pid), so a second process never takes a live run
// for a dead one.
import type { Migration } from '../migrations.ts';

export const migration: Migration = {
  version: 7,
  name: 'drill_journal',
  up: `
    CREATE TABLE drill_runs_v7 (
      run_id              TEXT    PRIMARY KEY,
      drill_id            TEXT    NOT NULL,
      owner               TEXT    NOT NULL,
      started_at          INTEGER NOT NULL,   -- epoch ms
      finished_at         INTEGER,            -- null while running
      verdict             TEXT    NOT NULL CHECK (verdict IN ('passed', 'failed', 'skipped', 'aborted', 'error', 'running', 'interrupted')),
      failure             TEXT,               -- no_fallback, wrong_target, bad_answer, too_slow, fault_not_applied, not_restored, safety_bypass
      reason              TEXT    NOT NULL,
      injected            TEXT    NOT NULL,
      served_by           TEXT,
      fallback_latency_ms REAL,
      baseline_ms         REAL,
      runner              TEXT,               -- host:pid of the process running it (null for runs before v7)
      detail              TEXT    NOT NULL    -- JSON: attempts, faults, rollback, journal, severity, findings, ...
    );
    INSERT INTO drill_runs_v7 (run_id, drill_id, owner, started_at, finished_at, verdict, failure, reason, injected, served_by, fallback_latency_ms, baseline_ms, runner, detail)
      SELECT run_id, drill_id, owner, started_at, finished_at, verdict, failure, reason, injected, served_by, fallback_latency_ms, baseline_ms, NULL, detail FROM drill_runs;
    DROP TABLE drill_runs;
    ALTER TABLE drill_runs_v7 RENAME TO drill_runs;
    CREATE INDEX drill_runs_drill ON drill_runs (drill_id, started_at);
    CREATE INDEX drill_runs_started ON drill_runs (started_at);
    CREATE INDEX drill_runs_running ON drill_runs (verdict) WHERE verdict = 'running';
  `,
};
