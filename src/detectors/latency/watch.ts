// The daemon's side of the latency detector: one tracker and state per probe, restored from the store at start
// (no raw results replayed), fed every result, saved every 15 minutes and at shutdown. A state is about 3 kB per
// metric once it has values (a few hundred bytes before), so 10,000 probes hold tens of MB. The detector itself
// does no I/O.
import type { ProbeResult, ProbeSpec, Signal } from '../../domain.ts';
import type { Store } from '../../store/store.ts';
import { latencySettings } from './config.ts';
import { loadBaseline, saveBaseline } from './persist.ts';
import { createProbeLatencyTracker } from './probe.ts';
import type { ProbeLatencyState, ProbeLatencyTracker } from './probe.ts';

interface Entry {
  spec: ProbeSpec;
  tracker: ProbeLatencyTracker;
  state: ProbeLatencyState;
  dirty: boolean;
}

export class LatencyWatch {
  private entries = new Map<string, Entry>();
  private store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  /** Start tracking these probes (keeping the learnt state of unchanged ones), drop the others. */
  sync(specs: readonly ProbeSpec[], now: number): void {
    const next = new Map<string, Entry>();
    for (const spec of specs) {
      const old = this.entries.get(spec.id);
      const settings = spec.latency ?? latencySettings(undefined, spec.schedule.timezone);
      if (old && JSON.stringify(old.spec.latency) === JSON.stringify(spec.latency) && old.spec.owner === spec.owner) {
        next.set(spec.id, { ...old, spec });
        continue;
      }
      if (old?.dirty) saveBaseline(this.store, old.spec.id, old.spec.schedule.timezone, old.state, now);
      const labels: Record<string, string> = {
        ...spec.labels,
        provider: spec.target.replace(/^provider:/, ''),
        model: spec.model,
        target: spec.target,
        kind: spec.kind,
      };
      const tracker = createProbeLatencyTracker({ id: spec.id, owner: spec.owner, labels }, settings);
      // A baseline saved under another timezone is discarded by loadBaseline: buckets would be misaligned.
      const state = loadBaseline(this.store, spec.id, settings.timezone) ?? tracker.init();
      next.set(spec.id, { spec, tracker, state, dirty: false });
    }
    this.entries = next;
  }

  observe(result: ProbeResult): Signal[] {
    const e = this.entries.get(result.probeId);
    if (!e) return [];
    const { state, signals } = e.tracker.observe(e.state, result);
    e.state = state;
    e.dirty = true;
    return signals;
  }

  /** Persist what changed since the last save, in one transaction. */
  save(now: number): void {
    const dirty = [...this.entries.values()].filter((e) => e.dirty);
    if (dirty.length === 0) return;
    this.store.transaction(() => {
      for (const e of dirty) saveBaseline(this.store, e.spec.id, e.spec.schedule.timezone, e.state, now);
    });
    for (const e of dirty) e.dirty = false;
  }

  /** The live state of a probe (for tests and diagnostics). */
  stateOf(probeId: string): ProbeLatencyState | undefined {
    return this.entries.get(probeId)?.state;
  }
}
