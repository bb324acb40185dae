// The process-wide crash policy: an uncaught exception or unhandled rejection is logged and the process exits
// non-zero (so the supervisor restarts it) within its grace period; never a zombie that still answers /healthz.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEAD_ENV, opsConfig, startVigil } from './helpers.ts';

const PRELOAD = resolve(import.meta.dirname, 'fixtures/crash-after-start.mjs');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('crash policy', () => {
  for (const kind of ['exception', 'rejection'] as const) {
    it(`an ${kind === 'exception' ? 'uncaught exception' : 'unhandled rejection'} exits 70 after logging it`, async () => {
      const dir = opsConfig();
      dirs.push(dir);
      const v = startVigil(['run', '--config', dir, '--port', '0'], { env: { ...DEAD_ENV, VIGIL_TEST_CRASH: kind }, execArgv: ['--import', PRELOAD] });
      const timer = setTimeout(() => v.kill('SIGKILL'), 100_000);
      const crashed = await v.waitFor(/crashed \((uncaughtException|unhandledRejection)\)/, 90_000);
      const exit = await v.exited;
      clearTimeout(timer);
      expect(exit.signal, 'it had to be killed').toBeNull();
      expect(exit.code).toBe(70);
      expect(crashed.text).toContain(kind === 'exception' ? 'injected uncaught exception' : 'injected unhandled rejection');
      expect(exit.at - crashed.at).toBeLessThan(4_000);
    }, 120_000);
  }

  it("pages Vigil's owner through the outbox before exiting, and resolves that page once Vigil runs again", async () => {
    const dir = opsConfig();
    dirs.push(dir);
    const v = startVigil(['run', '--config', dir, '--port', '0'], { env: { ...DEAD_ENV, VIGIL_TEST_CRASH: 'exception' }, execArgv: ['--import', PRELOAD] });
    const timer = setTimeout(() => v.kill('SIGKILL'), 100_000);
    const paged = await v.waitFor(/notify trigger → console: \[FIRING critical\] Vigil crashed \(uncaughtException: Error: injected uncaught exception\)/, 90_000);
    const exit = await v.exited;
    clearTimeout(timer);
    expect(exit.code).toBe(70);
    expect(exit.at - paged.at).toBeLessThan(4_000);

    const again = startVigil(['run', '--config', dir, '--port', '0'], { env: DEAD_ENV });
    try {
      await again.waitFor(/notify resolve → console: \[RESOLVED\] Vigil crashed/, 90_000);
    } finally {
      again.kill('SIGTERM');
      await again.exited;
    }
  }, 200_000);
});
