// The compact per-probe series must export exactly what prom-client's own Gauge, Counter and Histogram export for
// the same observations (text and JSON), default labels included.
import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { createMetrics, LLM_LATENCY_BUCKETS } from '../../src/metrics/index.ts';
import { result, spec } from './fixtures.ts';

const block = (text: string, name: string) =>
  text
    .split('\n\n')
    .find((b) => b.includes(`# TYPE ${name} `))!
    .trim();

describe('compact per-probe series', () => {
  it("export the same text and JSON as prom-client's metric classes", async () => {
    const m = createMetrics({ defaultMetrics: false });
    const ref = new Registry();
    for (const r of [m.registry, ref]) r.setDefaultLabels({ location: 'eu-west' });
    const registers = [ref];
    const ID = ['probe', 'provider', 'model', 'owner'];
    const SERVED = [...ID, 'served_model'];
    const op = new Histogram({ name: 'gen_ai_client_operation_duration_seconds', help: 'x', labelNames: [...SERVED, 'error_class'], buckets: LLM_LATENCY_BUCKETS, registers });
    const phases = new Gauge({ name: 'probe_http_duration_seconds', help: 'x', labelNames: [...ID, 'phase'], registers });
    const results = new Counter({ name: 'vigil_probe_results_total', help: 'x', labelNames: [...ID, 'outcome', 'error_class'], registers });
    const tokens = new Counter({ name: 'gen_ai_client_token_usage_total', help: 'x', labelNames: [...SERVED, 'gen_ai_token_type'], registers });

    const totals = [120, 0, 61_000, 999, 45_000, 7_500];
    for (let i = 0; i < 3; i++) {
      const s = { ...spec, id: `p${i}` };
      const id = { probe: s.id, provider: 'openai', model: spec.model, owner: spec.owner };
      totals.forEach((totalMs, j) => {
        const failed = j === 2;
        const r = result({ probeId: s.id, outcome: failed ? 'failed' : 'ok', errorClass: failed ? 'timeout' : null, tokensIn: j, timings: { connectMs: 20, tlsMs: 30, ttfbMs: 250, ttftMs: 300, totalMs, outputTokensPerSec: null } });
        m.observeResult(r, s);
        const served = { ...id, served_model: spec.model };
        op.observe({ ...served, error_class: failed ? 'timeout' : 'none' }, totalMs > 0 ? totalMs / 1000 : 0);
        for (const [phase, v] of [['connect', 0.02], ['tls', 0.03], ['processing', 0.2], ['transfer', totalMs > 250 ? (totalMs - 250) / 1000 : 0]] as const) phases.set({ ...id, phase }, v);
        results.inc({ ...id, outcome: failed ? 'failed' : 'ok', error_class: failed ? 'timeout' : 'none' });
        tokens.inc({ ...served, gen_ai_token_type: 'input' }, j);
        tokens.inc({ ...served, gen_ai_token_type: 'output' }, 3);
      });
    }
    const [ours, theirs] = [await m.metrics(), await ref.metrics()];
    for (const name of ['gen_ai_client_operation_duration_seconds', 'probe_http_duration_seconds', 'vigil_probe_results_total', 'gen_ai_client_token_usage_total']) {
      const body = (t: string) => block(t, name).split('\n').slice(2).join('\n'); // help texts differ: ours are the real ones
      expect(body(ours), name).toBe(body(theirs));
      const json = async (r: Registry) => (await r.getMetricsAsJSON()).find((x) => x.name === name)!.values;
      expect(await json(m.registry), name).toStrictEqual(await json(ref));
    }
    expect(block(ours, 'gen_ai_client_operation_duration_seconds')).toContain(
      'gen_ai_client_operation_duration_seconds_bucket{le="60",location="eu-west",probe="p0",provider="openai",model="gpt-4o-mini-2024-07-18",owner="search-team",served_model="gpt-4o-mini-2024-07-18",error_class="none"} 5',
    );
  });
});
