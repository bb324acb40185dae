// The online diurnal latency detector for one series (one probe × one metric). Pure: update(state, point)
// returns a new state (the old one is left intact); nothing is read from a clock or a disk, and nothing after
// `t` is ever seen, so replaying a CSV gives exactly what the daemon would have decided at each row.
//
// Per point:
//  1. Baseline for the point's local hour of the week (falling back to the hour of the day, then to all
//     hours, while a bucket is young): median and MAD of a time-decayed sample. z = (x − median) / (1.4826·MAD).
//  2. Sustained rarity: the mean of log(1 + |z|) over the last `window` points, compared with the long-run
//     mean and spread of that same quantity on this series (exponentially weighted). A series whose calls are
//     always jumpy (heavy tails) has to be jumpier than its own usual to page; one slow call is diluted by the
//     window. This is the "anomaly likelihood" idea of Numenta's HTM detector applied to robust seasonal z.
//  3. Fire at `threshold`, resolve after `resolveAfterMs` below `resolveThreshold` (hysteresis: one incident is
//     one page). The SLO ceiling fires whatever the baseline; the floor silences slowness pages below it.
//  4. Learn the value when its hour is over (an hour never explains itself away); down-weighted if it arrived
//     while firing, so an incident is not learnt as normal, but a permanent shift is learnt within about one
//     baseline half-life (and the rarity score, relative to the series' own recent history, settles sooner).
// "Faster than usual" is only judged against an hour-of-week bucket: against the hour-of-day fallback a quiet
// weekend hour would look anomalous.
import { addToReservoir, emptyReservoir, quantileSorted, robust, type Reservoir, type Robust } from './reservoir.ts';
import { localHour } from './local-hour.ts';

export type Direction = 'high' | 'low' | 'both';

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
  /** Rarity (in long-run standard deviations) the sustained score must reach to fire. Default 3. */
  threshold?: number;
  /** Below this score counts as calm for resolving. Default threshold / 2. */
  resolveThreshold?: number;
  /** Calm time needed before a firing alert resolves. Default 1 h. */
  resolveAfterMs?: number;
  /** Points in the sustained window (k of the last m: the mean over them). Default 12. */
  window?: number;
  /** Points older than this (relative to the newest) leave the window. Default 12 h. */
  windowMaxAgeMs?: number;
  /** Points of history the long-run rarity statistics average over (exponential weighting). Default 2000. */
  longRun?: number;
  /** Values a bucket needs before it is trusted (else fall back to a coarser one). Default 6. */
  minSamples?: number;
  /** Completed visits (weeks for an hour-of-week bucket, days for an hour-of-day one) a bucket needs. Default 1. */
  minVisits?: number;
  /** Baseline half-life: how fast old behaviour is forgotten. Default 14 days. */
  halfLifeMs?: number;
  /** Values kept per bucket. Default 48. */
  capacity?: number;
  /** Weight of a value learnt while firing (1 = as usual). Default 0.2. */
  firingWeight?: number;
  /** No anomaly alerts (SLO ceiling alerts still fire) until this long after the first point. Default 1 day. */
  warmupMs?: number;
  slo?: LatencySlo;
  /** Seed of the sampling RNG (deterministic runs). */
  seed?: number;
}

export type ResolvedOptions = Required<Omit<LatencyDetectorOptions, 'slo'>> & { slo: LatencySlo };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Long-run statistics need this many points before the rarity score means anything. */
const MIN_LONG_RUN = 50;

export const DEFAULT_OPTIONS: ResolvedOptions = {
  timezone: 'UTC',
  direction: 'both',
  threshold: 3,
  resolveThreshold: 1.5,
  resolveAfterMs: HOUR,
  window: 12,
  windowMaxAgeMs: 12 * HOUR,
  longRun: 2000,
  minSamples: 6,
  minVisits: 1,
  halfLifeMs: 14 * DAY,
  capacity: 48,
  firingWeight: 0.2,
  warmupMs: DAY,
  slo: {},
  seed: 1,
};

