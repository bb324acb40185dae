// The daemon when the wall clock steps back an hour (an NTP correction) with learnt latency baselines: the
// scheduler re-plans and repeats the hour, the latency detector learns every result without paging on the
// repeat, its state saved at shutdown has them all, and a real slowdown afterwards still pages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ManualClock } from '../../src/clock.ts';
import type { Clock } from '../../src/clock.ts';
import { Daemon } from '../../src/daemon.ts';
import { loadBaseline } from '../../src/detectors/latency/persist.ts';
import type { ProbeResult } from '../../src/domain.ts';
import { createLogger } from '../../src/log.ts';
import { simEnv } from '../../src/sim/env.ts';
import { startSimFleet } from '../../src/sim/fleet.ts';
import type { SimFleet } from '../../src/sim/fleet.ts';
import { Store } from '../../src/store/store.ts';
import { settle, writeConfig } from './helpers.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const quiet = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }), json: true });
const FAST = { ttfbMs: 0, ttftMs: 1, perTokenMs: 0, jitter: 0, diurnal: null };

describe('daemon: the wall clock steps back an hour', () => {
  const start = Date.UTC(2026, 0, 5); // a Monday
  // Wall time can step (like NTP) while sleeps and durations keep running on the underlying manual time.
  const base = new ManualClock(start);
  let offset = 0;
  const clock: Clock = { now: () => base.now() + offset, monotonic: () => base.monotonic(), sleep: base.sleep.bind(base) };
  let fleet: SimFleet;
  let daemon: Daemon;
  let dir: string;
  let stepAt = 0;
  let slowFrom = 0;
  let results: ProbeResult[] = [];

  async function run(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 5 * MIN) {
      await base.advance(5 * MIN);
      await settle(daemon);
    }
  }

  beforeAll(async () => {
    fleet = await startSimFleet({ clock, behaviour: { latency: FAST } });
    dir = writeConfig({ every: '5m' });
    // This machine's own timing noise (loopback under load) is not what the test is about: slowness pages need
    // a p95 of 200 ms, far above it and far below the slowdown at the end.
    const probes = join(dir, 'probes', 'all.yaml');
    writeFileSync(probes, readFileSync(probes, 'utf8').replaceAll('    assert: [{ contains: pong }]', '    assert: [{ contains: pong }]\n    latency: { floor: { ttft_ms: 200, total_ms: 200 } }'));
    daemon = await Daemon.start({ configDir: dir, env: simEnv(fleet.urls), clock, log: quiet, listen: { port: 0 } });
    // Two and a half days learn the baselines (warm-up, then a day of records), then the clock steps back.
    await run(2.5 * DAY);
    stepAt = clock.now();
    offset = -HOUR;
    await run(6 * HOUR);
    // A real slowdown: every call of the OpenAI simulator takes 1.5 s for an hour.
    slowFrom = clock.now();
    fleet.openai.patch({ latency: { ...FAST, ttftMs: 1_500 } });
    await run(HOUR);
    fleet.openai.patch({ latency: FAST });
    await run(HOUR);
    results = await daemon.store.results({ probe: 'openai-canary', order: 'asc', limit: 100_000 });
  }, 300_000);

  afterAll(async () => {
    await daemon?.stop();
    await fleet?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('repeats the hour (the step really happened) and pages nothing for it', async () => {
    const repeated = results.filter((r) => r.startedAt >= stepAt - HOUR && r.startedAt < stepAt);
    // 12 slots in the hour before the step, and the same hour again after it.
    expect(repeated.length).toBeGreaterThanOrEqual(23);
    const latency = (await daemon.incidents.listIncidents({ limit: 1000 })).filter((i) => i.detector === 'latency');
    expect(latency.filter((i) => i.firstSeen < slowFrom)).toEqual([]);
  });

  it('still pages a real slowdown after the step, on the slowed probe only', async () => {
    const latency = (await daemon.incidents.listIncidents({ limit: 1000 })).filter((i) => i.detector === 'latency');
    expect(new Set(latency.map((i) => i.labels.probe))).toEqual(new Set(['openai-canary']));
    for (const i of latency) {
      expect(i.firstSeen).toBeGreaterThanOrEqual(slowFrom);
      expect(i.firstSeen).toBeLessThan(slowFrom + HOUR);
    }
  });

  it('saves a baseline at shutdown that learnt every result, its own clock never run backwards', async () => {
    await daemon.stop();
    const store = Store.open(join(dir, 'vigil.db'));
    const saved = (await loadBaseline(store, 'openai-canary', 'UTC'))!;
    await store.close();
    expect(saved).not.toBeNull();
    const learnt = results.filter((r) => r.outcome !== 'failed' && r.outcome !== 'unknown');
    expect(saved.total.count).toBe(learnt.length);
    expect(saved.total.lastT).toBe(Math.max(...learnt.map((r) => r.startedAt)));
  });
});
