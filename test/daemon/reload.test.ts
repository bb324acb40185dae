// SIGHUP reload: the new config takes effect without dropping state; a broken config is refused, the last good
// one keeps running, and the metric says so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ManualClock } from '../../src/clock.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/log.ts';
import { simEnv } from '../../src/sim/env.ts';
import { startSimFleet } from '../../src/sim/fleet.ts';
import type { SimFleet } from '../../src/sim/fleet.ts';
import { advance, writeConfig } from './helpers.ts';

const quiet = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }), json: true });

describe('daemon reload', () => {
  let fleet: SimFleet;
  let daemon: Daemon;
  let dir: string;
  const clock = new ManualClock(Date.UTC(2026, 3, 6));
  let stderr: typeof process.stderr.write;

  beforeAll(async () => {
    fleet = await startSimFleet({ clock, behaviour: { latency: { ttfbMs: 0, ttftMs: 1, perTokenMs: 0, jitter: 0, diurnal: null } } });
    dir = writeConfig({ every: '1m' });
    daemon = await Daemon.start({ configDir: dir, env: simEnv(fleet.urls), clock, log: quiet, listen: { port: 0 } });
    await advance(clock, daemon, 5 * 60_000, 60_000);
    // The reload prints the refused config's errors on stderr; keep the test output clean.
    stderr = process.stderr.write.bind(process.stderr);
    process.stderr.write = (() => true) as typeof process.stderr.write;
  }, 60_000);
  afterAll(async () => {
    process.stderr.write = stderr;
    await daemon.stop();
    await fleet.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds a probe, keeps the others and their history', async () => {
    const before = await daemon.store.countResults({ probe: 'openai-canary' });
    const file = join(dir, 'probes', 'all.yaml');
    appendFileSync(
      file,
      `  - id: late-addition
    owner: platform
    target: provider:gemini
    model: gemini-2.5-flash
    every: 1m
    prompt: "Reply with the single word: pong"
    assert: [{ contains: pong }]
`,
    );
    expect(daemon.reload().ok).toBe(true);
    await advance(clock, daemon, 3 * 60_000, 60_000);
    expect(await daemon.store.countResults({ probe: 'late-addition' })).toBeGreaterThanOrEqual(2);
    expect(await daemon.store.countResults({ probe: 'openai-canary' })).toBeGreaterThanOrEqual(before + 3);
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(metrics).toMatch(/^vigil_config_last_reload_successful 1$/m);
  }, 60_000);

  it('refuses a broken config, keeps running the last good one, and reports it in metrics', async () => {
    const file = join(dir, 'probes', 'all.yaml');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.replace('every: 1m', 'every: soon'));
    const r = daemon.reload();
    expect(r.ok).toBe(false);
    expect(r.errors).toContain('probes/all.yaml:');
    const before = await daemon.store.countResults({ probe: 'late-addition' });
    await advance(clock, daemon, 2 * 60_000, 60_000);
    expect(await daemon.store.countResults({ probe: 'late-addition' })).toBeGreaterThan(before);
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(metrics).toMatch(/^vigil_config_last_reload_successful 0$/m);
    const ready = await fetch(`${daemon.url}/readyz`);
    expect(ready.status).toBe(200);
    writeFileSync(file, good);
  }, 60_000);
});
