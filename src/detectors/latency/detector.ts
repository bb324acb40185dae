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
import { calibrate, emptyCalibration, logSpread, rarity, sideMeans, type Calibration, type Channel } from './channels.ts';

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
  /** Points in the long window (shift and spread channels). Default 72. */
  longWindow?: number;
  /** Points older than this leave the long window. Default 2 days. */
  longWindowMaxAgeMs?: number;
  /** Thresholds of the shift and spread channels as multiples of `threshold` (0 = channel off). */
  shiftFactor?: number;
  spreadFactor?: number;
  /** How the level channel is normalised: by the per-point statistics (`point`) or its own (`window`). */
  levelNorm?: 'point' | 'window';
  /** Experimental knobs. */
  x?: Record<string, number>;
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
  longWindow: 72,
  longWindowMaxAgeMs: 2 * DAY,
  shiftFactor: 0,
  spreadFactor: 0,
  levelNorm: 'point',
  x: {},
};

export function resolveOptions(o: LatencyDetectorOptions = {}): ResolvedOptions {
  const defined = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as LatencyDetectorOptions;
  const r: ResolvedOptions = { ...DEFAULT_OPTIONS, ...defined, slo: { ...(o.slo ?? {}) } };
  if (o.resolveThreshold === undefined) r.resolveThreshold = r.threshold / 2;
  for (const k of ['window', 'longWindow', 'longRun', 'capacity', 'minSamples', 'minVisits'] as const) {
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
  /** Which evidence fired it: the short-window level, the long-window shift, or the spread (null for SLO). */
  channel?: Channel | null;
}

export interface LatencyState {
  version: 2;
  /** Sampling RNG state (uint32). */
  rng: number;
  /** 168 hour-of-week buckets (0 = Monday 00h local), 24 hour-of-day buckets, and all values. */
  how: Reservoir[];
  hod: Reservoir[];
  all: Reservoir;
  /** Values of the current hour, learnt when the hour is over (so an hour never explains itself away). */
  pending: { hour: number; t: number[]; x: number[]; w: number[] };
  /** The long window (the short one is its tail): time, value, z of the last `longWindow` points. */
  recent: { t: number[]; x: number[]; z: number[] };
  /** Self-calibration: long-run statistics of every channel's statistic, per side, and of the per-point one. */
  cal: Record<CalKey, Calibration>;
  /** Recent normal: z against the buckets of recent calm points, whose median and spread re-centre z. */
  norm: { t: number[]; z: number[]; c: number; k: number };
  /** Consecutive points over the threshold, per side (an anomaly must persist to page). */
  streak: { up: number; down: number };
  alert: AlertState;
  count: number;
  firstT: number | null;
  lastT: number | null;
}

type CalKey = 'pointUp' | 'pointDown' | 'levelUp' | 'levelDown' | 'shiftUp' | 'shiftDown' | 'spread' | 'med';
const CAL_KEYS: readonly CalKey[] = ['pointUp', 'pointDown', 'levelUp', 'levelDown', 'shiftUp', 'shiftDown', 'spread', 'med'];

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

const QUIET: AlertState = { firing: false, cause: null, direction: null, since: null, calmSince: null, peakZ: null, channel: null };

/** Robust statistics of a reservoir only change when it is replaced (states are copied on write): cache them. */
const robustCache = new WeakMap<Reservoir, Robust | null>();
function cachedRobust(r: Reservoir): Robust | null {
  let v = robustCache.get(r);
  if (v === undefined) {
    v = robust(r);
    robustCache.set(r, v);
  }
  return v;
}

export function createLatencyDetector(opts: LatencyDetectorOptions = {}): LatencyDetector {
  const o = resolveOptions(opts);
  localHour(0, o.timezone); // throws RangeError now for an unknown zone, not at the first point
  const alpha = 1 / o.longRun;
  const wantHigh = o.direction !== 'low';
  const wantLow = o.direction !== 'high';
  const X = o.x;

  const init = (): LatencyState => ({
    version: 2,
    rng: (o.seed >>> 0) || 1,
    how: Array.from({ length: 168 }, emptyReservoir),
    hod: Array.from({ length: 24 }, emptyReservoir),
    all: emptyReservoir(),
    pending: { hour: -1, t: [], x: [], w: [] },
    recent: { t: [], x: [], z: [] },
    cal: Object.fromEntries(CAL_KEYS.map((k) => [k, emptyCalibration()])) as Record<CalKey, Calibration>,
    norm: { t: [], z: [], c: 0, k: 1 },
    streak: { up: 0, down: 0 },
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
    for (let i = 0; i < levels.length; i++) {
      const [level, r] = levels[i];
      if (!mature(r)) continue;
      const b = cachedRobust(r)!;
      const all = cachedRobust(s.all);
      let sc = 1.4826 * b.mad;
      const n0 = X.shrink ?? 0;
      if (n0 > 0) {
        // A young bucket's spread is a guess from a dozen values (and 0 on quantised data): shrink it towards the
        // spread of the next coarser level, which has seen more.
        for (let j = i + 1; j < levels.length; j++) {
          const ref = mature(levels[j][1]) || j === levels.length - 1 ? cachedRobust(levels[j][1]) : null;
          if (!ref) continue;
          const sr = 1.4826 * ref.mad;
          const nb = r.v.length;
          sc = Math.sqrt((nb * sc * sc + n0 * sr * sr) / (nb + n0));
          break;
        }
      }
      // A bucket can be nearly constant (cached replies, integer counts): never divide by ~0.
      const floor = Math.max(all ? 0.05 * 1.4826 * all.mad : 0, 0.01 * Math.abs(b.median), 1e-9);
      return { level, median: b.median, p95: b.p95, scale: Math.max(sc, floor) };
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
      cal: Object.fromEntries(CAL_KEYS.map((k) => [k, { ...prev.cal[k] }])) as Record<CalKey, Calibration>,
      norm: { ...prev.norm, t: prev.norm.t.slice(), z: prev.norm.z.slice() },
      streak: { ...prev.streak },
      alert: { ...prev.alert },
    };
    s.firstT ??= t;
    // A new hour (UTC, or local for :30/:45 zones): what was seen in the previous one joins the baselines now.
    const hourKey = Math.floor(t / HOUR) * 168 + localHour(t, o.timezone).how;
    if (hourKey !== s.pending.hour) flushPending(s, hourKey);
    const base = finite ? baselineAt(s, t) : null;
    const zRaw = base ? (x - base.median) / base.scale : 0;
    const useNorm = (X.normN ?? 0) > 0;
    const z = base && useNorm ? (zRaw - s.norm.c) / s.norm.k : zRaw;

    const rc = s.recent;
    if (finite) {
      rc.t.push(t);
      rc.x.push(x);
      rc.z.push(z);
    }
    while (rc.t.length > o.longWindow || (rc.t.length > 0 && t - rc.t[0] > o.longWindowMaxAgeMs)) {
      rc.t.shift();
      rc.x.shift();
      rc.z.shift();
    }
    // The short window is the tail of the long one, bounded by count and age.
    let n = Math.min(o.window, rc.z.length);
    while (n > 0 && t - rc.t[rc.t.length - n] > o.windowMaxAgeMs) n--;
    const nLong = rc.z.length;
    const lvl = sideMeans(rc.z, n);
    const lng = sideMeans(rc.z, nLong);
    const spread = X.diffSpread ? diffSpread(rc.x, rc.t, nLong, s, X.diffSpread) : logSpread(rc.z, nLong);

    const warm = base !== null && t - s.firstT >= o.warmupMs && n > 0;
    const longFull = nLong >= Math.min(o.longWindow, X.longMin ?? o.longWindow / 2);
    const minSd = X.minSd ?? 1e-3;
    const c = s.cal;
    const levelUp = o.levelNorm === 'point' ? rarity(c.pointUp, lvl.up, MIN_LONG_RUN, minSd) : rarity(c.levelUp, lvl.up, MIN_LONG_RUN, minSd);
    const levelDown = o.levelNorm === 'point' ? rarity(c.pointDown, lvl.down, MIN_LONG_RUN, minSd) : rarity(c.levelDown, lvl.down, MIN_LONG_RUN, minSd);
    const minLongN = X.longCalMin ?? 2 * o.longWindow;
    const shiftUp = longFull ? rarity(c.shiftUp, lng.up, minLongN, minSd) : 0;
    const shiftDown = longFull ? rarity(c.shiftDown, lng.down, minLongN, minSd) : 0;
    const spreadR = longFull ? rarity(c.spread, spread, minLongN, minSd) : 0;
    const medZ = n ? quantileSorted(rc.z.slice(rc.z.length - n).sort((a, b) => a - b), 0.5) : 0;
    const medR = rarity(c.med, medZ, MIN_LONG_RUN, minSd);

    // Each channel's score in units of `threshold` (so one threshold and one hysteresis serve them all).
    const hourOfWeek = base?.level === 'hour_of_week';
    const scaled = (r: number, f: number) => (f > 0 ? r / f : 0);
    const up: [Channel, number][] = [
      ['level', scaled(levelUp, X.levelFactor ?? 1)],
      ['shift', scaled(shiftUp, o.shiftFactor)],
      ['spread', scaled(spreadR, o.spreadFactor)],
      ['level', scaled(medR, X.medFactor ?? 0)],
    ];
    // "Faster than usual" only counts against the same hour of the week: against a coarser fallback, a quiet
    // weekend hour would look like an anomaly until the hour-of-week buckets have learnt it.
    const down: [Channel, number][] = [
      ['level', scaled(levelDown, X.levelFactor ?? 1)],
      ['shift', scaled(shiftDown, o.shiftFactor)],
      ['spread', scaled(-spreadR, (X.calmFactor ?? 0) * o.spreadFactor)],
      ['level', scaled(-medR, X.medFactor ?? 0)],
    ];
    const best = (cs: [Channel, number][]): [Channel, number] => cs.reduce((a, b) => (b[1] > a[1] ? b : a));
    const [upCh, upBest] = best(up);
    const [downCh, downBest] = best(down);
    const upScore = warm && wantHigh ? upBest : 0;
    const downScore = warm && wantLow && hourOfWeek ? downBest : 0;
    const score = upScore >= downScore ? upScore : -downScore;

    const tail = { t: rc.t.slice(rc.t.length - n), z: rc.z.slice(rc.z.length - n) };
    const zs = tail.z.slice().sort((a, b) => a - b);
    const windowZ = n ? quantileSorted(zs, 0.5) : 0;
    const xs = rc.x.slice(rc.x.length - n).sort((a, b) => a - b);
    const observedP95 = n ? quantileSorted(xs, 0.95) : NaN;
    // SLO ceiling: the window's median above it (sustained, not one slow call).
    const sloBreach = o.slo.ceiling !== undefined && n > 0 && quantileSorted(xs, 0.5) > o.slo.ceiling;
    const aboveFloor = o.slo.floor === undefined || observedP95 >= o.slo.floor;

    s.streak.up = upScore >= o.threshold && aboveFloor ? s.streak.up + 1 : 0;
    s.streak.down = downScore >= o.threshold ? s.streak.down + 1 : 0;
    const persist = X.persist ?? 1;
    const highOn = s.streak.up >= persist;
    const lowOn = s.streak.down >= persist;
    let transition: UpdateResult['transition'] = null;
    const a = s.alert;
    if (!a.firing) {
      if (sloBreach || highOn || lowOn) {
        const high = sloBreach || (highOn && (!lowOn || upScore >= downScore));
        Object.assign(a, {
          firing: true,
          cause: sloBreach ? 'slo' : 'anomaly',
          direction: high ? 'high' : 'low',
          since: firstUnusual(tail, high) ?? t,
          calmSince: null,
          peakZ: windowZ,
          channel: sloBreach && !highOn ? null : high ? upCh : downCh,
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
        // Calibration learns from every scored point; the windows are what it is compared with.
        calibrate(c.pointUp, Math.log1p(Math.max(z, 0)), alpha);
        calibrate(c.pointDown, Math.log1p(Math.max(-z, 0)), alpha);
        calibrate(c.levelUp, lvl.up, alpha);
        calibrate(c.levelDown, lvl.down, alpha);
        calibrate(c.med, medZ, alpha);
        if (longFull) {
          calibrate(c.shiftUp, lng.up, alpha);
          calibrate(c.shiftDown, lng.down, alpha);
          calibrate(c.spread, spread, alpha);
        }
      }
      s.pending.t.push(t);
      s.pending.x.push(x);
      s.pending.w.push(s.alert.firing ? o.firingWeight : 1);
      // Recent normal learns calm points, and an episode's points once it has lasted long enough to be a new level.
      const accepted = s.alert.firing && s.alert.since !== null && t - s.alert.since >= (X.acceptH ?? 6) * HOUR;
      if (base && useNorm && (!s.alert.firing || accepted)) {
        s.norm.t.push(t);
        s.norm.z.push(zRaw);
        const maxAge = (X.normAgeH ?? 24) * HOUR;
        while (s.norm.t.length > X.normN! || t - s.norm.t[0] > maxAge) {
          s.norm.t.shift();
          s.norm.z.shift();
        }
      }
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
      debug: `lv ${levelUp.toFixed(2)}/${levelDown.toFixed(2)} sh ${shiftUp.toFixed(2)}/${shiftDown.toFixed(2)} sp ${spreadR.toFixed(2)} (${spread.toFixed(2)} cal ${c.spread.mean.toFixed(2)}±${Math.sqrt(c.spread.variance).toFixed(2)})`,
    } as UpdateResult;
  };

  /** log robust spread of successive differences over the long window, relative to the hour-of-day spread. */
  function diffSpread(xs: number[], ts: number[], n: number, s: LatencyState, mode: number): number {
    const d: number[] = [];
    for (let i = Math.max(1, xs.length - n); i < xs.length; i++) {
      let sc = 1;
      if (mode === 2) {
        const r = s.hod[localHour(ts[i], o.timezone).hour];
        const b = mature(r) ? cachedRobust(r) : cachedRobust(s.all);
        sc = b ? Math.max(1.4826 * b.mad, 1e-9) : 1;
      }
      d.push((xs[i] - xs[i - 1]) / sc);
    }
    if (d.length < 2) return 0;
    d.sort((a, b) => a - b);
    const med = quantileSorted(d, 0.5);
    const dev = d.map((v) => Math.abs(v - med)).sort((a, b) => a - b);
    return Math.log(Math.max(quantileSorted(dev, 0.5), 1e-12));
  }

  /** Start of the trailing run of clearly unusual points (|z| ≥ 2 on the firing side): "since when". */
  function firstUnusual(rc: { t: number[]; z: number[] }, high: boolean): number | null {
    let since: number | null = null;
    for (let i = rc.z.length - 1; i >= 0 && (high ? rc.z[i] >= 2 : rc.z[i] <= -2); i--) since = rc.t[i];
    return since;
  }

  function flushPending(s: LatencyState, hour: number): void {
    if ((X.normN ?? 0) > 0) {
      const zs = s.norm.z.slice().sort((a, b) => a - b);
      if (zs.length >= (X.normMin ?? 24)) {
        const c = quantileSorted(zs, 0.5);
        const dev = zs.map((v) => Math.abs(v - c)).sort((a, b) => a - b);
        const k = 1.4826 * quantileSorted(dev, 0.5);
        s.norm.c = c;
        s.norm.k = Math.min(Math.max(k, X.kMin ?? 0.5), X.kMax ?? 4);
      }
    }
    const p = s.pending;
    if (p.t.length > 0) {
      // All values of one pending batch share one local hour of the week (the batch key includes it).
      const lh = localHour(p.t[0], o.timezone);
      const copy = (r: Reservoir): Reservoir => ({ ...r, v: r.v.slice(), p: r.p.slice(), f: r.f.slice() });
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
