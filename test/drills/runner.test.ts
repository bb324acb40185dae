// The drill runner against the simulator's gateways with the primary (Anthropic) routed through the chaos proxy.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { runDrill } from '../../src/chaos/drill.ts';
import type { DrillRun } from '../../src/chaos/drill.ts';
import { drillSignal } from '../../src/chaos/drill-signal.ts';
import { inProcessDriver } from '../../src/chaos/fault-driver.ts';
import { startChaosProxy } from '../../src/chaos/proxy.ts';
import { runProbe } from '../../src/probes/run.ts';
import { drillFrom, spyDriver, startDrillRig } from './helpers.ts';
import type { DrillRig } from './helpers.ts';

let rig: DrillRig;

beforeAll(async () => {
  rig = await startDrillRig();
});
afterAll(async () => {
  await rig?.close();
});
beforeEach(() => {
  for (const s of [rig.fleet.openai, rig.fleet.anthropic, rig.fleet.gemini]) {
    s.setOutage(false);
    s.clearBursts();
  }
  rig.fleet.gatewayConfig('litellm').forwardHeaderPrefix = 'x-vigil-';
  rig.proxy.clear();
});

const steps = (run: DrillRun) => run.journal.map((e) => e.step);

describe('runDrill against the simulated LiteLLM gateway', () => {
  it('passes when the gateway falls back to a healthy target, and leaves no fault behind', async () => {
    const drill = drillFrom({ repeat: 3 });
    const seen: string[] = [];
    const run = await runDrill(drill, rig.deps({ onResult: (r) => void seen.push(`${r.probeId}:${r.drillId}`) }));
    expect(run.verdict, run.reason).toBe('passed');
    expect(run.servedBy).toBe('openai-gpt');
    expect(run.attempts).toHaveLength(3);
    expect(run.attempts.every((a) => a.ok && a.fallbacks === 1)).toBe(true);
    expect(run.results.every((r) => r.drillId === 'primary-down' && r.gateway?.servedBy === 'openai-gpt')).toBe(true);
    // The fault hit exactly the three drill attempts (steady state and baseline ran before it).
    expect(run.faults).toHaveLength(1);
    expect(run.faults[0].hits).toBe(3);
    expect(run.faults[0].description).toContain('529');
    expect(run.fallbackLatencyMs).not.toBeNull();
    expect(run.baselineMs).toBeGreaterThan(0);
    expect(run.rollback.ok).toBe(true);
    expect(rig.proxy.list()).toEqual([]);
    expect(steps(run)).toEqual([
      'start',
      'steady_state_before',
      'baseline',
      'inject',
      'attempt',
      'attempt',
      'attempt',
      'verify',
      'rollback',
      'steady_state_after',
      'end',
    ]);
    // steady state before + baseline + 3 attempts + steady state after, all marked as drill traffic.
    expect(seen).toHaveLength(6);
    expect(seen.every((s) => s.endsWith(':primary-down'))).toBe(true);
    expect(drillSignal(run, drill)).toMatchObject({ detector: 'drill', key: 'primary-down', status: 'resolved' });
  });

  it('scopes the fault to the run: traffic without its drill header is served by the primary meanwhile', async () => {
    const drill = drillFrom({ repeat: 2, abort: { steady_state: [{ probe: 'gateway-canary', served_by: 'anthropic-claude' }], max_duration: '30s' } });
    const run = await runDrill(drill, rig.deps());
    expect(run.verdict, run.reason).toBe('passed');
    const checks = run.journal.filter((e) => e.step === 'abort_check');
    expect(checks).toHaveLength(2);
    expect(checks.every((e) => e.status === 'ok' && (e.data as { served_by: string }).served_by === 'anthropic-claude')).toBe(true);
  });

  it('fails when the fallback target is broken too, and the signal goes to the owner with the evidence', async () => {
    const drill = drillFrom({ owner: 'search-team', severity: 'critical', repeat: 2 });
    // Break the fallback as the fault goes in (steady state and baseline are served by the primary anyway).
    const breakFallback = { ...rig.driver, inject: async (f: Parameters<typeof rig.driver.inject>[0]) => (rig.fleet.openai.setOutage(true), rig.driver.inject(f)) };
    const run = await runDrill(drill, rig.deps({ faults: breakFallback }));
    rig.fleet.openai.setOutage(false);
    expect(run.verdict, run.reason).toBe('failed');
    expect(run.failure).toBe('no_fallback');
    expect(run.reason).toMatch(/^no_fallback: 2\/2 attempts failed/);
    expect(run.attempts[0].httpStatus).toBeGreaterThanOrEqual(500);
    expect(rig.proxy.list()).toEqual([]);
    const signal = drillSignal(run, drill)!;
    expect(signal).toMatchObject({
      detector: 'drill',
      key: 'primary-down',
      severity: 'critical',
      status: 'firing',
      labels: { owner: 'search-team', drill: 'primary-down', provider: 'anthropic' },
    });
    expect(String(signal.evidence.injected)).toContain('anthropic: http_status 529');
    expect(signal.evidence.attempts).toBe(2);
    expect(signal.evidence.attempts_passed).toBe(0);
    expect(String(signal.evidence.first_failure)).toContain('no fallback');
  });

  it('fails on the latency budget when the fallback is too slow', async () => {
    // The primary takes 600 ms to say 529: the fallback answer arrives that much later than the baseline.
    const drill = drillFrom({
      faults: [{ upstream: 'anthropic', kind: 'http_status', status: 529, delay_ms: 600, ttl: '1m' }],
      expect: { served_by: 'openai-gpt', extra_latency_ms: '< 300' },
    });
    const run = await runDrill(drill, rig.deps());
    expect(run.verdict, run.reason).toBe('failed');
    expect(run.failure).toBe('too_slow');
    expect(run.fallbackLatencyMs).toBeGreaterThanOrEqual(550);
    expect(run.reason).toContain('budget < 300 ms');
    expect(run.attempts.every((a) => a.ok)).toBe(true);
  });

  it('fails with wrong_target when a different target serves', async () => {
    const run = await runDrill(drillFrom({ repeat: 1, expect: { served_by: 'vertex-gemini' } }), rig.deps());
    expect(run.verdict).toBe('failed');
    expect(run.failure).toBe('wrong_target');
    expect(run.reason).toContain('served by openai-gpt, expected vertex-gemini');
  });

  it('is skipped, saying why, when the steady state does not hold; nothing is injected', async () => {
    rig.fleet.anthropic.setOutage(true);
    const spy = spyDriver(rig.driver);
    const run = await runDrill(drillFrom({ steady_state: [{ probe: 'anthropic-direct', outcome: 'ok' }] }), rig.deps({ faults: spy }));
    expect(run.verdict).toBe('skipped');
    expect(run.reason).toMatch(/^steady state does not hold: anthropic-direct was failed \(overloaded HTTP 529/);
    expect(spy.injected).toBe(0);
    expect(run.attempts).toEqual([]);
    expect(steps(run)).toEqual(['start', 'steady_state_before', 'end']);
    expect(drillSignal(run, drillFrom({}))).toBeNull();
  });

  it('is skipped when the drill path fails before any fault (baseline)', async () => {
    rig.fleet.anthropic.setOutage(true);
    rig.fleet.openai.setOutage(true);
    const run = await runDrill(drillFrom({ steady_state: [] }), rig.deps());
    expect(run.verdict).toBe('skipped');
    expect(run.reason).toMatch(/^baseline: gateway-canary failed before any fault/);
  });

  it('aborts when another probe\'s steady state breaks mid-drill, and rolls back', async () => {
    const drill = drillFrom({ repeat: 3, abort: { steady_state: [{ probe: 'openai-direct', outcome: 'ok' }], max_duration: '30s' } });
    let attempts = 0;
    const run = await runDrill(
      drill,
      rig.deps({
        onResult: (r) => {
          // After the first attempt during the fault, OpenAI (direct) goes down.
          if (r.probeId === 'gateway-canary' && rig.proxy.list().length > 0 && ++attempts === 1) rig.fleet.openai.setOutage(true);
        },
      }),
    );
    rig.fleet.openai.setOutage(false);
    expect(run.verdict, run.reason).toBe('aborted');
    expect(run.reason).toMatch(/^steady state broke during the fault: openai-direct was failed/);
    expect(run.attempts).toHaveLength(1);
    expect(run.rollback.ok).toBe(true);
    expect(rig.proxy.list()).toEqual([]);
    expect(steps(run)).toContain('rollback');
    expect(drillSignal(run, drill)).toBeNull();
  });

  it('scope: upstream is refused by the proxy (it faults only requests carrying the drill header): nothing leaks', async () => {
    const run = await runDrill(
      drillFrom({ scope: 'upstream', abort: { steady_state: [{ probe: 'anthropic-via-proxy', outcome: 'ok' }], max_duration: '30s' } }),
      rig.deps(),
    );
    expect(run.verdict).toBe('error');
    expect(run.reason).toContain('x-vigil-drill: required');
    expect(run.attempts).toEqual([]);
    expect(rig.proxy.list()).toEqual([]);
  });

  it('aborts at max_duration, cancelling the probe in flight', async () => {
    const t0 = performance.now();
    const run = await runDrill(
      drillFrom({
        steady_state: [],
        faults: [{ upstream: 'anthropic', kind: 'latency', delay_ms: 20_000, ttl: '1m' }],
        abort: { max_duration: '1500ms' },
      }),
      rig.deps(),
    );
    expect(run.verdict).toBe('aborted');
    expect(run.reason).toContain('max_duration');
    expect(performance.now() - t0).toBeLessThan(8_000);
    expect(rig.proxy.list()).toEqual([]);
  });

  it('reports fault_not_applied when the drill header never reaches the proxy', async () => {
    rig.fleet.gatewayConfig('litellm').forwardHeaderPrefix = 'x-nothing-';
    const drill = drillFrom({ repeat: 1 });
    const run = await runDrill(drill, rig.deps());
    expect(run.verdict).toBe('error');
    expect(run.failure).toBe('fault_not_applied');
    expect(run.reason).toContain('forward_client_headers_to_llm_api');
    expect(run.faults[0].hits).toBe(0);
    expect(drillSignal(run, drill)).toMatchObject({ status: 'firing', severity: 'warning' });
  });

  it('gives every fault a TTL: its own, else abort.max_duration', async () => {
    const seen: { ttl: unknown }[] = [];
    const spy = spyDriver(rig.driver);
    const wrapped = { ...spy, inject: async (f: Parameters<typeof spy.inject>[0]) => (seen.push(f as { ttl: unknown }), spy.inject(f)) };
    await runDrill(
      drillFrom({
        repeat: 1,
        faults: [
          { upstream: 'anthropic', kind: 'http_status', status: 529 },
          { upstream: 'anthropic', kind: 'http_status', status: 503, ttl: '45s' },
        ],
        abort: { max_duration: '90s' },
      }),
      rig.deps({ faults: wrapped }),
    );
    expect(seen.map((f) => f.ttl)).toEqual([90_000, '45s']);
  });
});

describe('rollback', () => {
  it('clears injected faults when the runner throws mid-drill', async () => {
    let calls = 0;
    const run = await runDrill(
      drillFrom({ steady_state: [] }),
      rig.deps({
        runProbe: async (spec, deps, ctx) => {
          // Baseline passes; the first attempt during the fault blows up.
          if (++calls === 2) throw new Error('runner exploded');
          return runProbe(spec, deps, ctx);
        },
      }),
    );
    expect(run.verdict).toBe('error');
    expect(run.reason).toBe('error: runner exploded');
    expect(run.faults).toHaveLength(1);
    expect(run.rollback.ok).toBe(true);
    expect(rig.proxy.list()).toEqual([]);
    expect(steps(run).slice(-2)).toEqual(['rollback', 'end']);
  });

  it('clears the faults already injected when a later injection fails', async () => {
    const spy = spyDriver(rig.driver, { inject: (n) => n === 2 });
    const run = await runDrill(
      drillFrom({
        faults: [
          { upstream: 'anthropic', kind: 'http_status', status: 529, ttl: '1m' },
          { upstream: 'openai', kind: 'http_status', status: 503, ttl: '1m' },
        ],
      }),
      rig.deps({ faults: spy }),
    );
    expect(run.verdict).toBe('error');
    expect(run.reason).toContain('inject #2 refused');
    // The refused one is cleared too: a refusal after a timeout may still have left it in the proxy.
    expect(spy.cleared).toEqual(run.faults.map((f) => f.id));
    expect(run.faults[1].description).toContain('not confirmed by the proxy');
    expect(rig.proxy.list()).toEqual([]);
  });

  it('when the proxy cannot be reached for rollback, the TTL enforced by the proxy is the backstop', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 6, 10, 0, 0));
    const proxy = await startChaosProxy({ upstreams: { anthropic: { kind: 'anthropic', baseUrl: rig.fleet.urls.anthropic } }, clock });
    const cfg = rig.fleet.gatewayConfig('litellm');
    const saved = cfg.targets[0].baseUrl;
    cfg.targets[0].baseUrl = proxy.upstreamUrl('anthropic');
    try {
      const spy = spyDriver(inProcessDriver(proxy), { clear: true });
      const run = await runDrill(
        drillFrom({ repeat: 1, steady_state: [], faults: [{ upstream: 'anthropic', kind: 'http_status', status: 529 }], abort: { max_duration: '2m' } }),
        rig.deps({ faults: spy }),
      );
      expect(run.verdict).toBe('error');
      expect(run.rollback.ok).toBe(false);
      expect(run.reason).toMatch(/^rollback failed: .*control API unreachable.*the proxy drops them by TTL/);
      // The fault is still there ("crash" before cleanup) ...
      const [left] = proxy.list();
      expect(left.id).toBe(run.faults[0].id);
      expect(left.ttl_ms).toBe(120_000);
      // ... and gone once its TTL passes on the proxy's clock, with nobody calling clear.
      await clock.advance(119_000);
      expect(proxy.list()).toHaveLength(1);
      await clock.advance(1_000);
      expect(proxy.list()).toEqual([]);
      const after = await runProbe(rig.probes.get('gateway-canary')!, rig.runner, { headers: { 'x-vigil-drill': run.runId } });
      expect(after.gateway?.servedBy).toBe('anthropic-claude');
    } finally {
      cfg.targets[0].baseUrl = saved;
      await proxy.close();
    }
  });
});