export function resolveOptions(o: LatencyDetectorOptions = {}): ResolvedOptions {
  const defined = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as LatencyDetectorOptions;
  const r: ResolvedOptions = { ...DEFAULT_OPTIONS, ...defined, slo: { ...(o.slo ?? {}) } };
  if (o.resolveThreshold === undefined) r.resolveThreshold = r.threshold / 2;
  for (const k of ['window', 'longRun', 'capacity', 'minSamples', 'minVisits'] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 1) throw new RangeError(`latency detector: ${k} must be a positive integer`);
  }
  if (!(r.halfLifeMs > 0)) throw new RangeError('latency detector: halfLifeMs must be > 0');
  if (!(r.firingWeight > 0 && r.firingWeight <= 1)) throw new RangeError('latency detector: firingWeight must be in (0, 1]');
  return r;
}

/** Which bucket the baseline came from. */
export type BaselineLevel = 'hour_of_week' | 'hour_of_day' | 'global';

export interface AlertState {
  firing: boolean;
  /** Why it fired: unusual for the hour, or above the SLO ceiling. */
  cause: 'anomaly' | 'slo' | null;
  /** Slower or faster than the baseline. */
  direction: 'high' | 'low' | null;
  /** Epoch ms the current episode started (the first unusual point of the window that fired). */
  since: number | null;
  /** Epoch ms the score went calm (resolution pending), or null. */
  calmSince: number | null;
  /** Most extreme window median z of the episode (for the page). */
  peakZ: number | null;
}

/** Exponentially weighted mean and variance of one direction's log(1+|z|). */
interface LongRun {
  mean: number;
  variance: number;
  n: number;
}

export interface LatencyState {
  version: 1;
  /** Sampling RNG state (uint32). */
  rng: number;
  /** 168 hour-of-week buckets (0 = Monday 00h local), 24 hour-of-day buckets, and all values. */
  how: Reservoir[];
  hod: Reservoir[];
  all: Reservoir;
  /** Values of the current hour, learnt when the hour is over (so an hour never explains itself away). */
  pending: { hour: number; t: number[]; x: number[]; w: number[] };
  /** The sustained window: time, value, z of the last `window` points. */
  recent: { t: number[]; x: number[]; z: number[] };
  /** Long-run statistics of log(1+z⁺) and log(1+z⁻) (slower, faster). */
  up: LongRun;
  down: LongRun;
  alert: AlertState;
  count: number;
  firstT: number | null;
  lastT: number | null;
}

export interface Baseline {
  level: BaselineLevel;
  median: number;
  p95: number;
  /** σ-equivalent spread (1.4826·MAD, floored). */
  scale: number;
}

