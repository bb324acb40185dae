// The leader's view of every location: it follows the results all instances record in the shared store, runs one
// availability detector per location, and combines their verdicts per probe through the location quorum
// (quorum.ts). So a probe pages when enough vantage points see it fail, and one location failing alone is a
// warning for Vigil's owner naming that location.
//
// Rows are followed by id. Ids are given at insert but become visible at commit, so a row may appear after one
// with a higher id: each poll re-reads a window below the highest id seen and skips the ids already taken.
// A location that has reported nothing for `staleMs` (its instance stopped) no longer counts towards the quorum.
// Latency goes the same way when `latency` is given (location-latency.ts: one state per probe and location).
import type { ProbeResult, Signal } from '../domain.ts';
import { AvailabilityDetector, evaluateAvailability, type ProbeIdentity } from '../detectors/availability.ts';
import type { AvailabilitySettings } from '../incidents/config.ts';
import type { LocationLatency } from './location-latency.ts';
import { LocationQuorum } from './quorum.ts';

export interface ResultSource {
  resultsAfter(afterId: number, limit?: number): Promise<{ id: number; result: ProbeResult }[]>;
  maxResultId(): Promise<number>;
  results(q: { probe?: string; location?: string; since?: number; limit?: number; order?: 'asc' | 'desc'; drills?: 'exclude' }): Promise<ProbeResult[]>;
}

export interface LocationFeedOptions {
  source: ResultSource;
  settings: () => AvailabilitySettings;
  /** The live probes by id (a result of a probe no longer configured is skipped). */
  probe: (id: string) => ProbeIdentity | undefined;
  minFailing: () => number | undefined;
  /** Vigil's owner: single-location warnings go there. */
  owner: () => string;
  /** A location silent this long stops counting (default 5 min). */
  staleMs?: number;
  /** How far below the highest id seen each poll looks again for rows committed late. */
  reread?: number;
  /** Latency per location (its `reporting` should be this feed's `reporting`). */
  latency?: LocationLatency;
}

const OWN = 'default';

export class LocationFeed {
  private readonly o: LocationFeedOptions;
  private readonly quorum: LocationQuorum;
  private readonly detectors = new Map<string, AvailabilityDetector>();
  /** Newest startedAt per probe and location. */
  private readonly lastSeen = new Map<string, Map<string, number>>();
  private high = 0;
  /** Rows up to this id were covered by start()'s seeding: never observed again (a takeover would re-fire old failures). */
  private seededUpTo = 0;
  private readonly taken = new Set<number>();

  constructor(o: LocationFeedOptions) {
    this.o = o;
    this.quorum = new LocationQuorum({ minFailing: o.minFailing, owner: o.owner });
  }

  /** Persist the per-location latency states that changed (leader: every 15 min, at once after an alert changed). */
  async saveLatency(now: number): Promise<void> {
    await this.o.latency?.save(now);
  }

  /** Leadership lost: what the latency states learnt is saved for the next leader, and their memory freed. */
  async stepDown(now: number): Promise<void> {
    try {
      await this.o.latency?.save(now);
    } finally {
      this.o.latency?.reset();
    }
  }

  /** Persist only the latency states whose alert changed (after a poll that changed one). */
  async saveLatencyUrgent(now: number): Promise<void> {
    await this.o.latency?.saveUrgent(now);
  }

  /** An alert of a location's latency changed since the last save. */
  get latencyUrgent(): boolean {
    return this.o.latency?.pendingUrgent ?? false;
  }

  /** Locations that currently report a probe (silent ones are dropped at each poll). */
  reporting(probe: string): Iterable<string> {
    return this.lastSeen.get(probe)?.keys() ?? [];
  }

  /** The last per-location verdicts of a probe (null: healthy), for the status page. */
  locations(probe: string): Map<string, Signal | null> {
    return this.quorum.locations(probe);
  }

