// Every fatal start-up error exits non-zero within a second of saying, in one line, what failed and where (port or
// path); nothing hangs, nothing prints a stack trace. Against the real CLI, as a supervisor runs it.
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEAD_ENV, holdPort, isRoot, opsConfig, startVigil } from './helpers.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function config(extra = ''): string {
  const dir = opsConfig(extra);
  dirs.push(dir);
  return dir;
}

function setStorePath(dir: string, path: string): void {
  const f = join(dir, 'vigil.yaml');
  writeFileSync(f, readFileSync(f, 'utf8').replace('path: ./vigil.db', `path: "${path}"`));
}

/** Run `vigil <args>` to its end; the failure must be one stderr line, said at most a second before the exit. */
async function fatal(args: string[], env: Record<string, string> = {}, spawnOpts = {}) {
  const v = startVigil(args, { env: { ...DEAD_ENV, ...env }, spawn: spawnOpts });
  const timer = setTimeout(() => v.kill('SIGKILL'), 80_000);
  const exit = await v.exited;
  clearTimeout(timer);
  const errors = v.lines.filter((l) => /^vigil (run|demo): /.test(l.text));
  expect(errors, v.stderr()).toHaveLength(1);
  const line = errors[0];
  expect(exit.signal, 'killed: it hung').toBeNull();
  expect(exit.at - line.at, 'exit within a second of the error').toBeLessThan(1_000);
  expect(v.stderr()).not.toMatch(/\n\s+at /); // no stack trace
  return { code: exit.code, line: line.text };
}

describe('fatal start-up errors exit at once with one line naming the cause', () => {
  it('the HTTP port is taken', async () => {
    const held = await holdPort();
    try {
      const r = await fatal(['run', '--config', config(), '--port', String(held.port)]);
      expect(r.code).toBe(1);
      expect(r.line).toContain(`port ${held.port}`);
      expect(r.line).toContain('EADDRINUSE');
      expect(r.line).toContain('HTTP server');
    } finally {
      await held.close();
    }
  }, 120_000);

  it("the fault proxy's port is taken", async () => {
    const held = await holdPort();
    try {
      const dir = config(`chaos:\n  listen: { host: 127.0.0.1, port: ${held.port} }\n  upstreams: { openai: { kind: openai, base_url: "http://127.0.0.1:9" } }\n`);
      const r = await fatal(['run', '--config', dir, '--port', '0']);
      expect(r.code).toBe(1);
      expect(r.line).toMatch(new RegExp(`fault-injection proxy: port ${held.port} .*EADDRINUSE.*chaos\\.listen\\.port`));
    } finally {
      await held.close();
    }
  }, 120_000);

  it('the demo with its port taken exits too (the simulator does not keep it alive)', async () => {
    const held = await holdPort();
    try {
      const dbDir = config();
      const r = await fatal(['demo', '--port', String(held.port), '--no-history'], { VIGIL_DB: join(dbDir, 'demo.db'), VIGIL_CHAOS_PORT: '0' });
      expect(r.code).toBe(1);
      expect(r.line).toContain(`port ${held.port}`);
    } finally {
      await held.close();
    }
  }, 120_000);

  it('the database file is not a database', async () => {
    const dir = config();
    const db = join(dir, 'garbage.db');
    writeFileSync(db, Buffer.alloc(8192, 7));
    setStorePath(dir, db);
    const r = await fatal(['run', '--config', dir, '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.line).toContain(db);
    expect(r.line).toContain('SQLITE_NOTADB');
  }, 120_000);

  it('the data directory cannot be created', async () => {
    const dir = config();
    writeFileSync(join(dir, 'not-a-dir'), '');
    setStorePath(dir, join(dir, 'not-a-dir', 'data', 'vigil.db'));
    const r = await fatal(['run', '--config', dir, '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.line).toContain(join(dir, 'not-a-dir', 'data'));
    expect(r.line).toContain('ENOTDIR');
  }, 120_000);

  it('the data directory is read-only', async () => {
    const dir = config();
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    chmodSync(dir, 0o755);
    setStorePath(dir, join(ro, 'vigil.db'));
    // root ignores permissions: run the daemon as `nobody`, as a container's non-root user would.
    const r = await fatal(['run', '--config', dir, '--port', '0'], {}, isRoot ? { uid: 65534, gid: 65534 } : {});
    expect(r.code).toBe(1);
    expect(r.line).toContain(join(ro, 'vigil.db'));
    expect(r.line).toMatch(/SQLITE_CANTOPEN|SQLITE_READONLY/);
    expect(r.line).toMatch(/writable|read-only/);
  }, 120_000);

  it('an existing database in a read-only directory', async () => {
    const dir = config();
    const ro = join(dir, 'ro2');
    mkdirSync(ro);
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(join(ro, 'vigil.db'));
    db.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (a)');
    db.close();
    chmodSync(join(ro, 'vigil.db'), 0o444);
    chmodSync(ro, 0o555);
    chmodSync(dir, 0o755);
    setStorePath(dir, join(ro, 'vigil.db'));
    const r = await fatal(['run', '--config', dir, '--port', '0'], {}, isRoot ? { uid: 65534, gid: 65534 } : {});
    expect(r.code).toBe(1);
    expect(r.line).toContain(join(ro, 'vigil.db'));
  }, 120_000);

  it('a bad config exits 2 naming file, line and field', async () => {
    const dir = config();
    const f = join(dir, 'vigil.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace('scheduler: {', 'scheduler: { confirm_failurez: 2,'));
    const v = startVigil(['run', '--config', dir, '--port', '0'], { env: DEAD_ENV });
    const exit = await v.exited;
    expect(exit.code).toBe(2);
    expect(v.stderr()).toMatch(/vigil\.yaml:\d+:\d+\s+scheduler\.confirm_failurez\s+unknown key/);
    expect(v.stderr()).toContain('vigil run: invalid config (1 error)');
  }, 120_000);
});
