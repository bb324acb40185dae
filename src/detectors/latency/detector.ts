// The online diurnal latency detector for one series (one probe × one metric). Deterministic and free of I/O:
// update() reads nothing but the state it is given and the point, and nothing after `t` is ever seen, so replaying
// a CSV gives exactly what the daemon would have decided at each row. update() mutates the state it is given (the
// daemon keeps one compact state per series; cloneLatencyState() copies one).
//
// Per value:
//  1. Baseline for the value's local hour of the week (baseline.ts): a robust location and scale, falling back
//     to the hour of the day, then to all hours, while a bucket is young. z = (value − location) / scale.
//  2. Evidence, each scale-free and each judged against this series' own history:
//       level   — the recent calls are all unusual for their hour: the smallest z of the last `window` calls
//                 (slower side; the largest, faster side). Taking the smallest means one slow call cannot
//                 move it: it pages on a sustained shift, not a spike;
//       drift   — an exponentially weighted mean of clipped z over `driftMs`: a slow drift over hours;
//       extreme — values beyond everything the series has ever shown, by a share of that whole range: two in a
//                 row (`extremeRun`), or one alone when it is also the most unusual value for its hour lately
//                 and the series does not habitually spike (a series that throws a slow call now and then
//                 needs a wider margin the more often it does: spikes it has shown before are not news).
//     Level and drift keep records (the largest value of the statistic seen, decaying towards `recordFloor`
//     with `recordHalfLifeMs`) and page when the statistic beats its record by `margin`: a jumpy series has high
//     records and pages less, so the page rate is set by how often a series outdoes itself, whatever its noise
//     (Skyline's consensus and HTM's anomaly likelihood calibrate on the series' own history in the same
//     spirit). Records learn from calm stretches; while an alert fires, a separate episode record learns and is
//     forgotten within days (`episodeHalfLifeMs`): an incident raises the bar against paging again on its own
//     aftershocks, not against the next incident.
//  3. One alert state for all evidence: fire when the strongest reaches `threshold` (3 = normal); resolve after
//     `resolveAfterMs` with everything under half of it (hysteresis: one incident is one page). The SLO ceiling
//     fires whatever the baseline; the floor silences slowness pages below it.
//  4. Learn the value (down-weighted while firing, so an incident is not learnt as normal, while a permanent
//     change is learnt within about one baseline half-life).
// Untidy input: a non-finite value or time changes nothing and gets the current decision; the detector's clock
// never runs backwards (a clock stepping back reads as no time passing, each value bucketed by its own local hour);
// a duplicate timestamp is just another value; a gap is time passing.
// Every default was chosen by leave-one-family-out cross-validation on NAB (src/detectors/cv/latency-cv.ts).
import { emptyBaseline, learn, read, type BaselineLevel, type BaselineParams, type BaselineRead, type BaselineState } from './baseline.ts';
import { localHour } from './local-hour.ts';

export type { BaselineLevel } from './baseline.ts';

export type Direction = 'high' | 'low' | 'both';
export type Channel = 'level' | 'drift' | 'extreme';
export const CHANNELS: readonly Channel[] = ['level', 'drift', 'extreme'];

export interface LatencySlo {
  /** Always fire when the recent latency is sustained above this, whatever the hour (same unit as values). */
  ceiling?: number;
  /** Never fire for slowness while the recent p95 is below this. */
  floor?: number;
}

