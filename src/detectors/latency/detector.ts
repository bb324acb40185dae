// The online diurnal latency detector for one series (one probe × one metric). Pure: update(state, point)
// returns a new state; nothing is read from the clock or the disk, and nothing after `t` is ever seen.
//
// Per point: (1) compare the value with the baseline for its local hour of the week (falling back to the hour
// of the day, then to everything, while a bucket is young) as a robust z = (x − median) / (1.4826·MAD);
// (2) "sustained" = the k-th most extreme z of the last m points (so k of m must be unusual, one slow call is
// not enough); (3) fire above `threshold`, resolve after `resolveAfterMs` below `resolveThreshold`
// (hysteresis: one incident is one page); (4) learn the value (down-weighted while firing, so an incident is
// not learnt as normal quickly but a permanent shift eventually is).
import { addToReservoir, decayedCount, emptyReservoir, quantileSorted, robust, type Reservoir, type Robust } from './reservoir.ts';
import { localHour } from './local-hour.ts';

export type Direction = 'high' | 'low' | 'both';

export interface LatencySlo {
  /** Always fire when the recent p95 is sustained above this, whatever the hour (ms). */
  ceilingMs?: number;
  /** Never fire (for slowness) while the recent p95 is below this (ms). */
  floorMs?: number;
}

export interface LatencyDetectorOptions {
  /** IANA zone the hour-of-week buckets follow (the probe's users). Default UTC. */
  timezone?: string;
  /** Which deviations page: slower (`high`), faster (`low`) or both. Default `both`. */
  direction?: Direction;
  /** Robust z the sustained score must reach to fire. Default 6; lower is more sensitive. */
  threshold?: number;
  /** Below this |score| counts as calm for resolving. Default threshold / 2. */
  resolveThreshold?: number;
  /** Samples a bucket needs before it is trusted (else fall back to a coarser one). */
  minSamples?: number;
  /** Distinct visits (weeks for an hour-of-week bucket, days for an hour-of-day one) a bucket needs. */
  minVisits?: number;
  /** Baseline half-life: how fast old behaviour is forgotten. */
  halfLifeMs?: number;
  /** Values kept per bucket. */
  capacity?: number;
  /** k of the last m points must be unusual. */
  k?: number;
  m?: number;
  /** Points older than this (relative to the newest) leave the recent window. */
  windowMs?: number;
  /** Calm time needed before a firing alert resolves. */
  resolveAfterMs?: number;
  /** Weight of a value learnt while firing (1 = as usual). */
  firingWeight?: number;
  slo?: LatencySlo;
  /** Separate spreads above and below the median (from p90 and p10), for long-tailed series. */
  asymmetric?: boolean;
  /** No anomaly alerts (SLO ceiling alerts still fire) until this long after the first point. */
  warmupMs?: number;
  /** Seed of the sampling RNG (deterministic runs). */
  seed?: number;
}

export type ResolvedOptions = Required<Omit<LatencyDetectorOptions, "slo">> & { slo: LatencySlo };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const DEFAULT_OPTIONS: ResolvedOptions = {
  timezone: 'UTC',
  direction: 'both',
  threshold: 6,
  resolveThreshold: 3,
  minSamples: 6,
  minVisits: 2,
  halfLifeMs: 14 * DAY,
  capacity: 48,
  k: 3,
  m: 5,
  windowMs: 2 * HOUR,
  resolveAfterMs: 6 * HOUR,
  firingWeight: 0.2,
  warmupMs: DAY,
  asymmetric: true,
  slo: {},
  seed: 1,
};

