// Schema migrations, numbered in code, the same numbers on SQLite and PostgreSQL. APPEND ONLY: a migration that
// has shipped is never edited or renumbered, because databases in the field have recorded it as applied. To change
// a table, append a new migration. Each migration runs in its own transaction (on Postgres under an advisory lock,
// so instances starting together migrate once) and is recorded in `schema_migrations` (on SQLite also in `PRAGMA
// user_version`, so `sqlite3 vigil.db 'pragma user_version'` answers without knowing our tables).
// `up` is SQLite; Postgres runs its mechanical translation (dialect.ts), or `postgres` where one is given.
// The procedure is written once, as a generator of database operations, driven asynchronously over `Sql` (both
// engines) or synchronously over a node:sqlite connection (Store.open, for callers that cannot await).
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { transaction } from './db.ts';
import { sqliteDialect, type Dialect } from './dialect.ts';
import type { Sql, SqlValue } from './sql.ts';
import { migration as incidents } from './migrations/002-incidents.ts';
import { migration as outbox } from './migrations/003-outbox.ts';
import { migration as drills } from './migrations/004-drills.ts';
import { migration as webhooks } from './migrations/005-webhooks.ts';
import { migration as detectors } from './migrations/006-detectors.ts';
import { migration as leadership } from './migrations/008-leadership.ts';
import { migration as locations } from './migrations/009-locations.ts';
import { migration as drillJournal } from './migrations/007-drill-journal.ts';
import { migration as outboxFencing } from './migrations/010-outbox-fencing.ts';
import { migration as rollupLocations } from './migrations/011-rollup-locations.ts';

export interface Migration {
  version: number;
  /** Short snake_case name; checked on open so two branches that both appended "version 4" cannot mix. */
  name: string;
  /** SQLite SQL, possibly several statements. Runs inside a transaction: no VACUUM, no PRAGMA journal_mode. */
  up: string;
  /** The Postgres script, where the translation of `up` cannot serve (triggers). */
  postgres?: string;
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
    postgres: `
      CREATE TABLE probe_results (
        id              BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        probe_id        TEXT    NOT NULL,
        started_at      BIGINT  NOT NULL,
        target          TEXT    NOT NULL,
        provider        TEXT    NOT NULL,
        requested_model TEXT    NOT NULL,
        served_model    TEXT,
        fingerprint     TEXT,
        outcome         TEXT    NOT NULL,
        error_class     TEXT,
        http_status     BIGINT,
        ttft_ms         DOUBLE PRECISION,
        total_ms        DOUBLE PRECISION,
        connect_ms      DOUBLE PRECISION,
        ttfb_ms         DOUBLE PRECISION,
        tokens_in       BIGINT,
        tokens_out      BIGINT,
        cost_usd        DOUBLE PRECISION,
        finish_reason   TEXT,
        refusal         TEXT,
        attempt         BIGINT  NOT NULL,
        confirmed       BIGINT  NOT NULL,
        drill_id        TEXT,
        detail          TEXT    NOT NULL
      );
      CREATE INDEX probe_results_probe_time ON probe_results (probe_id, started_at);
      CREATE INDEX probe_results_time ON probe_results (started_at);

      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );

      CREATE TABLE probe_rollups_hourly (
        probe_id           TEXT    NOT NULL,
        hour_start         BIGINT  NOT NULL,
        count              BIGINT  NOT NULL,
        failures           BIGINT  NOT NULL,
        degraded           BIGINT  NOT NULL,
        confirmed_failures BIGINT  NOT NULL,
        refusals           BIGINT  NOT NULL,
        ttft_n             BIGINT  NOT NULL,
        ttft_p50           DOUBLE PRECISION,
        ttft_p95           DOUBLE PRECISION,
        ttft_p99           DOUBLE PRECISION,
        total_n            BIGINT  NOT NULL,
        total_p50          DOUBLE PRECISION,
        total_p95          DOUBLE PRECISION,
        total_p99          DOUBLE PRECISION,
        tokens_in          BIGINT  NOT NULL,
        tokens_out         BIGINT  NOT NULL,
        cost_usd           DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (probe_id, hour_start)
      );
      CREATE INDEX probe_rollups_hourly_time ON probe_rollups_hourly (hour_start);

      CREATE TABLE rollup_dirty (
        probe_id   TEXT    NOT NULL,
        hour_start BIGINT  NOT NULL,
        PRIMARY KEY (probe_id, hour_start)
      );
      CREATE FUNCTION probe_results_late_for_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.drill_id IS NULL
           AND NEW.started_at < (SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'rollup.watermark') THEN
          INSERT INTO rollup_dirty (probe_id, hour_start)
          VALUES (NEW.probe_id, NEW.started_at - (NEW.started_at % ${HOUR_MS}))
          ON CONFLICT DO NOTHING;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER probe_results_late_for_rollup AFTER INSERT ON probe_results
      FOR EACH ROW EXECUTE FUNCTION probe_results_late_for_rollup();
    `,
  },
  // Later features each own one file under migrations/ with a reserved number.
  incidents,
  outbox,
  drills,
  webhooks,
  detectors,
  drillJournal,
  leadership,
  locations,
  outboxFencing,
  rollupLocations,
];

