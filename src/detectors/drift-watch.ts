// The daemon's side of the drift detectors (refusal/safety, output statistics, model change). The detectors are
// pure functions over results in time order; this keeps their plans and states, saves the states (drift-persist.ts)
// and at start resumes from the last save plus the stored results after it (or, with no save, rebuilds from the
// stored history of the last window), and re-plans on reload.
import type { VigilConfig } from '../config/types.ts';
import type { ProbeResult, Signal } from '../domain.ts';
import type { Store } from '../store/store.ts';
import { loadDriftSnapshot, saveDriftSnapshot } from './drift-persist.ts';
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

/**
 * Results are observed when they finish, not in startedAt order: on resume, stored results that started this long
 * before the last one seen are looked at again (those already seen are skipped by identity). Longer than any probe.
 */
export const RESUME_SLACK_MS = 15 * 60_000;

/** A result's identity as saved in the snapshot's `seen` list. */
const identity = (probeId: string, startedAt: number, attempt: number) => `${probeId}|${startedAt}|${attempt}`;

/** `probe|startedAt|attempt` back to its parts (the probe id may itself hold a `|`). */
function parseIdentity(id: string): { probeId: string; startedAt: number; attempt: number } | null {
  const b = id.lastIndexOf('|');
  const a = id.lastIndexOf('|', b - 1);
  if (a <= 0) return null;
  const startedAt = Number(id.slice(a + 1, b));
  const attempt = Number(id.slice(b + 1));
  return Number.isFinite(startedAt) && Number.isFinite(attempt) ? { probeId: id.slice(0, a), startedAt, attempt } : null;
}

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
  /**
   * Latest startedAt seen, and per probe the results seen that started within RESUME_SLACK_MS of it, as
   * [startedAt, attempt, …]: a quarter of an hour of 10,000 probes every minute is 150,000 results, which as
   * identity strings in one Map held about 20 MB.
   */
  private watermark = -Infinity;
  private recent = new Map<string, number[]>();
  /** Something was learnt since the last save or load: the periodic save (which also runs at start) skips otherwise. */
  private changed = true;

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
  async restore(store: Store, now: number, key = 'default'): Promise<{ signals: Signal[]; keep: Record<(typeof DRIFT_DETECTORS)[number], Set<string>> }> {
    const saved = await loadDriftSnapshot(store, key);
    if (saved) {
      // Resume: the saved states, then what was stored after the save (its signals were sent when they happened).
      this.refusal = saved.refusal;
      this.output = saved.output;
      this.model = saved.model;
      this.watermark = saved.watermark;
      this.recent = new Map();
      for (const id of saved.seen) {
        const p = parseIdentity(id);
        if (p) this.remember(p.probeId, p.startedAt, p.attempt);
      }
      this.changed = false;
      const tail = await store.results({ since: saved.watermark - RESUME_SLACK_MS, drills: 'exclude', order: 'asc', limit: 10_000_000 });
      for (const r of tail) if (!this.seen(r)) this.observe(r);
    } else {
      const windowMs = Math.max(this.plans.refusal.options.windowMs, this.plans.output.options.windowMs, this.plans.model.options.windowMs);
      const history = await store.results({ since: now - windowMs, drills: 'exclude', order: 'asc', limit: 10_000_000 });
      this.refusal = replayRefusalDrift(this.plans.refusal, history).state;
      this.output = replayOutputDrift(this.plans.output, history).state;
      this.model = replayModelChange(this.plans.model, history).state;
      for (const r of history) this.note(r);
    }
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
    this.note(r);
    return [
      ...observeRefusal(this.plans.refusal, this.refusal, r),
      ...observeOutput(this.plans.output, this.output, r),
      ...observeModel(this.plans.model, this.model, r),
    ];
  }

  private note(r: ProbeResult): void {
    this.changed = true;
    if (r.startedAt < this.watermark - RESUME_SLACK_MS) return;
    this.remember(r.probeId, r.startedAt, r.attempt);
  }

  private remember(probeId: string, startedAt: number, attempt: number): void {
    if (startedAt > this.watermark) this.watermark = startedAt;
    let l = this.recent.get(probeId);
    if (!l) this.recent.set(probeId, (l = []));
    else keepRecent(l, this.watermark - RESUME_SLACK_MS);
    l.push(startedAt, attempt);
  }

  private seen(r: ProbeResult): boolean {
    const l = this.recent.get(r.probeId);
    if (l) for (let i = 0; i < l.length; i += 2) if (l[i] === r.startedAt && l[i + 1] === r.attempt) return true;
    return false;
  }

  private prune(): void {
    const cut = this.watermark - RESUME_SLACK_MS;
    for (const [id, l] of this.recent) if (keepRecent(l, cut) === 0) this.recent.delete(id);
  }

  /** Persist the learnt states and how far they have seen (one row; a few kB per probe). */
  async save(store: Store, now: number, key = 'default'): Promise<void> {
    this.prune();
    if (!Number.isFinite(this.watermark)) return; // nothing seen yet: nothing to keep
    // Unchanged since loaded or saved (the save the daemon runs at start): encoding 10,000 probes' states is not free.
    if (!this.changed) return;
    this.changed = false;
    try {
      const seen: string[] = [];
      for (const [id, l] of this.recent) for (let i = 0; i < l.length; i += 2) seen.push(identity(id, l[i], l[i + 1]));
      await saveDriftSnapshot(store, key, { version: 1, watermark: this.watermark, seen, refusal: this.refusal, output: this.output, model: this.model }, now);
    } catch (err) {
      this.changed = true;
      throw err;
    }
  }

  /** The live states (tests and diagnostics). */
  states(): { refusal: RefusalDriftState; output: OutputDriftState; model: ModelChangeState } {
    return { refusal: this.refusal, output: this.output, model: this.model };
  }

  /** Time-based resolves (settled model changes). */
  tick(now: number): Signal[] {
    const signals = tickModelChange(this.plans.model, this.model, now);
    if (signals.length) this.changed = true;
    return signals;
  }

  /** After a config reload: re-plan (thresholds depend on the number of streams); resolve what removed probes left firing. */
  reload(config: VigilConfig, now: number): Signal[] {
    this.plans = DriftWatch.plan(config);
    this.changed = true;
    return [...tickRefusalDrift(this.plans.refusal, this.refusal, now), ...tickOutputDrift(this.plans.output, this.output, now)];
  }

  /** Baseline bands of the refusal streams, for the status page. */
  refusalStatus() {
    return refusalDriftStatus(this.plans.refusal, this.refusal);
  }
}

/** Drop the [startedAt, attempt] pairs that started before `cut`, in place; the pairs left. */
function keepRecent(l: number[], cut: number): number {
  let j = 0;
  for (let i = 0; i < l.length; i += 2) {
    if (l[i] < cut) continue;
    l[j++] = l[i];
    l[j++] = l[i + 1];
  }
  l.length = j;
  return j / 2;
}
