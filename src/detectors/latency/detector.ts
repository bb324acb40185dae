// The online diurnal latency detector for one series (one probe × one metric). Pure: update(state, point)
// returns a new state (the old one is left intact); nothing is read from a clock or a disk, and nothing after
// `t` is ever seen, so replaying a CSV gives exactly what the daemon would have decided at each row.
//
// Per point:
//  1. Baseline for the point's local hour of the week (falling back to the hour of the day, then to all hours,
//     while a bucket is young): weighted median and MAD of a time-decayed sample (reservoir.ts). A young bucket's
//     spread is shrunk towards the next coarser level's, so a dozen values (or quantised ones, MAD 0) cannot make
//     every small wobble look extreme. z = (x − median) / spread.
//  2. Three evidence channels over the recent window (channels.ts): the typical call (median z), the slow tail
//     (mean log(1 + z)) and the jitter (spread of successive differences), each compared with its own long-run
//     mean and spread on this series, in units of the threshold. The score is the strongest channel, per side.
//  3. One alert state for all channels: fire at `threshold`, resolve after `resolveAfterMs` below
//     `resolveThreshold` (hysteresis: one incident is one page, whichever channels light up during it). The SLO
//     ceiling fires whatever the baseline; the floor silences slowness pages below it.
//  4. Learn the value when its hour is over (an hour never explains itself away); down-weighted if it arrived
//     while firing, so an incident is not learnt as normal, but a permanent shift is learnt within about one
//     baseline half-life (and the calibration, relative to the series' own recent history, settles sooner).
// "Faster than usual" (and "steadier than usual") is only judged against an hour-of-week bucket: against the
// hour-of-day fallback a quiet weekend hour would look anomalous.
import { addToReservoir, emptyReservoir, quantileSorted, robust, type Reservoir, type Robust } from './reservoir.ts';
import { localHour } from './local-hour.ts';
import {
  calibrate,
  CHANNEL_SCALE,
  emptyCalibration,
  logDiffSpread,
  rarity,
  tailMeans,
  tailMedian,
  type Calibration,
  type Channel,
} from './channels.ts';

export type { Channel } from './channels.ts';

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
  /**
   * Score that fires: each channel's rarity (long-run standard deviations of its own statistic) divided by its
   * scale in CHANNEL_SCALE, the strongest channel counting. Default 3.
   */
  threshold?: number;
  /** Below this score counts as calm for resolving. Default threshold / 2. */
  resolveThreshold?: number;
  /** Calm time needed before a firing alert resolves. Default 1 h. */
  resolveAfterMs?: number;
  /** Points in the short window the typical and tail channels read. Default 12. */
  window?: number;
  /** Points older than this (relative to the newest) leave the window. Default 12 h. */
  windowMaxAgeMs?: number;
  /** Points of history each channel's calibration averages over (exponential weighting). Default 2000. */
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
  /** Points in the long window the spread channel reads. Default 72. */
  spreadWindow?: number;
  /** Points older than this leave the long window. Default 2 days. */
  spreadWindowMaxAgeMs?: number;
  /** Prior weight (in values) of the coarser level's spread when estimating a bucket's spread. Default 12. */
  priorSamples?: number;
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
  spreadWindow: 72,
  spreadWindowMaxAgeMs: 2 * DAY,
  priorSamples: 12,
};

export function resolveOptions(o: LatencyDetectorOptions = {}): ResolvedOptions {
  const defined = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as LatencyDetectorOptions;
  const r: ResolvedOptions = { ...DEFAULT_OPTIONS, ...defined, slo: { ...(o.slo ?? {}) } };
  if (o.resolveThreshold === undefined) r.resolveThreshold = r.threshold / 2;
  for (const k of ['window', 'spreadWindow', 'longRun', 'capacity', 'minSamples', 'minVisits'] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 1) throw new RangeError(`latency detector: ${k} must be a positive integer`);
  }
  if (!(r.halfLifeMs > 0)) throw new RangeError('latency detector: halfLifeMs must be > 0');
  if (!(r.firingWeight > 0 && r.firingWeight <= 1)) throw new RangeError('latency detector: firingWeight must be in (0, 1]');
  if (!(r.priorSamples >= 0)) throw new RangeError('latency detector: priorSamples must be >= 0');
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
  /** Which evidence fired it: the typical call, the slow tail, or the jitter (null for an SLO breach). */
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
  /**
   * The long window (the short one is its tail): time, value, z and local hour of the week (for the jitter
   * channel's unit) of the last `spreadWindow` points.
   */
  recent: { t: number[]; x: number[]; z: number[]; how: number[] };
  /** Self-calibration: long-run statistics of each channel's statistic on this series. */
  cal: Record<CalKey, Calibration>;
  alert: AlertState;
  count: number;
  firstT: number | null;
  lastT: number | null;
}

