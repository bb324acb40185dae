// The drill journal is written as the run goes (issue 14, item 11): a run is in the store from its first step,
// with each attempt as it happens, and a run whose process dies mid-way (kill -9) shows as `interrupted` after
// the next start, with what it had done; faults it left in a proxy that outlived it are cleared then.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../src/clock.ts';
import type { VigilConfig } from '../../src/config/types.ts';
import { drillSchema } from '../../src/config/schema.ts';
import { DrillService } from '../../src/chaos/drills.ts';
import { DrillStore } from '../../src/chaos/drill-store.ts';
import type { DrillProgress } from '../../src/chaos/drill-store.ts';
import { formatRunner } from '../../src/chaos/drill-runner-id.ts';
import { runProbe } from '../../src/probes/run.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/log.ts';
import { simEnv } from '../../src/sim/env.ts';
import { Store } from '../../src/store/store.ts';
import { Writable } from 'node:stream';
import { PROBES, freePort, startDrillRig } from './helpers.ts';
import type { DrillRig } from './helpers.ts';

const quiet = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }), json: true });

const DRILL = {
  id: 'primary-down',
  owner: 'platform',
  manual: true,
  target: 'gateway',
  faults: [{ upstream: 'anthropic', kind: 'http_status', status: 529, ttl: '1m' }],
  steady_state: [{ probe: 'gateway-canary' }],
  probes: ['gateway-canary'],
  repeat: 3,
  interval: '10ms',
  expect: { served_by: 'openai-gpt' },
};

function configWith(drills: unknown[]): VigilConfig {
  return {
    drills: drills.map((d, i) => ({ value: drillSchema.parse(d), source: { file: 'scenarios/test.yaml', line: 2 + i * 10 } })),
    probes: PROBES,
    defaults: { everyMs: 60_000, timezone: 'UTC', stream: true, maxTokens: 16, timeouts: { connectMs: 1, firstByteMs: 1, totalMs: 1 } },
    gateway: null,
    endpoints: {},
    pricing: {},
  } as unknown as VigilConfig;
}

