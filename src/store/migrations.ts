// Schema migrations, numbered in code. APPEND ONLY: a migration that has shipped is never edited or renumbered,
// because databases in the field have recorded it as applied. To change a table, append a new migration.
// Each migration runs in its own transaction and is recorded in `schema_migrations` (and `PRAGMA user_version`,
// so `sqlite3 vigil.db 'pragma user_version'` answers without knowing our tables).
import type { DatabaseSync } from 'node:sqlite';
import { transaction } from './db.ts';
import { migration as incidents } from './migrations/002-incidents.ts';
import { migration as outbox } from './migrations/003-outbox.ts';
import { migration as drills } from './migrations/004-drills.ts';
import { migration as webhooks } from './migrations/005-webhooks.ts';
import { migration as detectors } from './migrations/006-detectors.ts';
import { migration as drillJournal } from './migrations/007-drill-journal.ts';

export interface Migration {
  version: number;
  /** Short snake_case name; checked on open so two branches that both appended "version 4" cannot mix. */
  name: string;
  /** SQL, possibly several statements. Runs inside a transaction: no VACUUM, no PRAGMA journal_mode. */
  up: string;
}

const HOUR_MS = 3_600_000;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'probe_results',
    up: `
      -- Scalar columns for what we filter and aggregate on; everything else of the ProbeResult in detail (JSON).
      -- Not STRICT on purpose: a malformed number from upstream is stored as-is rather than losing the result.
      CREATE TABLE probe_results (
        id              INTEGER PRIMARY KEY,
        probe_id        TEXT    NOT NULL,
        started_at      INTEGER NOT NULL,        -- epoch ms
        target          TEXT    NOT NULL,
        provider        TEXT    NOT NULL,
        requested_model TEXT    NOT NULL,
        served_model    TEXT,
        fingerprint     TEXT,
        outcome         TEXT    NOT NULL,
        error_class     TEXT,
        http_status     INTEGER,
        ttft_ms         REAL,
        total_ms        REAL,
        connect_ms      REAL,
        ttfb_ms         REAL,
        tokens_in       INTEGER,
        tokens_out      INTEGER,
        cost_usd        REAL,
        finish_reason   TEXT,
        refusal         TEXT,
        attempt         INTEGER NOT NULL,
        confirmed       INTEGER NOT NULL,        -- 0/1
        drill_id        TEXT,
        detail          TEXT    NOT NULL         -- JSON: the rest of the ProbeResult
      );
      CREATE INDEX probe_results_probe_time ON probe_results (probe_id, started_at);
      -- Rollups walk hours across all probes and retention deletes by age: both need time first.
      CREATE INDEX probe_results_time ON probe_results (started_at);

      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE probe_rollups_hourly (
        probe_id           TEXT    NOT NULL,
        hour_start         INTEGER NOT NULL,     -- epoch ms, multiple of 3600000 (UTC hour)
        count              INTEGER NOT NULL,     -- attempts in the hour (drill traffic excluded)
        failures           INTEGER NOT NULL,     -- outcome = failed
        degraded           INTEGER NOT NULL,     -- outcome = degraded
        confirmed_failures INTEGER NOT NULL,     -- failed and confirmed by a re-probe
        refusals           INTEGER NOT NULL,     -- refusal label full_refusal or partial_refusal
        ttft_n             INTEGER NOT NULL,     -- samples behind the TTFT percentiles
        ttft_p50           REAL,
        ttft_p95           REAL,
        ttft_p99           REAL,
        total_n            INTEGER NOT NULL,
        total_p50          REAL,
        total_p95          REAL,
        total_p99          REAL,
        tokens_in          INTEGER NOT NULL,
        tokens_out         INTEGER NOT NULL,
        cost_usd           REAL    NOT NULL,
        PRIMARY KEY (probe_id, hour_start)
      );
      CREATE INDEX probe_rollups_hourly_time ON probe_rollups_hourly (hour_start);

      -- Hours that were already rolled up when a result for them arrived late (a probe in flight across the
      -- hour boundary, a confirmation re-probe): the next rollup() recomputes exactly these.
      CREATE TABLE rollup_dirty (
        probe_id   TEXT    NOT NULL,
        hour_start INTEGER NOT NULL,
        PRIMARY KEY (probe_id, hour_start)
      ) WITHOUT ROWID;
      CREATE TRIGGER probe_results_late_for_rollup AFTER INSERT ON probe_results
      WHEN NEW.drill_id IS NULL
        AND NEW.started_at < (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'rollup.watermark')
      BEGIN
        INSERT OR IGNORE INTO rollup_dirty (probe_id, hour_start)
        VALUES (NEW.probe_id, NEW.started_at - (NEW.started_at % ${HOUR_MS}));
      END;
    `,
  },
  // Later features each own one file under migrations/ with a reserved number.
  incidents,
  outbox,
  drills,
  webhooks,
  detectors,
  drillJournal,
];

