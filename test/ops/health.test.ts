// /healthz answers "can this process still do its job" (store writable, scheduler and engine ticking, event loop
// not stalled) so a supervisor restarts a broken daemon; shutdown always completes, whatever fails on the way.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/log.ts';
import { runShutdown } from '../../src/runtime/shutdown.ts';
import { DEAD_ENV, opsConfig, startVigil } from './helpers.ts';

const DISK_FULL = resolve(import.meta.dirname, 'fixtures/disk-full.mjs');
const logs: string[] = [];
const log = createLogger({ stream: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }), json: true });
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(opts: { loopStallMs?: number; storage?: string } = {}): Promise<Daemon> {
  const dir = opsConfig('', opts.storage);
  dirs.push(dir);
  return Daemon.start({ configDir: dir, env: DEAD_ENV, log, listen: { port: 0 }, loopStallMs: opts.loopStallMs });
}

async function healthz(d: Daemon): Promise<{ status: number; body: { status: string; failed: string[]; checks: { name: string; ok: boolean; detail: string }[] } }> {
  const res = await fetch(`${d.url}/healthz`);
  return { status: res.status, body: (await res.json()) as never };
}

/** Wait (real time) until /healthz answers `status`. */
async function healthzBecomes(d: Daemon, status: number, ms = 15_000) {
  const end = Date.now() + ms;
  for (;;) {
    const h = await healthz(d);
    if (h.status === status) return h;
    if (Date.now() > end) throw new Error(`/healthz stayed ${h.status}: ${JSON.stringify(h.body)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('/healthz', () => {
  it('is 200 with every check named while the daemon can work', async () => {
    const d = await start();
    try {
      const h = await healthz(d);
      expect(h.status).toBe(200);
      expect(h.body.status).toBe('ok');
      expect(h.body.checks.map((c) => c.name)).toEqual(['store', 'scheduler', 'incident_engine', 'event_loop']);
    } finally {
      await d.stop();
    }
  });

  it('store writes failing: reported within the 5 s test-write period, /readyz 503 then, /healthz 503 after storage.unwritable_grace, 200 again once they work', async () => {
    const d = await start({ storage: 'unwritable_grace: 3s' });
    try {
      await healthzBecomes(d, 200);
      // Every write on the daemon's connection now fails, as on a full or read-only disk.
      d.store.db.exec('PRAGMA query_only = 1');
      // Within the grace: still live (a restart frees no disk), but it says what is wrong; not ready. The test
      // write runs at most every 5 s, so it shows within that.
      const end = Date.now() + 10_000;
      let early = await healthz(d);
      while (early.body.checks.find((c) => c.name === 'store')!.ok && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
        early = await healthz(d);
      }
      const since = Date.parse((early.body.checks.find((c) => c.name === 'store') as unknown as { since: string }).since);
      expect(early.status).toBe(200);
      expect(early.body.status).toBe('degraded');
      expect(early.body.checks.find((c) => c.name === 'store')!.detail).toMatch(/writes failing: .*readonly.*going on from memory, \/healthz fails after 3 s/);
      const ready = await fetch(`${d.url}/readyz`);
      expect(ready.status).toBe(503);
      // Past the grace: no longer healthy to a supervisor.
      const bad = await healthzBecomes(d, 503);
      expect(Date.now() - since).toBeGreaterThanOrEqual(3_000);
      expect(bad.body.failed).toContain('store');
      expect(bad.body.checks.find((c) => c.name === 'store')!.detail).toMatch(/writes failing: .*readonly/);
      d.store.db.exec('PRAGMA query_only = 0');
      await new Promise((r) => setTimeout(r, 5_100)); // the test write is throttled to one per 5 s
      await healthzBecomes(d, 200);
    } finally {
      await d.stop();
    }
  }, 40_000);

  it('is 503 after the event loop stalled', async () => {
    const d = await start({ loopStallMs: 400 });
    try {
      await healthzBecomes(d, 200);
      const until = performance.now() + 900;
      while (performance.now() < until) {
        // a runaway synchronous job
      }
      const h = await healthz(d);
      expect(h.status).toBe(503);
      expect(h.body.failed).toEqual(['event_loop']);
      expect(h.body.checks.find((c) => c.name === 'event_loop')!.detail).toMatch(/stalled \d+ ms/);
      expect(logs.join('')).toContain('event loop stalled');
    } finally {
      await d.stop();
    }
  });

  it('is 503 when the scheduler stopped ticking', async () => {
    const d = await start();
    try {
      await d.scheduler.stop();
      const h = await healthz(d);
      expect(h.status).toBe(503);
      expect(h.body.failed).toContain('scheduler');
    } finally {
      await d.stop();
    }
  });
});

describe('shutdown always completes', () => {
  it('with the store failing: every step still runs and the server closes', async () => {
    const d = await start();
    const url = d.url;
    d.store.db.exec('PRAGMA query_only = 1');
    const report = await d.stop();
    expect(report.skipped).toEqual([]);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('with a step that never ends: it is abandoned at its time limit and the rest still run', async () => {
    const d = await start();
    const url = d.url;
    d.drills!.stop = () => new Promise(() => {}); // a rollback that hangs
    const t0 = Date.now();
    const report = await d.stop();
    expect(report.timedOut).toEqual(['drills']);
    expect(Date.now() - t0).toBeLessThan(8_000);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  }, 20_000);

  it('runShutdown: a failing step does not stop the next, and the deadline abandons the rest', async () => {
    const ran: string[] = [];
    const r = await runShutdown(
      [
        { name: 'a', run: () => void ran.push('a') },
        { name: 'b', run: () => Promise.reject(new Error('disk full')) },
        { name: 'c', run: () => new Promise((r) => setTimeout(r, 5_000)) },
        { name: 'd', run: () => void ran.push('d') },
      ],
      { deadlineMs: 300 },
    );
    expect(ran).toEqual(['a']);
    expect(r.failed).toEqual([{ step: 'b', error: 'disk full' }]);
    expect(r.timedOut).toEqual(['c']);
    expect(r.skipped).toEqual(['d']);
    expect(r.clean).toBe(false);
  });

  it('SIGTERM on a full disk: every step runs, the listener closes, and it exits 1 within the deadline', async () => {
    const dir = opsConfig();
    dirs.push(dir);
    const flag = join(dir, 'disk-is-full');
    const v = startVigil(['run', '--config', dir, '--port', '0', '--log-format', 'json'], {
      env: { ...DEAD_ENV, VIGIL_TEST_DISK_FULL: flag },
      execArgv: ['--import', DISK_FULL],
    });
    const running = await v.waitFor(/vigil running/, 90_000);
    const url = (JSON.parse(running.text) as { url: string }).url;
    writeFileSync(flag, '');
    // The supervisor's health check makes the first test write.
    await fetch(`${url}/healthz`);
    await v.waitFor(/store writes failing/, 20_000);
    const t0 = Date.now();
    v.kill('SIGTERM');
    const exit = await v.exited;
    expect(exit.code, v.stderr()).toBe(1);
    // shutdown_grace 2 s + 10 s is the deadline.
    expect(exit.at - t0).toBeLessThan(12_000);
    const lines = v.lines.map((l) => l.text).filter((t) => t.startsWith('{')).map((t) => JSON.parse(t) as Record<string, unknown>);
    const failed = lines.filter((l) => l.msg === 'shutdown step failed; going on').map((l) => l.step);
    expect(failed).toContain('store');
    expect(lines.some((l) => l.msg === 'stopped, not cleanly')).toBe(true);
    // Steps after the failing ones ran: nothing listens any more.
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  }, 120_000);

  it('SIGTERM: the real daemon stops cleanly and exits 0', async () => {
    const dir = opsConfig();
    dirs.push(dir);
    const v = startVigil(['run', '--config', dir, '--port', '0'], { env: DEAD_ENV });
    await v.waitFor(/vigil running/, 90_000);
    v.kill('SIGTERM');
    const exit = await v.exited;
    expect(exit.code, v.stderr()).toBe(0);
    expect(v.stderr()).toContain('"msg":"stopped"');
  }, 120_000);
});
