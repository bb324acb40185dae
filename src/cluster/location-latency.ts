// Latency decided across locations, on the leader: one hour-of-week latency state per probe and location (eu-west
// and us-east have different normal latencies, so each learns its own baseline), fed from the location feed, and
// their verdicts combined per probe and metric by the same quorum as availability (quorum.ts): enough locations
// unusual → one latency incident listing them; fewer → a warning per location for Vigil's owner.
//
// Memory: a probe's tracker is shared by its locations (it holds only options; the detectors behind it are
// shared by all probes with the same settings), and a location's state exists only once that location has sent a
// result of the probe. The quorum keeps state only for a probe and metric while some location fires.
//
// Persistence: the states are saved under `<probe>@<location>` (`<probe>` for results without a location) by the
// leader, which alone runs them: every 15 minutes, at once for a state whose alert changed, and when it stops
// leading. A new leader loads a location's state when that location's first result reaches it (one query per poll
// for all it meets), never by replaying raw results; a restored alert that was firing is put back into the quorum
// silently (its incident is already open), so its recovery resolves it.
import type { ProbeResult, ProbeSpec, Signal } from '../domain.ts';
import { LATENCY_METRICS, type LatencyMetric } from '../detectors/latency/config.ts';
import { decodeBaseline } from '../detectors/latency/persist.ts';
import { DETECTOR_ID, type ProbeLatencyState, type ProbeLatencyTracker } from '../detectors/latency/probe.ts';
import { latencyLabels, latencySettingsOf, latencyTracker } from '../detectors/latency/watch.ts';
import { LocationQuorum, type QuorumWords } from './quorum.ts';

/** Where the states live (the detector_state table in the daemon; see persist.ts). */
export interface LatencyStateStore {
  /** Stored bodies of these keys (missing keys are absent). */
  load(keys: readonly string[]): Promise<Map<string, string>>;
  save(rows: { probeId: string; timezone: string; state: ProbeLatencyState }[], now: number): Promise<void>;
}

export interface LocationLatencyOptions {
  store: LatencyStateStore;
  /** The live probes by id (results of other probes are skipped). */
  spec: (id: string) => ProbeSpec | undefined;
  minFailing: () => number | undefined;
  /** Vigil's owner: single-location warnings go there. */
  owner: () => string;
  /** Locations currently reporting a probe (the feed's view; silent ones have been dropped). */
  reporting: (probe: string) => Iterable<string>;
  /**
   * This instance's location: a state stored under the bare probe id (saved before locations, or copied from a
   * single SQLite instance by `vigil migrate`) seeds this location when it has none of its own.
   */
  ownLocation: () => string;
}

/** Results without a location (instances that name none) count as this one. */
export const NO_LOCATION = 'default';

interface LocState {
  state: ProbeLatencyState;
  dirty: boolean;
}

interface Pending {
  ls: LocState;
  probe: string;
  loc: string;
  timezone: string;
}

interface ProbeEntry {
  /** Settings and owner the tracker was built from: a reload that changes them builds a new one. */
  sig: string;
  timezone: string;
  tracker: ProbeLatencyTracker;
  locs: Map<string, LocState>;
}

const WORDS: QuorumWords = {
  resolved: (unit, reporting) => `${unitText(unit)} back to normal (${reporting} location${reporting === 1 ? '' : 's'} reporting)`,
  alone: (unit, loc, s, failing, reporting, need) =>
    `${unitText(unit)} unusual from ${loc} only (${failing} of ${reporting} locations; ${need} needed to page): regional slowness or ${loc} egress? ${s.summary}`,
  aloneResolved: (unit, loc) => `${unitText(unit)} no longer unusual from ${loc} alone`,
};

/** "openai-canary:total" → "openai-canary total time". */
function unitText(unit: string): string {
  const i = unit.lastIndexOf(':');
  const metric = unit.slice(i + 1);
  return `${unit.slice(0, i)} ${metric === 'ttft' ? 'time to first token' : 'total time'}`;
}

/** The key a probe's state is stored under for a location. */
export const stateKey = (probe: string, loc: string): string => (loc === NO_LOCATION ? probe : `${probe}@${loc}`);

export class LocationLatency {
  private readonly o: LocationLatencyOptions;
  private readonly quorum: LocationQuorum;
  private readonly probes = new Map<string, ProbeEntry>();
  /** States whose alert changed since the last save (saved at once: a takeover must see every open alert). */
  private readonly urgent = new Map<LocState, { probe: string; loc: string }>();

  constructor(o: LocationLatencyOptions) {
    this.o = o;
    this.quorum = new LocationQuorum({
      minFailing: o.minFailing,
      owner: o.owner,
      // An anomaly (warning) and an SLO breach (critical) both count: each is the latency detector's page.
      counts: () => true,
      words: WORDS,
      reporting: (unit) => o.reporting(unit.slice(0, unit.lastIndexOf(':'))),
    });
  }

  /** Forget everything (a new leadership starts from what is stored). */
  reset(): void {
    this.probes.clear();
    this.quorum.clear();
    this.urgent.clear();
  }

  /** How many probe × location states are held (for tests and diagnostics). */
  get states(): number {
    let n = 0;
    for (const e of this.probes.values()) n += e.locs.size;
    return n;
  }

  /** The live state of a probe at a location. */
  stateOf(probe: string, loc: string): ProbeLatencyState | undefined {
    return this.probes.get(probe)?.locs.get(loc)?.state;
  }