  /**
   * Start following from now: detectors are seeded with each location's recent results of each probe (a new leader
   * carries on the streaks the old one saw), and the quorum with their verdicts, silently: what the old leader
   * opened (a page, a location's warning) is known open here, so a recovery before any new failure is seen
   * still resolves it. Then only newer rows are read.
   */
  async start(now: number, probes: readonly string[]): Promise<void> {
    this.high = await this.o.source.maxResultId();
    this.seededUpTo = this.high;
    this.taken.clear();
    this.quorum.clear();
    // Latency states are loaded from the store as each location's results arrive (never from raw results).
    this.o.latency?.reset();
    const since = now - (this.o.staleMs ?? 300_000);
    for (const id of probes) {
      const recent = (await this.o.source.results({ probe: id, since, order: 'desc', limit: 200, drills: 'exclude' })).reverse();
      const byLoc = new Map<string, ProbeResult[]>();
      for (const r of recent) {
        const loc = r.location ?? OWN;
        byLoc.set(loc, [...(byLoc.get(loc) ?? []), r]);
      }
      const spec = this.o.probe(id);
      for (const [loc, rs] of byLoc) {
        this.detector(loc).seed(id, rs.slice(-20));
        this.see(id, loc, rs.at(-1)!.startedAt);
        // The signals are those the old leader already ingested: dropped (an open incident stays as it is).
        if (spec) this.quorum.observe(id, loc, evaluateAvailability(spec, rs.slice(-20), this.o.settings()));
      }
    }
  }

  /** Read what was recorded since the last poll; returns the combined signals to ingest (only what changed). */
  async poll(now: number): Promise<Signal[]> {
    const out: Signal[] = [];
    const from = Math.max(0, this.high - (this.o.reread ?? 2_000));
    for (;;) {
      const page = await this.o.source.resultsAfter(from + 0, 5_000);
      const fresh = page.filter(({ id }) => !(this.taken.has(id) || id <= from || id <= this.seededUpTo));
      await this.o.latency?.prepare(fresh.filter(({ result }) => !result.drillId).map(({ result }) => result));
      for (const { id, result } of fresh) {
        this.taken.add(id);
        if (id > this.high) this.high = id;
        out.push(...this.observe(result));
      }
      if (page.length < 5_000 || fresh.length === 0) break;
    }
    // Forget ids below the re-read window.
    const floor = this.high - (this.o.reread ?? 2_000);
    for (const id of this.taken) if (id <= floor) this.taken.delete(id);
    out.push(...this.expireSilent(now));
    return out;
  }

  /** One result (any location): its location's detector, then the quorum. */
  observe(r: ProbeResult): Signal[] {
    if (r.drillId) return [];
    const spec = this.o.probe(r.probeId);
    if (!spec) return [];
    const loc = r.location ?? OWN;
    this.see(r.probeId, loc, r.startedAt);
    const s = this.detector(loc).observe(spec, r);
    const out = this.quorum.observe(r.probeId, loc, s);
    // Failed attempts carry no latency (the tracker skips them), so availability and latency never double-page.
    if (this.o.latency && r.outcome !== 'unknown') out.push(...this.o.latency.observe(r));
    return out;
  }

  private expireSilent(now: number): Signal[] {
    const out: Signal[] = [];
    const stale = this.o.staleMs ?? 300_000;
    for (const [probe, locs] of this.lastSeen) {
      const live = new Set([...locs].filter(([, at]) => now - at <= stale).map(([l]) => l));
      if (live.size === locs.size) continue;
      for (const l of [...locs.keys()]) if (!live.has(l)) locs.delete(l);
      out.push(...this.quorum.retain(probe, live, now));
      if (this.o.latency) out.push(...this.o.latency.retain(probe, live, now));
    }
    return out;
  }

  private see(probe: string, loc: string, at: number): void {
    let m = this.lastSeen.get(probe);
    if (!m) this.lastSeen.set(probe, (m = new Map()));
    if ((m.get(loc) ?? -Infinity) < at) m.set(loc, at);
  }

  private detector(loc: string): AvailabilityDetector {
    let d = this.detectors.get(loc);
    if (!d) this.detectors.set(loc, (d = new AvailabilityDetector(this.o.settings)));
    return d;
  }
}
