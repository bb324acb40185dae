// The async SQL layer, the same tests on both engines: portable statements, transactions scoped by async
// context (helpers join the caller's transaction), savepoints, rollback, one transaction at a time per process.
import { describe, expect, it } from 'vitest';
import { numberPlaceholders } from '../../src/store/postgres.ts';
import { Store } from '../../src/store/store.ts';
import { BACKENDS, freshStoreTarget, skipBackend } from '../pg/backends.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe.each(BACKENDS)('sql layer (%s)', (backend) => {
  const withSql = async (fn: (s: Store) => Promise<void>) => {
    const s = await Store.connect(await freshStoreTarget(backend));
    try {
      await s.sql.exec('CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT NOT NULL, b BYTEA)'.replace('BYTEA', backend === 'sqlite' ? 'BLOB' : 'BYTEA'));
      await fn(s);
    } finally {
      await s.close();
    }
  };
  const count = async (s: Store) => (await s.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM kv'))!.n;

  it.skipIf(skipBackend(backend))('binds and reads back every value type; upserts portably', async () => {
    await withSql(async (s) => {
      const bytes = new Uint8Array([0, 1, 254, 255]);
      await s.sql.run('INSERT INTO kv (k, v, b) VALUES (?, ?, ?)', ['a', 1_767_225_600_123, bytes]);
      await s.sql.run('INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v + kv.v', ['a', 1]);
      const row = await s.sql.get<{ k: string; v: number; b: Uint8Array }>("SELECT k, v, b FROM kv WHERE k = ? AND 'literal ?' <> ?", ['a', 'x']);
      expect(row?.v).toBe(1_767_225_600_124);
      expect(new Uint8Array(row!.b)).toEqual(bytes);
      expect((await s.sql.run('INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT DO NOTHING', ['a', 5])).changes).toBe(0);
      expect(await s.sql.get('SELECT v FROM kv WHERE k = ?', ['missing'])).toBeUndefined();
    });
  });

  it.skipIf(skipBackend(backend))('statements from inside a transaction join it, and a throw rolls all of it back', async () => {
    await withSql(async (s) => {
      const put = (k: string) => s.sql.run('INSERT INTO kv (k, v) VALUES (?, 1)', [k]);
      await expect(
        s.sql.transaction(async () => {
          await put('a');
          await tick();
          await put('b');
          expect(s.sql.inTransaction).toBe(true);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(s.sql.inTransaction).toBe(false);
      expect(await count(s)).toBe(0);
      await s.sql.transaction(async () => {
        await put('a');
        // A nested transaction is a savepoint: its failure undoes only its own writes.
        await expect(s.sql.transaction(async () => { await put('b'); throw new Error('inner'); })).rejects.toThrow('inner');
        await s.sql.transaction(() => put('c'));
      });
      expect((await s.sql.all<{ k: string }>('SELECT k FROM kv ORDER BY k')).map((r) => r.k)).toEqual(['a', 'c']);
    });
  });

  it.skipIf(skipBackend(backend))('transactions of one process run one at a time (read-modify-write is safe)', async () => {
    await withSql(async (s) => {
      await s.sql.run("INSERT INTO kv (k, v) VALUES ('n', 0)");
      const incr = () =>
        s.sql.transaction(async () => {
          const { v } = (await s.sql.get<{ v: number }>("SELECT v FROM kv WHERE k = 'n'"))!;
          await tick();
          await s.sql.run("UPDATE kv SET v = ? WHERE k = 'n'", [v + 1]);
        });
      await Promise.all(Array.from({ length: 10 }, incr));
      expect((await s.sql.get<{ v: number }>("SELECT v FROM kv WHERE k = 'n'"))!.v).toBe(10);
    });
  });

  it.skipIf(skipBackend(backend))('a statement outside an open transaction never lands in it', async () => {
    await withSql(async (s) => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const tx = s.sql.transaction(async () => {
        await s.sql.run("INSERT INTO kv (k, v) VALUES ('in', 1)");
        await gate;
        throw new Error('rolled back');
      });
      await tick();
      // Started from outside the transaction's async context: on SQLite it waits for the transaction to end,
      // on Postgres it runs on another connection. Either way the rollback does not take it along.
      const outside = s.sql.run("INSERT INTO kv (k, v) VALUES ('out', 1)");
      release();
      await expect(tx).rejects.toThrow('rolled back');
      await outside;
      expect((await s.sql.all<{ k: string }>('SELECT k FROM kv')).map((r) => r.k)).toEqual(['out']);
    });
  });
});

describe('postgres placeholders', () => {
  it('numbers ? outside strings, quoted names and comments', () => {
    expect(numberPlaceholders(`SELECT '?', "a?b", x FROM t -- ?\nWHERE a = ? AND b = ? /* ? */ AND c = 'it''s ?'`)).toBe(
      `SELECT '?', "a?b", x FROM t -- ?\nWHERE a = $1 AND b = $2 /* ? */ AND c = 'it''s ?'`,
    );
  });
});
