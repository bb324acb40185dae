// The daemon's side of the drift detectors (refusal/safety, output statistics, model change). The detectors are
// pure functions over results in time order; this keeps their plans and states, rebuilds the states at start by
// replaying recent stored history (no table needed), and re-plans on reload.
import type { VigilConfig } from '../config/types.ts';
import type { ProbeResult, Signal } from '../domain.ts';
import type { Store } from '../store/store.ts';
import {
  activeModelSignals,
  modelChangeOptionsFromYaml,
  newModelChangeState,
  observeModel,
  planModelChange,
  replayModelChange,
  tickModelChange,
} from './model-change.ts';
import type { Consumer, ModelChangePlan, ModelChangeState } from './model-change.ts';
import {
  activeOutputSignals,
  newOutputDriftState,
  observeOutput,
  outputDriftOptionsFromYaml,
  planOutputDrift,
  replayOutputDrift,
  tickOutputDrift,
} from './output-drift.ts';
import type { OutputDriftPlan, OutputDriftState } from './output-drift.ts';
import {
  activeRefusalSignals,
  newRefusalDriftState,
  observeRefusal,
  planRefusalDrift,
  refusalDriftOptionsFromYaml,
  refusalDriftStatus,
  replayRefusalDrift,
  tickRefusalDrift,
} from './refusal-drift.ts';
import type { RefusalDriftPlan, RefusalDriftState } from './refusal-drift.ts';

export const DRIFT_DETECTORS = ['refusal_drift', 'output_drift', 'model_change'] as const;

interface Plans {
  refusal: RefusalDriftPlan;
  output: OutputDriftPlan;
  model: ModelChangePlan;
}

export class DriftWatch {
  private plans: Plans;
  private refusal: RefusalDriftState = newRefusalDriftState();
  private output: OutputDriftState = newOutputDriftState();
  private model: ModelChangeState = newModelChangeState();

  constructor(config: VigilConfig) {
    this.plans = DriftWatch.plan(config);
  }

  private static plan(config: VigilConfig): Plans {
    const d = config.detectors;
    const consumers = config.consumers.map((c) => c.value as unknown as Consumer);
    return {
      refusal: planRefusalDrift(config.probes, refusalDriftOptionsFromYaml(d.refusal_drift)),
      output: planOutputDrift(config.probes, outputDriftOptionsFromYaml(d.output_drift)),
      model: planModelChange(config.probes, modelChangeOptionsFromYaml(d.model_change, consumers)),
    };
  }

  /**
   * Rebuild the states from stored history. Transitions on the way were sent when they happened; what is firing
   * now is returned (the incidents engine dedups it), with the keys to keep open per detector.
   */
  async restore(store: Store, now: number): Promise<{ signals: Signal[]; keep: Record<(typeof DRIFT_DETECTORS)[number], Set<string>> }> {
    const windowMs = Math.max(this.plans.refusal.options.windowMs, this.plans.output.options.windowMs, this.plans.model.options.windowMs);
    const history = await store.results({ since: now - windowMs, drills: 'exclude', order: 'asc', limit: 10_000_000 });
    this.refusal = replayRefusalDrift(this.plans.refusal, history).state;
    this.output = replayOutputDrift(this.plans.output, history).state;
    this.model = replayModelChange(this.plans.model, history).state;
    const active = {
      refusal_drift: activeRefusalSignals(this.plans.refusal, this.refusal),
      output_drift: activeOutputSignals(this.plans.output, this.output),
      model_change: activeModelSignals(this.plans.model, this.model),
    };
    return {
      signals: [...active.refusal_drift, ...active.output_drift, ...active.model_change],
      keep: {
        refusal_drift: new Set(active.refusal_drift.map((s) => s.key)),
        output_drift: new Set(active.output_drift.map((s) => s.key)),
        model_change: new Set(active.model_change.map((s) => s.key)),
      },
    };
  }

  observe(r: ProbeResult): Signal[] {
    return [
      ...observeRefusal(this.plans.refusal, this.refusal, r),
      ...observeOutput(this.plans.output, this.output, r),
      ...observeModel(this.plans.model, this.model, r),
    ];
  }

  /** Time-based resolves (settled model changes). */
  tick(now: number): Signal[] {
    return tickModelChange(this.plans.model, this.model, now);
  }

  /** After a config reload: re-plan (thresholds depend on the number of streams); resolve what removed probes left firing. */
  reload(config: VigilConfig, now: number): Signal[] {
    this.plans = DriftWatch.plan(config);
    return [...tickRefusalDrift(this.plans.refusal, this.refusal, now), ...tickOutputDrift(this.plans.output, this.output, now)];
  }

  /** Baseline bands of the refusal streams, for the status page. */
  refusalStatus() {
    return refusalDriftStatus(this.plans.refusal, this.refusal);
  }
}
