// The drills feature end to end inside Vigil: DrillService (runner → store → metrics → signal) with the real
// incidents engine, and the journal served by /api/drills.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { systemClock } from '../../src/clock.ts';
import type { VigilConfig } from '../../src/config/types.ts';
import { drillRoutes } from '../../src/chaos/drill-api.ts';
import { DrillBusyError, DrillService } from '../../src/chaos/drills.ts';
import type { FaultDriver } from '../../src/chaos/fault-driver.ts';
import { startServer } from '../../src/server/index.ts';
import type { VigilServer } from '../../src/server/index.ts';
import { Store } from '../../src/store/store.ts';
import { drillSchema } from '../../src/config/schema.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock.ts';
import { IncidentManager } from '../../src/incidents/manager.ts';
import { BASE_ALERTS, FakeNotifier, T0, alertsFromYaml } from '../incidents/helpers.ts';
import { PROBES, startDrillRig } from './helpers.ts';
import type { DrillRig } from './helpers.ts';

const DRILL = {
  id: 'primary-down',
  owner: 'search-team',
  severity: 'critical',
  manual: true,
  target: 'gateway',
  faults: [{ upstream: 'anthropic', kind: 'http_status', status: 529, ttl: '1m' }],
  steady_state: [{ probe: 'gateway-canary' }],
  probes: ['gateway-canary'],
  repeat: 2,
  interval: '10ms',
  expect: { served_by: 'openai-gpt', extra_latency_ms: '< 3000' },
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

let rig: DrillRig;
let server: VigilServer;
let store: Store;
let dir: string;
const registry = new Registry();
// The incidents engine on its own clock (group_wait etc.); the drills run in real time.
const clock = new ManualClock(T0);
const slack = new FakeNotifier('slack', clock);
const pagerduty = new FakeNotifier('pagerduty', clock);
let manager: IncidentManager;
let service: DrillService;
let faults: FaultDriver;
let breakFallback = false;

beforeAll(async () => {
  rig = await startDrillRig();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-drills-'));
  store = Store.open(path.join(dir, 'vigil.db'));
  const alerts = alertsFromYaml(BASE_ALERTS);
  manager = new IncidentManager({ store, clock, config: () => alerts, notifiers: { slack, pagerduty, console: new FakeNotifier('console', clock) }, random: () => 0.5 });
  // A fallback that breaks exactly when the fault goes in, when asked to.
  faults = {
    ...rig.driver,
    inject: async (f) => {
      if (breakFallback) rig.fleet.openai.setOutage(true);
      return rig.driver.inject(f);
    },
  };
  service = new DrillService({
    clock: systemClock,
    http: rig.http,
    config: () => configWith([DRILL]),
    faults,
    store,
    registry,
    incidents: manager,
    overrides: { probeRunner: rig.runner },
  });
  server = await startServer({
    port: 0,
    deps: { metrics: registry, readiness: () => [], listProbes: () => [], queryResults: () => [] },
  });
  for (const r of drillRoutes(service)) server.addRoute(r.method, r.pattern, r.handler);
});
afterAll(async () => {
  await server?.close();
  store?.close();
  await rig?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  rig.fleet.openai.setOutage(false);
  breakFallback = false;
});

const get = async (path: string) => {
  const res = await fetch(server.url + path);
  return { status: res.status, body: (await res.json()) as any };
};

describe('DrillService', () => {
  let failedRun = '';
  let passedRun = '';

  it('a failed drill opens an incident for the owner and notifies them; the metrics say 0', async () => {
    breakFallback = true;
    const run = await service.run('primary-down');
    rig.fleet.openai.setOutage(false);
    failedRun = run.runId;
    expect(run.verdict, run.reason).toBe('failed');
    const open = await manager.listIncidents({ state: 'open' });
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ detector: 'drill', key: 'primary-down', severity: 'critical', labels: { owner: 'search-team', drill: 'primary-down' } });
    expect(String(open[0].evidence.injected)).toContain('529');
    for (let t = 0; t < 40_000; t += 5_000) {
      await clock.advance(5_000);
      await manager.tick();
    }
    expect(slack.delivered.map((d) => d.receiver)).toEqual([expect.objectContaining({ slackChannel: '#search-oncall' })]);
    expect(pagerduty.delivered).toHaveLength(1);
    expect(slack.delivered[0].n.action).toBe('trigger');
    const text = await registry.metrics();
    expect(text).toContain('drill_success{drill="primary-down",owner="search-team"} 0');
    expect(text).toContain('vigil_drill_runs_total{drill="primary-down",owner="search-team",verdict="failed"} 1');
  });

  it('a passing drill resolves it; the metrics say 1 and carry the fallback latency', async () => {
    const run = await service.run('primary-down');
    passedRun = run.runId;
    expect(run.verdict, run.reason).toBe('passed');
    expect(await manager.listIncidents({ state: 'open' })).toHaveLength(0);
    const text = await registry.metrics();
    expect(text).toContain('drill_success{drill="primary-down",owner="search-team"} 1');
    expect(text).toMatch(/drill_fallback_latency_seconds\{drill="primary-down",owner="search-team"\} -?\d/);
  });

  it('one drill at a time', async () => {
    const first = service.run('primary-down');
    await expect(service.run('primary-down')).rejects.toBeInstanceOf(DrillBusyError);
    await first;
  });

  it('GET /api/drills lists the drills with their recent runs', async () => {
    const { status, body } = await get('/api/drills');
    expect(status).toBe(200);
    expect(body.count).toBe(1);
    const d = body.drills[0];
    expect(d).toMatchObject({ id: 'primary-down', owner: 'search-team', manual: true, faults: 1 });
    expect(d.runs.map((r: { verdict: string }) => r.verdict)).toEqual(['passed', 'passed', 'failed']);
    expect(d.runs[0].journal).toBeUndefined();
  });

  it('GET /api/drills/:id serves the runs with their journals', async () => {
    const { status, body } = await get('/api/drills/primary-down?limit=5');
    expect(status).toBe(200);
    const failed = body.runs.find((r: { runId: string }) => r.runId === failedRun);
    expect(failed.failure).toBe('no_fallback');
    expect(failed.journal.map((e: { step: string }) => e.step)).toContain('rollback');
    expect(failed.attempts).toHaveLength(2);
    expect(failed.faults[0].hits).toBe(2);
    expect((await get('/api/drills/nope')).status).toBe(404);
  });

  it('GET /api/drills/:id/runs/:run serves one run and the probe results it produced', async () => {
    const { status, body } = await get(`/api/drills/primary-down/runs/${passedRun}`);
    expect(status).toBe(200);
    expect(body.run.runId).toBe(passedRun);
    // steady state, baseline, 2 attempts, steady state after
    expect(body.results).toHaveLength(5);
    expect(body.results.every((r: { drillId: string }) => r.drillId === 'primary-down')).toBe(true);
    // Drill traffic never counts as ordinary probe history.
    expect(await store.results({ drills: 'exclude' })).toHaveLength(0);
    expect((await get(`/api/drills/other/runs/${passedRun}`)).status).toBe(404);
  });
});
