// Opening the SQLite file with the pragmas Vigil relies on. Uses Node's built-in `node:sqlite` (no native addon).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { SQLInputValue, StatementSync } from 'node:sqlite';
import type { SqlValue } from './sql.ts';

export interface OpenOptions {
  /**
   * How long a writer waits for another connection's lock before SQLITE_BUSY. The daemon is the only writer in
   * normal operation; this covers a CLI (`vigil incidents`, a second reader) touching the file at the same time.
   */
  busyTimeoutMs?: number;
  /**
   * `normal` (default): under WAL a commit is appended to the -wal file and survives a crash of the process
   * (kill -9, OOM, panic) because the bytes are already in the OS page cache; only an OS crash or power loss can
   * drop the last few commits, and it never corrupts the file (the WAL is checksummed and replayed up to the last
   * valid commit). `full` also fsyncs the WAL on every commit: survives power loss, costs one fsync per insert.
   * A monitoring daemon's writes are cheap to re-learn after a power cut but must not be lost to a process crash,
   * so `normal` is the default trade-off.
   */
  durability?: 'normal' | 'full';
  readOnly?: boolean;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** Open (creating the parent directory and the file if needed) with WAL, busy timeout and foreign keys on. */
export function openDatabase(path: string, opts: OpenOptions = {}): DatabaseSync {
  const busy = opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const memory = path === ':memory:' || path === '';
  if (!memory && !opts.readOnly) mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path, {
    timeout: busy,
    enableForeignKeyConstraints: true,
    // "x" means a string literal, never a column name: a typo'd column must be an error, not a constant.
    enableDoubleQuotedStringLiterals: false,
    readOnly: opts.readOnly ?? false,
  });
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busy))}`);
    if (!opts.readOnly) {
      const row = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string } | undefined;
      // An in-memory DB reports `memory`; a file that cannot do WAL (some network filesystems) must not silently
      // fall back to a rollback journal with different durability and locking.
      if (!memory && row?.journal_mode !== 'wal') {
        throw new Error(`${path}: could not enable WAL (journal_mode is ${row?.journal_mode ?? 'unknown'})`);
      }
    }
    db.exec(`PRAGMA synchronous = ${opts.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    db.exec('PRAGMA foreign_keys = ON');
    // Temp b-trees (sorts, GROUP BY for big rollups) in memory rather than in temp files.
    db.exec('PRAGMA temp_store = MEMORY');
    // After a checkpoint, keep the -wal file from staying at its high-water mark forever.
    db.exec('PRAGMA journal_size_limit = 67108864');
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * Run `fn` in a transaction: BEGIN IMMEDIATE at the outermost level (takes the write lock up front, so a second
 * connection gets SQLITE_BUSY-with-wait at BEGIN rather than a deadlock on lock upgrade), SAVEPOINT when nested.
 * `fn` must be synchronous: a transaction spanning an `await` would hold the write lock across the event loop.
 */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  if (db.isTransaction) {
    db.exec('SAVEPOINT vigil_nested');
    try {
      const out = fn();
      db.exec('RELEASE vigil_nested');
      return out;
    } catch (err) {
      db.exec('ROLLBACK TO vigil_nested');
      db.exec('RELEASE vigil_nested');
      throw err;
    }
  }
  db.exec('BEGIN IMMEDIATE');
  try {
    const out = fn();
    db.exec('COMMIT');
    return out;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

/** The row a statement returns, mapped; null when there is none. */
export function oneRow<R, T>(stmt: StatementSync, map: (row: R) => T, ...params: SQLInputValue[]): T | null {
  const r = stmt.get(...params) as R | undefined;
  return r ? map(r) : null;
}

/** A query filter: `[sql, value]`, left out when the value is undefined, or a condition without a parameter. */
export type Filter = readonly [sql: string, value: SqlValue | undefined] | string | false;

/** ` WHERE a AND b` (or nothing) and its parameters, from the filters that apply, in order. */
export function whereClause(filters: readonly Filter[]): { sql: string; params: SqlValue[] } {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  for (const f of filters) {
    if (f === false) continue;
    if (typeof f === 'string') {
      parts.push(f);
    } else if (f[1] !== undefined) {
      parts.push(f[0]);
      params.push(f[1]);
    }
  }
  return { sql: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', params };
}

/** Prepared statements by SQL text. Query shapes are few (which filters are set): one statement per shape. */
export class StatementCache {
  private readonly db: DatabaseSync;
  private readonly cache = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  get(sql: string): StatementSync {
    let s = this.cache.get(sql);
    if (!s) this.cache.set(sql, (s = this.db.prepare(sql)));
    return s;
  }
}
