// The store: probe results, hourly rollups and small metadata, in one SQLite file (WAL; the default) or in a
// PostgreSQL database shared by several instances (`storage.url`). Later modules (incidents, outbox, drills,
// baselines, webhooks) add tables by appending to MIGRATIONS and query them through `store.sql`.
import type { DatabaseSync } from 'node:sqlite';
import type { Clock } from '../clock.ts';
import type { ProbeResult } from '../domain.ts';
import { openDatabase, transaction, type OpenOptions } from './db.ts';
import { migrate, migrateSqlite, type Migration, type MigrateReport } from './migrations.ts';
import type { PgOptions } from './postgres.ts';
import { redactUrl } from './pg-url.ts';
import { ResultQueries, type LocationSummary, type OutcomeRow, type ResultQuery } from './results.ts';
import { RetentionQueries, type RetentionPolicy, type RetentionReport } from './retention.ts';
import { RollupQueries, type HourlyRollup, type RollupQuery, type RollupReport } from './rollups.ts';
import type { Sql } from './sql.ts';
import { SqliteSql } from './sqlite.ts';

export type { OpenOptions } from './db.ts';
export { SchemaTooNewError, MIGRATIONS, type Migration, type MigrateReport } from './migrations.ts';
export type { LocationSummary, OutcomeRow, ResultQuery } from './results.ts';
export type { RetentionPolicy, RetentionReport } from './retention.ts';
export { HOUR_MS, RollupAccumulator, hourFloor, nearestRank } from './rollups.ts';
export type { HourlyRollup, LatencySummary, RollupQuery, RollupReport, RollupSourceRow } from './rollups.ts';
export type { Sql, SqlValue } from './sql.ts';

export interface StoreOptions extends OpenOptions {
  /** Only used to stamp `schema_migrations.applied_at`. */
  clock?: Pick<Clock, 'now'>;
  /** For tests of the migration mechanism; production uses MIGRATIONS. */
  migrations?: readonly Migration[];
  /** Postgres connection settings. */
  pg?: PgOptions;
  /** This instance's location, stamped on every result it records that carries none. */
  location?: string;
}

/** A `postgres://` or `postgresql://` URL selects Postgres; anything else is a SQLite file path. */
export const isPostgresUrl = (target: string): boolean => /^postgres(ql)?:\/\//i.test(target);

/** The store a config names: `storage.url` (PostgreSQL) when set, else the SQLite file `storage.path`. */
export const storeTarget = (storage: { url?: string; path: string }): string => storage.url ?? storage.path;

/** Whether that store may hold data already (a SQLite file that exists; a database URL always may). */
export const storeMayExist = (storage: { url?: string; path: string }, exists: (path: string) => boolean): boolean =>
  storage.url !== undefined || exists(storage.path);

export class Store {
  /** The SQLite file, or the Postgres URL without its password (for logs). */
  readonly path: string;
  /** Every query goes through this; modules that own tables use it too. */
  readonly sql: Sql;
  readonly migration: MigrateReport;
  private readonly sqlite: DatabaseSync | null;
  private readonly resultsQ: ResultQueries;
  private readonly rollupsQ: RollupQueries;
  private readonly retentionQ: RetentionQueries;
  /** Serialises rollup() and applyRetention(), which yield between batches. */
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly readOnly: boolean;

  /**
   * Open (create if missing) and migrate: a SQLite file path, or a Postgres URL. Throws SchemaTooNewError for a
   * database written by a newer Vigil.
   */
  static async connect(target: string, opts: StoreOptions = {}): Promise<Store> {
    if (!isPostgresUrl(target)) return Store.open(target, opts);
    // The driver is loaded only for a PostgreSQL store (SQLite is the default): about 1.5 MB of heap otherwise.
    const { PgSql } = await import('./postgres.ts');
    const sql = new PgSql(target, opts.pg);
    const path = redactUrl(target);
    try {
      const migration = await migrate(sql, { path, migrations: opts.migrations, readOnly: opts.readOnly, now: opts.clock ? () => opts.clock!.now() : undefined });
      return new Store(path, sql, null, migration, opts);
    } catch (err) {
      await sql.close();
      throw err;
    }
  }

