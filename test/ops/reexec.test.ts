// `vigil run` re-executes itself once with a bounded young generation and the compile cache from its first line
// (src/runtime/reexec.ts). A supervisor must see no difference: the same process id, SIGHUP reloads, SIGTERM stops
// with 0; an operator's own settings win; VIGIL_REEXEC=off runs as started.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { DAEMON_MALLOC_ARENAS, DAEMON_SEMI_SPACE_MB, reexecPlan } from '../../src/runtime/reexec.ts';
import type { ReexecInput } from '../../src/runtime/reexec.ts';
import { DEAD_ENV, opsConfig, startVigil } from './helpers.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const base: ReexecInput = {
  execPath: '/usr/bin/node',
  execArgv: ['--import', 'otel.mjs'],
  argv: ['/usr/bin/node', '/app/src/main.ts', 'run', '--config', '/etc/vigil'],
  env: { PATH: '/bin' },
  cacheDir: '/home/v/.cache/vigil/compile',
  canExec: true,
  platform: 'linux',
};

describe('re-executing vigil run', () => {
  it('keeps the flags and arguments, adds the semi-space bound and the compile cache, and marks the new process', () => {
    const plan = reexecPlan(base)!;
    expect(plan.args).toEqual(['/usr/bin/node', '--import', 'otel.mjs', `--max-semi-space-size=${DAEMON_SEMI_SPACE_MB}`, '/app/src/main.ts', 'run', '--config', '/etc/vigil']);
    expect(plan.env).toMatchObject({ PATH: '/bin', NODE_COMPILE_CACHE: '/home/v/.cache/vigil/compile', MALLOC_ARENA_MAX: String(DAEMON_MALLOC_ARENAS) });
    // glibc's setting: not set elsewhere.
    expect(reexecPlan({ ...base, platform: 'darwin' })!.env.MALLOC_ARENA_MAX).toBeUndefined();
    // The re-executed process does not do it again.
    expect(reexecPlan({ ...base, env: plan.env })).toBeNull();
  });

  it("an operator's own settings win, and it can be turned off", () => {
    expect(reexecPlan({ ...base, env: { NODE_OPTIONS: '--max-semi-space-size=32', NODE_COMPILE_CACHE: '/c', MALLOC_ARENA_MAX: '8' } })).toBeNull();
    expect(reexecPlan({ ...base, env: { NODE_OPTIONS: '--max-semi-space-size=32', NODE_COMPILE_CACHE: '/c' }, platform: 'darwin' })).toBeNull();
    expect(reexecPlan({ ...base, env: { MALLOC_ARENA_MAX: '4' } })!.env.MALLOC_ARENA_MAX).toBe('4');
    const own = reexecPlan({ ...base, execArgv: ['--max-semi-space-size=2'] })!;
    expect(own.args.filter((a) => a.startsWith('--max-semi-space-size'))).toEqual(['--max-semi-space-size=2']);
    expect(reexecPlan({ ...base, cacheDir: null })!.env.NODE_COMPILE_CACHE).toBeUndefined();
    expect(reexecPlan({ ...base, env: { VIGIL_REEXEC: 'off' } })).toBeNull();
    expect(reexecPlan({ ...base, canExec: false })).toBeNull();
  });

  it('the daemon keeps its process id, runs with the bound, reloads on SIGHUP and stops with 0 on SIGTERM', async () => {
    const dir = opsConfig();
    dirs.push(dir);
    const v = startVigil(['run', '--config', dir, '--port', '0', '--log-format', 'json'], { env: { ...DEAD_ENV, VIGIL_REEXEC: undefined, NODE_OPTIONS: undefined, MALLOC_ARENA_MAX: undefined } });
    const runtime = JSON.parse((await v.waitFor(/"msg":"runtime"/, 60_000)).text) as { pid: number; flags: string[]; compileCache: string | null; mallocArenas: string | null };
    expect(runtime.pid).toBe(v.child.pid);
    expect(runtime.flags).toContain(`--max-semi-space-size=${DAEMON_SEMI_SPACE_MB}`);
    expect(runtime.compileCache).toBeTruthy();
    if (process.platform === 'linux') expect(runtime.mallocArenas).toBe(String(DAEMON_MALLOC_ARENAS));
    await v.waitFor(/vigil running/, 60_000);
    v.kill('SIGHUP');
    await v.waitFor(/config reloaded/, 30_000);
    v.kill('SIGTERM');
    expect((await v.exited).code).toBe(0);
    expect(v.stderr()).not.toMatch(/crashed|shutdown step failed/);
  }, 120_000);

  it('VIGIL_REEXEC=off runs with what it was started with', async () => {
    const dir = opsConfig();
    dirs.push(dir);
    const v = startVigil(['run', '--config', dir, '--port', '0', '--log-format', 'json'], { env: { ...DEAD_ENV, VIGIL_REEXEC: 'off', NODE_OPTIONS: undefined } });
    const runtime = JSON.parse((await v.waitFor(/"msg":"runtime"/, 60_000)).text) as { pid: number; flags: string[] };
    expect(runtime.flags).toEqual([]);
    v.kill('SIGTERM');
    expect((await v.exited).code).toBe(0);
  }, 120_000);
});
