// Output statistics drift, per probe: answer length (output tokens; a two-sided Gaussian CUSUM on clipped
// z-scores), JSON/schema validity (share of failed `json` / `json_schema` verdicts), and the finish-reason mix
// (share of `length` and of `content_filter` endings), each a one-sided Bernoulli CUSUM. Same machinery and
// budget rule as refusal drift (stats.ts). A shift is a `warning`: the answers changed, nothing is down.
//
// Samples: scheduled first attempts outside drills that got an answer (no error, or only an assertion failure);
// `content_filter` failures count for the finish-reason mix. Length needs `tokensOut` from the provider.
//
// A warning needs a practical effect besides significance (answers 25 % and 3 tokens longer or shorter, a rate
// 5 points higher, by default): "6.7 tokens instead of 7.4" is real and useless. And output drift does not repeat
// what refusal drift says: on benign and should-refuse probes the length is that of the answers that behaved as
// expected (complied, or refused), and content-filter endings are refusal drift's, so a change in how often a
// model refuses is one incident, not two.
import { runsPerMonth } from '../config/cost.ts';
import type { ProbeKind, ProbeResult, ProbeSpec, Severity, Signal } from '../domain.ts';
import { ms, providerName } from './refusal-drift.ts';
import {
  arlForBudget,
  baselineRate,
  bernoulliStep,
  gaussianStep,
  newBernoulli,
  newGaussian,
  RESOLVE_EVIDENCE,
  thresholdForArl,
} from './stats.ts';
import type { BernoulliFiring, BernoulliParams, BernoulliState, GaussianFiring, GaussianParams, GaussianState, MonitorEvent } from './stats.ts';

export const OUTPUT_DRIFT = 'output_drift';
const DAY = 86_400_000;

export type OutputMetric = 'length' | 'json_invalid' | 'finish_length' | 'finish_content_filter';

export interface OutputDriftOptions {
  /** Expected false alarms per month over all probes and metrics together. */
  falseAlarmsPerMonth: number;
  /** Smallest rise in a rate (invalid JSON, truncation, content filter) worth detecting. */
  minShift: number;
  minRate: number;
  /** Length shift to detect, in baseline standard deviations. */
  lengthShiftSd: number;
  /** Length sd floor: at least this share of the mean, and this many tokens (temperature-0 answers barely vary). */
  lengthRelSdFloor: number;
  lengthAbsSdFloor: number;
  /** Practical effect for length: the mean must move by this share of the baseline... */
  lengthMinChange: number;
  /** ...and by this many tokens. */
  lengthMinTokens: number;
  /** Practical effect for rates: the observed rate at least this far above the baseline (absolute). */
  rateMinChange: number;
  halfLifeMs: number;
  guardMs: number;
  minBaseline: number;
  acceptAfterMs: number;
  windowMs: number;
  severity: Severity;
}

export const DEFAULT_OUTPUT_DRIFT: OutputDriftOptions = {
  falseAlarmsPerMonth: 1,
  minShift: 0.1,
  minRate: 0.01,
  lengthShiftSd: 1,
  lengthRelSdFloor: 0.1,
  lengthAbsSdFloor: 1,
  lengthMinChange: 0.25,
  lengthMinTokens: 3,
  rateMinChange: 0.05,
  halfLifeMs: 7 * DAY,
  guardMs: 1 * DAY,
  minBaseline: 200,
  acceptAfterMs: 7 * DAY,
  windowMs: 14 * DAY,
  severity: 'warning',
};

/** vigil.yaml `detectors.output_drift`, already schema-checked. */
export interface OutputDriftYaml {
  false_alarms_per_month?: number;
  min_shift?: number;
  length_shift_sd?: number;
  min_length_change?: number;
  min_length_tokens?: number;
  min_rate_change?: number;
  half_life?: string;
  guard?: string;
  min_baseline?: number;
  accept_after?: string;
  window?: string;
  severity?: Severity;
}

