// Prometheus metrics for Vigil, on a registry of our own (never prom-client's global one, so tests and
// embedders can run several side by side). Names follow blackbox_exporter for the "last probe" gauges
// and the OpenTelemetry GenAI conventions for the latency histograms and token usage.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ProbeResult } from '../domain.ts';
import { ServedModelLimiter, configLabel, errorClassLabel, providerLabel } from './labels.ts';
import { add, bump, entry, newCell, newHist, observe, registerProbeFamilies, servedCell, setPhase, SLOT } from './probe-series.ts';
import type { ProbeCell } from './probe-series.ts';
import { writeExposition } from './exposition.ts';
import type { ExpositionOptions } from './exposition.ts';

/** `${outcome}\0${error_class}`, one string per pair (both are closed lists), not one per probe per result. */
const resultKeys = new Map<string, string>();
function resultKey(outcome: string, errorClass: string): string {
  const k = `${outcome}\0${errorClass}`;
  let shared = resultKeys.get(k);
  if (shared === undefined) resultKeys.set(k, (shared = k));
  return shared;
}

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
  /** The exposition text, as one string (tests; `writeMetrics` is what `/metrics` serves). */
  metrics(): Promise<string>;
  /**
   * The same text as UTF-8, in chunks of whole lines, each handed to `write` (which may wait for the socket) as
   * it is made; see ExpositionOptions for redaction and chunk reuse.
   */
  writeMetrics(write: (chunk: Buffer) => void | Promise<void>, opts?: ExpositionOptions): Promise<void>;
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

/**
 * prom-client's default collector exports these as gauges ending in `_total`, which `promtool check
 * metrics` rejects; the same numbers remain in `nodejs_active_{handles,requests,resources}{type}`.
 */
const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

type Labels = Record<string, string>;

/** HELP text of the per-probe families (probe-series.ts), by the keys of PROBE_FAMILY_NAMES. */
const HELP = {
  success: 'Whether the last probe attempt succeeded (1 for ok or degraded, 0 for failed).',
  degraded: 'Whether the last probe attempt was degraded (slow, soft assertion failed, or passed after retry).',
  duration: 'Total duration of the last probe attempt in seconds.',
  httpDuration: 'Duration of each HTTP phase of the last probe attempt in seconds (0 when not reached or reused).',
  httpStatus: 'HTTP status code of the last probe attempt (0 when there was no response).',
  lastTimestamp: 'Start time of the last probe attempt, seconds since the epoch.',
  servedModelInfo: 'The model the provider last reported serving for this probe (always 1; the value is in served_model).',
  operationDuration: 'GenAI operation duration in seconds (OpenTelemetry gen_ai.client.operation.duration), every attempt.',
  timeToFirstChunk: 'Time to the first content chunk in seconds (OpenTelemetry gen_ai.client.operation.time_to_first_chunk).',
  // OTel defines gen_ai.client.token.usage as a histogram of tokens per operation; a canary's count is nearly
  // constant, so buckets carry nothing: a counter gives tokens per second for quota and spend, one series per type.
  tokenUsage: 'Tokens used by probes (OpenTelemetry gen_ai.client.token.usage, exported as a counter).',
  cost: 'Estimated cost of probe calls in US dollars, from the configured pricing.',
  results: 'Probe attempts by outcome and error class (confirmation re-probes included).',
};

/** The per-probe families' names, keyed as probe-series.ts expects. */
const PROBE_FAMILY_NAMES = {
  success: METRIC_NAMES.probeSuccess,
  degraded: METRIC_NAMES.probeDegraded,
  duration: METRIC_NAMES.probeDuration,
  httpDuration: METRIC_NAMES.probeHttpDuration,
  httpStatus: METRIC_NAMES.probeHttpStatus,
  lastTimestamp: METRIC_NAMES.probeLastTimestamp,
  servedModelInfo: METRIC_NAMES.servedModelInfo,
  operationDuration: METRIC_NAMES.operationDuration,
  timeToFirstChunk: METRIC_NAMES.timeToFirstChunk,
  tokenUsage: METRIC_NAMES.tokenUsage,
  cost: METRIC_NAMES.cost,
  results: METRIC_NAMES.results,
};

