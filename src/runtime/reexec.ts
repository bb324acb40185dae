// `vigil run` re-executes itself once, at its first line (process.execve: the same process id, stdio, arguments
// and environment), to start with two settings Node reads only when a process starts:
//
// - A bounded young generation (`--max-semi-space-size`). V8 grows a busy isolate's young generation to 128 MB (two
//   64 MB semi-spaces) once enough objects survive scavenges, and a daemon with 10,000 probes allocates steadily
//   enough to keep it there: a third of its RSS, for garbage that dies young anyway. Small semi-spaces mean more,
//   shorter scavenges (well under a millisecond each) and nothing else.
// - The compile cache from the first line (`NODE_COMPILE_CACHE`): a process whose first file is TypeScript loads
//   Node's type stripper (about 17 MB of heap and WebAssembly) before any of Vigil's code can turn the cache on.
// - On Linux, two glibc malloc arenas (`MALLOC_ARENA_MAX=2`, read by glibc at start; musl ignores it). glibc gives
//   each thread that allocates its own arena, up to 8 per core: V8's helper threads, libuv's pool and the probe
//   thread each keep freed memory in theirs. Two arenas measured 15–20 MB less RSS at 10,000 probes (bench:daemon)
//   for a little lock contention on the C heap, which Vigil's threads rarely touch.
//
// What the operator set wins (their own --max-semi-space-size, NODE_COMPILE_CACHE, MALLOC_ARENA_MAX,
// VIGIL_COMPILE_CACHE=off), and
// VIGIL_REEXEC=off, or a platform without execve, runs as started.
import { nodeFlags } from './node-flags.ts';
import { warmCompileCache } from './warm-cache.ts';

/** Semi-space of the daemon's young generation, MB (V8's default grows it to 64). */
export const DAEMON_SEMI_SPACE_MB = 2;
/** glibc malloc arenas for the daemon (glibc's default is 8 per core). */
export const DAEMON_MALLOC_ARENAS = 2;
/** Set in the re-executed process: the ms the compile cache took to warm, or why it was not warmed. */
export const WARMED = 'VIGIL_CACHE_WARMED';
/** Set in the re-executed process so it never re-executes again; removed once it runs. */
const MARKER = 'VIGIL_REEXECED';

export interface ReexecInput {
  execPath: string;
  execArgv: readonly string[];
  /** process.argv: [node, script, ...arguments]. */
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Where the compile cache lives (src/runtime/compile-cache.ts), or null when it is off. */
  cacheDir: string | null;
  canExec: boolean;
  /** process.platform: the malloc arena setting is glibc's, so Linux only. */
  platform: string;
}

export interface ReexecPlan {
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** The command line and environment to re-execute with, or null to run as started. Pure: tested as is. */
export function reexecPlan(i: ReexecInput): ReexecPlan | null {
  if (!i.canExec || i.env.VIGIL_REEXEC === 'off' || i.env[MARKER]) return null;
  const setSemi = !nodeFlags(i.execArgv, i.env.NODE_OPTIONS ?? '').some((f) => /^--max-semi-space-size(?:=|$)/.test(f));
  const setCache = i.cacheDir !== null && !i.env.NODE_COMPILE_CACHE;
  const setArenas = i.platform === 'linux' && i.env.MALLOC_ARENA_MAX === undefined;
  if (!setSemi && !setCache && !setArenas) return null;
  const env: NodeJS.ProcessEnv = { ...i.env, [MARKER]: '1' };
  if (setCache) env.NODE_COMPILE_CACHE = i.cacheDir!;
  if (setArenas) env.MALLOC_ARENA_MAX = String(DAEMON_MALLOC_ARENAS);
  const args = [i.execPath, ...i.execArgv, ...(setSemi ? [`--max-semi-space-size=${DAEMON_SEMI_SPACE_MB}`] : []), ...i.argv.slice(1)];
  return { args, env };
}

/** Re-execute as planned (never returns then), or return having removed the marker of a previous one. */
export function reexecIfWanted(cacheDir: string | null): void {
  const plan = reexecPlan({
    execPath: process.execPath,
    execArgv: process.execArgv,
    argv: process.argv,
    env: process.env,
    cacheDir,
    canExec: typeof process.execve === 'function' && process.platform !== 'win32',
    platform: process.platform,
  });
  delete process.env[MARKER];
  if (!plan) return;
  // A cold cache (first start after an install or upgrade) is filled first, so the new process never needs the
  // type stripper (src/runtime/warm-cache.ts); the `runtime` log line says how long that took.
  const cache = plan.env.NODE_COMPILE_CACHE;
  if (cache) {
    const w = warmCompileCache(cache, process.env);
    plan.env[WARMED] = w.warmed ? String(w.ms) : (w.reason ?? '');
  }
  try {
    process.execve!(process.execPath, plan.args, plan.env as Record<string, string>);
  } catch {
    // Not allowed here (a sandbox, a seccomp profile): run as started, with Node's defaults.
  }
}
