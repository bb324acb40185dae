// Drill metrics, registered on Vigil's own registry (src/metrics: `metrics.registry`):
//   drill_success{drill,owner}                  1 when the last conclusive run passed, 0 when it failed or errored
//                                               (skipped and aborted runs prove nothing either way: unchanged)
//   drill_fallback_latency_seconds{drill,owner} extra time to first token the fallback cost in the last passed or
//                                               failed run (median during the fault minus the baseline)
//   vigil_drill_last_run_timestamp_seconds{drill,owner}
//   vigil_drill_runs_total{drill,owner,verdict}
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { DrillRunSummary } from './drill-store.ts';

export const DRILL_METRIC_NAMES = {
  success: 'drill_success',
  fallbackLatency: 'drill_fallback_latency_seconds',
  lastRun: 'vigil_drill_last_run_timestamp_seconds',
  runs: 'vigil_drill_runs_total',
} as const;

export interface DrillMetrics {
  observe(run: Pick<DrillRunSummary, 'drillId' | 'owner' | 'verdict' | 'startedAt' | 'fallbackLatencyMs'>): void;
  /** Drop the series of drills no longer configured. */
  retain(drillIds: Iterable<string>): void;
}

export function registerDrillMetrics(registry: Registry): DrillMetrics {
  const registers = [registry];
  const labelNames = ['drill', 'owner'];
  const success = new Gauge({ name: DRILL_METRIC_NAMES.success, help: 'Whether the last conclusive drill run proved the fallback (1 passed, 0 failed or error).', labelNames, registers });
  const latency = new Gauge({
    name: DRILL_METRIC_NAMES.fallbackLatency,
    help: 'Extra time to first token the fallback cost in the last drill run, seconds (median during the fault minus baseline).',
    labelNames,
    registers,
  });
  const last = new Gauge({ name: DRILL_METRIC_NAMES.lastRun, help: 'Start time of the last drill run, seconds since the epoch.', labelNames, registers });
  const runs = new Counter({ name: DRILL_METRIC_NAMES.runs, help: 'Drill runs by verdict.', labelNames: [...labelNames, 'verdict'], registers });
  const seen = new Map<string, string>();
  return {
    observe(run) {
      const labels = { drill: run.drillId, owner: run.owner };
      const prevOwner = seen.get(run.drillId);
      if (prevOwner !== undefined && prevOwner !== run.owner) drop(run.drillId, prevOwner);
      seen.set(run.drillId, run.owner);
      runs.inc({ ...labels, verdict: run.verdict });
      last.set(labels, run.startedAt / 1000);
      if (run.verdict === 'passed') success.set(labels, 1);
      else if (run.verdict === 'failed' || run.verdict === 'error') success.set(labels, 0);
      if ((run.verdict === 'passed' || run.verdict === 'failed') && run.fallbackLatencyMs !== null) latency.set(labels, run.fallbackLatencyMs / 1000);
    },
    retain(ids) {
      const keep = new Set(ids);
      for (const [drill, owner] of [...seen]) {
        if (keep.has(drill)) continue;
        drop(drill, owner);
        seen.delete(drill);
      }
    },
  };
  function drop(drill: string, owner: string): void {
    const labels = { drill, owner };
    success.remove(labels);
    latency.remove(labels);
    last.remove(labels);
    for (const verdict of ['passed', 'failed', 'skipped', 'aborted', 'error', 'interrupted']) runs.remove({ ...labels, verdict });
  }
}