export interface LatencyDetectorOptions {
  /** IANA zone the hour-of-week buckets follow (where the probe's users are). Default UTC. */
  timezone?: string;
  /** Which deviations page: slower (`high`), faster (`low`) or both. Default `both`. */
  direction?: Direction;
  /** Evidence that fires, in units where 3 is the tuned default (lower pages more: 2.5 = high sensitivity). */
  threshold?: number;
  /** Calm time (everything under half the threshold) before a firing alert resolves. */
  resolveAfterMs?: number;
  /** Calls in the level window. */
  window?: number;
  /** Calls older than this (relative to the newest) leave the window. */
  windowMaxAgeMs?: number;
  /** Time constant of the drift channel's exponentially weighted mean. */
  driftMs?: number;
  /** Level and drift: how much a statistic must beat its record by (share of the record) at threshold 3. */
  margin?: number;
  /** Drift: the same, as a multiple of `margin`. */
  driftMarginScale?: number;
  /** Records decay towards this (in z units): below it nothing is unusual enough to page. */
  recordFloor?: number;
  /** How fast a record is forgotten. */
  recordHalfLifeMs?: number;
  /** Extreme: `extremeRun` successive values beyond the whole range seen, by this share of it, at threshold 3. */
  extremeMargin?: number;
  /** Extreme: how many successive values must all be beyond the range. */
  extremeRun?: number;
  /**
   * Extreme, one value alone: beyond the range by this share of it and beyond its own record z, in a series
   * without a spike habit (see `spikesAllowed`). 0 = a single value never pages.
   */
  singleMargin?: number;
  /** No single-value pages before the series is this old (its range and spike habit are still being learnt). */
  singleWarmupMs?: number;
  /** A series with this many isolated spikes (|z| ≥ spikeZ, neighbours calm) per `spikeHalfLifeMs` has a spike habit. */
  spikesAllowed?: number;
  spikeZ?: number;
  spikeHalfLifeMs?: number;
  episodeHalfLifeMs?: number;
  /** Effective values a bucket needs before it is read (else a coarser level). */
  minSamples?: number;
  /** Prior weight (in values) of the coarser level in a young bucket's location and scale. */
  priorSamples?: number;
  /** Baseline half-life: how fast old behaviour is forgotten. */
  halfLifeMs?: number;
  /** Weight of a value learnt while firing (1 = as usual). */
  firingWeight?: number;
  /** Records start learning this long after the first value (and once a bucket of its hour exists)... */
  warmupMs?: number;
  /** ...and anomaly pages (SLO ceiling pages fire at once) this long after that. */
  recordWarmupMs?: number;
  /** ...and until this many values. */
  warmupPoints?: number;
  slo?: LatencySlo;
}

export type ResolvedOptions = Required<Omit<LatencyDetectorOptions, 'slo'>> & { slo: LatencySlo };

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** The ring of recent calls (the level window and the page's figures). */
const RING = 12;
/** z is clipped here inside the statistics: a single absurd value moves a mean by a bounded amount. */
const Z_CLIP = 50;

export const DEFAULT_OPTIONS: ResolvedOptions = {
  timezone: 'UTC',
  direction: 'both',
  threshold: 3,
  resolveAfterMs: 3 * HOUR,
  window: 6,
  windowMaxAgeMs: 6 * HOUR,
  driftMs: 6 * HOUR,
  margin: 0.1,
  driftMarginScale: 1,
  recordFloor: 1.5,
  recordHalfLifeMs: 20 * DAY,
  extremeMargin: 0.02,
  extremeRun: 2,
  singleMargin: 0.05,
  singleWarmupMs: 5 * DAY,
  spikesAllowed: 2,
  spikeZ: 8,
  spikeHalfLifeMs: 7 * DAY,
  episodeHalfLifeMs: 2 * DAY,
  minSamples: 6,
  priorSamples: 12,
  halfLifeMs: 14 * DAY,
  firingWeight: 0.2,
  warmupMs: DAY,
  recordWarmupMs: DAY,
  warmupPoints: 50,
  slo: {},
};

export function resolveOptions(o: LatencyDetectorOptions = {}): ResolvedOptions {
  const defined = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as LatencyDetectorOptions;
  const r: ResolvedOptions = { ...DEFAULT_OPTIONS, ...defined, slo: { ...(o.slo ?? {}) } };
  for (const k of ['window', 'warmupPoints'] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 1) throw new RangeError(`latency detector: ${k} must be a positive integer`);
  }
  if (r.window > RING) throw new RangeError(`latency detector: window must be at most ${RING}`);
  for (const k of ['threshold', 'halfLifeMs', 'driftMs', 'margin', 'driftMarginScale', 'recordFloor', 'recordHalfLifeMs', 'extremeMargin', 'minSamples', 'windowMaxAgeMs'] as const) {
    if (!(r[k] > 0)) throw new RangeError(`latency detector: ${k} must be > 0`);
  }
  if (!(r.firingWeight > 0 && r.firingWeight <= 1)) throw new RangeError('latency detector: firingWeight must be in (0, 1]');
  if (!(r.priorSamples >= 0)) throw new RangeError('latency detector: priorSamples must be >= 0');
  if (!(r.resolveAfterMs >= 0) || !(r.warmupMs >= 0) || !(r.recordWarmupMs >= 0)) throw new RangeError('latency detector: durations must be >= 0');
  return r;
}

