import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { register as globalRegistry } from 'prom-client';
import { createMetrics, METRIC_NAMES } from '../../src/metrics/index.ts';
import type { VigilMetrics } from '../../src/metrics/index.ts';
import { sanitizeServedModel } from '../../src/metrics/labels.ts';
import { result, spec } from './fixtures.ts';

type Sample = { value: number; labels: Record<string, string | number>; metricName?: string };

async function samples(m: VigilMetrics, name: string): Promise<Sample[]> {
  const all = await m.registry.getMetricsAsJSON();
  const metric = all.find((x) => x.name === name);
  return (metric?.values ?? []) as Sample[];
}

async function value(m: VigilMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const s = (await samples(m, name)).find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return s?.value;
}

/** Series (lines) in the exposition that mention this probe. */
async function seriesOf(m: VigilMetrics, probe: string): Promise<string[]> {
  return (await m.metrics()).split('\n').filter((l) => l.includes(`probe="${probe}"`));
}

describe('observeResult', () => {
  it('sets the blackbox-style gauges from the last result', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.observeResult(result(), spec);
    const id = { probe: 'openai-canary', provider: 'openai', model: 'gpt-4o-mini-2024-07-18', owner: 'search-team' };
    expect(await value(m, 'probe_success', id)).toBe(1);
    expect(await value(m, 'probe_duration_seconds', id)).toBeCloseTo(0.4);
    expect(await value(m, 'probe_http_status_code', id)).toBe(200);
    // processing = ttfb - connect - tls = 250 - 20 - 30; transfer = total - ttfb = 400 - 250.
    expect(await value(m, 'probe_http_duration_seconds', { phase: 'connect' })).toBeCloseTo(0.02);
    expect(await value(m, 'probe_http_duration_seconds', { phase: 'tls' })).toBeCloseTo(0.03);
    expect(await value(m, 'probe_http_duration_seconds', { phase: 'processing' })).toBeCloseTo(0.2);
    expect(await value(m, 'probe_http_duration_seconds', { phase: 'transfer' })).toBeCloseTo(0.15);

    m.observeResult(
      result({ outcome: 'failed', errorClass: 'timeout', httpStatus: null, servedModel: null, timings: { connectMs: 10, tlsMs: null, ttfbMs: null, ttftMs: null, totalMs: 5000, outputTokensPerSec: null } }),
      spec,
    );
    expect(await value(m, 'probe_success', id)).toBe(0);
    expect(await value(m, 'probe_http_status_code', id)).toBe(0);
    expect(await value(m, 'probe_http_duration_seconds', { phase: 'processing' })).toBe(0);
    expect(await value(m, 'probe_http_duration_seconds', { phase: 'transfer' })).toBe(0);
  });

  it('counts results, tokens and cost, and fills the GenAI histograms', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.observeResult(result(), spec);
    m.observeResult(result({ outcome: 'degraded' }), spec);
    m.observeResult(result({ outcome: 'failed', errorClass: 'rate_limited', servedModel: null, tokensIn: null, tokensOut: null, costUsd: null }), spec);

    expect(await value(m, 'vigil_probe_results_total', { outcome: 'ok', error_class: 'none' })).toBe(1);
    expect(await value(m, 'vigil_probe_results_total', { outcome: 'degraded', error_class: 'none' })).toBe(1);
    expect(await value(m, 'vigil_probe_results_total', { outcome: 'failed', error_class: 'rate_limited' })).toBe(1);
    expect(await value(m, 'vigil_probe_degraded')).toBe(0);
    expect(await value(m, 'gen_ai_client_token_usage_total', { gen_ai_token_type: 'input' })).toBe(24);
    expect(await value(m, 'gen_ai_client_token_usage_total', { gen_ai_token_type: 'output' })).toBe(6);
    expect(await value(m, 'vigil_probe_cost_usd_total')).toBeCloseTo(0.00002);

    const dur = await samples(m, METRIC_NAMES.operationDuration);
    const count = (ec: string, sm: string) =>
      dur.find((s) => s.metricName?.endsWith('_count') && s.labels.error_class === ec && s.labels.served_model === sm)?.value;
    expect(count('none', 'gpt-4o-mini-2024-07-18')).toBe(2);
    expect(count('rate_limited', 'unknown')).toBe(1);
    // 0.3 s TTFT falls in the 0.5 bucket, not the 0.25 one.
    const ttft = await samples(m, METRIC_NAMES.timeToFirstChunk);
    expect(ttft.find((s) => s.labels.le === 0.25)?.value).toBe(0);
    expect(ttft.find((s) => s.labels.le === 0.5)?.value).toBe(2);
  });

  it('maps error classes to the closed list or none', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.observeResult(result({ outcome: 'failed', errorClass: 'Connection refused to https://api.example?key=sk-abc' as never }), spec);
    const classes = (await samples(m, METRIC_NAMES.results)).map((s) => s.labels.error_class);
    expect(classes).toEqual(['other']);
  });

  it('ignores drill attempts (their faults are deliberate)', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.observeResult(result({ drillId: 'primary-down', outcome: 'failed', errorClass: 'overloaded' }), spec);
    expect(await seriesOf(m, 'openai-canary')).toEqual([]);
  });

  it('keeps one served-model info series per probe, the latest', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.observeResult(result({ servedModel: 'gpt-4o-mini-2024-07-18' }), spec);
    m.observeResult(result({ servedModel: 'gpt-4o-mini-2025-01-01' }), spec);
    m.observeResult(result({ servedModel: null, outcome: 'failed', errorClass: 'connect' }), spec);
    const info = await samples(m, METRIC_NAMES.servedModelInfo);
    expect(info.map((s) => s.labels.served_model)).toEqual(['gpt-4o-mini-2025-01-01']);
  });
});