export function outputDriftOptionsFromYaml(y: OutputDriftYaml = {}): Partial<OutputDriftOptions> {
  const o: Partial<OutputDriftOptions> = {};
  if (y.false_alarms_per_month !== undefined) o.falseAlarmsPerMonth = y.false_alarms_per_month;
  if (y.min_shift !== undefined) o.minShift = y.min_shift;
  if (y.length_shift_sd !== undefined) o.lengthShiftSd = y.length_shift_sd;
  if (y.min_length_change !== undefined) o.lengthMinChange = y.min_length_change;
  if (y.min_length_tokens !== undefined) o.lengthMinTokens = y.min_length_tokens;
  if (y.min_rate_change !== undefined) o.rateMinChange = y.min_rate_change;
  if (y.min_baseline !== undefined) o.minBaseline = y.min_baseline;
  if (y.half_life) o.halfLifeMs = ms(y.half_life);
  if (y.guard) o.guardMs = ms(y.guard);
  if (y.accept_after) o.acceptAfterMs = ms(y.accept_after);
  if (y.window) o.windowMs = ms(y.window);
  if (y.severity) o.severity = y.severity;
  return o;
}

interface OutputProbePlan {
  probe: string;
  /** Benign and should-refuse probes: refusal drift owns how often they refuse. */
  kind: ProbeKind;
  owner: string;
  provider: string;
  model: string;
  hasJson: boolean;
  samplesPerMonth: number;
  bernoulli: BernoulliParams;
  gaussian: GaussianParams;
}

export interface OutputDriftPlan {
  options: OutputDriftOptions;
  probes: Record<string, OutputProbePlan>;
}

function hasJsonAssertion(s: ProbeSpec): boolean {
  return s.assertions.some((a) => 'json' in a || 'json_schema' in a);
}

/** Thresholds per probe from the specs: the budget is split over every test (length counts two sides). */
export function planOutputDrift(specs: readonly ProbeSpec[], options: Partial<OutputDriftOptions> = {}): OutputDriftPlan {
  const o: OutputDriftOptions = { ...DEFAULT_OUTPUT_DRIFT, ...options };
  // length (2 sides) + finish_length + finish_content_filter (+ json_invalid)
  const tests = specs.reduce((n, s) => n + 4 + (hasJsonAssertion(s) ? 1 : 0), 0);
  const perTest = o.falseAlarmsPerMonth / Math.max(tests, 1);
  const probes: Record<string, OutputProbePlan> = {};
  const common = { halfLifeMs: o.halfLifeMs, guardMs: o.guardMs, minBaseline: o.minBaseline, resolveEvidence: RESOLVE_EVIDENCE, acceptAfterMs: o.acceptAfterMs };
  // Probes on the same schedule share one threshold, so one pair of parameter objects (read-only): 10,000
  // probes every minute would otherwise hold 10,000 identical pairs (about 4 MB).
  const paramsByH = new Map<number, Pick<OutputProbePlan, 'bernoulli' | 'gaussian'>>();
  const paramsFor = (h: number) => {
    let p = paramsByH.get(h);
    if (!p) {
      p = {
        bernoulli: { h, minShift: o.minShift, minRate: o.minRate, minEffect: o.rateMinChange, ...common },
        gaussian: {
          h,
          shiftSd: o.lengthShiftSd,
          relSdFloor: o.lengthRelSdFloor,
          absSdFloor: o.lengthAbsSdFloor,
          zClip: 2.5,
          minRelChange: o.lengthMinChange,
          minAbsChange: o.lengthMinTokens,
          ...common,
        },
      };
      paramsByH.set(h, p);
    }
    return p;
  };
  for (const s of specs) {
    const samplesPerMonth = runsPerMonth(s.schedule);
    const h = thresholdForArl(arlForBudget(samplesPerMonth, perTest));
    probes[s.id] = {
      probe: s.id,
      kind: s.kind,
      owner: s.owner,
      provider: providerName(s.target),
      model: s.model,
      hasJson: hasJsonAssertion(s),
      samplesPerMonth,
      ...paramsFor(h),
    };
  }
  return { options: o, probes };
}

interface OutputProbeState {
  length: GaussianState;
  json_invalid: BernoulliState;
  finish_length: BernoulliState;
  finish_content_filter: BernoulliState;
}

export interface OutputDriftState {
  version: 1;
  probes: Record<string, OutputProbeState>;
}

export function newOutputDriftState(): OutputDriftState {
  return { version: 1, probes: {} };
}

/**
 * The samples one result gives, per metric (null: nothing to count). For a benign or should-refuse probe (`kind`),
 * the length counts only answers that behaved as expected and content-filter endings are not counted: those
 * changes are refusal drift's to report.
 */
