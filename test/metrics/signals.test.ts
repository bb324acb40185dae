// vigil_signals_firing counts firing detector signals per label set, follows a signal as it re-fires with
// another severity, drops the series when it resolves, and bounds the number of label sets.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Signal } from '../../src/domain.ts';
import { registerSignalMetrics } from '../../src/metrics/signals.ts';

const sig = (over: Partial<Signal> = {}): Signal => ({
  detector: 'latency',
  key: 'anthropic-canary:ttft',
  severity: 'warning',
  status: 'firing',
  summary: 's',
  evidence: {},
  labels: { probe: 'anthropic-canary', owner: 'platform', provider: 'anthropic', model: 'claude-haiku-4-5' },
  at: 0,
  ...over,
});

async function samples(reg: Registry): Promise<{ labels: Record<string, string | number>; value: number }[]> {
  const m = await reg.getSingleMetric('vigil_signals_firing')!.get();
  return m.values.map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
}

describe('vigil_signals_firing', () => {
  it('counts firing signals, moves with a severity change, and clears on resolve', async () => {
    const reg = new Registry();
    const m = registerSignalMetrics(reg);
    m.observe(sig());
    m.observe(sig({ key: 'anthropic-canary:total' }));
    expect(await samples(reg)).toEqual([
      { labels: { detector: 'latency', severity: 'warning', owner: 'platform', provider: 'anthropic', model: 'claude-haiku-4-5', probe: 'anthropic-canary' }, value: 2 },
    ]);
    m.observe(sig({ severity: 'critical' }));
    const after = await samples(reg);
    expect(after.map((s) => [s.labels.severity, s.value]).sort()).toEqual([['critical', 1], ['warning', 1]]);
    m.observe(sig({ status: 'resolved', severity: 'critical' }));
    m.observe(sig({ key: 'anthropic-canary:total', status: 'resolved' }));
    expect(await samples(reg)).toEqual([]);
    // A resolve for something never seen firing changes nothing.
    m.observe(sig({ key: 'never', status: 'resolved' }));
    expect(await samples(reg)).toEqual([]);
  });

  it('folds label sets beyond its cap into "other" (webhook signals may name any model)', async () => {
    const reg = new Registry();
    const m = registerSignalMetrics(reg);
    for (let i = 0; i < 600; i++) m.observe(sig({ detector: 'provider_status', key: `k${i}`, labels: { provider: 'openai', model: `m-${i}` } }));
    const s = await samples(reg);
    expect(s.length).toBeLessThanOrEqual(501);
    expect(s.find((x) => x.labels.model === 'other')?.value).toBe(100);
    expect(s.reduce((a, x) => a + x.value, 0)).toBe(600);
  });
});