/** The pid of a process that has exited (so nothing answers to it now). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}

describe('drill journal, written as it goes', () => {
  let rig: DrillRig;
  let dir: string;
  let store: Store;

  beforeAll(async () => {
    rig = await startDrillRig();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-journal-'));
    store = Store.open(path.join(dir, 'vigil.db'));
  });
  afterAll(async () => {
    store?.close();
    await rig?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the run is stored as `running` from its first step, each attempt appearing as it happens', async () => {
    const db = new DrillStore(store.sql);
    const seen: { attempt: number; verdict: string; steps: string[]; attempts: number; faults: number }[] = [];
    let attempt = 0;
    const service: DrillService = new DrillService({
      clock: systemClock,
      http: rig.http,
      config: () => configWith([DRILL]),
      faults: rig.driver,
      store,
      overrides: {
        probeRunner: rig.runner,
        // Look at the store each time a drill attempt (drill header set) is about to go out, once the progress
        // written so far has committed.
        runProbe: async (spec, deps, ctx) => {
          await service.progressWritten();
          const running = ctx?.headers?.['x-vigil-drill'] ? await db.running() : [];
          if (running.length > 0) {
            const row = running[0];
            if (row.journal.some((e) => e.step === 'inject')) {
              seen.push({ attempt: ++attempt, verdict: row.verdict, steps: row.journal.map((e) => e.step), attempts: row.attempts.length, faults: row.faults.length });
            }
          }
          return runProbe(spec, deps, ctx);
        },
      },
    });
    const run = await service.run('primary-down');
    expect(run.verdict, run.reason).toBe('passed');
    expect(seen.map((s) => [s.attempt, s.verdict, s.attempts, s.faults])).toEqual([
      [1, 'running', 0, 1],
      [2, 'running', 1, 1],
      [3, 'running', 2, 1],
    ]);
    expect(seen[0].steps).toEqual(['start', 'steady_state_before', 'baseline', 'inject']);
    expect(seen[2].steps.filter((s) => s === 'attempt')).toHaveLength(2);
    // Finished: the same row now holds the verdict, no `running` row remains.
    expect(await db.running()).toEqual([]);
    const stored = (await db.run(run.runId))!;
    expect(stored.verdict).toBe('passed');
    expect(stored.runner).toBe(formatRunner(os.hostname(), process.pid));
    expect(stored.journal.map((e) => e.step).at(-1)).toBe('end');
  });

  it('a run left `running` by a dead process becomes `interrupted` with its journal; its leftover fault is cleared', async () => {
    const db = new DrillStore(store.sql);
    // A fault that process had injected into a proxy that outlived it.
    const fault = rig.proxy.inject({ id: 'primary-down-dead.0', upstream: 'anthropic', kind: 'http_status', status: 529, ttl: 60_000, match: { headers: { 'x-vigil-drill': 'primary-down-dead' } } });
    const t0 = Date.now() - 5_000;
    const progress: DrillProgress = {
      runId: 'primary-down-dead',
      drillId: 'primary-down',
      owner: 'platform',
      severity: 'warning',
      startedAt: t0,
      injected: 'anthropic: http_status 529',
      journal: [
        { at: t0, step: 'start', status: 'info', detail: 'drill primary-down run primary-down-dead' },
        { at: t0 + 100, step: 'inject', status: 'ok', detail: `${fault}: anthropic: http_status 529` },
        { at: t0 + 200, step: 'attempt', status: 'ok', detail: '#1 gateway-canary: served by openai-gpt' },
      ],
      faults: [{ id: fault, upstream: 'anthropic', kind: 'http_status', description: 'anthropic: http_status 529', hits: null, expiresAt: null }],
      attempts: [],
      provesConfigOnly: false,
      check: 'fallback',
    };
    await db.progress(progress, formatRunner(os.hostname(), deadPid()));
    // Runs of live processes stay as they are: this host's parent process, and another host that wrote recently.
    await db.progress({ ...progress, runId: 'live-here', faults: [] }, formatRunner(os.hostname(), process.ppid));
    await db.progress({ ...progress, runId: 'live-elsewhere', faults: [], journal: [{ ...progress.journal[0], at: Date.now() }] }, 'other-host:4242');
    await db.progress({ ...progress, runId: 'stale-elsewhere', faults: [], journal: [{ ...progress.journal[0], at: Date.now() - 31 * 60_000 }] }, 'other-host:4243');

    const service = new DrillService({ clock: systemClock, http: rig.http, config: () => configWith([DRILL]), faults: rig.driver, store });
    const closed = await service.recover();
    expect(closed.map((r) => r.runId).sort()).toEqual(['primary-down-dead', 'stale-elsewhere']);
    expect((await db.running()).map((r) => r.runId).sort()).toEqual(['live-elsewhere', 'live-here']);

    const run = (await db.run('primary-down-dead'))!;
    expect(run.verdict).toBe('interrupted');
    expect(run.reason).toMatch(/^interrupted: the process running the drill \(.+:\d+\) stopped before it finished; last step: attempt: #1 gateway-canary/);
    expect(run.finishedAt).toBe(t0 + 200);
    expect(run.journal.map((e) => e.step)).toEqual(['start', 'inject', 'attempt', 'rollback', 'end']);
    expect(run.journal[3]).toMatchObject({ status: 'ok', detail: expect.stringContaining('cleared 1 leftover fault') });
    expect(run.rollback.ok).toBe(true);
    expect(rig.proxy.list()).toEqual([]);
    // Shown as such in the history the API serves.
    expect((await service.history('primary-down'))!.runs.find((r) => r.runId === 'primary-down-dead')!.verdict).toBe('interrupted');
    // A second pass finds nothing more to do.
    expect(await service.recover()).toEqual([]);
  });
});

describe('kill -9 of the daemon in the middle of a drill', () => {
  let rig: DrillRig;
  let dir = '';
  let port = 0;
  const TOKEN = 'journal-test-control-token';

  beforeAll(async () => {
    rig = await startDrillRig();
    port = await freePort();
    // The simulated LiteLLM's primary goes through the fault proxy the daemon runs on `port`.
    rig.fleet.gatewayConfig('litellm').targets[0].baseUrl = `http://127.0.0.1:${port}/proxy/anthropic`;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-journal-kill-'));
    fs.writeFileSync(
      path.join(dir, 'vigil.yaml'),
      `server: { host: 127.0.0.1, port: 0 }
storage: { path: ./vigil.db }
scheduler: { shutdown_grace: 2s }
providers:
  openai: { kind: openai, base_url: "\${OPENAI_BASE_URL}", api_key: "\${OPENAI_API_KEY}" }
gateway: { flavour: litellm, base_url: "\${GATEWAY_BASE_URL}", api_key: "\${GATEWAY_API_KEY}" }
chaos:
  listen: { host: 127.0.0.1, port: ${port} }
  control_token: ${TOKEN}
  upstreams:
    anthropic: { kind: anthropic, base_url: "\${ANTHROPIC_BASE_URL}" }
`,
    );
    fs.mkdirSync(path.join(dir, 'probes'));
    fs.writeFileSync(
      path.join(dir, 'probes', 'gateway.yaml'),
      `probes:
  - id: gateway-canary
    owner: platform
    target: gateway
    model: gpt-4o-mini
    every: 1h
    stream: true
    prompt: "Reply with the single word: pong"
    max_tokens: 5
    assert: [{ contains: pong }]
`,
    );
    fs.mkdirSync(path.join(dir, 'scenarios'));
    // Every second, long enough (20 attempts 300 ms apart) to be killed in the middle.
    fs.writeFileSync(
      path.join(dir, 'scenarios', 'drills.yaml'),
      `drills:
  - id: slow-drill
    owner: platform
    schedule: "* * * * * *"
    target: gateway
    faults: [{ upstream: anthropic, kind: http_status, status: 529, ttl: 2m }]
    probes: [gateway-canary]
    repeat: 20
    interval: 300ms
    expect: { served_by: openai-gpt }
`,
    );
  }, 30_000);
  afterAll(async () => {
    // A proxy still on the port (the test failed before the restarted daemon stopped it) goes too.
    const st = (await fetch(`http://127.0.0.1:${port}/proxy/_status`, { headers: { authorization: `Bearer ${TOKEN}` } })
      .then((r) => r.json())
      .catch(() => null)) as { pid?: number } | null;
    if (st?.pid) {
      try {
        process.kill(st.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await rig?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('after restart the run shows `interrupted` with what it had done', async () => {
    const env = { ...simEnv({ ...rig.fleet.urls, gateway: rig.fleet.urls.litellm }), GATEWAY_API_KEY: 'sim-gateway-key' };
    const main = path.resolve(import.meta.dirname, '../../src/main.ts');
    const child = spawn(process.execPath, [main, 'run', '--config', dir, '--port', '0'], {
      env: { ...process.env, ...env, VIGIL_LOG_LEVEL: 'error' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const db = path.join(dir, 'vigil.db');
    // Wait (read-only peeks, as another process would) until the run has injected its fault and made 2 attempts.
    let runId = '';
    const deadline = Date.now() + 30_000;
    while (!runId && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      if (child.exitCode !== null) throw new Error(`daemon exited ${child.exitCode}: ${stderr}`);
      try {
        const peek = Store.open(db, { readOnly: true });
        try {
          const row = (await new DrillStore(peek.sql).running())[0];
          if (row && row.journal.filter((e) => e.step === 'attempt').length >= 2) runId = row.runId;
        } finally {
          peek.close();
        }
      } catch {
        // not created or not migrated yet
      }
    }
    expect(runId, stderr).not.toBe('');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    // The restarted daemon (its clock stopped, so the schedule does not start another run) closes it.
    const second = await Daemon.start({ configDir: dir, env, clock: new ManualClock(Date.now()), log: quiet, listen: { port: 0 } });
    try {
      const res = await fetch(`${second.url}/api/drills/slow-drill`);
      const body = (await res.json()) as { runs: { runId: string; verdict: string; reason: string; journal: { step: string; status: string; detail: string }[]; attempts: unknown[]; faults: { id: string }[] }[] };
      const run = body.runs.find((r) => r.runId === runId)!;
      expect(run.verdict).toBe('interrupted');
      expect(run.reason).toContain('stopped before it finished');
      const steps = run.journal.map((e) => e.step);
      expect(steps.slice(0, 4)).toEqual(['start', 'steady_state_before', 'baseline', 'inject']);
      expect(steps.filter((s) => s === 'attempt').length).toBeGreaterThanOrEqual(2);
      expect(run.attempts.length).toBeGreaterThanOrEqual(2);
      expect(run.faults).toHaveLength(1);
      // The daemon's proxy (its own process) outlived it, fault and all; the restarted daemon adopted it and
      // cleared the leftover fault (its TTL would have too).
      expect(second.chaos!.mode).toBe('adopted');
      expect(run.journal.at(-2)).toMatchObject({ step: 'rollback', status: 'ok', detail: expect.stringContaining('cleared 1 leftover fault') });
      expect(steps.at(-1)).toBe('end');
      expect(await second.chaos!.driver.list()).toEqual([]);
      const page = await (await fetch(`${second.url}/status/drills`)).text();
      expect(page).toContain('Interrupted');
    } finally {
      await second.stop();
    }
  }, 60_000);
});
