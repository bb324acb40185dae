// The store: one SQLite file (WAL) holding probe results, hourly rollups and small metadata. Later modules
// (incidents, outbox, drills, baselines, webhooks) add tables by appending to MIGRATIONS and reach the connection
// through `store.db` / `store.transaction()`.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Clock } from '../clock.ts';
import type { ProbeResult } from '../domain.ts';
import { openDatabase, transaction, type OpenOptions } from './db.ts';
import { migrate, type Migration, type MigrateReport } from './migrations.ts';
import { ResultQueries, type ResultQuery } from './results.ts';
import { RetentionQueries, type RetentionPolicy, type RetentionReport } from './retention.ts';
import { RollupQueries, type HourlyRollup, type RollupQuery, type RollupReport } from './rollups.ts';

export type { OpenOptions } from './db.ts';
export { SchemaTooNewError, MIGRATIONS, type Migration, type MigrateReport } from './migrations.ts';
export type { ResultQuery } from './results.ts';
export type { RetentionPolicy, RetentionReport } from './retention.ts';
export { HOUR_MS, RollupAccumulator, hourFloor, nearestRank } from './rollups.ts';
export type { HourlyRollup, LatencySummary, RollupQuery, RollupReport, RollupSourceRow } from './rollups.ts';

export interface StoreOptions extends OpenOptions {
  /** Only used to stamp `schema_migrations.applied_at`. */
  clock?: Pick<Clock, 'now'>;
  /** For tests of the migration mechanism; production uses MIGRATIONS. */
  migrations?: readonly Migration[];
}

export class Store {
  readonly path: string;
  /** The connection, for modules that own their own tables. Synchronous: never hold a transaction across await. */
  readonly db: DatabaseSync;
  readonly migration: MigrateReport;
  private readonly resultsQ: ResultQueries;
  private readonly rollupsQ: RollupQueries;
  private readonly retentionQ: RetentionQueries;
  private readonly metaGet: StatementSync;
  private readonly metaSet: StatementSync;
  /** Serialises rollup() and applyRetention(), which yield between batches. */
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly readOnly: boolean;

  /** Open (create if missing) and migrate. Throws SchemaTooNewError for a file from a newer Vigil. */
  static open(path: string, opts: StoreOptions = {}): Store {
    return new Store(path, opts);
  }

  private constructor(path: string, opts: StoreOptions) {
    this.path = path;
    this.readOnly = opts.readOnly ?? false;
    this.db = openDatabase(path, opts);
    try {
      this.migration = migrate(this.db, {
        path,
        migrations: opts.migrations,
        readOnly: opts.readOnly,
        now: opts.clock ? () => opts.clock!.now() : undefined,
      });
      this.resultsQ = new ResultQueries(this.db);
      this.rollupsQ = new RollupQueries(this.db);
      this.retentionQ = new RetentionQueries(this.db);
      this.metaGet = this.db.prepare('SELECT value FROM meta WHERE key = ?');
      this.metaSet = this.db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      );
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  // ── results ────────────────────────────────────────────────────────────────────────────────────────────────

  /** Persist one result; committed (durable against a process crash) when this returns. Returns its row id. */
  insertResult(r: ProbeResult): number {
    return this.resultsQ.insert(r);
  }

  /** Persist several results in one transaction: all or none. */
  insertResults(rs: readonly ProbeResult[]): void {
    this.resultsQ.insertMany(rs);
  }

  /** Full ProbeResults, ordered by startedAt (asc by default). */
  results(q: ResultQuery = {}): ProbeResult[] {
    return this.resultsQ.list(q);
  }

  countResults(q: Omit<ResultQuery, 'limit' | 'order'> = {}): number {
    return this.resultsQ.count(q);
  }

  /** Newest non-drill result per probe id. */
  latestResults(): Map<string, ProbeResult> {
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

  rollups(q: RollupQuery = {}): HourlyRollup[] {
    return this.rollupsQ.list(q);
  }

  /** Epoch ms before which every hour is rolled up, or null before the first rollup. */
  rollupWatermark(): number | null {
    return this.rollupsQ.watermark();
  }

  /** Delete raw results older than rawRetentionMs (only rolled-up hours) and rollups older than rollupRetentionMs. */
  applyRetention(now: number, policy: RetentionPolicy): Promise<RetentionReport> {
    return this.serial(() => this.retentionQ.apply(now, policy));
  }

  // ── meta, transactions, maintenance ───────────────────────────────────────────────────────────────────────

  getMeta(key: string): string | undefined {
    return (this.metaGet.get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.metaSet.run(key, value);
  }

  /** Run synchronous `fn` atomically (nests as a savepoint). */
  transaction<T>(fn: () => T): T {
    return transaction(this.db, fn);
  }

  schemaVersion(): number {
    return (this.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  }

  /** `['ok']` when the file is sound; otherwise SQLite's list of problems. */
  integrityCheck(): string[] {
    return (this.db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]).map(
      (r) => r.integrity_check,
    );
  }

  /** Copy WAL content into the main file and truncate the WAL (also done by close()). */
  checkpoint(): void {
    this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /**
   * Checkpoint and close. Leaves a self-contained .db file (empty -wal) so a copy or backup of just that file is
   * complete. Idempotent. Await a running rollup()/applyRetention() first: one still running rejects at its next batch.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (!this.readOnly) {
        // Refresh planner statistics for what this connection used; cheap, recommended before close.
        this.db.exec('PRAGMA optimize');
        this.checkpoint();
      }
    } finally {
      this.db.close();
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
