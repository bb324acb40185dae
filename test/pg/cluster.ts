// A throwaway PostgreSQL cluster for tests and benchmarks: initdb + pg_ctl in a temp directory, listening on an
// ephemeral loopback port (and a Unix socket in that directory), never a system service. As root (CI, this
// machine) the server runs as the `postgres` user (Debian's package creates it) or `nobody`: initdb refuses root.
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface Cluster {
  /** Superuser URL of the `postgres` database. */
  url: string;
  port: number;
  dir: string;
  /** A new empty database; returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** The directory holding initdb and pg_ctl: $PATH first, then Debian's /usr/lib/postgresql/<version>/bin. */
export function findPgBin(): string | null {
  for (const d of (process.env.PATH ?? '').split(':')) {
    if (d && existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl'))) return d;
  }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : null;
}

function serverUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
    if (line) {
      const [, , uid, gid] = line.split(':');
      return { uid: Number(uid), gid: Number(gid) };
    }
  }
  throw new Error('running as root and found neither a postgres nor a nobody user to run PostgreSQL as');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface ClusterOptions {
  /**
   * Durability off (fsync, synchronous_commit, full_page_writes): for tests, where a crash of the OS is not the
   * subject. Benchmarks keep the defaults so their figures mean something.
   */
  fast?: boolean;
  maxConnections?: number;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const bin = findPgBin();
  if (!bin) throw new Error('PostgreSQL binaries (initdb, pg_ctl) not found; install Debian\'s postgresql package');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-pg-'));
  const data = join(dir, 'data');
  const user = serverUser();
  if (user) chownSync(dir, user.uid, user.gid);
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  try {
    await run(join(bin, 'initdb'), ['-D', data, '-U', 'vigil', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], { ...as, cwd: dir });
    const settings = [
      'listen_addresses=127.0.0.1',
      `unix_socket_directories=${dir}`,
      `max_connections=${opts.maxConnections ?? 200}`,
      ...(opts.fast ? ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'] : []),
    ];
    let port = 0;
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      const o = [`-p ${port}`, ...settings.map((s) => `-c ${s}`)].join(' ');
      try {
        await run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-o', o, '-w', '-t', '60', 'start'], { ...as, cwd: dir });
        break;
      } catch (err) {
        // Another process may have taken the port between our probe and the server's bind.
        if (attempt >= 3) throw new Error(`pg_ctl start failed: ${(err as Error).message}\n${readLog(dir)}`);
      }
    }
    const url = `postgres://vigil@127.0.0.1:${port}/postgres`;
    let stopped = false;
    return {
      url,
      port,
      dir,
      async createDatabase(name) {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          await c.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
        } finally {
          await c.end();
        }
        return `postgres://vigil@127.0.0.1:${port}/${encodeURIComponent(name)}`;
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        try {
          await run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], { ...as, cwd: dir });
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    // Best effort: leave no server behind.
    try {
      execFileSync(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop'], { ...as, stdio: 'ignore' });
    } catch {}
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'server.log'), 'utf8').slice(-2000);
  } catch {
    return '';
  }
}
