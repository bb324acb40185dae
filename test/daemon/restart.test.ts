// Nothing the daemon learned is lost on restart or crash.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { ManualClock } from '../../src/clock.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/log.ts';
import { startSimFleet } from '../../src/sim/fleet.ts';
import type { SimFleet } from '../../src/sim/fleet.ts';
import { Store } from '../../src/store/store.ts';
import type { AvailabilityDetector } from '../../src/detectors/availability.ts';
import type { ProbeResult } from '../../src/domain.ts';
import { makeResultFor } from '../fixtures.ts';
import { simEnv } from '../../src/sim/env.ts';
import { advance, writeConfig } from './helpers.ts';

const quiet = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }), json: true });
const FAST = { latency: { ttfbMs: 0, ttftMs: 1, perTokenMs: 0, jitter: 0, diurnal: null } };

describe('daemon restart and crash', () => {
  let fleet: SimFleet;
  const dirs: string[] = [];

  beforeAll(async () => {
    fleet = await startSimFleet({ behaviour: FAST });
  });
  afterAll(async () => {
    await fleet.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a restarted daemon (same DB) serves every earlier result and the last result per probe', async () => {
    const dir = writeConfig({ every: '1m' });
    dirs.push(dir);
    const clock = new ManualClock(Date.UTC(2026, 2, 2));
    const env = simEnv(fleet.urls);
    const first = await Daemon.start({ configDir: dir, env, clock, log: quiet, listen: { port: 0 } });
    await advance(clock, first, 30 * 60_000, 60_000);
    const before = await first.store.results({ order: 'asc', limit: 10_000 });
    expect(before.length).toBeGreaterThanOrEqual(4 * 29);
    await first.stop();

    const second = await Daemon.start({ configDir: dir, env, clock, log: quiet, listen: { port: 0 } });
    try {
      const res = await fetch(`${second.url}/api/results?limit=1000&since=${Date.UTC(2026, 2, 1)}`);
      const body = (await res.json()) as { count: number; results: { probeId: string; startedAt: number }[] };
      expect(body.count).toBe(before.length);
      const probes = (await (await fetch(`${second.url}/api/probes`)).json()) as { probes: { id: string; last: { startedAt: number } | null }[] };
      for (const p of probes.probes) {
        const lastBefore = before.filter((r) => r.probeId === p.id).at(-1)!;
        expect(p.last?.startedAt).toBe(lastBefore.startedAt);
      }
      expect(await second.store.results({ order: 'asc', limit: 10_000 })).toStrictEqual(before);
    } finally {
      await second.stop();
    }
  }, 60_000);

  it('availability streaks after a restart are the ones before it, with results stored after the last save counted', async () => {
    const dir = writeConfig({ every: '1m' });
    dirs.push(dir);
    const clock = new ManualClock(Date.UTC(2026, 2, 3));
    const env = simEnv(fleet.urls);
    type Streaky = { availability: AvailabilityDetector };
    const first = await Daemon.start({ configDir: dir, env, clock, log: quiet, listen: { port: 0 } });
    await advance(clock, first, 10 * 60_000, 60_000);
    const ids = first.config.probes.map((p) => p.id);
    await first.stop(); // saves the streaks
    // Then a run that crashed before its next save: its results are in the store only (two confirmed failures of
    // one probe, one more success of another). The live detector is fed the same, as that run's was.
    const live = (first as unknown as Streaky).availability;
    const store = await Store.connect(join(dir, 'vigil.db'), { location: first.config.location });
    const [failing, fine] = first.config.probes;
    const after: ProbeResult[] = [
      makeResultFor(failing, clock.now() + 1_000, { outcome: 'failed', errorClass: 'server_error', confirmed: true, attempt: 2 }),
      makeResultFor(failing, clock.now() + 61_000, { outcome: 'failed', errorClass: 'server_error', confirmed: true, attempt: 2 }),
      makeResultFor(fine, clock.now() + 2_000, { outcome: 'ok' }),
    ];
    await store.insertResults(after);
    await store.close();
    for (const r of after) live.observe(first.config.probes.find((p) => p.id === r.probeId)!, r);
    await clock.advance(2 * 60_000);

    const second = await Daemon.start({ configDir: dir, env, clock, log: quiet, listen: { port: 0 } });
    try {
      const resumed = (second as unknown as Streaky).availability;
      for (const id of ids) expect(resumed.streaks(id), id).toStrictEqual(live.streaks(id));
      expect(resumed.streaks(failing.id)!.failed.n).toBe(2);
      expect(resumed.streaks(fine.id)!.okOrDegraded.n).toBeGreaterThanOrEqual(10);
    } finally {
      await second.stop();
    }
  }, 60_000);

  it('kill -9 in the middle of writing leaves a consistent DB with every result it had served', async () => {
    const dir = writeConfig({ every: '1s', copies: 50 }); // 200 probes a second
    dirs.push(dir);
    const main = resolve(import.meta.dirname, '../../src/main.ts');
    const child = spawn(process.execPath, [main, 'run', '--config', dir, '--port', '0'], {
      env: { ...process.env, ...simEnv(fleet.urls), VIGIL_LOG_LEVEL: 'error' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const db = join(dir, 'vigil.db');
    // Wait until a few hundred results are committed (read-only peeks, as a second process would).
    let seen = 0;
    const deadline = Date.now() + 20_000;
    while (seen < 600 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        const peek = Store.open(db, { readOnly: true });
        seen = await peek.countResults({});
        await peek.close();
      } catch {
        // not created or not migrated yet
      }
    }
    // Killed before the check: a failed check must not leave a daemon running behind the test.
    child.kill('SIGKILL');
    expect(seen, stderr).toBeGreaterThanOrEqual(600);
    await new Promise((r) => child.once('exit', r));
    const store = Store.open(db);
    try {
      expect(store.integrityCheck()).toEqual(['ok']);
      expect(await store.countResults({})).toBeGreaterThanOrEqual(seen);
      // Every stored row round-trips into a whole ProbeResult.
      for (const r of await store.results({ limit: 1000 })) expect(r.timings.totalMs).toBeTypeOf('number');
    } finally {
      await store.close();
    }
  }, 60_000);
});