export function resolveOptions(o: LatencyDetectorOptions = {}): ResolvedOptions {
  const r = { ...DEFAULT_OPTIONS, ...stripUndefined(o), slo: { ...(o.slo ?? {}) } };
  if (o.resolveThreshold === undefined) r.resolveThreshold = r.threshold / 2;
  if (r.k > r.m) throw new RangeError(`latency detector: k (${r.k}) must be ≤ m (${r.m})`);
  return r;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Which bucket the baseline came from. */
export type BaselineLevel = 'hour_of_week' | 'hour_of_day' | 'global' | 'none';

export interface AlertState {
  firing: boolean;
  /** Why it fired: anomalous for the hour, or above the SLO ceiling. */
  cause: 'anomaly' | 'slo' | null;
  direction: 'high' | 'low' | null;
  /** Epoch ms the current firing episode started. */
  since: number | null;
  /** Epoch ms the score went calm (resolution pending), or null. */
  calmSince: number | null;
}

export interface LatencyState {
  version: 1;
  /** Sampling RNG state (uint32). */
  rng: number;
  how: Reservoir[];
  hod: Reservoir[];
  all: Reservoir;
  /** The last m points: time, value, z. */
  recent: { t: number[]; x: number[]; z: number[] };
  alert: AlertState;
  count: number;
  firstT: number | null;
  lastT: number | null;
}

export interface Baseline {
  level: BaselineLevel;
  median: number;
  p95: number;
  /** σ-equivalent spread above and below the median, used for z. */
  scaleUp: number;
  scaleDown: number;
}

export interface UpdateResult {
  state: LatencyState;
  /** Sustained robust z (signed: positive = slower than usual); 0 until there is a baseline. */
  score: number;
  /** True while firing. */
  alert: boolean;
  /** Transition this point caused, if any. */
  transition: 'fired' | 'resolved' | null;
  /** Point z of this value against its baseline. */
  z: number;
  baseline: Baseline | null;
  /** p95 of the recent window (what the page shows as observed). */
  observedP95: number;
  alertState: AlertState;
}

export interface LatencyDetector {
  readonly options: ResolvedOptions;
  init(): LatencyState;
  update(state: LatencyState, point: { t: number; value: number }): UpdateResult;
  /** Baseline for local hour-of-week bucket `how` (0 = Monday 00h) of a state, without learning. */
  baselineAt(state: LatencyState, t: number): Baseline | null;
}

export function createLatencyDetector(opts: LatencyDetectorOptions = {}): LatencyDetector {
  const o = resolveOptions(opts);
  localHour(0, o.timezone); // throws RangeError now for an unknown zone, not at the first point

  const init = (): LatencyState => ({
    version: 1,
    rng: (o.seed >>> 0) || 1,
    how: Array.from({ length: 168 }, emptyReservoir),
    hod: Array.from({ length: 24 }, emptyReservoir),
    all: emptyReservoir(),
    recent: { t: [], x: [], z: [] },
    alert: { firing: false, cause: null, direction: null, since: null, calmSince: null },
    count: 0,
    firstT: null,
    lastT: null,
  });

  const baselineAt = (s: LatencyState, t: number): Baseline | null => {
    const lh = localHour(t, o.timezone);
    const levels: [BaselineLevel, Reservoir][] = [
      ['hour_of_week', s.how[lh.how]],
      ['hour_of_day', s.hod[lh.hour]],
      ['global', s.all],
    ];
    const allStats = robust(s.all);
    for (const [level, r] of levels) {
      if (!mature(r)) continue;
      const b = robust(r)!;
      const floor = scaleFloor(b, allStats);
      const mad = 1.4826 * b.mad;
      const asym = o.asymmetric;
      return {
        level,
        median: b.median,
        p95: b.p95,
        scaleUp: Math.max(mad, asym ? (b.p90 - b.median) / 1.2816 : 0, floor),
        scaleDown: Math.max(mad, asym ? (b.median - b.p10) / 1.2816 : 0, floor),
      };
    }
    return null;
  };

  const update = (prev: LatencyState, point: { t: number; value: number }): UpdateResult => {
    const { t, value: x } = point;
    // Structural sharing: copy what this point changes (the window, the alert, three buckets), share the rest.
    const s: LatencyState = {
      ...prev,
      how: prev.how.slice(),
      hod: prev.hod.slice(),
      recent: { t: prev.recent.t.slice(), x: prev.recent.x.slice(), z: prev.recent.z.slice() },
      alert: { ...prev.alert },
    };
    const base = Number.isFinite(x) ? baselineAt(s, t) : null;
    const z = base ? (x - base.median) / (x >= base.median ? base.scaleUp : base.scaleDown) : 0;

    // Recent window: the last m points, none older than windowMs before this one.
    const rc = s.recent;
    rc.t.push(t);
    rc.x.push(x);
    rc.z.push(z);
    while (rc.t.length > o.m || (rc.t.length > 0 && t - rc.t[0] > o.windowMs)) {
      rc.t.shift();
      rc.x.shift();
      rc.z.shift();
    }
    const zs = rc.z.slice().sort((a, b) => a - b);
    const enough = zs.length >= o.k;
    const hi = enough ? zs[zs.length - o.k] : 0;
    const lo = enough ? zs[o.k - 1] : 0;
    const xs = rc.x.filter(Number.isFinite).sort((a, b) => a - b);
    const observedP95 = xs.length ? quantileSorted(xs, 0.95) : NaN;
    const kthHighestX = xs.length >= o.k ? xs[xs.length - o.k] : -Infinity;

    const wantHigh = o.direction !== 'low';
    const wantLow = o.direction !== 'high';
    s.firstT ??= t;
    const warm = t - s.firstT >= o.warmupMs;
    const aboveFloor = o.slo.floorMs === undefined || observedP95 >= o.slo.floorMs;
    const highAnomaly = warm && wantHigh && hi >= o.threshold && aboveFloor;
    const lowAnomaly = warm && wantLow && lo <= -o.threshold;
    const sloBreach = o.slo.ceilingMs !== undefined && kthHighestX > o.slo.ceilingMs;
    const score = wantHigh && (!wantLow || hi >= -lo) ? hi : lo;

    let transition: UpdateResult['transition'] = null;
    const a = s.alert;
    if (!a.firing) {
      if (sloBreach || highAnomaly || lowAnomaly) {
        a.firing = true;
        a.cause = sloBreach ? 'slo' : 'anomaly';
        a.direction = sloBreach || highAnomaly ? 'high' : 'low';
        a.since = rc.t.find((_, i) => Math.abs(rc.z[i]) >= o.threshold) ?? t;
        a.calmSince = null;
        transition = 'fired';
      }
    } else {
      // Any sustained deviation keeps one episode open (a flat line is low by day and high by night).
      const stillHigh = wantHigh && hi >= o.resolveThreshold && aboveFloor;
      const stillLow = wantLow && lo <= -o.resolveThreshold;
      if (sloBreach || stillHigh || stillLow) {
        a.calmSince = null;
        if (sloBreach) a.cause = 'slo';
      } else {
        a.calmSince ??= t;
        if (t - a.calmSince >= o.resolveAfterMs) {
          s.alert = { firing: false, cause: null, direction: null, since: null, calmSince: null };
          transition = 'resolved';
        }
      }
    }

    if (Number.isFinite(x)) learn(s, t, x, s.alert.firing ? o.firingWeight : 1);
    s.count++;
    s.lastT = t;
    return { state: s, score, alert: s.alert.firing, transition, z, baseline: base, observedP95, alertState: s.alert };
  };

  function learn(s: LatencyState, t: number, x: number, w: number): void {
    const lh = localHour(t, o.timezone);
    const copy = (r: Reservoir): Reservoir => ({ ...r, v: r.v.slice(), p: r.p.slice() });
    s.how[lh.how] = copy(s.how[lh.how]);
    s.hod[lh.hour] = copy(s.hod[lh.hour]);
    s.all = copy(s.all);
    for (const r of [s.how[lh.how], s.hod[lh.hour], s.all]) {
      s.rng = xorshift(s.rng);
      const u = (s.rng + 0.5) / 4294967296;
      // Down-weighting protects a mature baseline; a young bucket must fill up regardless, or an alert raised
      // against a coarse fallback would keep its own bucket young forever.
      const wr = mature(r) ? w : 1;
      addToReservoir(r, x, t, wr, u, o.capacity, o.halfLifeMs);
    }
  }

  function mature(r: Reservoir): boolean {
    return r.visits >= o.minVisits && r.v.length >= o.minSamples;
  }

  function scaleFloor(b: Robust, all: Robust | null): number {
    // A bucket can be nearly constant (cached replies, integer counts); never divide by ~0.
    return Math.max(all ? 0.05 * 1.4826 * all.mad : 0, 0.01 * Math.abs(b.median), 1e-9);
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
