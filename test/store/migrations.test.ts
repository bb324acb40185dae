import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, SchemaTooNewError, Store, type Migration } from '../../src/store/store.ts';
import { makeResult } from './fixtures/gen.ts';
import { tempDbPath } from './helpers.ts';

const LATEST = MIGRATIONS.length;

describe('store: migrations', () => {
  it('migrates a new file, records versions, and applies nothing on reopen', () => {
    const path = tempDbPath();
    let s = Store.open(path, { clock: { now: () => 1234 } });
    expect(s.migration.from).toBe(0);
    expect(s.migration.applied.map((m) => m.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(s.schemaVersion()).toBe(LATEST);
    s.insertResult(makeResult(0));
    s.close();

    s = Store.open(path);
    expect(s.migration).toEqual({ from: LATEST, to: LATEST, applied: [] });
    expect(s.db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all()).toEqual(
      MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at: 1234 })),
    );
    expect(s.countResults()).toBe(1);
    s.close();
  });

  it('applies an appended migration to an existing DB, keeping its data', () => {
    const path = tempDbPath();
    Store.open(path).close();
    const next: Migration = { version: LATEST + 1, name: 'widgets', up: 'CREATE TABLE widgets (id INTEGER PRIMARY KEY, w TEXT)' };
    let s = Store.open(path, { migrations: [...MIGRATIONS, next] });
    expect(s.migration.applied).toEqual([{ version: LATEST + 1, name: 'widgets' }]);
    s.db.prepare('INSERT INTO widgets (w) VALUES (?)').run('x');
    s.close();
    s = Store.open(path, { migrations: [...MIGRATIONS, next] });
    expect(s.migration.applied).toEqual([]);
    expect(s.db.prepare('SELECT w FROM widgets').all()).toEqual([{ w: 'x' }]);
    s.close();
  });

  it('a failing migration rolls back completely and is not recorded', () => {
    const path = tempDbPath();
    Store.open(path).close();
    const broken: Migration = {
      version: LATEST + 1,
      name: 'broken',
      up: 'CREATE TABLE half (a); INSERT INTO no_such_table VALUES (1);',
    };
    expect(() => Store.open(path, { migrations: [...MIGRATIONS, broken] })).toThrow(/no_such_table/);
    const s = Store.open(path);
    expect(s.schemaVersion()).toBe(LATEST);
    expect(s.db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").all()).toEqual([]);
    s.close();
  });

  it('refuses a DB written by a newer Vigil, without touching it', () => {
    const path = tempDbPath();
    const future: Migration = { version: LATEST + 1, name: 'future', up: 'CREATE TABLE future (a)' };
    Store.open(path, { migrations: [...MIGRATIONS, future] }).close();

    let err: unknown;
    try {
      Store.open(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SchemaTooNewError);
    expect((err as Error).message).toMatch(new RegExp(`version ${LATEST + 1}.*up to ${LATEST}.*newer Vigil`));
    // Still openable by the newer build, unchanged.
    const s = Store.open(path, { migrations: [...MIGRATIONS, future] });
    expect(s.schemaVersion()).toBe(LATEST + 1);
    s.close();
  });

  it('also refuses when only PRAGMA user_version says newer', () => {
    const path = tempDbPath();
    Store.open(path).close();
    const raw = new DatabaseSync(path);
    raw.exec(`PRAGMA user_version = ${LATEST + 5}`);
    raw.close();
    expect(() => Store.open(path)).toThrow(SchemaTooNewError);
  });

  it('refuses a DB whose recorded migration has a different name (diverged branches)', () => {
    const path = tempDbPath();
    const mine: Migration = { version: LATEST + 1, name: 'branch_a', up: 'CREATE TABLE branch_a_table (a)' };
    const theirs: Migration = { version: LATEST + 1, name: 'branch_b', up: 'CREATE TABLE branch_b_table (a)' };
    Store.open(path, { migrations: [...MIGRATIONS, mine] }).close();
    expect(() => Store.open(path, { migrations: [...MIGRATIONS, theirs] })).toThrow(/recorded as "branch_a".*"branch_b"/);
  });

  it('rejects a migration list with gaps', () => {
    const bad: Migration = { version: LATEST + 2, name: 'gap', up: 'SELECT 1' };
    expect(() => Store.open(tempDbPath(), { migrations: [...MIGRATIONS, bad] })).toThrow(/numbered/);
  });
});