export interface UpdateResult {
  state: LatencyState;
  /** Sustained rarity score, signed: positive = slower than usual, negative = faster; 0 while warming up. */
  score: number;
  /** True while firing. */
  alert: boolean;
  /** Transition this point caused, if any. */
  transition: 'fired' | 'resolved' | null;
  /** z of this value against its baseline (0 without a baseline). */
  z: number;
  /** Median z of the window: "how unusual for this hour", robustly. */
  windowZ: number;
  baseline: Baseline | null;
  /** p95 of the window's values (what the page shows as observed). */
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

const QUIET: AlertState = { firing: false, cause: null, direction: null, since: null, calmSince: null, peakZ: null };

export function createLatencyDetector(opts: LatencyDetectorOptions = {}): LatencyDetector {
  const o = resolveOptions(opts);
  localHour(0, o.timezone); // throws RangeError now for an unknown zone, not at the first point
  const alpha = 1 / o.longRun;
  const wantHigh = o.direction !== 'low';
  const wantLow = o.direction !== 'high';

  const init = (): LatencyState => ({
    version: 1,
    rng: (o.seed >>> 0) || 1,
    how: Array.from({ length: 168 }, emptyReservoir),
    hod: Array.from({ length: 24 }, emptyReservoir),
    all: emptyReservoir(),
    pending: { hour: -1, t: [], x: [], w: [] },
    recent: { t: [], x: [], z: [] },
    up: { mean: 0, variance: 0, n: 0 },
    down: { mean: 0, variance: 0, n: 0 },
    alert: { ...QUIET },
    count: 0,
    firstT: null,
    lastT: null,
  });

  const mature = (r: Reservoir): boolean => r.visits >= o.minVisits && r.v.length >= o.minSamples;

  const baselineAt = (s: LatencyState, t: number): Baseline | null => {
    const lh = localHour(t, o.timezone);
    const levels: [BaselineLevel, Reservoir][] = [
      ['hour_of_week', s.how[lh.how]],
      ['hour_of_day', s.hod[lh.hour]],
      ['global', s.all],
    ];
    let all: Robust | null | undefined;
    for (const [level, r] of levels) {
      if (!mature(r)) continue;
      const b = robust(r)!;
      all ??= robust(s.all);
      // A bucket can be nearly constant (cached replies, integer counts): never divide by ~0.
      const floor = Math.max(all ? 0.05 * 1.4826 * all.mad : 0, 0.01 * Math.abs(b.median), 1e-9);
      return { level, median: b.median, p95: b.p95, scale: Math.max(1.4826 * b.mad, floor) };
    }
    return null;
  };

  const update = (prev: LatencyState, point: { t: number; value: number }): UpdateResult => {
    const { t, value: x } = point;
    const finite = Number.isFinite(x);
    // Structural sharing: copy what this point changes (window, pending hour, statistics, alert, three buckets).
    const s: LatencyState = {
      ...prev,
      how: prev.how.slice(),
      hod: prev.hod.slice(),
      recent: { t: prev.recent.t.slice(), x: prev.recent.x.slice(), z: prev.recent.z.slice() },
      pending: { ...prev.pending, t: prev.pending.t.slice(), x: prev.pending.x.slice(), w: prev.pending.w.slice() },
      up: { ...prev.up },
      down: { ...prev.down },
      alert: { ...prev.alert },
    };
    s.firstT ??= t;
    // A new hour (UTC, or local for :30/:45 zones): what was seen in the previous one joins the baselines now.
    const hourKey = Math.floor(t / HOUR) * 168 + localHour(t, o.timezone).how;
    if (hourKey !== s.pending.hour) flushPending(s, hourKey);
    const base = finite ? baselineAt(s, t) : null;
    const z = base ? (x - base.median) / base.scale : 0;

    const rc = s.recent;
    if (finite) {
      rc.t.push(t);
      rc.x.push(x);
      rc.z.push(z);
    }
    while (rc.t.length > o.window || (rc.t.length > 0 && t - rc.t[0] > o.windowMaxAgeMs)) {
      rc.t.shift();
      rc.x.shift();
      rc.z.shift();
    }
    const n = rc.z.length;
    let upMean = 0;
    let downMean = 0;
    for (const zi of rc.z) {
      upMean += Math.log1p(Math.max(zi, 0)) / n;
      downMean += Math.log1p(Math.max(-zi, 0)) / n;
    }
    const rarity = (lr: LongRun, m: number): number =>
      lr.n < MIN_LONG_RUN || n === 0 ? 0 : (m - lr.mean) / Math.max(Math.sqrt(lr.variance), 1e-3);
    const warm = base !== null && t - s.firstT >= o.warmupMs;
    const upScore = warm && wantHigh ? rarity(s.up, upMean) : 0;
    // "Faster than usual" only counts against the same hour of the week: against a coarser fallback, a quiet
    // weekend hour would look like an anomaly until the hour-of-week buckets have learnt it.
    const downScore = warm && wantLow && base.level === 'hour_of_week' ? rarity(s.down, downMean) : 0;
    const score = upScore >= downScore ? upScore : -downScore;

    const zs = rc.z.slice().sort((a, b) => a - b);
    const windowZ = n ? quantileSorted(zs, 0.5) : 0;
    const xs = rc.x.slice().sort((a, b) => a - b);
    const observedP95 = n ? quantileSorted(xs, 0.95) : NaN;
    // SLO ceiling: the window's median above it (sustained, not one slow call).
    const sloBreach = o.slo.ceiling !== undefined && n > 0 && quantileSorted(xs, 0.5) > o.slo.ceiling;
    const aboveFloor = o.slo.floor === undefined || observedP95 >= o.slo.floor;

    const highOn = upScore >= o.threshold && aboveFloor;
    const lowOn = downScore >= o.threshold;
    let transition: UpdateResult['transition'] = null;
    const a = s.alert;
    if (!a.firing) {
      if (sloBreach || highOn || lowOn) {
        const high = sloBreach || (highOn && (!lowOn || upScore >= downScore));
        Object.assign(a, {
          firing: true,
          cause: sloBreach ? 'slo' : 'anomaly',
          direction: high ? 'high' : 'low',
          since: firstUnusual(rc, high) ?? t,
          calmSince: null,
          peakZ: windowZ,
        });
        transition = 'fired';
      }
    } else {
      // Any sustained deviation keeps the episode open (a flat line is low by day and high by night).
      const busy = sloBreach || (upScore >= o.resolveThreshold && aboveFloor) || downScore >= o.resolveThreshold;
      if (sloBreach) a.cause = 'slo';
      if (Math.abs(windowZ) > Math.abs(a.peakZ ?? 0)) a.peakZ = windowZ;
      if (busy) a.calmSince = null;
      else {
        a.calmSince ??= t;
        if (t - a.calmSince >= o.resolveAfterMs) {
          s.alert = { ...QUIET };
          transition = 'resolved';
        }
      }
    }

    if (finite) {
      if (base) {
        // Long-run statistics learn from every scored point; the window mean is what they are compared with.
        learnLongRun(s.up, Math.log1p(Math.max(z, 0)));
        learnLongRun(s.down, Math.log1p(Math.max(-z, 0)));
      }
      s.pending.t.push(t);
      s.pending.x.push(x);
      s.pending.w.push(s.alert.firing ? o.firingWeight : 1);
    }
    s.count++;
    s.lastT = t;
    return {
      state: s,
      score,
      alert: s.alert.firing,
      transition,
      z,
      windowZ,
      baseline: base,
      observedP95,
      alertState: s.alert,
    };
  };

  /** Start of the trailing run of clearly unusual points (|z| ≥ 2 on the firing side): "since when". */
  function firstUnusual(rc: LatencyState['recent'], high: boolean): number | null {
    let since: number | null = null;
    for (let i = rc.z.length - 1; i >= 0 && (high ? rc.z[i] >= 2 : rc.z[i] <= -2); i--) since = rc.t[i];
    return since;
  }

  function learnLongRun(lr: LongRun, v: number): void {
    lr.n++;
    // Plain average until the window fills, then exponential: early estimates are not dominated by the prior 0.
    const w = Math.max(alpha, 1 / lr.n);
    const d = v - lr.mean;
    lr.mean += w * d;
    lr.variance = (1 - w) * (lr.variance + w * d * d);
  }

  function flushPending(s: LatencyState, hour: number): void {
    const p = s.pending;
    if (p.t.length > 0) {
      // All values of one pending batch share one local hour of the week (the batch key includes it).
      const lh = localHour(p.t[0], o.timezone);
      const copy = (r: Reservoir): Reservoir => ({ ...r, v: r.v.slice(), p: r.p.slice() });
      s.how[lh.how] = copy(s.how[lh.how]);
      s.hod[lh.hour] = copy(s.hod[lh.hour]);
      s.all = copy(s.all);
      for (const r of [s.how[lh.how], s.hod[lh.hour], s.all]) {
        // Down-weighting protects a mature baseline; a young bucket must fill up regardless, or an alert raised
        // against a coarse fallback would keep its own bucket young forever.
        const young = !mature(r);
        for (let i = 0; i < p.t.length; i++) {
          s.rng = xorshift(s.rng);
          addToReservoir(r, p.x[i], p.t[i], young ? 1 : p.w[i], (s.rng + 0.5) / 4294967296, o.capacity, o.halfLifeMs);
        }
      }
    }
    s.pending = { hour, t: [], x: [], w: [] };
  }

  return { options: o, init, update, baselineAt };
}

function xorshift(x: number): number {
  x ^= x << 13;
  x >>>= 0;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}
