// Atrophy alerting: a drill run → a Signal for the incidents engine (detector `drill`, key = drill id), to the
// drill's owner. Failed (no fallback, wrong target, bad answer, too slow, not restored) fires at the drill's
// severity; error (could not run, fault never applied, rollback failed) fires a warning, since an unproven
// fallback is rotting too; passed resolves. Skipped and aborted runs say nothing: the fallback was not tested.
import type { Signal } from '../domain.ts';
import type { DrillRun } from './drill.ts';
import type { DrillSpec } from './scenario.ts';

export const DRILL_DETECTOR = 'drill';

export function drillLabels(drill: Pick<DrillSpec, 'id' | 'owner' | 'faults' | 'target' | 'native'>): Record<string, string> {
  const upstreams = [...new Set(drill.faults.map((f) => f.upstream))];
  return {
    drill: drill.id,
    owner: drill.owner,
    provider: upstreams.length > 0 ? upstreams.join(',') : drill.native ? 'litellm' : 'gateway',
    target: drill.target ?? 'gateway',
  };
}

export function drillSignal(run: DrillRun, drill: Pick<DrillSpec, 'id' | 'owner' | 'faults' | 'target' | 'native' | 'name' | 'expect'>): Signal | null {
  if (run.verdict !== 'passed' && run.verdict !== 'failed' && run.verdict !== 'error') return null;
  const firing = run.verdict !== 'passed';
  const name = drill.name ?? drill.id;
  const first = run.attempts.find((a) => !a.ok);
  return {
    detector: DRILL_DETECTOR,
    key: drill.id,
    severity: run.verdict === 'failed' ? run.severity : 'warning',
    status: firing ? 'firing' : 'resolved',
    summary: firing
      ? `Drill ${name} ${run.verdict === 'failed' ? 'failed' : 'could not prove the fallback'}: ${run.reason}`.slice(0, 500)
      : `Drill ${name} passed: ${run.reason}`.slice(0, 500),
    evidence: {
      run_id: run.runId,
      verdict: run.verdict,
      failure: run.failure,
      injected: run.injected,
      served_by: run.servedBy,
      expected_served_by: drill.expect.servedBy ? drill.expect.servedBy.join(' or ') : null,
      baseline_ms: run.baselineMs,
      fallback_latency_ms: run.fallbackLatencyMs,
      attempts: run.attempts.length,
      attempts_passed: run.attempts.filter((a) => a.ok).length,
      first_failure: first ? first.detail.slice(0, 300) : null,
      fault_hits: run.faults.length ? run.faults.map((f) => `${f.id}=${f.hits ?? '?'}`).join(',') : null,
      duration_ms: run.finishedAt - run.startedAt,
      proves_config_only: run.provesConfigOnly,
      rollback: run.rollback.ok ? 'ok' : run.rollback.detail.slice(0, 300),
    },
    labels: drillLabels(drill),
    at: run.finishedAt,
  };
}
