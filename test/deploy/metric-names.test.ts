// Every metric the shipped Prometheus rules and Grafana dashboard read is one Vigil really exports: the names
// are taken from each PromQL expression and looked up in a live /metrics of `vigil demo` (the daemon on the
// shipped config against the simulator, with its probes and drills run at start). A rename in src/metrics
// without the same change in deploy/ fails here.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DETECTOR_ID as LATENCY } from '../../src/detectors/latency/probe.ts';
import { DETECTOR as AVAILABILITY } from '../../src/detectors/availability.ts';
import { DEPRECATION_DETECTOR } from '../../src/lifecycle/countdown.ts';
import { DRILL_DETECTOR } from '../../src/chaos/drill-signal.ts';
import { ROOT, dashboardExprs, metricNames, ruleExprs } from './queries.ts';

/** Made by Prometheus itself for every target, not by Vigil. */
const FROM_PROMETHEUS = new Set(['up']);

/** `# TYPE name type` lines, and which families have at least one sample. */
function families(text: string): { types: Map<string, string>; sampled: Set<string> } {
  const types = new Map<string, string>();
  const sampled = new Set<string>();
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) types.set(t[1], t[2]);
    else if (line && !line.startsWith('#')) sampled.add(/^[^{\s]+/.exec(line)![0]);
  }
  return { types, sampled };
}

/** The family a sample name belongs to (histogram `_bucket`/`_sum`/`_count` → the histogram). */
function familyOf(name: string, types: Map<string, string>): string | null {
  if (types.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && types.get(base) === 'histogram' ? base : null;
}

describe('metrics named in deploy/ exist on a live /metrics', () => {
  let child: ChildProcess | undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'vigil-deploy-'));
  let text = '';
  let out = '';

  beforeAll(async () => {
    const env: Record<string, string | undefined> = { ...process.env, VIGIL_DB: join(tmp, 'demo.db'), VIGIL_LOG_LEVEL: 'warn' };
    for (const k of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY', 'GATEWAY_API_KEY']) delete env[k];
    child = spawn(process.execPath, [join(ROOT, 'src/main.ts'), 'demo', '--port', '0', '--no-history'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const started = Date.now();
    let url = '';
    // Ready once the start-up probes and drills have reported (drill_success has a sample).
    while (Date.now() - started < 90_000) {
      await new Promise((r) => setTimeout(r, 250));
      url ||= /metrics\s+(http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(out)?.[1] ?? '';
      if (!url) continue;
      text = await (await fetch(url)).text();
      if (/^drill_success\{/m.test(text) && /^probe_success\{/m.test(text) && /^gen_ai_client_operation_time_to_first_chunk_seconds_bucket\{/m.test(text)) break;
    }
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  it('finds the PromQL metric names (the extractor itself)', () => {
    expect([...metricNames('histogram_quantile(0.95, sum by (le, probe) (rate(a_bucket{job=~"$job",x="y z"}[$__rate_interval] offset 1w))) > 2 * b or vector(0)')]).toEqual(['a_bucket', 'b']);
    expect([...metricNames('time() - max by (job) (c) > 8 * 86400 and on(job) d unless absent(up{job="vigil"})')]).toEqual(['c', 'd', 'up']);
  });

  it('every detector a rule or panel filters on is one Vigil has', () => {
    const known = new Set([LATENCY, AVAILABILITY, DEPRECATION_DETECTOR, DRILL_DETECTOR]);
    const named = [...ruleExprs(), ...dashboardExprs()].flatMap((e) => [...e.expr.matchAll(/detector="([^"]+)"/g)].map((m) => m[1]));
    expect(named.length).toBeGreaterThan(0);
    for (const d of named) expect(known, d).toContain(d);
  });

  it('every rule and dashboard query reads only metrics Vigil exports', () => {
    expect(text, out).toMatch(/^drill_success\{/m);
    const { types, sampled } = families(text);
    const exprs = [...ruleExprs(), ...dashboardExprs()];
    expect(exprs.length).toBeGreaterThan(30);
    const missing: string[] = [];
    const used = new Set<string>();
    for (const e of exprs) {
      const names = metricNames(e.expr);
      expect(names.size, `${e.where}: no metric in ${e.expr}`).toBeGreaterThan(0);
      for (const n of names) {
        if (FROM_PROMETHEUS.has(n)) continue;
        const fam = familyOf(n, types);
        if (!fam) missing.push(`${e.where}: ${n}`);
        else used.add(n);
      }
    }
    expect(missing).toEqual([]);
    // The core series are not just declared but carry samples after the start-up probes and drills.
    for (const n of ['probe_success', 'vigil_probe_degraded', 'probe_duration_seconds', 'probe_http_duration_seconds', 'probe_http_status_code',
      'vigil_probe_last_run_timestamp_seconds', 'vigil_probe_served_model_info', 'gen_ai_client_operation_time_to_first_chunk_seconds_bucket',
      'gen_ai_client_operation_duration_seconds_bucket', 'vigil_probe_results_total', 'gen_ai_client_token_usage_total', 'vigil_probe_cost_usd_total',
      'drill_success', 'vigil_drill_last_run_timestamp_seconds', 'vigil_config_last_reload_successful', 'vigil_probe_schedule_skew_seconds_bucket']) {
      expect(used.has(n), `${n} is not used by deploy/ (update this list)`).toBe(true);
      expect(sampled.has(n), `${n} has no sample on /metrics`).toBe(true);
    }
    // Declared even when nothing fires or nothing in use is retiring.
    for (const n of ['vigil_signals_firing', 'vigil_model_shutdown_timestamp_seconds']) expect(types.has(n), n).toBe(true);
  });
});
