// Fill the compile cache before `vigil run` re-executes itself, when it does not match the code on disk.
//
// A process whose first file is TypeScript loads Node's type stripper (about 17 MB of heap and WebAssembly, kept
// for the life of the process) unless every file it loads is already in the compile cache. On the first start
// after an install or an upgrade the cache is cold, so the daemon (and each probe thread, and the proxy) would
// carry the stripper until the next restart. So, before re-executing, a short-lived child imports what those
// processes load (the daemon, the probe thread's entry, the proxy command, the lazily loaded PostgreSQL store)
// with the cache on, and exits; then the daemon starts on a warm cache. A stamp (Node's version and each source
// file's size and modification time) says when the cache was last filled: an unchanged install skips the child,
// so a restart costs one directory walk (a few ms).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SRC = dirname(dirname(fileURLToPath(import.meta.url)));
/** Set in the warming child: main.ts then loads without running a command. */
export const WARMING = 'VIGIL_WARMING_CACHE';
const STAMP = 'vigil-warm.stamp';

/** The modules the daemon's processes start from (each with what it imports). */
export const WARM_ENTRIES = ['main.ts', 'cli/program.ts', 'cli/run.ts', 'cli/proxy.ts', 'daemon.ts', 'probes/worker.ts', 'store/postgres.ts'];

/** Node's version and every source file's path, size and mtime, hashed: what the cache was filled from. */
export function sourceStamp(src: string = SRC, nodeVersion: string = process.version): string {
  const h = createHash('sha256').update(nodeVersion);
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        const st = statSync(p);
        h.update(`${p}\0${st.size}\0${st.mtimeMs}\n`);
      }
    }
  };
  walk(src);
  return h.digest('hex');
}

/** The child's program: the cache on, each entry imported, the cache written. Plain JavaScript (nothing to strip). */
function childScript(entries: readonly string[]): string {
  const urls = entries.map((e) => pathToFileURL(join(SRC, e)).href);
  return `const m = await import('node:module');
for (const u of ${JSON.stringify(urls)}) { try { await import(u); } catch {} }
m.flushCompileCache?.();
process.exit(0);`;
}

export interface WarmResult {
  warmed: boolean;
  ms: number;
  /** Why it did not warm, if it did not. */
  reason?: string;
}

/**
 * Warm `cacheDir` if its stamp does not match the code on disk. Never throws: a cache that cannot be filled only
 * costs the stripper's memory, as before.
 */
export function warmCompileCache(cacheDir: string, env: NodeJS.ProcessEnv = process.env, entries: readonly string[] = WARM_ENTRIES): WarmResult {
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  try {
    const stamp = sourceStamp();
    const file = join(cacheDir, STAMP);
    let old = '';
    try {
      old = readFileSync(file, 'utf8');
    } catch {
      // no stamp yet
    }
    if (old === stamp) return { warmed: false, ms: ms(), reason: 'up to date' };
    mkdirSync(cacheDir, { recursive: true });
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', childScript(entries)], {
      env: { ...env, NODE_COMPILE_CACHE: cacheDir, [WARMING]: '1', NODE_OPTIONS: '' },
      stdio: 'ignore',
      timeout: 60_000,
    });
    if (r.status !== 0) return { warmed: false, ms: ms(), reason: `warming child ended with ${r.status ?? r.signal}` };
    writeFileSync(file, stamp);
    return { warmed: true, ms: ms() };
  } catch (err) {
    return { warmed: false, ms: ms(), reason: String(err) };
  }
}
