// Gateway-native drills: LiteLLM's mock_testing_fallbacks (config only) and Portkey's per-request configs,
// against the simulator's LiteLLM- and Portkey-flavoured gateways.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDrill } from '../../src/chaos/drill.ts';
import { DRILL_HEADER, drillHeaders, portkeyFallbackConfig, withBodyFields } from '../../src/chaos/gateway-native.ts';
import type { HttpClient, HttpRequest } from '../../src/http/types.ts';
import { drillFrom, startDrillRig } from './helpers.ts';
import type { DrillRig } from './helpers.ts';

describe('withBodyFields', () => {
  it('adds the fields to JSON object bodies and leaves anything else alone', async () => {
    const sent: HttpRequest[] = [];
    const inner = { request: async (r: HttpRequest) => (sent.push(r), null as never), close: async () => {} } as HttpClient;
    const http = withBodyFields(inner, { mock_testing_fallbacks: true });
    const base = { url: 'http://127.0.0.1:1/x', method: 'POST' as const, headers: {}, timeouts: { connectMs: 1, firstByteMs: 1, totalMs: 1 } };
    await http.request({ ...base, body: '{"model":"m","stream":true}' });
    await http.request({ ...base, body: 'not json' });
    await http.request({ ...base, body: '[1]' });
    expect(JSON.parse(sent[0].body!)).toEqual({ model: 'm', stream: true, mock_testing_fallbacks: true });
    expect(sent[1].body).toBe('not json');
    expect(sent[2].body).toBe('[1]');
  });
});

describe('drillHeaders', () => {
  const gw = { name: 'gateway', kind: 'gateway' as const, baseUrl: 'http://127.0.0.1:1', headers: {} };
  it('marks the run, and asks Portkey to forward the mark upstream', () => {
    expect(drillHeaders('run-1', gw, 'litellm')).toEqual({ [DRILL_HEADER]: 'run-1' });
    expect(drillHeaders('run-1', gw, 'portkey')).toEqual({ [DRILL_HEADER]: 'run-1', 'x-portkey-forward-headers': 'x-vigil-drill' });
    expect(drillHeaders('run-1', { ...gw, headers: { 'X-Portkey-Forward-Headers': 'x-team' } }, 'portkey')['x-portkey-forward-headers']).toBe('x-team,x-vigil-drill');
  });
});

describe('gateway-native drills on the simulator', () => {
  let rig: DrillRig;
  let portkey: DrillRig;
  beforeAll(async () => {
    rig = await startDrillRig();
    portkey = await startDrillRig({ flavour: 'portkey' });
  });
  afterAll(async () => {
    await rig?.close();
    await portkey?.close();
  });

  it('LiteLLM mock_testing_fallbacks: the router fails the primary itself and the fallback serves (config only)', async () => {
    const drill = drillFrom({ native: 'litellm_mock_fallbacks', faults: [], repeat: 2, expect: { served_by: 'openai-gpt' } });
    const before = rig.fleet.anthropic.lastSeq;
    const run = await runDrill(drill, rig.deps({ faults: null }));
    expect(run.verdict, run.reason).toBe('passed');
    expect(run.provesConfigOnly).toBe(true);
    expect(run.reason).toContain('config only');
    expect(run.injected).toBe('mock_testing_fallbacks (gateway-native)');
    expect(run.attempts.every((a) => a.servedBy === 'openai-gpt' && a.fallbacks === 1)).toBe(true);
    // The primary was called for steady state, baseline and the check after; never for the two mocked attempts.
    const calls = rig.fleet.anthropic.requests().filter((r) => r.seq > before);
    expect(calls).toHaveLength(3);
    const mocked = rig.fleet.litellm.requests().filter((r) => r.gateway?.attempts[0]?.error === 'mock_testing_fallbacks');
    expect(mocked).toHaveLength(2);
  });

  it('the mock proves nothing about real failover: a fallback that cannot serve still fails the drill', async () => {
    rig.fleet.openai.setOutage(true);
    try {
      const drill = drillFrom({ native: 'litellm_mock_fallbacks', faults: [], repeat: 1, steady_state: [], expect: { served_by: 'openai-gpt' } });
      const run = await runDrill(drill, rig.deps({ faults: null }));
      expect(run.verdict).toBe('failed');
      expect(run.failure).toBe('no_fallback');
    } finally {
      rig.fleet.openai.setOutage(false);
    }
  });

  it('Portkey: a drill-only x-portkey-config routes just the drill through the proxy; Portkey reports config.targets[1]', async () => {
    // The gateway's own config goes direct; the drill's header sends its primary through the proxy.
    const cfg = portkey.fleet.gatewayConfig('portkey');
    cfg.targets[0].baseUrl = undefined;
    const header = portkeyFallbackConfig([
      { provider: 'anthropic', model: 'claude-sonnet-4-5', customHost: `${portkey.proxy.upstreamUrl('anthropic')}/v1`, apiKey: 'sk-ant-test' },
      { provider: 'openai', model: 'gpt-4o-mini', customHost: `${portkey.fleet.urls.openai}/v1`, apiKey: 'sk-test' },
    ]);
    const drill = drillFrom({
      headers: { 'x-portkey-config': header },
      steady_state: [{ probe: 'gateway-canary', served_by: 'config.targets[0]' }],
      expect: { served_by: 'config.targets[1]', provider: 'openai' },
    });
    const run = await runDrill(drill, portkey.deps());
    expect(run.verdict, run.reason).toBe('passed');
    expect(run.servedBy).toBe('config.targets[1]');
    expect(run.faults[0].hits).toBe(2);
    // Steady state before and after ran without the drill header: single-target config, direct.
    expect(run.journal.filter((e) => e.step.startsWith('steady_state')).every((e) => e.status === 'ok')).toBe(true);
  });
});