export class SchemaTooNewError extends Error {
  readonly dbVersion: number;
  readonly codeVersion: number;
  constructor(path: string, dbVersion: number, codeVersion: number) {
    super(
      `${path}: database schema is version ${dbVersion} but this Vigil knows migrations up to ${codeVersion}; ` +
        `it was written by a newer Vigil. Upgrade Vigil, or point storage at another database. ` +
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

/** One database operation of the migration procedure; the driver sends back its result. */
type Op =
  | { op: 'all'; sql: string; params?: SqlValue[] }
  | { op: 'exec'; sql: string }
  | { op: 'tx'; body: () => Procedure<void> };
type Procedure<T> = Generator<Op, T, any>;

function* rows<R>(sql: string, params?: SqlValue[]): Procedure<R[]> {
  return (yield { op: 'all', sql, params }) as R[];
}

function* appliedVersions(): Procedure<Map<number, string>> {
  const r = yield* rows<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
  return new Map(r.map((x) => [x.version, x.name]));
}

function* hasMigrationsTable(d: Dialect): Procedure<boolean> {
  const q =
    d.name === 'sqlite'
      ? "SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
      : "SELECT 1 AS x FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'";
  return (yield* rows(q)).length > 0;
}

/** SQLite's `PRAGMA user_version` (0 elsewhere): covers a file whose schema_migrations row was lost. */
function* userVersion(d: Dialect): Procedure<number> {
  if (d.name !== 'sqlite') return 0;
  return (yield* rows<{ user_version: number }>('PRAGMA user_version'))[0].user_version;
}

export interface MigrateOptions {
  path?: string;
  now?: () => number;
  migrations?: readonly Migration[];
  readOnly?: boolean;
}

function* procedure(d: Dialect, opts: MigrateOptions): Procedure<MigrateReport> {
  const migrations = opts.migrations ?? MIGRATIONS;
  const path = opts.path ?? 'database';
  checkList(migrations);
  const codeVersion = latestVersion(migrations);

  function* check(): Procedure<number> {
    const applied = (yield* hasMigrationsTable(d)) ? yield* appliedVersions() : new Map<number, string>();
    const dbVersion = Math.max(0, ...applied.keys(), yield* userVersion(d));
    if (dbVersion > codeVersion) throw new SchemaTooNewError(path, dbVersion, codeVersion);
    for (const [v, name] of applied) {
      const mine = migrations[v - 1];
      if (mine && mine.name !== name) {
        throw new Error(`${path}: migration ${v} is recorded as "${name}" but this Vigil calls it "${mine.name}"`);
      }
    }
    return dbVersion;
  }

  if (opts.readOnly) {
    // A reader (a CLI next to the running daemon) checks but never changes the schema.
    const v = yield* check();
    if (v < codeVersion) {
      throw new Error(`${path}: schema version ${v} is older than ${codeVersion}; open it read-write once to migrate`);
    }
    return { from: v, to: v, applied: [] };
  }

  // A transaction that first takes the cross-instance migration lock (Postgres; SQLite's is exclusive already).
  const locked = (body: () => Procedure<void>): Op => ({
    op: 'tx',
    body: function* () {
      if (d.migrationLock) yield* rows(d.migrationLock);
      yield* body();
    },
  });

  // Only when missing: an up-to-date database is opened without taking any write lock.
  if (!(yield* hasMigrationsTable(d))) {
    yield locked(function* () {
      yield {
        op: 'exec',
        sql: `CREATE TABLE IF NOT EXISTS schema_migrations (
          version    INTEGER PRIMARY KEY,
          name       TEXT    NOT NULL,
          applied_at ${d.name === 'sqlite' ? 'INTEGER' : 'BIGINT'} NOT NULL
        )`,
      };
    });
  }

  const from = yield* check();
  const applied: MigrateReport['applied'] = [];
  for (const m of migrations) {
    if (m.version <= from) continue;
    yield locked(function* () {
      // Re-read under the lock: another process may have migrated since we looked.
      if ((yield* appliedVersions()).has(m.version)) return;
      yield { op: 'exec', sql: d.schema(m) };
      yield* rows('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, (opts.now ?? Date.now)()]);
      if (d.name === 'sqlite') yield { op: 'exec', sql: `PRAGMA user_version = ${m.version}` };
      applied.push({ version: m.version, name: m.name });
    });
  }
  return { from, to: yield* check(), applied };
}

async function driveAsync<T>(sql: Sql, g: Procedure<T>): Promise<T> {
  let step = g.next();
  while (!step.done) {
    const o = step.value;
    let result: unknown;
    try {
      if (o.op === 'all') result = await sql.all(o.sql, o.params);
      else if (o.op === 'exec') result = await sql.exec(o.sql);
      else result = await sql.transaction(() => driveAsync(sql, o.body()));
    } catch (err) {
      step = g.throw(err);
      continue;
    }
    step = g.next(result);
  }
  return step.value;
}

function driveSync<T>(db: DatabaseSync, g: Procedure<T>): T {
  let step = g.next();
  while (!step.done) {
    const o = step.value;
    let result: unknown;
    try {
      if (o.op === 'all') result = db.prepare(o.sql).all(...((o.params ?? []) as SQLInputValue[]));
      else if (o.op === 'exec') result = db.exec(o.sql);
      else result = transaction(db, () => driveSync(db, o.body()));
    } catch (err) {
      step = g.throw(err);
      continue;
    }
    step = g.next(result);
  }
  return step.value;
}

/**
 * Bring the schema up to date. Idempotent: re-running applies nothing, and so does a second instance migrating
 * at the same time (it waits for the first, then finds the work done). Throws SchemaTooNewError when the
 * database holds migrations this build does not know, and a plain Error when a recorded name differs from ours.
 */
export function migrate(sql: Sql, opts: MigrateOptions = {}): Promise<MigrateReport> {
  return driveAsync(sql, procedure(sql.dialect, opts));
}

/** The same, synchronously, on a node:sqlite connection. */
export function migrateSqlite(db: DatabaseSync, opts: MigrateOptions = {}): MigrateReport {
  return driveSync(db, procedure(sqliteDialect, opts));
}
