// Prometheus metrics for Vigil, on a registry of our own (never prom-client's global one, so tests and
// embedders can run several side by side). Names follow blackbox_exporter for the "last probe" gauges
// and the OpenTelemetry GenAI conventions for the latency histograms and token usage.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ProbeResult } from '../domain.ts';
import { OTHER, ServedModelLimiter, UNKNOWN, configLabel, errorClassLabel, providerLabel } from './labels.ts';

/** The parts of a ProbeSpec that name its series. */
export interface ProbeIdentity {
  id: string;
  owner: string;
  target: string;
  model: string;
}

export interface MetricsOptions {
  /** Export prom-client's default process and Node.js metrics (default true). */
  defaultMetrics?: boolean;
  /** Distinct `served_model` values kept per probe before the rest become `other` (default 5). */
  maxServedModelsPerProbe?: number;
}

export interface VigilMetrics {
  readonly registry: Registry;
  /** `text/plain; version=0.0.4; charset=utf-8` (the registry's). */
  readonly contentType: string;
  /** The exposition text, as served on `/metrics`. */
  metrics(): Promise<string>;
  /** Record one probe attempt. Drill attempts (`drillId` set) are ignored: faults are injected on purpose. */
  observeResult(result: ProbeResult, spec: ProbeIdentity): void;
  /** Drop every series of a probe (it was removed from config). */
  removeProbe(probeId: string): void;
  /** Drop the series of every probe not in `probeIds` (call after a config reload). */
  retainProbes(probeIds: Iterable<string>): void;
  /** After each config (re)load attempt. `atMs` from the injected clock. */
  recordConfigReload(ok: boolean, atMs: number): void;
  /** How late a scheduled probe started versus its planned time, in ms (early counts as 0). */
  observeScheduleSkew(lateMs: number): void;
  /** Around each probe execution; `target` as in the spec (`provider:openai`, `gateway`). */
  probeStarted(target: string): void;
  probeFinished(target: string): void;
}

/** Metric names, for the README and for other modules that query them. */
export const METRIC_NAMES = {
  probeSuccess: 'probe_success',
  probeDegraded: 'vigil_probe_degraded',
  probeDuration: 'probe_duration_seconds',
  probeHttpDuration: 'probe_http_duration_seconds',
  probeHttpStatus: 'probe_http_status_code',
  probeLastTimestamp: 'vigil_probe_last_run_timestamp_seconds',
  servedModelInfo: 'vigil_probe_served_model_info',
  operationDuration: 'gen_ai_client_operation_duration_seconds',
  timeToFirstChunk: 'gen_ai_client_operation_time_to_first_chunk_seconds',
  tokenUsage: 'gen_ai_client_token_usage_total',
  cost: 'vigil_probe_cost_usd_total',
  results: 'vigil_probe_results_total',
  configReloadSuccessful: 'vigil_config_last_reload_successful',
  configReloadTimestamp: 'vigil_config_last_reload_success_timestamp_seconds',
  scheduleSkew: 'vigil_probe_schedule_skew_seconds',
  inFlight: 'vigil_probes_in_flight',
} as const;

/** LLM calls take from tens of milliseconds (cached, tiny canary) to a minute (slow reasoning model). */
export const LLM_LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60];
/** Scheduler lateness: the target is p99 < 50 ms, so resolve the low end finely. */
export const SKEW_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** blackbox_exporter's phases we can measure (no separate DNS phase: the connector times connect only). */
const PHASES = ['connect', 'tls', 'processing', 'transfer'] as const;

/**
 * prom-client's default collector exports these as gauges ending in `_total`, which `promtool check
 * metrics` rejects; the same numbers remain in `nodejs_active_{handles,requests,resources}{type}`.
 */
const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

type AnyMetric = Gauge<string> | Counter<string> | Histogram<string>;
type Labels = Record<string, string>;

/**
 * What is needed to remove a probe's series later, and no more: its identity labels and whether it has a served
 * model series. Every other label set of the probe is rebuilt from bounded vocabularies (phases, outcomes, error
 * classes, token types, the served models the limiter allowed), so 10,000 probes do not keep a map of label sets
 * each beside prom-client's own.
 */
interface ProbeSeries {
  /** Identity labels at the time the series were written; a config edit that changes them drops the old ones. */
  identityKey: string;
  id: Labels;
  servedModelInfo: Labels | null;
}

