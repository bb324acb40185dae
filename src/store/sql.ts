// One asynchronous SQL interface over both engines: node:sqlite (the embedded default) and PostgreSQL (`pg`), so
// every module that owns tables writes its queries once. Queries are portable SQL with `?` placeholders; what
// differs between the engines lives in dialect.ts. Never blocks the event loop on the database: Vigil measures
// latency in-process, and a stalled loop would corrupt its own timings.
//
// Transactions are scoped by async context: inside `sql.transaction(fn)`, every call made on the same Sql from
// `fn`'s async call tree joins the transaction (a nested `transaction()` becomes a savepoint), so helpers need no
// transaction handle passed around and can never deadlock waiting on their own transaction.
// Transactions of one process run one at a time on both engines (SQLite has one connection and must; Postgres
// does too, so a read-modify-write written once behaves the same on both). Statements outside a transaction run
// concurrently on Postgres and wait for an open transaction on SQLite. Keep network I/O out of transactions.
import type { Dialect } from './dialect.ts';

/** What a placeholder binds. Booleans are stored as 0/1 integers on both engines. */
export type SqlValue = string | number | bigint | null | Uint8Array;

export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
}

export interface Sql {
  readonly dialect: Dialect;
  /** Every row. */
  all<R = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  /** The first row, or undefined. */
  get<R = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<R | undefined>;
  /** A statement for its effect; `INSERT … RETURNING id` goes through get(). */
  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult>;
  /** Several statements, no parameters (schema scripts). */
  exec(script: string): Promise<void>;
  /** Run `fn` atomically: committed when it resolves, rolled back when it throws. Nests as a savepoint. */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /** Whether the calling async context is inside a transaction of this Sql. */
  readonly inTransaction: boolean;
  close(): Promise<void>;
}

/** A FIFO mutex: `run(fn)` starts fn once every earlier holder has finished. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  private held = 0;

  get locked(): boolean {
    return this.held > 0;
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    this.held++;
    const out = this.tail.then(fn);
    this.tail = out.then(
      () => this.held--,
      () => this.held--,
    );
    return out;
  }

  /** Resolves once everything queued so far has finished. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

/** `undefined` (an optional field) binds as NULL on both engines. */
export const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);
