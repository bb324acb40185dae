// `vigil run` puts the daemon on a Worker with a bounded young generation (src/cli/run-thread.ts); the process a
// supervisor sees must behave exactly as before: SIGHUP reloads, SIGTERM stops cleanly with 0, a bad config is
// told with its file and exits 2, and VIGIL_DAEMON_THREAD=off runs it on the main thread.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAEMON_YOUNG_GENERATION_MB } from '../../src/cli/run-thread.ts';
import { DEAD_ENV, opsConfig, startVigil } from './helpers.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the daemon on its own thread', () => {
  it('runs with the bounded young generation, reloads on SIGHUP and stops with 0 on SIGTERM', async () => {
    const dir = opsConfig();
    dirs.push(dir);
    const v = startVigil(['run', '--config', dir, '--port', '0', '--log-format', 'json'], { env: DEAD_ENV });
    const thread = await v.waitFor(/the daemon runs on its own thread/, 60_000);
    expect(JSON.parse(thread.text).youngGenerationMb).toBe(DAEMON_YOUNG_GENERATION_MB);
    await v.waitFor(/vigil running/, 60_000);
    v.kill('SIGHUP');
    await v.waitFor(/config reloaded/, 30_000);
    v.kill('SIGTERM');
    const exit = await v.exited;
    expect(exit.code).toBe(0);
    expect(v.stderr()).not.toMatch(/crashed|thread failed|shutdown step failed/);
  }, 120_000);

  it('tells a bad config with its file and exits 2', async () => {
    const dir = opsConfig();
    dirs.push(dir);
    writeFileSync(join(dir, 'vigil.yaml'), 'version: 1\nlocation: [\n');
    const v = startVigil(['run', '--config', dir, '--port', '0'], { env: DEAD_ENV });
    const exit = await v.exited;
    expect(exit.code).toBe(2);
    expect(v.stderr()).toContain('vigil.yaml');
    expect(v.stderr()).toMatch(/vigil run: invalid config \(\d+ errors?\)/);
  }, 60_000);

  it('VIGIL_DAEMON_THREAD=off runs the daemon on the main thread', async () => {
    const dir = opsConfig();
    dirs.push(dir);
    const v = startVigil(['run', '--config', dir, '--port', '0', '--log-format', 'json'], { env: { ...DEAD_ENV, VIGIL_DAEMON_THREAD: 'off' } });
    await v.waitFor(/vigil running/, 60_000);
    v.kill('SIGTERM');
    expect((await v.exited).code).toBe(0);
    expect(v.stderr()).not.toContain('the daemon runs on its own thread');
  }, 120_000);
});