/** Per-point log(1 + z±) (the tail channel is judged against single points' spread), window median, jitter. */
type CalKey = 'tailUp' | 'tailDown' | 'typical' | 'spread';
const CAL_KEYS: readonly CalKey[] = ['tailUp', 'tailDown', 'typical', 'spread'];

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
  /** Each channel's rarity in units of the threshold (≥ 0), for the slower and the faster side. */
  channels: Record<'high' | 'low', Record<Channel, number>>;
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
  // The jitter channel needs a half-full long window, and twice its length of calibration, to mean anything.
  const spreadMinPoints = Math.ceil(o.spreadWindow / 2);
  const spreadMinCal = 2 * o.spreadWindow;

  const init = (): LatencyState => ({
    version: 2,
    rng: (o.seed >>> 0) || 1,
    how: Array.from({ length: 168 }, emptyReservoir),
    hod: Array.from({ length: 24 }, emptyReservoir),
    all: emptyReservoir(),
    pending: { hour: -1, t: [], x: [], w: [] },
    recent: { t: [], x: [], z: [], how: [] },
    cal: Object.fromEntries(CAL_KEYS.map((k) => [k, emptyCalibration()])) as Record<CalKey, Calibration>,
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
      let scale = 1.4826 * b.mad;
      // A young bucket's spread is a guess from a dozen values (and 0 on quantised data): shrink it towards the
      // spread of the next coarser level that has values (a prior worth `priorSamples` values).
      for (let j = i + 1; j < levels.length && o.priorSamples > 0; j++) {
        const coarser = levels[j][1];
        if (!mature(coarser) && j < levels.length - 1) continue;
        const ref = cachedRobust(coarser);
        if (!ref) break;
        const nb = r.v.length;
        const sr = 1.4826 * ref.mad;
        scale = Math.sqrt((nb * scale * scale + o.priorSamples * sr * sr) / (nb + o.priorSamples));
        break;
      }
      // A bucket can be nearly constant (cached replies, integer counts): never divide by ~0.
      const all = cachedRobust(s.all);
      const floor = Math.max(all ? 0.05 * 1.4826 * all.mad : 0, 0.01 * Math.abs(b.median), 1e-9);
      return { level, median: b.median, p95: b.p95, scale: Math.max(scale, floor) };
    }
    return null;
  };

  /**
   * The current spreads of the window's hours (hour of the week, else of the day, else global, unshrunk): the unit
   * of the jitter channel's differences, so a busy hour (proportionally noisier) does not look jittery. Read now
   * rather than stored per point, so the whole window is in the same, latest, units.
   */
  const jitterUnits = (s: LatencyState, hours: readonly number[]): number[] => {
    const unit = (h: number): number => {
      const r = mature(s.how[h]) ? s.how[h] : s.hod[h % 24];
      const b = cachedRobust(mature(r) ? r : s.all);
      return b ? Math.max(1.4826 * b.mad, 1e-9) : 1;
    };
    const byHour = new Map<number, number>();
    return hours.map((h) => {
      let u = byHour.get(h);
      if (u === undefined) byHour.set(h, (u = unit(h)));
      return u;
    });
  };

  const update = (prev: LatencyState, point: { t: number; value: number }): UpdateResult => {
    const { t, value: x } = point;
    const finite = Number.isFinite(x);
    // Structural sharing: copy what this point changes (window, pending hour, calibration, alert, three buckets).
    const s: LatencyState = {
      ...prev,
      how: prev.how.slice(),
      hod: prev.hod.slice(),
      recent: { t: prev.recent.t.slice(), x: prev.recent.x.slice(), z: prev.recent.z.slice(), how: prev.recent.how.slice() },
      pending: { ...prev.pending, t: prev.pending.t.slice(), x: prev.pending.x.slice(), w: prev.pending.w.slice() },
      cal: {
        tailUp: { ...prev.cal.tailUp },
        tailDown: { ...prev.cal.tailDown },
        typical: { ...prev.cal.typical },
        spread: { ...prev.cal.spread },
      },
      alert: { ...prev.alert },
    };
    s.firstT ??= t;
    // A new hour (UTC, or local for :30/:45 zones): what was seen in the previous one joins the baselines now.
    const lh = localHour(t, o.timezone);
    const hourKey = Math.floor(t / HOUR) * 168 + lh.how;
    if (hourKey !== s.pending.hour) flushPending(s, hourKey);
    const base = finite ? baselineAt(s, t) : null;
    const z = base ? (x - base.median) / base.scale : 0;

    const rc = s.recent;
    if (finite) {
      rc.t.push(t);
      rc.x.push(x);
      rc.z.push(z);
      rc.how.push(lh.how);
    }
    while (rc.t.length > o.spreadWindow || (rc.t.length > 0 && t - rc.t[0] > o.spreadWindowMaxAgeMs)) {
      rc.t.shift();
      rc.x.shift();
      rc.z.shift();
      rc.how.shift();
    }
    // The short window is the tail of the long one, bounded by count and age.
    let n = Math.min(o.window, rc.z.length);
    while (n > 0 && t - rc.t[rc.t.length - n] > o.windowMaxAgeMs) n--;
    const tail = tailMeans(rc.z, n);
    const typical = tailMedian(rc.z, n);
    const jitter = rc.t.length >= spreadMinPoints ? logDiffSpread(rc.x, jitterUnits(s, rc.how), rc.t.length) : null;

    const c = s.cal;
    const warm = base !== null && t - s.firstT >= o.warmupMs && n > 0;
    const typicalR = rarity(c.typical, typical, MIN_LONG_RUN);
    const jitterR = jitter === null ? 0 : rarity(c.spread, jitter, spreadMinCal);
    const units = (r: number, ch: Channel) => Math.max(0, r / CHANNEL_SCALE[ch]);
    const channels: UpdateResult['channels'] = {
      high: {
        typical: units(typicalR, 'typical'),
        tail: units(rarity(c.tailUp, tail.up, MIN_LONG_RUN), 'tail'),
        spread: units(jitterR, 'spread'),
      },
      low: {
        typical: units(-typicalR, 'typical'),
        tail: units(rarity(c.tailDown, tail.down, MIN_LONG_RUN), 'tail'),
        spread: units(-jitterR, 'spread'),
      },
    };
    const strongest = (side: Record<Channel, number>): [Channel, number] =>
      (Object.entries(side) as [Channel, number][]).reduce((a, b) => (b[1] > a[1] ? b : a));
    const [upCh, upBest] = strongest(channels.high);
    const [downCh, downBest] = strongest(channels.low);
    const upScore = warm && wantHigh ? upBest : 0;
    // "Faster than usual" only counts against the same hour of the week: against a coarser fallback, a quiet
    // weekend hour would look like an anomaly until the hour-of-week buckets have learnt it.
    const downScore = warm && wantLow && base.level === 'hour_of_week' ? downBest : 0;
    const score = upScore >= downScore ? upScore : -downScore;

    const win = { t: rc.t.slice(rc.t.length - n), z: rc.z.slice(rc.z.length - n) };
    const windowZ = typical;
    const xs = rc.x.slice(rc.x.length - n).sort((a, b) => a - b);
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
          since: firstUnusual(win, high) ?? t,
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
        calibrate(c.tailUp, Math.log1p(Math.max(z, 0)), alpha);
        calibrate(c.tailDown, Math.log1p(Math.max(-z, 0)), alpha);
        calibrate(c.typical, typical, alpha);
        if (jitter !== null) calibrate(c.spread, jitter, alpha);
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
      channels,
      baseline: base,
      observedP95,
      alertState: s.alert,
    };
  };

  /** Start of the trailing run of clearly unusual points (|z| ≥ 2 on the firing side): "since when". */
  function firstUnusual(rc: { t: number[]; z: number[] }, high: boolean): number | null {
    let since: number | null = null;
    for (let i = rc.z.length - 1; i >= 0 && (high ? rc.z[i] >= 2 : rc.z[i] <= -2); i--) since = rc.t[i];
    return since;
  }

  function flushPending(s: LatencyState, hour: number): void {
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
