// The Sql interface over one node:sqlite connection. node:sqlite is synchronous and fast (microseconds per
// statement on a local file), so statements run inline; what this adds is transactions that may span `await`:
// while one is open, every other statement and transaction of this connection queues behind it (one connection
// is one transaction), and statements from inside it (same async context) run in it.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { sqliteDialect } from './dialect.ts';
import { Mutex, type RunResult, type Sql, type SqlValue } from './sql.ts';

interface Tx {
  done: boolean;
  depth: number;
  /** Nested transactions (savepoints) of this transaction, one at a time. */
  nested: Mutex;
}

export class SqliteSql implements Sql {
  readonly dialect = sqliteDialect;
  readonly db: DatabaseSync;
  private readonly stmts = new Map<string, StatementSync>();
  private readonly ctx = new AsyncLocalStorage<Tx>();
  private readonly mutex = new Mutex();
  private readonly onClose: () => void;

  /** `onClose` runs (once every queued transaction has finished) instead of closing the connection directly. */
  constructor(db: DatabaseSync, onClose: () => void = () => db.close()) {
    this.db = db;
    this.onClose = onClose;
  }

  get inTransaction(): boolean {
    return this.tx() !== null;
  }

  all<R>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    return this.stmt(() => this.prepare(sql).all(...(params as SQLInputValue[])) as R[]);
  }

  get<R>(sql: string, params: readonly SqlValue[] = []): Promise<R | undefined> {
    return this.stmt(() => this.prepare(sql).get(...(params as SQLInputValue[])) as R | undefined);
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<RunResult> {
    return this.stmt(() => ({ changes: Number(this.prepare(sql).run(...(params as SQLInputValue[])).changes) }));
  }

  exec(script: string): Promise<void> {
    return this.stmt(() => this.db.exec(script));
  }

  transaction<T>(fn: () => Promise<T>): Promise<T> {
    const outer = this.tx();
    if (outer) {
      return outer.nested.run(async () => {
        const name = `vigil_sp${++outer.depth}`;
        this.db.exec(`SAVEPOINT ${name}`);
        try {
          const out = await fn();
          this.db.exec(`RELEASE ${name}`);
          return out;
        } catch (err) {
          this.db.exec(`ROLLBACK TO ${name}`);
          this.db.exec(`RELEASE ${name}`);
          throw err;
        } finally {
          outer.depth--;
        }
      });
    }
    return this.mutex.run(async () => {
      const tx: Tx = { done: false, depth: 0, nested: new Mutex() };
      // IMMEDIATE takes the write lock up front: another process waits at BEGIN (busy timeout) instead of
      // deadlocking on a read-to-write upgrade.
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const out = await this.ctx.run(tx, fn);
        this.db.exec('COMMIT');
        return out;
      } catch (err) {
        if (this.db.isTransaction) this.db.exec('ROLLBACK');
        throw err;
      } finally {
        tx.done = true;
      }
    });
  }

  /** Closes at once (synchronously) when no transaction is open or queued, otherwise after the last one. */
  async close(): Promise<void> {
    if (this.mutex.locked) await this.mutex.idle();
    this.stmts.clear();
    this.onClose();
  }

  private tx(): Tx | null {
    const tx = this.ctx.getStore();
    return tx && !tx.done ? tx : null;
  }

  /** Run inline when no transaction is open or when called from inside the open one; otherwise queue. */
  private stmt<T>(fn: () => T): Promise<T> {
    if (this.tx() || !this.mutex.locked) {
      try {
        return Promise.resolve(fn());
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.mutex.run(async () => fn());
  }

  private prepare(sql: string): StatementSync {
    let s = this.stmts.get(sql);
    if (!s) this.stmts.set(sql, (s = this.db.prepare(sql)));
    return s;
  }
}