export function createMetrics(opts: MetricsOptions = {}): VigilMetrics {
  const registry = new Registry();
  const registers = [registry];
  const limiter = new ServedModelLimiter(opts.maxServedModelsPerProbe ?? 5);

  if (opts.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    for (const name of LINT_FAILING_DEFAULTS) registry.removeSingleMetric(name);
  }

  // The per-probe series: compact cells exported at scrape time (probe-series.ts), in this registration order.
  const cells = new Map<string, ProbeCell>();
  registerProbeFamilies(registry, cells, PROBE_FAMILY_NAMES, HELP, LLM_LATENCY_BUCKETS);

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

  function removeProbe(probeId: string): void {
    cells.delete(probeId);
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
    let c = cells.get(spec.id);
    // A config edit that changes the identity labels drops the old series.
    if (c && (c.labels.probe !== id.probe || c.labels.provider !== id.provider || c.labels.model !== id.model || c.labels.owner !== id.owner)) {
      removeProbe(spec.id);
      c = undefined;
    }
    if (!c) cells.set(spec.id, (c = newCell(id)));
    const t = result.timings;
    const sec = (ms: number | null | undefined) => (ms != null && Number.isFinite(ms) && ms > 0 ? ms / 1000 : 0);

    // An `unknown` result (Vigil's own fault) says nothing about the target: the success gauge keeps its last value.
    if (result.outcome !== 'unknown') {
      c.g[SLOT.success] = result.outcome === 'failed' ? 0 : 1;
      c.g[SLOT.degraded] = result.outcome === 'degraded' ? 1 : 0;
    }
    c.g[SLOT.duration] = sec(t.totalMs);
    c.g[SLOT.status] = result.httpStatus ?? 0;
    c.g[SLOT.last] = result.startedAt / 1000;

    // blackbox_exporter semantics: processing = first byte minus connect and TLS, transfer = rest.
    // Differences in ms first, then seconds, so 400 - 250 reads 0.15 and not 0.15000000000000002.
    const ms = (v: number | null | undefined) => (v != null && Number.isFinite(v) && v > 0 ? v : 0);
    const reached = t.ttfbMs != null;
    setPhase(c, 0, sec(t.connectMs));
    setPhase(c, 1, sec(t.tlsMs));
    setPhase(c, 2, reached ? sec(ms(t.ttfbMs) - ms(t.connectMs) - ms(t.tlsMs)) : 0);
    setPhase(c, 3, reached ? sec(ms(t.totalMs) - ms(t.ttfbMs)) : 0);

    const served = servedCell(c, limiter.label(spec.id, result.servedModel));
    // Info metric: exactly one series per probe, the latest served model.
    if (result.servedModel != null) c.info = served;

    const errorClass = errorClassLabel(result.errorClass);
    observe(entry(served, 'op', errorClass, () => newHist(LLM_LATENCY_BUCKETS)), LLM_LATENCY_BUCKETS, sec(t.totalMs));
    if (t.ttftMs != null && Number.isFinite(t.ttftMs) && t.ttftMs >= 0) observe((served.ttft ??= newHist(LLM_LATENCY_BUCKETS)), LLM_LATENCY_BUCKETS, t.ttftMs / 1000);
    if (isCount(result.tokensIn)) served.tokIn = add(served.tokIn, result.tokensIn);
    if (isCount(result.tokensOut)) served.tokOut = add(served.tokOut, result.tokensOut);
    if (isCount(result.costUsd)) served.cost = add(served.cost, result.costUsd);
    const outcome = result.outcome === 'ok' || result.outcome === 'degraded' || result.outcome === 'failed' || result.outcome === 'unknown' ? result.outcome : 'failed';
    bump(c, 'results', resultKey(outcome, errorClass));
  }

  return {
    registry,
    get contentType() {
      return registry.contentType;
    },
    metrics: async () => {
      const chunks: Buffer[] = [];
      await writeExposition(registry, (chunk) => void chunks.push(chunk));
      return Buffer.concat(chunks).toString();
    },
    writeMetrics: (write, opts) => writeExposition(registry, write, opts),
    observeResult,
    removeProbe,
    retainProbes(probeIds) {
      const keep = new Set(probeIds);
      for (const id of [...cells.keys()]) if (!keep.has(id)) removeProbe(id);
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
