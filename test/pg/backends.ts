// Run a suite against both store backends: `describe.each(BACKENDS)` with `freshStoreTarget(backend)`. The
// Postgres variant gets a new database per call on the shared throwaway cluster and is skipped (not failed)
// when no PostgreSQL is available locally (see global-setup.ts).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, inject } from 'vitest';

export type Backend = 'sqlite' | 'postgres';
export const BACKENDS: Backend[] = ['sqlite', 'postgres'];

export const pgAvailable = (): boolean => inject('pgUrl') !== null;

/** `it.skipIf(skipBackend(b))`: skip the Postgres variant when there is no server. */
export const skipBackend = (b: Backend): boolean => b === 'postgres' && !pgAvailable();

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh, empty database on the shared test server; returns its URL. */
export async function freshPgUrl(): Promise<string> {
  const admin = inject('pgUrl');
  if (!admin) throw new Error('no PostgreSQL server for tests');
  const name = `vigil_t_${randomBytes(6).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh store location for the backend: a temp SQLite file path, or a new Postgres database URL. */
export async function freshStoreTarget(b: Backend): Promise<string> {
  if (b === 'postgres') return freshPgUrl();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
  dirs.push(dir);
  return join(dir, 'vigil.db');
}
