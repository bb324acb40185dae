// Migration 4: drill runs (one row per run, with its journal). The probe results of a drill stay in
// probe_results (drill_id set). Queries: src/chaos/drill-store.ts.
import type { Migration } from '../migrations.ts';

export const migration: Migration = {
  version: 4,
  name: 'drills',
  up: `
    CREATE TABLE drill_runs (
      run_id              TEXT    PRIMARY KEY,
      drill_id            TEXT    NOT NULL,
      owner               TEXT    NOT NULL,
      started_at          INTEGER NOT NULL,   -- epoch ms
      finished_at         INTEGER NOT NULL,
      verdict             TEXT    NOT NULL CHECK (verdict IN ('passed', 'failed', 'skipped', 'aborted', 'error')),
      failure             TEXT,               -- no_fallback, wrong_target, bad_answer, too_slow, fault_not_applied, not_restored
      reason              TEXT    NOT NULL,
      injected            TEXT    NOT NULL,
      served_by           TEXT,
      fallback_latency_ms REAL,
      baseline_ms         REAL,
      detail              TEXT    NOT NULL    -- JSON: attempts, faults, rollback, journal, severity, proves_config_only
    );
    CREATE INDEX drill_runs_drill ON drill_runs (drill_id, started_at);
    CREATE INDEX drill_runs_started ON drill_runs (started_at);
  `,
};