export interface AlertState {
  firing: boolean;
  /** Why it fired: unusual for the series, or above the SLO ceiling. */
  cause: 'anomaly' | 'slo' | null;
  /** Slower or faster than usual. */
  direction: 'high' | 'low' | null;
  /** Epoch ms the current episode started (the first clearly unusual call of the window that fired). */
  since: number | null;
  /** Epoch ms everything went calm (resolution pending), or null. */
  calmSince: number | null;
  /** Most extreme window mean z of the episode (for the page). */
  peakZ: number | null;
  /** Which evidence fired it (null for an SLO breach). */
  channel: Channel | null;
}

/** Record slots: level slower/faster, drift slower/faster, single-value z slower/faster (gates `extreme`). */
const SLOTS = 6;

export interface LatencyState {
  version: 3;
  /** Values learnt (finite). */
  count: number;
  /** Points seen, finite or not. */
  rows: number;
  firstT: number | null;
  /** When the records started learning (the first value with an hour-specific baseline, after warm-up). */
  recordsFrom: number | null;
  /** Latest time seen: the detector's clock, which never runs backwards. */
  lastT: number | null;
  baseline: BaselineState;
  /**
   * The last RING calls as [time, value, z] triples (ring buffer; `pos` is the next slot). A plain array of
   * doubles, inline on V8's heap: a Float64Array this size would carry about 300 bytes of off-heap bookkeeping.
   */
  ring: number[] | null;
  pos: number;
  len: number;
  /** Drift statistic: exponentially weighted mean of clipped z. */
  drift: number;
  /** Decayed count of isolated spikes (|z| ≥ spikeZ, neighbours calm): how spiky this series habitually is. */
  spikes: number;
  /** Records of the statistics (SLOTS entries, z units) learnt while calm... */
  rec: number[];
  /** ...and while firing (forgotten within days). */
  epi: number[];
  /** The whole range seen, and the smallest non-zero step between successive values (their resolution). */
  hi: number | null;
  lo: number | null;
  quantum: number | null;
  alert: AlertState;
}

export interface Baseline {
  level: BaselineLevel;
  median: number;
  /** Rough upper quantile for people (location + 1.645 scales). */
  p95: number;
  /** σ-equivalent scale. */
  scale: number;
}

export interface UpdateResult {
  state: LatencyState;
  /** Strongest evidence, signed: positive = slower than usual, negative = faster; 0 while warming up. */
  score: number;
  /** True while firing. */
  alert: boolean;
  /** Transition this point caused, if any. */
  transition: 'fired' | 'resolved' | null;
  /** z of this value against its baseline (0 without a baseline or value). */
  z: number;
  /** Mean z of the short window: "how unusual for this hour". */
  windowZ: number;
  /** Each channel's evidence (threshold units), slower and faster side. */
  channels: Record<'high' | 'low', Record<Channel, number>>;
  baseline: Baseline | null;
  /** p95 of the short window's values (what the page shows as observed). */
  observedP95: number;
  alertState: AlertState;
}

export interface LatencyDetector {
  readonly options: ResolvedOptions;
  init(): LatencyState;
  update(state: LatencyState, point: { t: number; value: number }): UpdateResult;
  /** The baseline a value at `t` would be compared with, without learning. */
  baselineAt(state: LatencyState, t: number): Baseline | null;
}

const QUIET: AlertState = { firing: false, cause: null, direction: null, since: null, calmSince: null, peakZ: null, channel: null };
const noChannels = (): Record<Channel, number> => ({ level: 0, drift: 0, extreme: 0 });

export function cloneLatencyState(s: LatencyState): LatencyState {
  return structuredClone(s);
}