  /**
   * Load the stored states of the probe × location pairs these results need and do not have yet (one query).
   * A restored alert that was firing goes back into the quorum without a signal: its incident is open already.
   */
  async prepare(results: readonly ProbeResult[]): Promise<void> {
    const need = new Map<string, { probe: string; loc: string }>();
    for (const r of results) {
      const loc = r.location ?? NO_LOCATION;
      const e = this.entry(r.probeId);
      if (!e || e.locs.has(loc)) continue;
      need.set(stateKey(r.probeId, loc), { probe: r.probeId, loc });
    }
    if (need.size === 0) return;
    const own = this.o.ownLocation();
    const keys = [...need.keys()];
    for (const { probe, loc } of need.values()) if (loc === own && loc !== NO_LOCATION) keys.push(probe);
    const stored = await this.o.store.load(keys);
    for (const [key, { probe, loc }] of need) {
      const e = this.entry(probe);
      if (!e || e.locs.has(loc)) continue;
      const body = stored.get(key) ?? (loc === own ? stored.get(probe) : undefined);
      const state = (body !== undefined && decodeBaseline(body, e.timezone)) || e.tracker.init();
      e.locs.set(loc, { state, dirty: false });
      for (const m of LATENCY_METRICS) {
        const a = state[m].alert;
        if (a.firing) this.quorum.observe(`${probe}:${m}`, loc, carried(this.o.spec(probe)!, m, a.cause, a.since));
      }
    }
  }

  /**
   * One result: its location's state, then the quorum per metric. A location seen for the first time without
   * prepare() starts learning afresh.
   */
  observe(r: ProbeResult): Signal[] {
    const e = this.entry(r.probeId);
    if (!e) return [];
    const loc = r.location ?? NO_LOCATION;
    let ls = e.locs.get(loc);
    if (!ls) e.locs.set(loc, (ls = { state: e.tracker.init(), dirty: false }));
    const { state, signals } = e.tracker.observe(ls.state, r);
    ls.state = state;
    ls.dirty = true;
    const out: Signal[] = [];
    for (const m of LATENCY_METRICS) {
      const unit = `${r.probeId}:${m}`;
      const s = signals.find((x) => x.key === unit) ?? null;
      if (s) this.urgent.set(ls, { probe: r.probeId, loc });
      out.push(...this.quorum.observe(unit, loc, s));
    }
    return out;
  }

  /** Keep only these locations of a probe (the others fell silent). */
  retain(probe: string, live: ReadonlySet<string>, at: number): Signal[] {
    return LATENCY_METRICS.flatMap((m) => this.quorum.retain(`${probe}:${m}`, live, at));
  }

  /** True when an alert changed since the last save: the caller calls saveUrgent() now rather than waiting. */
  get pendingUrgent(): boolean {
    return this.urgent.size > 0;
  }

  /** Persist only the states whose alert changed (a handful; the rest wait for the 15-minute save). */
  async saveUrgent(now: number): Promise<void> {
    const picked = [...this.urgent].filter(([ls]) => ls.dirty);
    this.urgent.clear();
    await this.write(
      picked.map(([ls, { probe, loc }]) => ({ ls, probe, loc, timezone: this.probes.get(probe)?.timezone })).filter((x): x is Pending => x.timezone !== undefined),
      now,
    );
  }

  /** Persist every state changed since the last save, keyed by location; drop probes no longer configured. */
  async save(now: number): Promise<void> {
    const pending: Pending[] = [];
    for (const [probe, e] of this.probes) for (const [loc, ls] of e.locs) if (ls.dirty) pending.push({ ls, probe, loc, timezone: e.timezone });
    this.urgent.clear();
    await this.write(pending, now);
    for (const probe of [...this.probes.keys()]) if (!this.o.spec(probe)) this.probes.delete(probe);
  }

  private async write(pending: Pending[], now: number): Promise<void> {
    if (pending.length === 0) return;
    // Serialised by the store call before any await of ours returns, so results arriving meanwhile are in the next save.
    const rows = pending.map((p) => ({ probeId: stateKey(p.probe, p.loc), timezone: p.timezone, state: p.ls.state }));
    for (const p of pending) p.ls.dirty = false;
    try {
      await this.o.store.save(rows, now);
    } catch (err) {
      for (const p of pending) p.ls.dirty = true;
      throw err;
    }
  }

  /** The probe's tracker (rebuilt when its settings changed; states kept unless its timezone did). */
  private entry(probe: string): ProbeEntry | null {
    const spec = this.o.spec(probe);
    if (!spec) return null;
    const settings = latencySettingsOf(spec);
    const sig = JSON.stringify([settings, spec.owner, spec.labels, spec.target, spec.model, spec.kind]);
    let e = this.probes.get(probe);
    if (e && e.sig === sig) return e;
    const locs = e && e.timezone === settings.timezone ? e.locs : new Map<string, LocState>();
    e = { sig, timezone: settings.timezone, tracker: latencyTracker(spec), locs };
    this.probes.set(probe, e);
    return e;
  }
}

/** A restored firing alert as the quorum's input (never sent: only its location's later verdicts are). */
function carried(spec: ProbeSpec, metric: LatencyMetric, cause: 'anomaly' | 'slo' | null, since: number | null): Signal {
  return {
    detector: DETECTOR_ID,
    key: `${spec.id}:${metric}`,
    severity: cause === 'slo' ? 'critical' : 'warning',
    status: 'firing',
    summary: `${spec.id} ${metric} latency alert restored from the stored state`,
    evidence: { metric, cause, since: since === null ? null : new Date(since).toISOString() },
    labels: { ...latencyLabels(spec), probe: spec.id, owner: spec.owner, metric },
    at: since ?? 0,
  };
}