describe('cardinality', () => {
  it('1000 distinct served models give a bounded number of series', async () => {
    const m = createMetrics({ defaultMetrics: false, maxServedModelsPerProbe: 3 });
    for (let i = 0; i < 1000; i++) m.observeResult(result({ servedModel: `model-${i} <script>${'x'.repeat(i % 300)}` }), spec);
    const text = await m.metrics();
    const served = new Set([...text.matchAll(/served_model="([^"]*)"/g)].map((x) => x[1]));
    // 3 kept values plus `other`.
    expect(served.size).toBe(4);
    expect(served.has('other')).toBe(true);
    for (const v of served) expect(v).toMatch(/^[A-Za-z0-9._:/@+-]{1,64}$/);
    // Bounded total: a second batch of new names adds nothing.
    const before = text.split('\n').length;
    for (let i = 1000; i < 2000; i++) m.observeResult(result({ servedModel: `model-${i}` }), spec);
    expect((await m.metrics()).split('\n').length).toBe(before);
  });

  it('sanitises served model names', () => {
    expect(sanitizeServedModel('models/gemini-2.5-flash')).toBe('models/gemini-2.5-flash');
    expect(sanitizeServedModel('a"b\nc{d}')).toBe('a_b_c_d_');
    expect(sanitizeServedModel('x'.repeat(500))).toHaveLength(64);
    expect(sanitizeServedModel('   ')).toBe('unknown');
    expect(sanitizeServedModel(null)).toBe('unknown');
  });
});

describe('series lifecycle', () => {
  it('removeProbe drops every series of that probe and only that probe', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const other = { ...spec, id: 'anthropic-canary', target: 'provider:anthropic', model: 'claude-haiku' };
    m.observeResult(result({ outcome: 'failed', errorClass: 'timeout' }), spec);
    m.observeResult(result(), spec);
    m.observeResult(result({ probeId: other.id }), other);
    expect((await seriesOf(m, 'openai-canary')).length).toBeGreaterThan(20);

    m.removeProbe('openai-canary');
    expect(await seriesOf(m, 'openai-canary')).toEqual([]);
    expect((await seriesOf(m, 'anthropic-canary')).length).toBeGreaterThan(20);

    m.retainProbes([]);
    expect(await seriesOf(m, 'anthropic-canary')).toEqual([]);
  });

  it('a config edit that changes owner replaces the old series', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.observeResult(result(), spec);
    m.observeResult(result(), { ...spec, owner: 'platform' });
    const lines = await seriesOf(m, 'openai-canary');
    expect(lines.some((l) => l.includes('owner="search-team"'))).toBe(false);
    expect(lines.some((l) => l.includes('owner="platform"'))).toBe(true);
  });

  it('uses its own registry, not the global one', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.observeResult(result(), spec);
    expect(await globalRegistry.getSingleMetric('probe_success')).toBeUndefined();
  });
});

describe('self metrics', () => {
  it('records reloads, schedule skew and in-flight probes', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.recordConfigReload(true, 1_767_614_400_000);
    m.recordConfigReload(false, 1_767_614_500_000);
    expect(await value(m, METRIC_NAMES.configReloadSuccessful)).toBe(0);
    // Timestamp stays at the last *successful* reload.
    expect(await value(m, METRIC_NAMES.configReloadTimestamp)).toBe(1_767_614_400);

    m.observeScheduleSkew(3);
    m.observeScheduleSkew(-20);
    m.observeScheduleSkew(70);
    const skew = await samples(m, METRIC_NAMES.scheduleSkew);
    expect(skew.find((s) => s.labels.le === 0.005)?.value).toBe(2);
    expect(skew.find((s) => s.metricName?.endsWith('_count'))?.value).toBe(3);

    m.probeStarted('provider:openai');
    m.probeStarted('provider:openai');
    m.probeFinished('provider:openai');
    expect(await value(m, METRIC_NAMES.inFlight, { provider: 'openai' })).toBe(1);
  });
});

// promtool ships in Debian's `prometheus` package; CI installs it, dev machines may not have it.
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const hasPromtool = promtool.status === 0;
if (!hasPromtool) console.warn('promtool not found (apt-get install prometheus): skipping `promtool check metrics` tests');

describe.skipIf(!hasPromtool)('promtool check metrics', () => {
  const check = (text: string) => spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });

  it('accepts the full exposition, default process metrics included', async () => {
    const m = createMetrics();
    m.observeResult(result(), spec);
    m.observeResult(result({ outcome: 'failed', errorClass: 'server_error', httpStatus: 500, servedModel: null }), spec);
    m.observeResult(result({ probeId: 'gw', target: 'gateway', servedModel: 'claude-3-5-haiku' }), { ...spec, id: 'gw', target: 'gateway' });
    m.recordConfigReload(true, Date.UTC(2026, 0, 5));
    m.observeScheduleSkew(12);
    m.probeStarted('gateway');
    const out = check(await m.metrics());
    expect(out.stdout + out.stderr).toBe('');
    expect(out.status).toBe(0);
  });

  it('is a real check: it rejects a counter without _total', () => {
    const out = check('# HELP bad_counter x\n# TYPE bad_counter counter\nbad_counter 1\n');
    expect(out.status).not.toBe(0);
  });
});
