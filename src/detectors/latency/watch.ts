// The daemon's side of the latency detector: one tracker and state per probe, restored from the store (one query,
// no raw results replayed; each state decoded at its probe's first result), fed every result, saved every 15 minutes and at shutdown. A metric's state is a few
// hundred bytes until its first value and about 3 kB after (168 hour-of-week buckets of 3 float32 and a ring of
// recent calls), so 10,000 probes hold tens of MB. The detector itself does no I/O.
import type { ProbeResult, ProbeSpec, Signal } from '../../domain.ts';
import type { Store } from '../../store/store.ts';
import { latencySettings, type LatencySettings } from './config.ts';
import { decodeBaseline, loadAllBaselines, saveBaselines } from './persist.ts';
import { createProbeLatencyTracker } from './probe.ts';
import type { ProbeIdentity, ProbeLatencyState, ProbeLatencyTracker } from './probe.ts';

interface Entry {
  spec: ProbeSpec;
  /** The zone its buckets follow: a state learnt under another zone is not reused. */
  timezone: string;
  tracker: ProbeLatencyTracker;
  /** Null until first needed (a fresh state is 4.6 kB of typed arrays: 10,000 of them made start-up slower). */
  state: ProbeLatencyState | null;
  dirty: boolean;
  /** True until the stored state has been looked up (a result seen before then keeps the live state). */
  loading: boolean;
  /**
   * The stored state, not decoded yet: decoding 10,000 states at start took seconds before /readyz, so each is
   * decoded when its probe's first result arrives (or its state is asked for).
   */
  pending: string | null;
}

/** A probe's latency settings (its own, else the defaults in its timezone). */
export const latencySettingsOf = (spec: ProbeSpec): LatencySettings => spec.latency ?? latencySettings(undefined, spec.schedule.timezone);

/**
 * A probe's identity for its latency signals, read from its spec when a signal is built: the labels are needed
 * only then, and a copy per probe held for nothing would be about 300 bytes each.
 */
class SpecIdentity implements ProbeIdentity {
  readonly spec: ProbeSpec;
  constructor(spec: ProbeSpec) {
    this.spec = spec;
  }
  get id(): string {
    return this.spec.id;
  }
  get owner(): string {
    return this.spec.owner;
  }
  get labels(): Record<string, string> {
    return latencyLabels(this.spec);
  }
}

/** The labels a probe's latency signals carry besides probe, owner and metric (also the per-location feed's). */
export function latencyLabels(spec: ProbeSpec): Record<string, string> {
  return { ...spec.labels, provider: spec.target.replace(/^provider:/, ''), model: spec.model, target: spec.target, kind: spec.kind };
}

/** The tracker for a probe, its signals labelled as every probe signal is (shared with the per-location feed). */
export function latencyTracker(spec: ProbeSpec): ProbeLatencyTracker {
  return createProbeLatencyTracker(new SpecIdentity(spec), latencySettingsOf(spec));
}

export class LatencyWatch {
  private entries = new Map<string, Entry>();
  private store: Store;
  /** Resolves once the states of the last sync() are loaded. The daemon awaits it before probing starts. */
  ready: Promise<void> = Promise.resolve();

  constructor(store: Store) {
    this.store = store;
  }

  /**
   * Start tracking these probes (keeping the learnt state of unchanged ones), drop the others. Synchronous for the
   * caller (a config reload); the stored states of new or changed probes are loaded in the background (`ready`).
   */
  sync(specs: readonly ProbeSpec[], now: number): Promise<void> {
    const next = new Map<string, Entry>();
    const fresh: Entry[] = [];
    const leaving: Entry[] = [];
    for (const spec of specs) {
      const old = this.entries.get(spec.id);
      const settings = latencySettingsOf(spec);
      if (old && JSON.stringify(old.spec.latency) === JSON.stringify(spec.latency) && old.spec.owner === spec.owner) {
        // A new tracker (they are small) so signals carry the new spec's labels and the old spec is let go.
        next.set(spec.id, { ...old, spec, tracker: latencyTracker(spec) });
        continue;
      }
      if (old?.dirty) leaving.push(old);
      const tracker = latencyTracker(spec);
      const e: Entry = { spec, timezone: settings.timezone, tracker, state: null, dirty: false, loading: true, pending: null };
      next.set(spec.id, e);
      fresh.push(e);
    }
    for (const [id, old] of this.entries) if (!next.has(id) && old.dirty) leaving.push(old);
    this.entries = next;
    this.ready = this.load(fresh, leaving, now);
    return this.ready;
  }

  private async load(fresh: Entry[], leaving: Entry[], now: number): Promise<void> {
    // What a replaced or removed probe learnt is kept (a later config may bring it back).
    await this.write(leaving, now);
    if (fresh.length === 0) return;
    const stored = await loadAllBaselines(this.store);
    for (const e of fresh) {
      e.loading = false;
      const body = stored.get(e.spec.id);
      // A result that arrived meanwhile started a live state: it is kept.
      if (body !== undefined && !e.dirty) e.pending = body;
    }
  }

  /** Decode the stored state, if it is still pending (or start a fresh one). */
  private resolve(e: Entry): Entry & { state: ProbeLatencyState } {
    if (e.pending !== null) {
      // A baseline saved under another timezone is discarded: its buckets would be misaligned.
      const state = decodeBaseline(e.pending, e.timezone);
      e.pending = null;
      if (state) e.state = state;
    }
    e.state ??= e.tracker.init();
    return e as Entry & { state: ProbeLatencyState };
  }

  observe(result: ProbeResult): Signal[] {
    const found = this.entries.get(result.probeId);
    if (!found) return [];
    const e = this.resolve(found);
    const { state, signals } = e.tracker.observe(e.state, result);
    e.state = state;
    e.dirty = true;
    return signals;
  }

  /** Persist what changed since the last save, in one transaction. */
  async save(now: number): Promise<void> {
    await this.write([...this.entries.values()].filter((e) => e.dirty), now);
  }

  private async write(entries: Entry[], now: number): Promise<void> {
    if (entries.length === 0) return;
    // Serialised now, so results arriving while the write runs are simply in the next save.
    const rows = entries.map((e) => ({ probeId: e.spec.id, timezone: e.timezone, state: this.resolve(e).state }));
    for (const e of entries) e.dirty = false;
    try {
      await saveBaselines(this.store, rows, now);
    } catch (err) {
      for (const e of entries) e.dirty = true;
      throw err;
    }
  }

  /** The live state of a probe (for tests and diagnostics). */
  stateOf(probeId: string): ProbeLatencyState | undefined {
    const e = this.entries.get(probeId);
    return e && this.resolve(e).state;
  }
}
