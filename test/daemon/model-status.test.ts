// Gemini's in-band lifecycle end to end: the simulated Gemini answers with `modelStatus`, the daemon's probe
// reads it, and the deprecation registry, `vigil deprecations` rows and /metrics carry the retirement date.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { ManualClock } from '../../src/clock.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/log.ts';
import { simEnv } from '../../src/sim/env.ts';
import { startSimFleet } from '../../src/sim/fleet.ts';
import type { SimFleet } from '../../src/sim/fleet.ts';
import { advance, writeConfig } from './helpers.ts';

const quiet = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }), json: true });
const FAST = { latency: { ttfbMs: 0, ttftMs: 1, perTokenMs: 0, jitter: 0, diurnal: null } };

describe('Gemini modelStatus from probe replies', () => {
  let fleet: SimFleet;
  const dirs: string[] = [];
  beforeAll(async () => {
    fleet = await startSimFleet({ behaviour: FAST });
  });
  afterAll(async () => {
    await fleet.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('becomes a dated deprecation of the served model, counted down for the probe owner and exported', async () => {
    fleet.gemini.behaviour.modelStatus['gemini-2.5-flash'] = { modelStage: 'DEPRECATED', retirementTime: '2026-11-15T00:00:00Z', message: 'use gemini-3.5-flash' };
    const dir = writeConfig({ every: '1m' });
    dirs.push(dir);
    const clock = new ManualClock(Date.UTC(2026, 8, 1, 10));
    const d = await Daemon.start({ configDir: dir, env: simEnv(fleet.urls), clock, log: quiet, listen: { port: 0 } });
    try {
      await advance(clock, d, 3 * 60_000, 60_000);
      const rows = (await d.lifecycle.registry.rows()).filter((r) => r.origin === 'api:gemini:modelStatus');
      expect(rows.map((r) => [r.model, r.shutdownAt, r.provider])).toEqual([['gemini-2.5-flash', '2026-11-15', 'gemini']]);
      const row = (await d.lifecycle.rows()).find((r) => r.model === 'gemini-2.5-flash')!;
      // Earlier than the shipped table's 2026-12-01: the reply's date wins, and the disagreement is shown.
      expect(row).toMatchObject({ shutdownAt: '2026-11-15', state: 'retiring', owners: ['platform'], daysLeft: 75, disagreement: true });
      const text = await (await fetch(`${d.url}/metrics`)).text();
      expect(text).toContain(`vigil_model_shutdown_timestamp_seconds{model="gemini-2.5-flash",provider="gemini",owner="platform"`);
    } finally {
      await d.stop();
    }
  }, 60_000);
});