export class SchemaTooNewError extends Error {
  readonly dbVersion: number;
  readonly codeVersion: number;
  constructor(path: string, dbVersion: number, codeVersion: number) {
    super(
      `${path}: database schema is version ${dbVersion} but this Vigil knows migrations up to ${codeVersion}; ` +
        `it was written by a newer Vigil. Upgrade Vigil, or point storage.path at another file. ` +
        `Refusing to open it (an older schema could corrupt newer data).`,
    );
    this.name = 'SchemaTooNewError';
    this.dbVersion = dbVersion;
    this.codeVersion = codeVersion;
  }
}

export interface MigrateReport {
  from: number;
  to: number;
  applied: { version: number; name: string }[];
}

/** Highest version known to this build. */
export function latestVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.reduce((m, x) => Math.max(m, x.version), 0);
}

function checkList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations must be numbered 1, 2, 3… in order; #${i} is ${m.version}`);
  });
}

function appliedVersions(db: DatabaseSync): Map<number, string> {
  const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as {
    version: number;
    name: string;
  }[];
  return new Map(rows.map((r) => [r.version, r.name]));
}

/**
 * Bring the schema up to date. Idempotent: re-running applies nothing. Throws SchemaTooNewError when the file
 * holds migrations this build does not know, and a plain Error when a recorded name differs from ours.
 */
export function migrate(
  db: DatabaseSync,
  opts: { path?: string; now?: () => number; migrations?: readonly Migration[]; readOnly?: boolean } = {},
): MigrateReport {
  const migrations = opts.migrations ?? MIGRATIONS;
  const path = opts.path ?? 'database';
  checkList(migrations);
  const codeVersion = latestVersion(migrations);
  if (opts.readOnly) {
    // A reader (a CLI next to the running daemon) checks but never changes the schema.
    const uv = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (uv > codeVersion) throw new SchemaTooNewError(path, uv, codeVersion);
    if (uv < codeVersion) {
      throw new Error(`${path}: schema version ${uv} is older than ${codeVersion}; open it read-write once to migrate`);
    }
    return { from: uv, to: uv, applied: [] };
  }
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  )`);

  const check = (): number => {
    const applied = appliedVersions(db);
    const dbVersion = Math.max(0, ...applied.keys());
    // user_version covers a DB whose schema_migrations row was lost but whose pragma says newer.
    const uv = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (Math.max(dbVersion, uv) > codeVersion) throw new SchemaTooNewError(path, Math.max(dbVersion, uv), codeVersion);
    for (const [v, name] of applied) {
      const mine = migrations[v - 1];
      if (mine && mine.name !== name) {
        throw new Error(`${path}: migration ${v} is recorded as "${name}" but this Vigil calls it "${mine.name}"`);
      }
    }
    return dbVersion;
  };

  const from = check();
  const applied: MigrateReport['applied'] = [];
  for (const m of migrations) {
    if (m.version <= from) continue;
    transaction(db, () => {
      // Re-read inside the write lock: another process may have migrated since we looked.
      if (appliedVersions(db).has(m.version)) return;
      db.exec(m.up);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        (opts.now ?? Date.now)(),
      );
      db.exec(`PRAGMA user_version = ${m.version}`);
      applied.push({ version: m.version, name: m.name });
    });
  }
  return { from, to: check(), applied };
}
