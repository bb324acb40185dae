// The Sql interface over a PostgreSQL connection pool (`pg`, the maintained pure-JS client: no native addon).
// Statements outside a transaction run concurrently on the pool; a transaction holds one pooled connection and
// the statements of its async context run on it. Every statement is a named prepared statement (parsed once per
// connection). Integers come back as numbers (epoch ms and counts stay below 2^53), numerics as numbers.
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { postgresDialect } from './dialect.ts';
import { Mutex, type RunResult, type Sql, type SqlValue } from './sql.ts';

const INT8_OID = 20;
const NUMERIC_OID = 1700;

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (v: string) => (v === null ? null : Number(v));
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

export interface PgOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** A statement (or a connection attempt) that has not answered in this long fails (default 30 s). */
  timeoutMs?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  /** Errors of idle pooled connections (the server restarted, the network dropped): logged, never thrown. */
  onIdleError?: (err: Error) => void;
}

interface Tx {
  client: pg.PoolClient;
  done: boolean;
  depth: number;
  nested: Mutex;
}

/** `?` placeholders to `$1, $2…`, leaving string literals, quoted identifiers and comments alone. */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\/|\?/g, (m) => (m === '?' ? `$${++n}` : m));
}

/**
 * A pg Client that always has an 'error' listener. The pool listens only once a connection is established; a
 * connection cut while it is still starting up (a network partition that heals by resetting the half-open
 * sockets) would otherwise emit an error nobody listens to, which kills the process. Queries on it still fail
 * and the pool still discards it.
 */
class GuardedClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', () => {});
  }
}

export class PgSql implements Sql {
  readonly dialect = postgresDialect;
  readonly pool: pg.Pool;
  private readonly ctx = new AsyncLocalStorage<Tx>();
  private readonly mutex = new Mutex();
  private readonly prepared = new Map<string, { name: string; text: string }>();

  constructor(url: string, opts: PgOptions = {}) {
    const timeout = opts.timeoutMs ?? 30_000;
    this.pool = new pg.Pool({
      connectionString: url,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: timeout,
      // Client-side: a statement sent into a dead network still fails (and its connection is discarded).
      query_timeout: timeout,
      keepAlive: true,
      application_name: opts.applicationName ?? 'vigil',
      types,
      Client: GuardedClient,
    });
    const onIdle = opts.onIdleError ?? (() => {});
    this.pool.on('error', onIdle);
  }

  get inTransaction(): boolean {
    return this.tx() !== null;
  }

  async all<R>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    return (await this.query(sql, params)).rows as R[];
  }

  async get<R>(sql: string, params: readonly SqlValue[] = []): Promise<R | undefined> {
    return (await this.query(sql, params)).rows[0] as R | undefined;
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<RunResult> {
    return { changes: (await this.query(sql, params)).rowCount ?? 0 };
  }

  async exec(script: string): Promise<void> {
    // Simple-query protocol: several statements in one round trip, no parameters.
    const tx = this.tx();
    await (tx ? tx.client.query(script) : this.pool.query(script));
  }

  transaction<T>(fn: () => Promise<T>): Promise<T> {
    const outer = this.tx();
    if (outer) {
      return outer.nested.run(async () => {
        const name = `vigil_sp${++outer.depth}`;
        await outer.client.query(`SAVEPOINT ${name}`);
        try {
          const out = await fn();
          await outer.client.query(`RELEASE SAVEPOINT ${name}`);
          return out;
        } catch (err) {
          await outer.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
          await outer.client.query(`RELEASE SAVEPOINT ${name}`);
          throw err;
        } finally {
          outer.depth--;
        }
      });
    }
    return this.mutex.run(async () => {
      const client = await this.pool.connect();
      const tx: Tx = { client, done: false, depth: 0, nested: new Mutex() };
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const out = await this.ctx.run(tx, fn);
        await client.query('COMMIT');
        return out;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          // The connection is unusable (network, timeout): discard it rather than return it to the pool.
          broken = rollbackErr as Error;
        }
        throw err;
      } finally {
        tx.done = true;
        client.release(broken);
      }
    });
  }

  async close(): Promise<void> {
    await this.mutex.idle();
    await this.pool.end();
  }

  private tx(): Tx | null {
    const tx = this.ctx.getStore();
    return tx && !tx.done ? tx : null;
  }

  private query(sql: string, params: readonly SqlValue[]): Promise<pg.QueryResult> {
    let p = this.prepared.get(sql);
    if (!p) this.prepared.set(sql, (p = { name: `vigil_${this.prepared.size + 1}`, text: numberPlaceholders(sql) }));
    const config = { name: p.name, text: p.text, values: params as unknown[] };
    const tx = this.tx();
    return tx ? tx.client.query(config) : this.pool.query(config);
  }
}
