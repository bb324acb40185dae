import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { postgresSchema } from '../../src/store/dialect.ts';
import { MIGRATIONS, SchemaTooNewError, Store, type Migration } from '../../src/store/store.ts';
import { BACKENDS, freshStoreTarget, skipBackend } from '../pg/backends.ts';
import { makeResult } from './fixtures/gen.ts';
import { tempDbPath } from './helpers.ts';

const LATEST = MIGRATIONS.length;

async function tableExists(s: Store, name: string): Promise<boolean> {
  const q =
    s.backend === 'sqlite'
      ? "SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?"
      : 'SELECT 1 AS x FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?';
  return (await s.sql.get(q, [name])) !== undefined;
}

describe.each(BACKENDS)('store: migrations (%s)', (backend) => {
  const skip = skipBackend(backend);

  it.skipIf(skip)('migrates a new database, records versions, and applies nothing on reopen', async () => {
    const target = await freshStoreTarget(backend);
    let s = await Store.connect(target, { clock: { now: () => 1234 } });
    expect(s.migration.from).toBe(0);
    expect(s.migration.applied.map((m) => m.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await s.schemaVersion()).toBe(LATEST);
    await s.insertResult(makeResult(0));
    await s.close();

    s = await Store.connect(target);
    expect(s.migration).toEqual({ from: LATEST, to: LATEST, applied: [] });
    expect(await s.sql.all('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')).toEqual(
      MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at: 1234 })),
    );
    expect(await s.countResults()).toBe(1);
    await s.close();
  });

  // On SQLite, instances are processes serialised by the file's write lock; one process has one connection.
  it.skipIf(skip || backend === 'sqlite')('instances starting together migrate once', async () => {
    const target = await freshStoreTarget(backend);
    const stores = await Promise.all([1, 2, 3].map(() => Store.connect(target)));
    const applied = stores.map((s) => s.migration.applied.length);
    expect(applied.reduce((a, b) => a + b, 0)).toBe(LATEST);
    for (const s of stores) expect(await s.schemaVersion()).toBe(LATEST);
    await Promise.all(stores.map((s) => s.close()));
  });

  it.skipIf(skip)('applies an appended migration to an existing database, keeping its data', async () => {
    const target = await freshStoreTarget(backend);
    await (await Store.connect(target)).close();
    const next: Migration = { version: LATEST + 1, name: 'widgets', up: 'CREATE TABLE widgets (id INTEGER PRIMARY KEY, w TEXT, at INTEGER) WITHOUT ROWID;' };
    let s = await Store.connect(target, { migrations: [...MIGRATIONS, next] });
    expect(s.migration.applied).toEqual([{ version: LATEST + 1, name: 'widgets' }]);
    await s.sql.run('INSERT INTO widgets (id, w, at) VALUES (?, ?, ?)', [1, 'x', 1_767_225_600_000]);
    await s.close();
    s = await Store.connect(target, { migrations: [...MIGRATIONS, next] });
    expect(s.migration.applied).toEqual([]);
    // Epoch ms fit (INTEGER is BIGINT on Postgres) and come back as numbers.
    expect(await s.sql.all('SELECT w, at FROM widgets')).toEqual([{ w: 'x', at: 1_767_225_600_000 }]);
    await s.close();
  });

  it.skipIf(skip)('a failing migration rolls back completely and is not recorded', async () => {
    const target = await freshStoreTarget(backend);
    await (await Store.connect(target)).close();
    const broken: Migration = {
      version: LATEST + 1,
      name: 'broken',
      up: 'CREATE TABLE half (a TEXT); INSERT INTO no_such_table VALUES (1);',
    };
    await expect(Store.connect(target, { migrations: [...MIGRATIONS, broken] })).rejects.toThrow(/no_such_table/);
    const s = await Store.connect(target);
    expect(await s.schemaVersion()).toBe(LATEST);
    expect(await tableExists(s, 'half')).toBe(false);
    await s.close();
  });

  it.skipIf(skip)('refuses a database written by a newer Vigil, without touching it', async () => {
    const target = await freshStoreTarget(backend);
    const future: Migration = { version: LATEST + 1, name: 'future', up: 'CREATE TABLE future (a TEXT)' };
    await (await Store.connect(target, { migrations: [...MIGRATIONS, future] })).close();

    const err = await Store.connect(target).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaTooNewError);
    expect((err as Error).message).toMatch(new RegExp(`version ${LATEST + 1}.*up to ${LATEST}.*newer Vigil`));
    // Still openable by the newer build, unchanged.
    const s = await Store.connect(target, { migrations: [...MIGRATIONS, future] });
    expect(await s.schemaVersion()).toBe(LATEST + 1);
    await s.close();
  });

  it.skipIf(skip)('refuses a database whose recorded migration has a different name (diverged branches)', async () => {
    const target = await freshStoreTarget(backend);
    const mine: Migration = { version: LATEST + 1, name: 'branch_a', up: 'CREATE TABLE branch_a_table (a TEXT)' };
    const theirs: Migration = { version: LATEST + 1, name: 'branch_b', up: 'CREATE TABLE branch_b_table (a TEXT)' };
    await (await Store.connect(target, { migrations: [...MIGRATIONS, mine] })).close();
    await expect(Store.connect(target, { migrations: [...MIGRATIONS, theirs] })).rejects.toThrow(/recorded as "branch_a".*"branch_b"/);
  });

  it.skipIf(skip)('rejects a migration list with gaps', async () => {
    const bad: Migration = { version: LATEST + 2, name: 'gap', up: 'SELECT 1' };
    await expect(Store.connect(await freshStoreTarget(backend), { migrations: [...MIGRATIONS, bad] })).rejects.toThrow(/numbered/);
  });
});

describe('store: migrations on SQLite', () => {
  it('also refuses when only PRAGMA user_version says newer', async () => {
    const path = tempDbPath();
    await (await Store.connect(path)).close();
    const raw = new DatabaseSync(path);
    raw.exec(`PRAGMA user_version = ${LATEST + 5}`);
    raw.close();
    await expect(Store.connect(path)).rejects.toThrow(SchemaTooNewError);
  });
});

describe('store: Postgres translation of SQLite schema scripts', () => {
  it('maps storage types and drops SQLite storage clauses, leaving strings and names alone', () => {
    const out = postgresSchema(
      `CREATE TABLE t (
        id INTEGER PRIMARY KEY, -- INTEGER in a comment
        n INTEGER NOT NULL DEFAULT 0, r REAL, b BLOB, s TEXT CHECK (s IN ('INTEGER', 'x'))
      ) WITHOUT ROWID;
      CREATE TABLE u (a TEXT) STRICT;`,
      'test',
    );
    expect(out).toContain('id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,');
    expect(out).toContain('n BIGINT NOT NULL DEFAULT 0, r DOUBLE PRECISION, b BYTEA');
    expect(out).toContain("('INTEGER', 'x')");
    expect(out).not.toMatch(/WITHOUT ROWID|STRICT|comment/);
  });

  it('refuses what it cannot translate, naming the migration', () => {
    expect(() => postgresSchema('CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; END;', 'migration 9 (x)')).toThrow(
      /migration 9 \(x\): CREATE TRIGGER has no Postgres translation/,
    );
    expect(() => postgresSchema('INSERT OR IGNORE INTO t VALUES (1)', 'm')).toThrow(/ON CONFLICT/);
  });
});