export function createMetrics(opts: MetricsOptions = {}): VigilMetrics {
  const registry = new Registry();
  const registers = [registry];
  const limiter = new ServedModelLimiter(opts.maxServedModelsPerProbe ?? 5);

  if (opts.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    for (const name of LINT_FAILING_DEFAULTS) registry.removeSingleMetric(name);
  }

  const ID = ['probe', 'provider', 'model', 'owner'];
  const SERVED = [...ID, 'served_model'];

  const probeSuccess = new Gauge({
    name: METRIC_NAMES.probeSuccess,
    help: 'Whether the last probe attempt succeeded (1 for ok or degraded, 0 for failed).',
    labelNames: ID,
    registers,
  });
  const probeDegraded = new Gauge({
    name: METRIC_NAMES.probeDegraded,
    help: 'Whether the last probe attempt was degraded (slow, soft assertion failed, or passed after retry).',
    labelNames: ID,
    registers,
  });
  const probeDuration = new Gauge({
    name: METRIC_NAMES.probeDuration,
    help: 'Total duration of the last probe attempt in seconds.',
    labelNames: ID,
    registers,
  });
  const probeHttpDuration = new Gauge({
    name: METRIC_NAMES.probeHttpDuration,
    help: 'Duration of each HTTP phase of the last probe attempt in seconds (0 when not reached or reused).',
    labelNames: [...ID, 'phase'],
    registers,
  });
  const probeHttpStatus = new Gauge({
    name: METRIC_NAMES.probeHttpStatus,
    help: 'HTTP status code of the last probe attempt (0 when there was no response).',
    labelNames: ID,
    registers,
  });
  const probeLastTimestamp = new Gauge({
    name: METRIC_NAMES.probeLastTimestamp,
    help: 'Start time of the last probe attempt, seconds since the epoch.',
    labelNames: ID,
    registers,
  });
  const servedModelInfo = new Gauge({
    name: METRIC_NAMES.servedModelInfo,
    help: 'The model the provider last reported serving for this probe (always 1; the value is in served_model).',
    labelNames: SERVED,
    registers,
  });
  const operationDuration = new Histogram({
    name: METRIC_NAMES.operationDuration,
    help: 'GenAI operation duration in seconds (OpenTelemetry gen_ai.client.operation.duration), every attempt.',
    labelNames: [...SERVED, 'error_class'],
    buckets: LLM_LATENCY_BUCKETS,
    registers,
  });
  const timeToFirstChunk = new Histogram({
    name: METRIC_NAMES.timeToFirstChunk,
    help: 'Time to the first content chunk in seconds (OpenTelemetry gen_ai.client.operation.time_to_first_chunk).',
    labelNames: SERVED,
    buckets: LLM_LATENCY_BUCKETS,
    registers,
  });
  // OTel defines gen_ai.client.token.usage as a histogram of tokens per operation. A canary's token
  // count is nearly constant (max_tokens of a few), so per-operation buckets carry no information;
  // what people graph is tokens per second for quota and spend, which a counter gives exactly and
  // with one series per token type instead of one per bucket.
  const tokenUsage = new Counter({
    name: METRIC_NAMES.tokenUsage,
    help: 'Tokens used by probes (OpenTelemetry gen_ai.client.token.usage, exported as a counter).',
    labelNames: [...SERVED, 'gen_ai_token_type'],
    registers,
  });
  const cost = new Counter({
    name: METRIC_NAMES.cost,
    help: 'Estimated cost of probe calls in US dollars, from the configured pricing.',
    labelNames: SERVED,
    registers,
  });
  const results = new Counter({
    name: METRIC_NAMES.results,
    help: 'Probe attempts by outcome and error class (confirmation re-probes included).',
    labelNames: [...ID, 'outcome', 'error_class'],
    registers,
  });

  const configReloadSuccessful = new Gauge({
    name: METRIC_NAMES.configReloadSuccessful,
    help: 'Whether the last configuration (re)load succeeded.',
    registers,
  });
  const configReloadTimestamp = new Gauge({
    name: METRIC_NAMES.configReloadTimestamp,
    help: 'Time of the last successful configuration (re)load, seconds since the epoch.',
    registers,
  });
  // No probe label: with 10,000 probes a per-probe histogram would be 170,000 series for one number.
  const scheduleSkew = new Histogram({
    name: METRIC_NAMES.scheduleSkew,
    help: 'How late probes started versus their planned time, in seconds.',
    buckets: SKEW_BUCKETS,
    registers,
  });
  const inFlight = new Gauge({
    name: METRIC_NAMES.inFlight,
    help: 'Probe attempts currently running, per provider.',
    labelNames: ['provider'],
    registers,
  });

  const probes = new Map<string, ProbeSeries>();
  const OUTCOMES = ['ok', 'degraded', 'failed', 'unknown'] as const;
  const TOKEN_TYPES = ['input', 'output'] as const;
  /** error_class label values written so far (a bounded set: the error classes, `none` and `other`). */
  const errorClasses = new Set<string>();

  function removeProbe(probeId: string): void {
    const state = probes.get(probeId);
    if (state) {
      const id = state.id;
      for (const m of [probeSuccess, probeDegraded, probeDuration, probeHttpStatus, probeLastTimestamp]) m.remove(id);
      for (const phase of PHASES) probeHttpDuration.remove({ ...id, phase });
      if (state.servedModelInfo) servedModelInfo.remove(state.servedModelInfo);
      for (const outcome of OUTCOMES) for (const error_class of errorClasses) results.remove({ ...id, outcome, error_class });
      for (const servedModel of [...limiter.values(probeId), OTHER, UNKNOWN]) {
        const served = { ...id, served_model: servedModel };
        for (const m of [timeToFirstChunk, cost]) m.remove(served);
        for (const error_class of errorClasses) operationDuration.remove({ ...served, error_class });
        for (const gen_ai_token_type of TOKEN_TYPES) tokenUsage.remove({ ...served, gen_ai_token_type });
      }
      probes.delete(probeId);
    }
    limiter.forget(probeId);
  }

  function observeResult(result: ProbeResult, spec: ProbeIdentity): void {
    if (result.drillId) return;
    const id: Labels = {
      probe: configLabel(spec.id),
      provider: providerLabel(spec.target),
      model: configLabel(spec.model),
      owner: configLabel(spec.owner),
    };
    const identityKey = JSON.stringify(id);
    let state = probes.get(spec.id);
    if (state && state.identityKey !== identityKey) {
      removeProbe(spec.id);
      state = undefined;
    }
    if (!state) {
      state = { identityKey, id, servedModelInfo: null };
      probes.set(spec.id, state);
    }
    const s = state;
    // One identity object per probe, shared by its series (prom-client keeps a reference to the labels it is given).
    const ids = s.id;
    const t = result.timings;
    const sec = (ms: number | null | undefined) => (ms != null && Number.isFinite(ms) && ms > 0 ? ms / 1000 : 0);

    // An `unknown` result (Vigil's own fault) says nothing about the target: the success gauge keeps its last value.
    if (result.outcome !== 'unknown') {
      probeSuccess.set(ids, result.outcome === 'failed' ? 0 : 1);
      probeDegraded.set(ids, result.outcome === 'degraded' ? 1 : 0);
    }
    probeDuration.set(ids, sec(t.totalMs));
    probeHttpStatus.set(ids, result.httpStatus ?? 0);
    probeLastTimestamp.set(ids, result.startedAt / 1000);

    // blackbox_exporter semantics: processing = first byte minus connect and TLS, transfer = rest.
    // Differences in ms first, then seconds, so 400 - 250 reads 0.15 and not 0.15000000000000002.
    const ms = (v: number | null | undefined) => (v != null && Number.isFinite(v) && v > 0 ? v : 0);
    const reached = t.ttfbMs != null;
    const phases: Record<(typeof PHASES)[number], number> = {
      connect: sec(t.connectMs),
      tls: sec(t.tlsMs),
      processing: reached ? sec(ms(t.ttfbMs) - ms(t.connectMs) - ms(t.tlsMs)) : 0,
      transfer: reached ? sec(ms(t.totalMs) - ms(t.ttfbMs)) : 0,
    };
    for (const phase of PHASES) probeHttpDuration.set({ ...id, phase }, phases[phase]);

    const servedModel = limiter.label(spec.id, result.servedModel);
    const served: Labels = { ...id, served_model: servedModel };
    if (result.servedModel != null) {
      // Info metric: exactly one series per probe, the latest served model.
      if (s.servedModelInfo && s.servedModelInfo.served_model !== servedModel) servedModelInfo.remove(s.servedModelInfo);
      s.servedModelInfo = served;
      servedModelInfo.set(served, 1);
    }

    const errorClass = errorClassLabel(result.errorClass);
    errorClasses.add(errorClass);
    operationDuration.observe({ ...served, error_class: errorClass }, sec(t.totalMs));
    if (t.ttftMs != null && Number.isFinite(t.ttftMs) && t.ttftMs >= 0) {
      timeToFirstChunk.observe(served, t.ttftMs / 1000);
    }
    if (isCount(result.tokensIn)) tokenUsage.inc({ ...served, gen_ai_token_type: 'input' }, result.tokensIn);
    if (isCount(result.tokensOut)) tokenUsage.inc({ ...served, gen_ai_token_type: 'output' }, result.tokensOut);
    if (isCount(result.costUsd)) cost.inc(served, result.costUsd);
    const outcome = result.outcome === 'ok' || result.outcome === 'degraded' || result.outcome === 'failed' || result.outcome === 'unknown' ? result.outcome : 'failed';
    results.inc({ ...id, outcome, error_class: errorClass }, 1);
  }

  return {
    registry,
    get contentType() {
      return registry.contentType;
    },
    metrics: () => registry.metrics(),
    observeResult,
    removeProbe,
    retainProbes(probeIds) {
      const keep = new Set(probeIds);
      for (const id of [...probes.keys()]) if (!keep.has(id)) removeProbe(id);
    },
    recordConfigReload(ok, atMs) {
      configReloadSuccessful.set(ok ? 1 : 0);
      if (ok) configReloadTimestamp.set(atMs / 1000);
    },
    observeScheduleSkew(lateMs) {
      scheduleSkew.observe(Number.isFinite(lateMs) && lateMs > 0 ? lateMs / 1000 : 0);
    },
    probeStarted(target) {
      inFlight.inc({ provider: providerLabel(target) });
    },
    probeFinished(target) {
      inFlight.dec({ provider: providerLabel(target) });
    },
  };
}

/** Non-negative finite number (tokens, dollars); counters must never go down. */
function isCount(n: number | null | undefined): n is number {
  return n != null && Number.isFinite(n) && n >= 0;
}