export function outputSamples(r: ProbeResult, kind: ProbeKind = 'canary'): Record<OutputMetric, number | null> {
  const none = { length: null, json_invalid: null, finish_length: null, finish_content_filter: null };
  if (r.attempt !== 1 || r.drillId) return none;
  const filtered = r.errorClass === 'content_filter' || r.finishReason === 'content_filter';
  const answered = r.errorClass === null || r.errorClass === 'assertion';
  if (!answered) return { ...none, finish_content_filter: filtered && kind === 'canary' ? 1 : null };
  const json = r.assertions.filter((v) => v.assertion === 'json' || v.assertion === 'json_schema');
  const refused = r.refusal === 'full_refusal' || r.refusal === 'partial_refusal';
  const expected = kind === 'canary' || (kind === 'benign' ? !refused : refused);
  return {
    length: expected ? r.tokensOut : null,
    json_invalid: json.length ? (json.some((v) => !v.passed) ? 1 : 0) : null,
    finish_length: r.finishReason === null ? null : r.finishReason === 'length' ? 1 : 0,
    finish_content_filter: kind !== 'canary' || (r.finishReason === null && !filtered) ? null : filtered ? 1 : 0,
  };
}

const RATE_METRICS = ['json_invalid', 'finish_length', 'finish_content_filter'] as const;

/** Feed one result (in time order). Mutates `state`. */
export function observeOutput(plan: OutputDriftPlan, state: OutputDriftState, r: ProbeResult): Signal[] {
  const pp = plan.probes[r.probeId];
  if (!pp) return [];
  const samples = outputSamples(r, pp.kind);
  const st = (state.probes[r.probeId] ??= {
    length: newGaussian(),
    json_invalid: newBernoulli(),
    finish_length: newBernoulli(),
    finish_content_filter: newBernoulli(),
  });
  const out: Signal[] = [];
  const len = samples.length;
  if (len !== null && Number.isFinite(len)) {
    const was = st.length.firing;
    const ev = gaussianStep(st.length, len, r.startedAt, pp.gaussian);
    if (ev) out.push(lengthSignal(plan, pp, st.length, ev, was));
  }
  for (const m of RATE_METRICS) {
    const x = samples[m];
    if (x === null || (m === 'json_invalid' && !pp.hasJson)) continue;
    const was = st[m].firing;
    const ev = bernoulliStep(st[m], x ? 1 : 0, r.startedAt, pp.bernoulli);
    if (ev) out.push(rateSignal(plan, pp, m, st[m], ev, was));
  }
  return out;
}

export function replayOutputDrift(
  plan: OutputDriftPlan,
  results: Iterable<ProbeResult>,
  state: OutputDriftState = newOutputDriftState(),
): { state: OutputDriftState; signals: Signal[] } {
  const signals: Signal[] = [];
  for (const r of results) for (const s of observeOutput(plan, state, r)) signals.push(s);
  return { state, signals };
}

export function activeOutputSignals(plan: OutputDriftPlan, state: OutputDriftState): Signal[] {
  const out: Signal[] = [];
  for (const [id, st] of Object.entries(state.probes)) {
    const pp = plan.probes[id];
    if (!pp) continue;
    if (st.length.firing) out.push(lengthSignal(plan, pp, st.length, { type: 'fire', at: st.length.firing.at }, null));
    for (const m of RATE_METRICS) if (st[m].firing) out.push(rateSignal(plan, pp, m, st[m], { type: 'fire', at: st[m].firing!.at }, null));
  }
  return out;
}

