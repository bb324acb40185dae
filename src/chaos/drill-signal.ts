// Atrophy alerting: a drill run → Signals for the incidents engine (detector `drill`), to the drill's owner.
// - The verdict (key = drill id): failed (no fallback, wrong target, bad answer, too slow, not restored, safety
//   bypass) fires at the drill's severity; error (could not run, fault never applied, rollback failed) fires a
//   warning, since an unproven fallback is rotting too; passed resolves. Skipped, aborted and interrupted runs say
//   nothing: the fallback was not tested.
// - Safety drills also say whether benign prompts were left refused (key = `<drill id>:false_refusal`): a
//   warning while they are, resolved by a conclusive run where they are not.
// Safety drills carry the label `check: safety_bypass`, so alerts/*.yaml can route them to the safety owner.
import type { Signal } from '../domain.ts';
import type { DrillRun } from './drill.ts';
import type { DrillSpec } from './scenario.ts';

export const DRILL_DETECTOR = 'drill';

type DrillPart = Pick<DrillSpec, 'id' | 'owner' | 'faults' | 'target' | 'native' | 'name' | 'expect'> & Partial<Pick<DrillSpec, 'check'>>;

export function drillLabels(drill: Pick<DrillSpec, 'id' | 'owner' | 'faults' | 'target' | 'native'> & Partial<Pick<DrillSpec, 'check'>>): Record<string, string> {
  const upstreams = [...new Set(drill.faults.map((f) => f.upstream))];
  return {
    drill: drill.id,
    owner: drill.owner,
    provider: upstreams.length > 0 ? upstreams.join(',') : drill.native ? 'litellm' : 'gateway',
    target: drill.target ?? 'gateway',
    ...(drill.check === 'safety_bypass' ? { check: 'safety_bypass' } : {}),
  };
}

/** The incident keys a drill's signals use (for retiring the incidents of drills no longer configured). */
export function drillSignalKeys(drill: Pick<DrillSpec, 'id'> & Partial<Pick<DrillSpec, 'check'>>): string[] {
  return drill.check === 'safety_bypass' ? [drill.id, falseRefusalKey(drill.id)] : [drill.id];
}

const falseRefusalKey = (id: string) => `${id}:false_refusal`;

function conclusive(run: DrillRun): boolean {
  return run.verdict === 'passed' || run.verdict === 'failed' || run.verdict === 'error';
}

export function drillSignal(run: DrillRun, drill: DrillPart): Signal | null {
  if (!conclusive(run)) return null;
  const firing = run.verdict !== 'passed';
  const name = drill.name ?? drill.id;
  const first = run.attempts.find((a) => !a.ok);
  const f = run.findings?.[0];
  return {
    detector: DRILL_DETECTOR,
    key: drill.id,
    severity: run.verdict === 'failed' ? run.severity : 'warning',
    status: firing ? 'firing' : 'resolved',
    summary: firing
      ? f
        ? `Safety drill ${name} failed: the gateway let a fallback answer "${f.prompt.slice(0, 120)}" that the primary refused (${f.servedBy ?? 'unreported target'}): likely cause ${f.likelyCause}`.slice(0, 500)
        : `Drill ${name} ${run.verdict === 'failed' ? 'failed' : 'could not prove the fallback'}: ${run.reason}`.slice(0, 500)
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
      fault_hits: run.faults.length ? run.faults.map((x) => `${x.id}=${x.hits ?? '?'}`).join(',') : null,
      duration_ms: run.finishedAt - run.startedAt,
      proves_config_only: run.provesConfigOnly,
      rollback: run.rollback.ok ? 'ok' : run.rollback.detail.slice(0, 300),
      ...(f
        ? {
            prompt: f.prompt.slice(0, 300),
            answered_by: f.servedBy,
            answered_model: f.servedModel,
            excerpt: f.excerpt,
            likely_cause: f.likelyCause.slice(0, 400),
            fix: f.fix.slice(0, 400),
            bypassed_prompts: run.findings.length,
          }
        : {}),
    },
    labels: drillLabels(drill),
    at: run.finishedAt,
  };
}

/** Safety drills: benign prompts left refused (a warning), or null for other drills and inconclusive runs. */
export function falseRefusalSignal(run: DrillRun, drill: DrillPart): Signal | null {
  if (drill.check !== 'safety_bypass' || (run.verdict !== 'passed' && run.verdict !== 'failed')) return null;
  const w = run.warnings ?? [];
  const name = drill.name ?? drill.id;
  return {
    detector: DRILL_DETECTOR,
    key: falseRefusalKey(drill.id),
    severity: 'warning',
    status: w.length > 0 ? 'firing' : 'resolved',
    summary:
      w.length > 0
        ? `Drill ${name}: ${w.length} benign prompt${w.length === 1 ? '' : 's'} left refused while the primary refused it (${w[0].likelyCause}): "${w[0].prompt.slice(0, 120)}"`.slice(0, 500)
        : `Drill ${name}: benign prompts were answered during the primary's refusal`,
    evidence: {
      run_id: run.runId,
      benign_left_refused: w.length,
      prompt: w[0]?.prompt.slice(0, 300) ?? null,
      answered_by: w[0]?.servedBy ?? null,
      excerpt: w[0]?.excerpt ?? null,
      why: w[0]?.likelyCause.slice(0, 300) ?? null,
    },
    labels: drillLabels(drill),
    at: run.finishedAt,
  };
}

/** Every signal a run raises. */
export function drillSignals(run: DrillRun, drill: DrillPart): Signal[] {
  return [drillSignal(run, drill), falseRefusalSignal(run, drill)].filter((s): s is Signal => s !== null);
}
