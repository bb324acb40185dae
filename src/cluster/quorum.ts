// Location quorum: availability decided across vantage points, as synthetic-monitoring tools do ("alert when N of
// M locations fail"). Each location's results go through their own availability detector; this combines what
// they say, per probe:
//  - at least `minFailing` locations failing (default: a majority of the locations that report the probe) →
//    the probe's availability signal fires (a page), listing the locations that see it;
//  - fewer (say one of three) → no page: a warning per failing location, "eu-west egress or regional outage",
//    routed to Vigil's own owner, since what is broken is probably that vantage point, not the provider;
//  - none → everything resolves.
// Warnings that come from a location's detector itself (config problems: auth, bad request) pass through as they
// are. Pure: no I/O, no clock; it returns only what changed.
// The same rule decides latency (location-latency.ts): there every firing verdict counts (an anomaly is a warning,
// an SLO breach critical), the words differ, and a unit's state exists only while some location fires (10,000
// probes × 2 metrics would otherwise each hold a map of locations for nothing).
import type { Signal } from '../domain.ts';

export const LOCATION_DETECTOR = 'location';

export interface QuorumOptions {
  /** Locations that must see a failure before it pages (default: a majority of those reporting the probe). */
  minFailing?: () => number | undefined;
  /** Owner that receives single-location warnings (Vigil's own operators). */
  owner: () => string;
  /** Which firing verdicts count towards the quorum; the others pass through (default: critical ones). */
  counts?: (s: Signal) => boolean;
  /** The words (default: availability's). */
  words?: QuorumWords;
  /**
   * Lazy state: when given, a unit is tracked only from its first firing verdict (its locations taken from here)
   * and forgotten once everything it held has resolved; verdicts of null for an untracked unit are ignored.
   */
  reporting?: (unit: string) => Iterable<string>;
}

export interface QuorumWords {
  /** The unit's probe-level signal resolved. */
  resolved(unit: string, reporting: number): string;
  /** A location fails while too few others do to page. */
  alone(unit: string, loc: string, s: Signal, failing: number, reporting: number, need: number): string;
  /** That location's warning resolved. */
  aloneResolved(unit: string, loc: string): string;
}

const AVAILABILITY_WORDS: QuorumWords = {
  resolved: (probe, reporting) => `${probe} available again (${reporting} location${reporting === 1 ? '' : 's'} reporting)`,
  alone: (probe, loc, s, failing, reporting, need) =>
    `${probe} fails from ${loc} only (${failing} of ${reporting} locations; ${need} needed to page): ${loc} egress or regional outage? ${s.summary}`,
  aloneResolved: (probe, loc) => `${probe} no longer fails from ${loc} alone`,
};

interface ProbeState {
  /** Last signal per location while it fires (null: healthy, or no opinion yet). */
  byLocation: Map<string, Signal | null>;
  /** The probe-level signal last emitted while firing (the page, or a passed-through warning), for its resolve. */
  probeLevel: Signal | null;
  /** Locations with a single-location warning out. */
  warned: Map<string, Signal>;
}

/** Majority of `n`: 1 of 1, 2 of 2, 2 of 3, 3 of 4, 3 of 5. */
export const majority = (n: number): number => Math.floor(n / 2) + 1;

const rank = (s: Signal): number => (s.severity === 'critical' ? 2 : s.severity === 'warning' ? 1 : 0);

export class LocationQuorum {
  private readonly o: QuorumOptions;
  private readonly probes = new Map<string, ProbeState>();

  private readonly words: QuorumWords;

  constructor(o: QuorumOptions) {
    this.o = o;
    this.words = o.words ?? AVAILABILITY_WORDS;
  }

  /** Locations that have reported `probe`, with the last per-location signal of each. */
  locations(probe: string): Map<string, Signal | null> {
    return new Map(this.probes.get(probe)?.byLocation ?? []);
  }

  /**
   * A location's availability verdict for a probe (a signal from its detector, or null when it has none but
   * reports the probe). Returns the combined signals to ingest: only what changed.
   */
  observe(probe: string, location: string, s: Signal | null): Signal[] {
    let st = this.probes.get(probe);
    if (!st) {
      if (this.o.reporting && (s === null || s.status !== 'firing')) return [];
      this.probes.set(probe, (st = { byLocation: new Map(), probeLevel: null, warned: new Map() }));
      for (const loc of this.o.reporting?.(probe) ?? []) st.byLocation.set(loc, null);
    }
    if (s !== null) st.byLocation.set(location, s.status === 'firing' ? s : null);
    else if (!st.byLocation.has(location)) st.byLocation.set(location, null);
    return this.combine(probe, st, s?.at ?? null);
  }