/** Resolve what fired for probes that left the config, and forget them. */
export function tickOutputDrift(plan: OutputDriftPlan, state: OutputDriftState, now: number): Signal[] {
  const out: Signal[] = [];
  for (const [id, st] of Object.entries(state.probes)) {
    if (plan.probes[id]) continue;
    const metrics: OutputMetric[] = [st.length.firing ? 'length' : null, ...RATE_METRICS.filter((m) => st[m].firing)].filter((m): m is OutputMetric => m !== null);
    for (const m of metrics) {
      out.push({
        detector: OUTPUT_DRIFT,
        key: `${id}:${m}`,
        severity: plan.options.severity,
        status: 'resolved',
        summary: `Output drift on ${id} (${m}) no longer watched: the probe was removed from the config`,
        evidence: { metric: m, reason: 'removed' },
        labels: { probe: id, metric: m },
        at: now,
      });
    }
    delete state.probes[id];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

const METRIC_TEXT: Record<Exclude<OutputMetric, 'length'>, string> = {
  json_invalid: 'invalid JSON/schema answers',
  finish_length: 'answers cut at max_tokens (finish_reason length)',
  finish_content_filter: 'answers blocked by a content filter',
};

function labels(pp: OutputProbePlan, metric: OutputMetric): Record<string, string> {
  return { owner: pp.owner, provider: pp.provider, model: pp.model, probe: pp.probe, metric };
}

function iso(t: number): string {
  return new Date(t).toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');
}

function pct(x: number): string {
  return `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;
}

const r2 = (x: number) => Math.round(x * 100) / 100;
const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

function rateSignal(
  plan: OutputDriftPlan,
  pp: OutputProbePlan,
  metric: Exclude<OutputMetric, 'length'>,
  st: BernoulliState,
  ev: MonitorEvent,
  was: BernoulliFiring | null,
): Signal {
  const base = { detector: OUTPUT_DRIFT, key: `${pp.probe}:${metric}`, severity: plan.options.severity, labels: labels(pp, metric), at: ev.at };
  if (ev.type === 'fire') {
    const f = st.firing!;
    const rate = f.n ? f.k / f.n : 0;
    return {
      ...base,
      status: 'firing',
      summary: `Output drift on ${pp.probe} (${pp.provider} ${pp.model}): ${pct(rate)} ${METRIC_TEXT[metric]} (${f.k}/${f.n} since ${iso(f.changeAt)}), baseline ${pct(f.p0)}`,
      evidence: { metric, observed_rate: r4(rate), observed: `${f.k}/${f.n}`, baseline_rate: r4(f.p0), change_since: iso(f.changeAt), detected_at: iso(f.at) },
    };
  }
  const recent = st.nRecover ? st.kRecover / st.nRecover : 0;
  const p0 = ev.reason === 'recovered' && was ? was.p0 : baselineRate(st, pp.bernoulli);
  return {
    ...base,
    status: 'resolved',
    summary:
      ev.reason === 'recovered'
        ? `Output drift on ${pp.probe} resolved: ${METRIC_TEXT[metric]} back to baseline ${pct(p0)} (${pct(recent)} recently)`
        : `Output drift on ${pp.probe} resolved: ${METRIC_TEXT[metric]} at ${pct(p0)} accepted as the new baseline`,
    evidence: { metric, reason: ev.reason, recent_rate: r4(recent), baseline_rate: r4(p0) },
  };
}

function lengthSignal(plan: OutputDriftPlan, pp: OutputProbePlan, st: GaussianState, ev: MonitorEvent, was: GaussianFiring | null): Signal {
  const base = { detector: OUTPUT_DRIFT, key: `${pp.probe}:length`, severity: plan.options.severity, labels: labels(pp, 'length'), at: ev.at };
  if (ev.type === 'fire') {
    const f = st.firing!;
    return {
      ...base,
      status: 'firing',
      summary: `Output drift on ${pp.probe} (${pp.provider} ${pp.model}): answers ${f.direction === 'up' ? 'longer' : 'shorter'}, ${r2(f.observedMean)} output tokens on average since ${iso(f.changeAt)} vs ${r2(f.mean)} (sd ${r2(f.sd)})`,
      evidence: {
        metric: 'length',
        direction: f.direction,
        observed_mean_tokens: r2(f.observedMean),
        observed_samples: f.n,
        baseline_mean_tokens: r2(f.mean),
        baseline_sd_tokens: r2(f.sd),
        change_since: iso(f.changeAt),
        detected_at: iso(f.at),
      },
    };
  }
  const recent = st.recent.n ? st.recent.sum / st.recent.n : null;
  const mean = ev.reason === 'recovered' && was ? was.mean : st.base.mean;
  return {
    ...base,
    status: 'resolved',
    summary:
      ev.reason === 'recovered'
        ? `Output drift on ${pp.probe} resolved: answer length back to about ${r2(mean)} tokens`
        : `Output drift on ${pp.probe} resolved: answer length ${r2(mean)} tokens accepted as the new baseline`,
    evidence: { metric: 'length', reason: ev.reason, recent_mean_tokens: recent === null ? null : r2(recent), baseline_mean_tokens: r2(mean) },
  };
}