export function createLatencyDetector(opts: LatencyDetectorOptions = {}): LatencyDetector {
  const o = resolveOptions(opts);
  localHour(0, o.timezone); // throws RangeError now for an unknown zone, not at the first point
  const wantHigh = o.direction !== 'low';
  const wantLow = o.direction !== 'high';
  const bp: BaselineParams = { lambda: Math.LN2 / o.halfLifeMs, minWeight: o.minSamples, prior: o.priorSamples, relFloor: 0.05 };
  // Evidence is reported on the threshold's scale: 3 × (how far past the bar) ÷ (the bar at normal sensitivity).
  const UNIT = 3;

  const init = (): LatencyState => ({
    version: 3,
    count: 0,
    rows: 0,
    firstT: null,
    recordsFrom: null,
    lastT: null,
    baseline: emptyBaseline(),
    ring: null,
    pos: 0,
    len: 0,
    drift: 0,
    spikes: 0,
    rec: new Array(SLOTS).fill(o.recordFloor),
    epi: new Array(SLOTS).fill(0),
    hi: null,
    lo: null,
    quantum: null,
    alert: { ...QUIET },
  });

  const toBaseline = (r: BaselineRead | null): Baseline | null =>
    r ? { level: r.level, median: r.m, p95: r.m + 1.645 * r.s, scale: r.s } : null;

  const baselineAt = (s: LatencyState, t: number): Baseline | null =>
    toBaseline(read(s.baseline, localHour(t, o.timezone).how, Math.max(t, s.lastT ?? t), bp));

  const update = (s: LatencyState, point: { t: number; value: number }): UpdateResult => {
    const x = point.value;
    s.rows++;
    if (!Number.isFinite(x) || !Number.isFinite(point.t)) return unchanged(s);
    const prevT = s.lastT;
    // The detector's clock: never backwards (NTP steps, repeated hours), so decays and ages stay sane.
    const te = Math.max(point.t, prevT ?? point.t);
    const dt = prevT === null ? 0 : te - prevT;
    s.firstT ??= te;
    const lh = localHour(point.t, o.timezone);
    const base = read(s.baseline, lh.how, te, bp);
    const z = base ? (x - base.m) / base.s : 0;
    const cz = z > Z_CLIP ? Z_CLIP : z < -Z_CLIP ? -Z_CLIP : z;

    // Ring of recent calls.
    const rg = (s.ring ??= new Array<number>(RING * 3).fill(0));
    rg[s.pos * 3] = te;
    rg[s.pos * 3 + 1] = x;
    rg[s.pos * 3 + 2] = cz;
    s.pos = (s.pos + 1) % RING;
    if (s.len < RING) s.len++;
    const at = (k: number) => ((s.pos - k + RING) % RING) * 3; // k = 1 is the newest
    /** Smallest and largest z of the last k calls, if k calls lie within the age limit. */
    const extremes = (k: number, maxAge: number): [number, number] | null => {
      if (k === 0 || s.len < k) return null;
      let mn = Infinity;
      let mx = -Infinity;
      for (let j = 1; j <= k; j++) {
        const i = at(j);
        if (te - rg[i] > maxAge) return null;
        if (rg[i + 2] < mn) mn = rg[i + 2];
        if (rg[i + 2] > mx) mx = rg[i + 2];
      }
      return [mn, mx];
    };
    let n = 0;
    let sumZ = 0;
    for (let j = 1; j <= Math.min(o.window, s.len); j++) {
      const i = at(j);
      if (te - rg[i] > o.windowMaxAgeMs) break;
      n++;
      sumZ += rg[i + 2];
    }
    const windowZ = n ? sumZ / n : 0;

    // Drift: time-weighted exponential mean of clipped z (a gap counts as time passing).
    if (base) {
      const a = 1 - Math.exp(-Math.max(dt, MIN) / o.driftMs);
      s.drift += a * (cz - s.drift);
    }

    // Level and drift against their records (which decay towards the floor as time passes).
    const w = base ? extremes(o.window, o.windowMaxAgeMs) : null;
    const stats: (number | null)[] = [w ? w[0] : null, w ? -w[1] : null, base ? s.drift : null, base ? -s.drift : null, base ? cz : null, base ? -cz : null];
    const rec = s.rec;
    const keep = dt > 0 ? Math.exp((-Math.LN2 * dt) / o.recordHalfLifeMs) : 1;
    const beat: number[] = [];
    const epi = s.epi;
    const keepEpi = dt > 0 ? Math.exp((-Math.LN2 * dt) / o.episodeHalfLifeMs) : 1;
    for (let j = 0; j < SLOTS; j++) {
      rec[j] = o.recordFloor + Math.max(0, rec[j] - o.recordFloor) * keep;
      epi[j] *= keepEpi;
      const v = stats[j];
      const rj = Math.max(rec[j], epi[j]);
      if (j >= 4) {
        // The single-value z records only gate the extreme evidence: how far past them does not matter.
        beat.push(v === null || v <= rj ? 0 : v / rj - 1);
        continue;
      }
      const m = j >= 2 ? o.margin * o.driftMarginScale : o.margin;
      beat.push(v === null || v <= rj ? 0 : (UNIT * (v / rj - 1)) / m);
    }

    // Extreme: the last `extremeRun` values all beyond the whole range seen before them, by a share of it.
    let exHigh = 0;
    let exLow = 0;
    // Beyond by more than one step of the values' resolution: a count of 14 after a maximum of 13 is not news.
    const q = s.quantum ?? 0;
    const past = (d: number, range: number, margin: number) => (d > q ? (UNIT * d) / range / margin : 0);
    if (s.hi !== null && s.lo !== null && s.hi > s.lo && s.len >= o.extremeRun) {
      const range = s.hi - s.lo;
      exHigh = Infinity;
      exLow = Infinity;
      // The run's values must be distinct calls: a row recorded twice (same time) is one call.
      let k = 0;
      let prevT = Infinity;
      for (let j = 1; j <= s.len && k < o.extremeRun; j++) {
        const i = at(j);
        if (rg[i] === prevT) continue;
        prevT = rg[i];
        k++;
        exHigh = Math.min(exHigh, past(rg[i + 1] - s.hi, range, o.extremeMargin));
        exLow = Math.min(exLow, past(s.lo - rg[i + 1], range, o.extremeMargin));
      }
      if (k < o.extremeRun) {
        exHigh = 0;
        exLow = 0;
      }
      // One value alone pages only in a series that does not habitually spike: fewer than `spikesAllowed` isolated
      // spikes per half-life (extrapolated while the series is younger than that), after `singleWarmupMs`.
      const age = te - s.firstT;
      const seen = 1 - Math.exp((-Math.LN2 * age) / o.spikeHalfLifeMs);
      const habit = seen > 0 ? s.spikes / seen : Infinity;
      if (o.singleMargin > 0 && age >= o.singleWarmupMs && habit < o.spikesAllowed) {
        const sm = o.singleMargin;
        // The newest value alone, against the range before it (the run's other values included).
        let hi = s.hi;
        let lo = s.lo;
        for (let j = 2; j <= o.extremeRun; j++) {
          hi = Math.max(hi, rg[at(j) + 1]);
          lo = Math.min(lo, rg[at(j) + 1]);
        }
        const r2 = hi - lo;
        // ...and it must also be the most unusual value for its hour seen lately (beat the z record).
        if (beat[4] > 0) exHigh = Math.max(exHigh, past(x - hi, r2, sm));
        if (beat[5] > 0) exLow = Math.max(exLow, past(lo - x, r2, sm));
      }
    }

    const channels: UpdateResult['channels'] = {
      high: { level: beat[0], drift: beat[2], extreme: exHigh },
      low: { level: beat[1], drift: beat[3], extreme: exLow },
    };
    // Records learn once the baseline is hour-specific (statistics against an all-hours baseline would set records
    // that last weeks); pages wait until they have learnt for `recordWarmupMs`, so a series does not page on
    // whatever its statistics happen to be when the records start.
    if (s.recordsFrom === null && base !== null && base.level !== 'global' && te - s.firstT >= o.warmupMs && s.count >= o.warmupPoints) s.recordsFrom = te;
    const learning = s.recordsFrom !== null;
    const warm = learning && te - s.recordsFrom! >= o.recordWarmupMs;
    const strongest = (side: Record<Channel, number>): [Channel, number] => {
      let best: Channel = 'level';
      for (const ch of CHANNELS) if (side[ch] > side[best]) best = ch;
      return [best, side[best]];
    };
    const [upCh, upBest] = strongest(channels.high);
    const [downCh, downBest] = strongest(channels.low);
    const upScore = warm && wantHigh ? upBest : 0;
    const downScore = warm && wantLow ? downBest : 0;
    const score = upScore >= downScore ? upScore : -downScore;

    // Figures for the page and the SLOs: the short window's values.
    const xs: number[] = [];
    for (let j = 1; j <= n; j++) xs.push(rg[at(j) + 1]);
    xs.sort((p, q) => p - q);
    const observedP95 = n ? quantileSorted(xs, 0.95) : NaN;
    // SLO ceiling: the window's median above it (sustained, not one slow call).
    const sloBreach = o.slo.ceiling !== undefined && n > 0 && quantileSorted(xs, 0.5) > o.slo.ceiling;
    const aboveFloor = o.slo.floor === undefined || observedP95 >= o.slo.floor;

    const th = o.threshold;
    const highOn = upScore >= th && aboveFloor;
    const lowOn = downScore >= th;
    let transition: UpdateResult['transition'] = null;
    const al = s.alert;
    if (!al.firing) {
      if (sloBreach || highOn || lowOn) {
        const high = sloBreach || (highOn && (!lowOn || upScore >= downScore));
        s.alert = {
          firing: true,
          cause: sloBreach ? 'slo' : 'anomaly',
          direction: high ? 'high' : 'low',
          since: firstUnusual(rg, s, n, high) ?? te,
          calmSince: null,
          peakZ: windowZ,
          channel: sloBreach && !highOn ? null : high ? upCh : downCh,
        };
        transition = 'fired';
      }
    } else {
      // Any sustained deviation keeps the episode open.
      const busy = sloBreach || (upScore >= th / 2 && aboveFloor) || downScore >= th / 2;
      if (sloBreach) al.cause = 'slo';
      if (Math.abs(windowZ) > Math.abs(al.peakZ ?? 0)) al.peakZ = windowZ;
      if (busy) al.calmSince = null;
      else {
        al.calmSince ??= te;
        if (te - al.calmSince >= o.resolveAfterMs) {
          s.alert = { ...QUIET };
          transition = 'resolved';
        }
      }
    }

    // Learn. Records learn from calm stretches; while firing, the episode record (forgotten within days) does, so
    // an incident raises the bar against re-paging on its own aftershocks but not against the next incident.
    for (let j = 0; j < SLOTS; j++) {
      const v = stats[j];
      if (v === null) continue;
      if (!s.alert.firing) {
        if (learning) rec[j] = Math.max(rec[j], v);
      }
      else epi[j] = Math.max(epi[j], v);
    }
    if (dt > 0) s.spikes *= Math.exp((-Math.LN2 * dt) / o.spikeHalfLifeMs);
    // A spike: one value far out whose neighbours are not (known one value later: no look-ahead).
    if (base && s.len >= 3) {
      const z1 = Math.abs(rg[at(2) + 2]);
      if (z1 >= o.spikeZ && Math.abs(cz) < o.spikeZ / 2 && Math.abs(rg[at(3) + 2]) < o.spikeZ / 2) s.spikes++;
    }
    if (s.len >= 2) {
      const step = Math.abs(x - rg[at(2) + 1]);
      if (step > 0 && (s.quantum === null || step < s.quantum)) s.quantum = step;
    }
    learn(s.baseline, lh.how, x, s.alert.firing ? o.firingWeight : 1, te, bp);
    // The range takes in the value that has just left the run being judged.
    if (s.len >= o.extremeRun) {
      const v = rg[at(o.extremeRun) + 1];
      s.hi = s.hi === null ? v : Math.max(s.hi, v);
      s.lo = s.lo === null ? v : Math.min(s.lo, v);
    }
    s.count++;
    s.lastT = te;
    return {
      state: s,
      score,
      alert: s.alert.firing,
      transition,
      z,
      windowZ,
      channels,
      baseline: toBaseline(base),
      observedP95,
      alertState: s.alert,
    };
  };

  /** A point that teaches nothing (missing value or time): the current decision, unchanged. */
  function unchanged(s: LatencyState): UpdateResult {
    return {
      state: s,
      score: 0,
      alert: s.alert.firing,
      transition: null,
      z: 0,
      windowZ: 0,
      channels: { high: noChannels(), low: noChannels() },
      baseline: null,
      observedP95: NaN,
      alertState: s.alert,
    };
  }

  /** Start of the trailing run of clearly unusual calls (|z| ≥ 2 on the firing side) in the window: "since when". */
  function firstUnusual(rg: readonly number[], s: LatencyState, n: number, high: boolean): number | null {
    let since: number | null = null;
    for (let j = 1; j <= Math.max(n, 1) && j <= s.len; j++) {
      const i = ((s.pos - j + RING) % RING) * 3;
      if (high ? rg[i + 2] >= 2 : rg[i + 2] <= -2) since = rg[i];
      else break;
    }
    return since;
  }

  return { options: o, init, update, baselineAt };
}

/** Linear-interpolated quantile of an ascending array. */
export function quantileSorted(s: readonly number[], q: number): number {
  if (s.length === 1) return s[0];
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}