  /**
   * The same for a SQLite file, synchronously: for tests and callers that cannot await (the SQLite connection is
   * synchronous anyway). Everything else about the store is the same as connect()'s.
   */
  static open(path: string, opts: StoreOptions = {}): Store {
    if (isPostgresUrl(path)) throw new Error(`${redactUrl(path)}: a Postgres store is opened with Store.connect()`);
    const db = openDatabase(path, opts);
    try {
      const migration = migrateSqlite(db, { path, migrations: opts.migrations, readOnly: opts.readOnly, now: opts.clock ? () => opts.clock!.now() : undefined });
      return new Store(path, new SqliteSql(db, () => Store.closeSqlite(db, opts.readOnly ?? false)), db, migration, opts);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  private constructor(path: string, sql: Sql, sqlite: DatabaseSync | null, migration: MigrateReport, opts: StoreOptions) {
    this.path = path;
    this.sql = sql;
    this.sqlite = sqlite;
    this.migration = migration;
    this.readOnly = opts.readOnly ?? false;
    this.resultsQ = new ResultQueries(sql, opts.location ?? null);
    this.rollupsQ = new RollupQueries(sql);
    this.retentionQ = new RetentionQueries(sql);
  }

  get backend(): 'sqlite' | 'postgres' {
    return this.sql.dialect.name;
  }

  /**
   * The synchronous SQLite connection, for the modules still written against node:sqlite directly (they are
   * being moved to `sql`). Not available on Postgres.
   */
  get db(): DatabaseSync {
    if (!this.sqlite) throw new Error(`${this.path}: this part of Vigil does not run on PostgreSQL yet (it needs the SQLite store)`);
    return this.sqlite;
  }

  // ── results ────────────────────────────────────────────────────────────────────────────────────────────────

  /** Persist one result; resolves once committed (durable against a process crash). Concurrent calls share commits. */
  insertResult(r: ProbeResult): Promise<void> {
    return this.resultsQ.insert(r);
  }

  /** Persist several results in one transaction: all or none. */
  insertResults(rs: readonly ProbeResult[]): Promise<void> {
    return this.resultsQ.insertMany(rs);
  }

  /** Full ProbeResults, ordered by startedAt (asc by default). */
  results(q: ResultQuery = {}): Promise<ProbeResult[]> {
    return this.resultsQ.list(q);
  }

  /** A probe's newest `limit` rows (newest first): start time, outcome, confirmed and drill only. */
  recentOutcomes(probeId: string, limit: number): Promise<Pick<ProbeResult, 'startedAt' | 'outcome' | 'confirmed' | 'drillId'>[]> {
    return this.resultsQ.recentOutcomes(probeId, limit);
  }

  /** One location's rows that started at or after `since`, oldest first: start, outcome, confirmed, drill, error class. */
  outcomesSince(since: number, location: string): Promise<(OutcomeRow & { probeId: string })[]> {
    return this.resultsQ.outcomesSince(since, location);
  }

  countResults(q: Omit<ResultQuery, 'limit' | 'order'> = {}): Promise<number> {
    return this.resultsQ.count(q);
  }

  /** Results by row id above `afterId` (id order), for following what other instances record. */
  resultsAfter(afterId: number, limit = 2_000): Promise<{ id: number; result: ProbeResult }[]> {
    return this.resultsQ.after(afterId, limit);
  }

  /** Per probe and location since `since`: counts, failures, mean total time, the newest outcome. */
  resultsByLocation(since: number): Promise<LocationSummary[]> {
    return this.resultsQ.byLocation(since);
  }

  /** The highest result row id (0 when there is none). */
  maxResultId(): Promise<number> {
    return this.resultsQ.maxId();
  }

  /** Newest non-drill result per probe id. */
  latestResults(): Promise<Map<string, ProbeResult>> {
    return this.resultsQ.latest();
  }

  // ── rollups and retention ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Compute hourly rollups for complete hours before `untilHourExclusive` (floored to the hour) not yet rolled up,
   * and recompute hours that got late results. Idempotent, and safe to interrupt (crash, close): the next run
   * finishes the job. Percentiles: nearest rank over non-failed results. `chunk`: probe-hours per transaction.
   */
  rollup(untilHourExclusive: number, opts: { chunk?: number } = {}): Promise<RollupReport> {
    return this.serial(() => this.rollupsQ.rollup(untilHourExclusive, opts.chunk));
  }

  rollups(q: RollupQuery = {}): Promise<HourlyRollup[]> {
    return this.rollupsQ.list(q);
  }

  /** Locations that have per-location rollups for hours in [since, until). */
  rollupLocations(since: number, until: number): Promise<string[]> {
    return this.rollupsQ.locations(since, until);
  }

  /** Epoch ms before which every hour is rolled up, or null before the first rollup. */
  rollupWatermark(): Promise<number | null> {
    return this.rollupsQ.watermark();
  }

  /** Delete raw results older than rawRetentionMs (only rolled-up hours) and rollups older than rollupRetentionMs. */
  applyRetention(now: number, policy: RetentionPolicy): Promise<RetentionReport> {
    return this.serial(() => this.retentionQ.apply(now, policy));
  }

  // ── meta, transactions, maintenance ───────────────────────────────────────────────────────────────────────

  async getMeta(key: string): Promise<string | undefined> {
    return (await this.sql.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', [key]))?.value;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.sql.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }

  /** Run synchronous `fn` atomically on the SQLite connection (nests as a savepoint). For the modules still on `db`. */
  transaction<T>(fn: () => T): T {
    return transaction(this.db, fn);
  }

  async schemaVersion(): Promise<number> {
    return (await this.sql.get<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations'))?.v ?? 0;
  }

  /** `['ok']` when the database is sound; on SQLite otherwise its list of problems (Postgres checks its own pages). */
  integrityCheck(): string[] {
    if (!this.sqlite) return ['ok'];
    return (this.sqlite.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]).map((r) => r.integrity_check);
  }

  /** SQLite: copy WAL content into the main file and truncate the WAL (also done by close()). */
  checkpoint(): void {
    this.sqlite?.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /**
   * Commit pending result writes and close (synchronously, on SQLite, when no write is pending). SQLite: leaves a
   * self-contained .db file (empty -wal) so a copy or backup of just that file is complete. Idempotent. Await a running rollup()/applyRetention() first: one still
   * running rejects at its next batch.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.resultsQ.drain();
    await this.sql.close();
  }

  private static closeSqlite(db: DatabaseSync, readOnly: boolean): void {
    try {
      if (!readOnly) {
        // Refresh planner statistics for what this connection used; cheap, recommended before close.
        db.exec('PRAGMA optimize');
        db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      }
    } finally {
      db.close();
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(() => {
      if (this.closed) throw new Error(`store ${this.path} is closed`);
      return fn();
    });
    this.chain = run.catch(() => undefined);
    return run;
  }
}
