// A simulated day of probing on an injected clock, against the real simulator over loopback:
// every slot runs, failures are confirmed by a re-probe, hourly rollups appear, retention drops old raw rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { ManualClock } from '../../src/clock.ts';
import { Daemon } from '../../src/daemon.ts';
import { startSimFleet } from '../../src/sim/fleet.ts';
import type { SimFleet } from '../../src/sim/fleet.ts';
import { createLogger } from '../../src/log.ts';
import { Writable } from 'node:stream';
import { simEnv } from '../../src/sim/env.ts';
import { advance, writeConfig } from './helpers.ts';

const HOUR = 3_600_000;
const quiet = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }), json: true });

describe('daemon: a simulated day', () => {
  let fleet: SimFleet;
  let daemon: Daemon;
  let clock: ManualClock;
  let dir: string;
  const start = Date.UTC(2026, 0, 5, 0, 0, 0); // a Monday

  beforeAll(async () => {
    clock = new ManualClock(start);
    fleet = await startSimFleet({ clock, behaviour: { latency: { ttfbMs: 0, ttftMs: 1, perTokenMs: 0, jitter: 0, diurnal: null } } });
    dir = writeConfig({ every: '5m', rawRetention: '2d' });
    daemon = await Daemon.start({ configDir: dir, env: simEnv(fleet.urls), clock, log: quiet, listen: { port: 0 } });
    // 10:00–10:30 the OpenAI simulator answers 429 to everything: a confirmed failure each slot.
    await advance(clock, daemon, 10 * HOUR, 60_000);
    fleet.openai.patch({ errors: [{ kind: 'rate_limited', ratio: 1, until: start + 10.5 * HOUR }] });
    await advance(clock, daemon, 14 * HOUR, 60_000);
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    await fleet?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs every probe once per slot, spread over the interval, never overlapping', async () => {
    const results = await daemon.store.results({ order: 'asc', limit: 100_000 });
    const firsts = results.filter((r) => r.attempt === 1);
    for (const id of ['openai-canary', 'anthropic-canary', 'gemini-canary', 'gateway-canary']) {
      const mine = firsts.filter((r) => r.probeId === id);
      // 24 h at 5 min = 288 slots (the first slot falls somewhere inside the first interval).
      expect(mine.length).toBeGreaterThanOrEqual(287);
      expect(mine.length).toBeLessThanOrEqual(288);
      const gaps = mine.slice(1).map((r, i) => r.startedAt - mine[i].startedAt);
      expect(Math.min(...gaps)).toBe(300_000);
      expect(Math.max(...gaps)).toBe(300_000);
    }
    // Jitter: the four probes don't all start at the same second of the interval.
    const phases = new Set(
      ['openai-canary', 'anthropic-canary', 'gemini-canary', 'gateway-canary'].map((id) => firsts.find((r) => r.probeId === id)!.startedAt % 300_000),
    );
    expect(phases.size).toBeGreaterThan(1);
  });

  it('confirms failures with one immediate re-probe', async () => {
    const failing = await daemon.store.results({ probe: 'openai-canary', since: start + 10 * HOUR, until: start + 10.5 * HOUR, order: 'asc', limit: 1000 });
    const first = failing.filter((r) => r.attempt === 1);
    const second = failing.filter((r) => r.attempt === 2);
    expect(first.length).toBe(6);
    expect(second.length).toBe(6);
    for (const r of failing) expect(r.errorClass).toBe('rate_limited');
    expect(second.every((r) => r.confirmed)).toBe(true);
    // Healthy probes are never re-probed.
    const others = await daemon.store.results({ probe: 'gemini-canary', limit: 10_000 });
    expect(others.every((r) => r.attempt === 1 && r.outcome === 'ok')).toBe(true);
  });

  it('rolls up complete hours with counts and latency percentiles', async () => {
    const rollups = await daemon.store.rollups({ probe: 'openai-canary' });
    expect(rollups.length).toBeGreaterThanOrEqual(23);
    const ten = rollups.find((r) => r.hourStart === start + 10 * HOUR)!;
    expect(ten).toBeDefined();
    expect(ten.count).toBe(18); // 12 slots + 6 confirmation re-probes
    expect(ten.failures).toBe(12);
  });

  it('applies retention: raw rows older than raw_retention go, rollups stay', async () => {
    const before = await daemon.store.countResults({});
    await advance(clock, daemon, 2 * 24 * HOUR, 60 * 60_000);
    const oldRaw = await daemon.store.countResults({ until: start + 12 * HOUR });
    expect(oldRaw).toBe(0);
    expect((await daemon.store.rollups({ probe: 'openai-canary', until: start + 12 * HOUR })).length).toBeGreaterThanOrEqual(11);
    expect(await daemon.store.countResults({})).toBeGreaterThan(0);
    expect(before).toBeGreaterThan(0);
  }, 120_000);
});
