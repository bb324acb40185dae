// Latency detection for one probe: two series (TTFT and total) fed from ProbeResults, turned into Signals.
// Like the detector, no I/O: observe(state, result) updates the state (in place) and returns the signals to hand
// to incidents. A metric's state stays a few hundred bytes until its first value (buckets are allocated then).
import type { ProbeResult, Signal } from '../../domain.ts';
import { createLatencyDetector, type AlertState, type Channel, type LatencyDetector, type LatencyState, type UpdateResult } from './detector.ts';
import { detectorOptions, LATENCY_METRICS, type LatencyMetric, type LatencySettings } from './config.ts';
import { localHour } from './local-hour.ts';
import { shareBuckets } from './baseline.ts';

export const DETECTOR_ID = 'latency';

export interface ProbeIdentity {
  id: string;
  owner: string;
  /** Extra labels (provider, model, …) copied onto signals. */
  labels?: Record<string, string>;
}

export type ProbeLatencyState = Record<LatencyMetric, LatencyState>;

export interface ProbeLatencyTracker {
  readonly detectors: Record<LatencyMetric, LatencyDetector>;
  init(): ProbeLatencyState;
  /**
   * Feed one result. Failed attempts and drill traffic are skipped (their timings are not the provider's
   * latency; availability detectors own failures), as are metrics the result lacks (no TTFT without streaming).
   */
  observe(state: ProbeLatencyState, r: ProbeResult): { state: ProbeLatencyState; signals: Signal[] };
}

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const METRIC_NAME: Record<LatencyMetric, string> = { ttft: 'time to first token', total: 'total time' };