  /** Keep only these locations of a probe (an instance retired); resolves what the others held open. */
  retain(probe: string, locations: ReadonlySet<string>, at: number): Signal[] {
    const st = this.probes.get(probe);
    if (!st) return [];
    for (const loc of [...st.byLocation.keys()]) if (!locations.has(loc)) st.byLocation.delete(loc);
    return this.combine(probe, st, at);
  }

  /** Forget everything (a new leadership). */
  clear(): void {
    this.probes.clear();
  }

  /** How many units hold state (lazy mode forgets quiet ones). */
  get size(): number {
    return this.probes.size;
  }

  private combine(probe: string, st: ProbeState, at: number | null): Signal[] {
    const out: Signal[] = [];
    const reporting = st.byLocation.size;
    const firing = [...st.byLocation].filter((e): e is [string, Signal] => e[1] !== null).sort(([a], [b]) => a.localeCompare(b));
    // Config problems (warnings from a location's detector) are the probe's own, wherever seen: passed through,
    // never counted towards a page.
    const counts = this.o.counts ?? ((x: Signal) => x.severity === 'critical');
    // The most severe first (an SLO breach before an anomaly), then by name: the page reads as its worst location.
    const critical = firing.filter(([, x]) => counts(x)).sort(([, a], [, b]) => rank(b) - rank(a));
    const configWarning = firing.find(([, x]) => !counts(x))?.[1] ?? null;
    const need = Math.min(reporting, Math.max(1, this.o.minFailing?.() ?? majority(reporting)));
    const page = critical.length > 0 && critical.length >= need;
    const when = at ?? firing[0]?.[1].at ?? st.probeLevel?.at ?? 0;

    // The probe-level signal: the page (listing the locations), else a config warning, else nothing.
    let level: Signal | null = null;
    if (page) {
      const locs = critical.map(([l]) => l).sort();
      const first = critical[0][1];
      level = {
        ...first,
        summary: `${first.summary} — seen from ${locs.join(', ')} (${locs.length} of ${reporting} location${reporting === 1 ? '' : 's'})`,
        labels: { ...first.labels, locations: locs.join(',') },
        evidence: { ...first.evidence, locations: locs.join(','), failing_locations: locs.length, reporting_locations: reporting },
      };
    } else if (configWarning) {
      level = configWarning;
    }
    const prev = st.probeLevel;
    if (level && (!prev || prev.severity !== level.severity || prev.labels.locations !== level.labels.locations || prev.summary !== level.summary)) {
      out.push({ ...level, at: when });
      st.probeLevel = level;
    } else if (!level && prev) {
      out.push({ ...prev, status: 'resolved', at: when, summary: this.words.resolved(probe, reporting) });
      st.probeLevel = null;
    }

    // One warning per location that fails while too few others do to page; resolved once it recovers or pages.
    const alone = new Map(page ? [] : critical);
    for (const [loc, sig] of alone) {
      if (st.warned.has(loc)) continue;
      const w = this.locationWarning(probe, loc, sig, 'firing', critical.length, reporting, need, when);
      st.warned.set(loc, w);
      out.push(w);
    }
    for (const [loc, w] of [...st.warned]) {
      if (alone.has(loc)) continue;
      st.warned.delete(loc);
      out.push({ ...w, status: 'resolved', at: when, summary: this.words.aloneResolved(probe, loc) });
    }
    if (this.o.reporting && !st.probeLevel && st.warned.size === 0 && firing.length === 0) this.probes.delete(probe);
    return out;
  }

  private locationWarning(probe: string, loc: string, s: Signal, status: 'firing', failing: number, reporting: number, need: number, at: number): Signal {
    return {
      detector: LOCATION_DETECTOR,
      key: `${probe}@${loc}`,
      severity: 'warning',
      status,
      summary: this.words.alone(probe, loc, s, failing, reporting, need),
      evidence: { ...s.evidence, location: loc, failing_locations: failing, reporting_locations: reporting, needed: need },
      // Routed to Vigil's own owner: what is broken is probably this vantage point, not the provider.
      labels: { ...s.labels, probe: s.labels.probe ?? probe, location: loc, owner: this.o.owner() },
      at,
    };
  }
}