export function metricValue(r: ProbeResult, metric: LatencyMetric): number | null {
  const v = metric === 'ttft' ? r.timings.ttftMs : r.timings.totalMs;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * Detectors by their options. A detector holds nothing but its options (all state is passed in), so probes with
 * the same settings share one: 10,000 probes need a handful of detectors, not 20,000 sets of closures.
 */
const sharedDetectors = new Map<string, LatencyDetector>();

function detectorFor(settings: LatencySettings, metric: LatencyMetric): LatencyDetector {
  const opts = detectorOptions(settings, metric);
  const key = JSON.stringify(opts);
  let d = sharedDetectors.get(key);
  if (!d) {
    d = createLatencyDetector(opts);
    // Bounded: settings come from config, but a long run of reloads with ever-new values must not grow it forever.
    if (sharedDetectors.size >= 1_000) sharedDetectors.clear();
    sharedDetectors.set(key, d);
  }
  return d;
}

/**
 * One per probe, so it holds references only: the detectors are shared by settings, the identity is the caller's
 * (its labels may be computed when a signal is built), and the methods live on the prototype. As closures, 10,000
 * trackers held about 7 MB of contexts and label copies.
 */
class Tracker implements ProbeLatencyTracker {
  readonly probe: ProbeIdentity;
  readonly settings: LatencySettings;
  readonly ttft: LatencyDetector;
  readonly total: LatencyDetector;
  constructor(probe: ProbeIdentity, settings: LatencySettings) {
    this.probe = probe;
    this.settings = settings;
    this.ttft = detectorFor(settings, 'ttft');
    this.total = detectorFor(settings, 'total');
  }

  get detectors(): Record<LatencyMetric, LatencyDetector> {
    return { ttft: this.ttft, total: this.total };
  }

  init(): ProbeLatencyState {
    return { ttft: this.ttft.init(), total: this.total.init() };
  }

  observe(state: ProbeLatencyState, r: ProbeResult): { state: ProbeLatencyState; signals: Signal[] } {
    const settings = this.settings;
    if (!settings.enabled || r.outcome === 'failed' || r.outcome === 'unknown' || r.drillId !== undefined) return { state, signals: [] };
    const next = { ...state };
    const signals: Signal[] = [];
    // A streaming answer has both metrics: their buckets go in one buffer (a non-streaming probe never gets TTFT
    // buckets, so they are not made for it).
    if (!state.ttft.baseline.how && !state.total.baseline.how && metricValue(r, 'ttft') !== null && metricValue(r, 'total') !== null) {
      shareBuckets(state.ttft.baseline, state.total.baseline);
    }
    for (const metric of LATENCY_METRICS) {
      const value = metricValue(r, metric);
      if (value === null) continue;
      const before = state[metric].alert;
      const prevCause = before.cause;
      const u = this[metric].update(state[metric], { t: r.startedAt, value });
      next[metric] = u.state;
      // A new page when it fires, when an anomaly escalates to an SLO breach (severity changes), and on resolve.
      const escalated = u.alert && prevCause === 'anomaly' && u.alertState.cause === 'slo';
      if (u.transition || escalated) {
        signals.push(latencySignal(this.probe, metric, u, r.startedAt, settings, u.transition === 'resolved' ? before : null));
      }
    }
    return { state: next, signals };
  }
}

export function createProbeLatencyTracker(probe: ProbeIdentity, settings: LatencySettings): ProbeLatencyTracker {
  return new Tracker(probe, settings);
}

const fmtMs = (v: number | null | undefined): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '?' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;

/** What each kind of evidence means, in the words of a page (slower side, faster side). */
const CHANNEL_TEXT: Record<Channel, [string, string]> = {
  level: ['unusually slow', 'unusually fast'],
  drift: ['drifting slower', 'drifting faster'],
  extreme: ['slower than ever seen', 'faster than ever seen'],
};

/** Build the Signal for a transition. `before` is the alert before a resolve (to say what resolved). */
export function latencySignal(
  probe: ProbeIdentity,
  metric: LatencyMetric,
  u: UpdateResult,
  at: number,
  settings: Pick<LatencySettings, 'timezone' | 'ceilingMs' | 'floorMs'>,
  before: AlertState | null = null,
): Signal {
  const lh = localHour(at, settings.timezone);
  const hourLabel = `${DAYS[lh.day]} ${String(lh.hour).padStart(2, '0')}:00 ${settings.timezone}`;
  const a = before ?? u.alertState;
  const firing = u.transition !== 'resolved';
  const b = u.baseline;
  const ratio = b && b.p95 > 0 ? u.observedP95 / b.p95 : null;
  const round = (v: number | null | undefined, d = 1) =>
    v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v * 10 ** d) / 10 ** d;
  const since = a.since !== null ? new Date(a.since).toISOString() : null;
  const slower = a.direction !== 'low';
  let summary: string;
  if (!firing) {
    summary = `${probe.id} ${METRIC_NAME[metric]} back to normal for ${hourLabel} (p95 ${fmtMs(u.observedP95)}, baseline ${fmtMs(b?.p95)})`;
  } else if (a.cause === 'slo') {
    summary = `${probe.id} ${METRIC_NAME[metric]} above the SLO ceiling of ${fmtMs(settings.ceilingMs[metric])}: p95 ${fmtMs(u.observedP95)} (usual for ${hourLabel}: ${fmtMs(b?.p95)}) since ${since}`;
  } else {
    // Say which evidence paged: a drift, a level shift or a value beyond anything seen read differently.
    const what = CHANNEL_TEXT[a.channel ?? 'level'][slower ? 0 : 1];
    summary = `${probe.id} ${METRIC_NAME[metric]} ${what} for ${hourLabel}: p95 ${fmtMs(u.observedP95)} vs usual ${fmtMs(b?.p95)}${ratio ? ` (×${ratio.toFixed(1)})` : ''}, robust z ${round(u.windowZ)} since ${since}`;
  }
  return {
    detector: DETECTOR_ID,
    key: `${probe.id}:${metric}`,
    severity: a.cause === 'slo' ? 'critical' : 'warning',
    status: firing ? 'firing' : 'resolved',
    summary,
    evidence: {
      metric,
      cause: a.cause,
      direction: a.direction,
      channel: a.channel ?? null,
      observed_p95_ms: round(u.observedP95),
      baseline_median_ms: round(b?.median),
      baseline_p95_ms: round(b?.p95),
      baseline_level: b?.level ?? null,
      ratio_p95: round(ratio, 2),
      robust_z: round(u.windowZ, 2),
      peak_robust_z: round(a.peakZ, 2),
      rarity: round(u.score, 2),
      since,
      local_hour: hourLabel,
      slo_ceiling_ms: settings.ceilingMs[metric] ?? null,
      slo_floor_ms: settings.floorMs[metric] ?? null,
    },
    labels: { ...(probe.labels ?? {}), probe: probe.id, owner: probe.owner, metric },
    at,
  };
}
