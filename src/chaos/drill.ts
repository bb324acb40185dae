// The drill runner, in the spirit of Chaos Toolkit: steady-state hypothesis → method (inject, probe) → verify →
// rollback, with a journal of every step.
//
//   1. Steady state: each `steady_state` probe is run now (not read from history: a stored result can be an
//      hour old, and `vigil drill` may run without a daemon). Its traffic is marked as drill traffic (stored
//      with drillId, kept out of availability and metrics) but carries no drill header, so it sees what users
//      see. Any breach → `skipped`, saying which probe and why; nothing is injected.
//   2. Baseline: the drill's probes once, with the drill header, before any fault (`baseline: measure`), or the
//      median of their last ok results (`history`). A failing baseline also skips: the path was broken already.
//   3. Inject: every fault goes to the proxy with a TTL (the fault's own, else abort.max_duration, at most 10 min)
//      and, with `scope: drill`, a match on this run's `x-vigil-drill` header.
//   4. Attempts: `repeat` rounds; before each, the `abort.steady_state` probes (no drill header) must hold, else
//      `aborted`; `abort.max_duration` (from the start) aborts too, cancelling the probe in flight.
//   5. Verify: each attempt must be ok, served by the expected target/provider/model and pass its assertions; the
//      median time to first token minus the baseline must be within `extra_latency_ms`. If no fault ever hit a
//      request, the drill proves nothing (`error`: the drill header did not reach the proxy).
//   6. Rollback, always (finally): every injected fault is cleared and the proxy is asked to confirm; if it
//      cannot be reached the faults still expire by their TTL inside the proxy, and the run says when.
//   7. Steady state again after rollback; a breach fails the drill (`not_restored`).
import type { Clock } from '../clock.ts';
import type { DrillResult, ProbeResult, ProbeSpec, ProviderEndpoint, SafetyFinding } from '../domain.ts';
import type { RunnerDeps } from '../probes/run.ts';
import { runProbe as defaultRunProbe } from '../probes/run.ts';
import type { FaultDriver } from './fault-driver.ts';
import type { FaultInput, FaultSpec } from './faults.ts';
import { DRILL_HEADER, LITELLM_MOCK_FALLBACKS, drillHeaders, withBodyFields } from './gateway-native.ts';
import { conclude, judgeAttempt, latencyOf, median, steadyStateBreach } from './judge.ts';
import { concludeSafety, describeRefusal, judgeSafety, portkeyStatusCodes, safetyAttemptVerdict } from './drill-safety.ts';
import type { SafetyPhase } from './drill-safety.ts';
import type { AttemptVerdict, DrillFailure } from './judge.ts';
import type { DrillSpec, SteadyCheck } from './scenario.ts';
import type { DrillProgress } from './drill-store.ts';

export type JournalStep =
  | 'start'
  | 'steady_state_before'
  | 'baseline'
  | 'inject'
  | 'abort_check'
  | 'attempt'
  | 'verify'
  | 'rollback'
  | 'steady_state_after'
  | 'end';

export interface JournalEntry {
  /** Epoch ms (injected clock). */
  at: number;
  step: JournalStep;
  status: 'ok' | 'failed' | 'skipped' | 'error' | 'info';
  detail: string;
  data?: Record<string, unknown>;
}

export interface InjectedFault {
  id: string;
  upstream: string;
  kind: string;
  description: string;
  /** Requests the fault hit, read from the proxy before rollback (null when unknown). */
  hits: number | null;
  expiresAt: string | null;
}

export interface DrillRun extends DrillResult {
  runId: string;
  owner: string;
  severity: DrillSpec['severity'];
  failure: DrillFailure | null;
  baselineMs: number | null;
  attempts: AttemptVerdict[];
  faults: InjectedFault[];
  /** A gateway-native mock drill: the config was exercised, never a real failover. */
  provesConfigOnly: boolean;
  rollback: { ok: boolean; detail: string };
  journal: JournalEntry[];
  /** What the drill proves (scenario `check`). */
  check: DrillSpec['check'];
  /** safety_bypass: should-refuse prompts a fallback answered (the failure), one per probe and refusal shape. */
  findings: SafetyFinding[];
  /** safety_bypass: benign prompts left refused (a warning, not a failure). */
  warnings: SafetyFinding[];
}

export interface DrillDeps {
  clock: Clock;
  /** What runProbe needs (endpoints, HTTP client, prices). */
  probeRunner: RunnerDeps;
  probe(id: string): ProbeSpec | undefined;
  /** Where faults go; null when no proxy is configured (only native drills can run then). */
  faults: FaultDriver | null;
  /** Gateway flavour from vigil.yaml (`portkey` adds x-portkey-forward-headers). */
  gatewayFlavour?: string | null;
  /** A probe's recent results, any order (for `baseline: history`). */
  history?(probeId: string): Promise<ProbeResult[]>;
  /** Every ProbeResult the drill produces (steady state, baseline, attempts, abort checks), as it happens. */
  onResult?(r: ProbeResult): void | Promise<void>;
  /**
   * What the run has done so far, after every journal entry (the store writes it, so a run killed mid-way still
   * shows what it had injected and tried). Errors are ignored: recording must never leave faults behind.
   */
  onProgress?(p: DrillProgress): void;
  /** Tests substitute a runner that fails. */
  runProbe?: typeof defaultRunProbe;
}

export interface DrillOptions {
  runId?: string;
  /** Stops the drill (daemon shutdown): verdict `aborted`, faults rolled back. */
  signal?: AbortSignal;
}

const MAX_FAULT_TTL_MS = 600_000;

export function newRunId(drillId: string, now: number): string {
  return `${drillId.slice(0, 40)}-${now.toString(36)}`;
}

/** The faults as the proxy gets them: ids from the run, a TTL always, scoped to the run's header. */
export function faultInputs(drill: DrillSpec, runId: string): FaultInput[] {
  return drill.faults.map((f, i) => ({
    ...f,
    id: `${runId}.${i}`,
    ttl: f.ttl ?? Math.min(drill.abort.maxDurationMs, MAX_FAULT_TTL_MS),
    note: `drill ${drill.id}`.slice(0, 200),
    match: drill.scope === 'drill' ? { ...f.match, headers: { ...(f.match.headers ?? {}), [DRILL_HEADER]: runId } } : f.match,
  })) as FaultInput[];
}

export function describeFault(f: FaultSpec | FaultInput): string {
  const s = f as FaultSpec;
  const parts = [`${s.upstream}: ${s.kind}`];
  if (s.kind === 'http_status') parts.push(String(s.status));
  if ('delay_ms' in s && s.delay_ms) parts.push(`+${s.delay_ms} ms`);
  if (s.kind === 'throttle') parts.push(`${s.tokens_per_sec} tok/s`);
  if ((s.ratio ?? 1) !== 1) parts.push(`ratio ${s.ratio}`);
  if (s.ttl !== undefined) parts.push(`ttl ${typeof s.ttl === 'number' ? `${Math.round(s.ttl / 1000)}s` : s.ttl}`);
  const m = s.match ?? {};
  const scope = [
    m.model ? `model=${m.model}` : '',
    m.path ? `path=${m.path}` : '',
    ...Object.entries(m.headers ?? {}).map(([k, v]) => `${k}=${v}`),
  ].filter(Boolean);
  return parts.join(' ') + (scope.length ? ` [${scope.join(', ')}]` : ' [all traffic on the upstream]');
}

/** A compact view of a result for the journal. */
function brief(r: ProbeResult): Record<string, unknown> {
  return {
    probe: r.probeId,
    outcome: r.outcome,
    error_class: r.errorClass,
    http_status: r.httpStatus,
    served_by: r.gateway?.servedBy ?? null,
    provider: r.gateway?.provider ?? null,
    served_model: r.servedModel,
    ttft_ms: r.timings.ttftMs === null ? null : Math.round(r.timings.ttftMs),
    total_ms: Math.round(r.timings.totalMs),
  };
}

class Skip extends Error {}

export async function runDrill(drill: DrillSpec, deps: DrillDeps, opts: DrillOptions = {}): Promise<DrillRun> {
  const clock = deps.clock;
  const startedAt = clock.now();
  const runId = opts.runId ?? newRunId(drill.id, startedAt);
  const journal: JournalEntry[] = [];
  const attempts: AttemptVerdict[] = [];
  const injected: InjectedFault[] = [];
  const native = drill.native === 'litellm_mock_fallbacks';
  const note = (step: JournalStep, status: JournalEntry['status'], detail: string, data?: Record<string, unknown>) => {
    journal.push({ at: clock.now(), step, status, detail, ...(data ? { data } : {}) });
    progress();
  };
  const progress = () => {
    if (!deps.onProgress) return;
    try {
      deps.onProgress({
        runId,
        drillId: drill.id,
        owner: drill.owner,
        severity: drill.severity,
        startedAt,
        injected: injectedText(injected, native),
        journal,
        faults: injected,
        attempts,
        provesConfigOnly: native,
        check: drill.check,
      });
    } catch {
      // Best effort, like onResult: a full disk must not stop the drill or its rollback.
    }
  };
  const runP = deps.runProbe ?? defaultRunProbe;
  const nativeDeps: RunnerDeps = native ? { ...deps.probeRunner, http: withBodyFields(deps.probeRunner.http, LITELLM_MOCK_FALLBACKS) } : deps.probeRunner;

  // Max duration and external stop share one signal; `why` says which fired.
  const ac = new AbortController();
  let why: string | null = null;
  const stop = (reason: string) => {
    if (ac.signal.aborted) return;
    why = reason;
    ac.abort(new Error(reason));
  };
  const timer = new AbortController();
  clock.sleep(drill.abort.maxDurationMs, timer.signal).then(
    () => stop(`max_duration ${Math.round(drill.abort.maxDurationMs / 1000)}s reached`),
    () => {},
  );
  const onExternal = () => stop('stopped (shutdown or operator)');
  if (opts.signal?.aborted) onExternal();
  opts.signal?.addEventListener('abort', onExternal, { once: true });

  const attemptsResults: ProbeResult[] = [];
  let verdict: DrillResult['verdict'] = 'error';
  let reason = '';
  let failure: DrillFailure | null = null;
  let baselineMs: number | null = null;
  let servedBy: string | null = null;
  let fallbackLatencyMs: number | null = null;
  let rollback = { ok: true, detail: 'nothing to roll back' };
  let findings: SafetyFinding[] = [];
  let warnings: SafetyFinding[] = [];

  const spec = (id: string): ProbeSpec => {
    const s = deps.probe(id);
    if (!s) throw new Error(`drill ${drill.id} references unknown probe "${id}"`);
    return s;
  };
  const headersFor = (s: ProbeSpec): Record<string, string> => {
    let endpoint = null;
    try {
      endpoint = deps.probeRunner.endpointFor(s.target);
    } catch {
      // runProbe reports an unknown target itself.
    }
    return { ...drill.headers, ...drillHeaders(runId, endpoint, deps.gatewayFlavour ?? null) };
  };
  const probeNow = async (s: ProbeSpec, o: { headers?: Record<string, string>; runner?: RunnerDeps; signal?: AbortSignal }): Promise<ProbeResult> => {
    const r = await runP(s, o.runner ?? deps.probeRunner, { drillId: drill.id, headers: o.headers, signal: o.signal ?? ac.signal });
    try {
      await deps.onResult?.(r);
    } catch {
      // Recording is best effort: a full disk must not leave faults behind.
    }
    return r;
  };
  const checkSteady = async (checks: SteadyCheck[], step: JournalStep, signal?: AbortSignal): Promise<string | null> => {
    for (const c of checks) {
      const r = await probeNow(spec(c.probe), { signal });
      const breach = steadyStateBreach(c, r);
      note(step, breach ? 'failed' : 'ok', breach ?? `${c.probe} ${r.outcome}`, brief(r));
      if (breach) return breach;
    }
    return null;
  };

  // Recorded before the call: a process killed while the proxy takes the fault still names it for rollback.
  const injectOne = async (input: FaultInput): Promise<InjectedFault> => {
    const f: InjectedFault = { id: input.id!, upstream: (input as FaultSpec).upstream, kind: (input as FaultSpec).kind, description: describeFault(input), hits: null, expiresAt: null };
    injected.push(f);
    progress();
    try {
      f.id = await deps.faults!.inject(input);
    } catch (err) {
      f.description += ' (not confirmed by the proxy)';
      throw err;
    }
    note('inject', 'ok', `${f.id}: ${f.description}`);
    return f;
  };
  /** Before each round of attempts: the abort conditions (without the drill header). False: stop now. */
  const abortCheck = async (): Promise<boolean> => {
    if (drill.abort.steadyState.length > 0) {
      const breach = await checkSteady(drill.abort.steadyState, 'abort_check', ac.signal);
      if (breach && !ac.signal.aborted) stop(`steady state broke during the fault: ${breach}`);
    }
    return !ac.signal.aborted;
  };
  /** How many requests each fault hit, from the proxy (left null when it cannot say). */
  const readHits = async (faults: InjectedFault[]): Promise<void> => {
    if (faults.length === 0) return;
    try {
      const live = new Map((await deps.faults!.list()).map((f) => [f.id, f]));
      for (const f of faults) {
        const v = live.get(f.id);
        f.hits = v ? v.hits : null;
        f.expiresAt = v ? v.expires_at : null;
      }
    } catch (err) {
      note('verify', 'info', `could not read fault hit counts: ${(err as Error).message}`);
    }
  };
  /**
   * A safety drill: each fault is one refusal shape on the primary, tried in turn (injected, probed `repeat`
   * times, its hits read, cleared), so LiteLLM's two lists can be told apart; then every answer is judged.
   */
  const safetyPhases = async (specs: ProbeSpec[]): Promise<void> => {
    note('baseline', 'info', 'not measured: a safety drill judges what users get, not latency');
    const inputs = faultInputs(drill, runId);
    const phases: SafetyPhase[] = [];
    for (let p = 0; p < inputs.length && !ac.signal.aborted; p++) {
      if (p > 0) {
        try {
          await clock.sleep(drill.intervalMs, ac.signal);
        } catch {
          break;
        }
      }
      const f = await injectOne(inputs[p]);
      const phase: SafetyPhase = { fault: drill.faults[p], description: describeRefusal(drill.faults[p]), hits: null };
      phases.push(phase);
      for (let k = 1; k <= drill.repeat && !ac.signal.aborted; k++) {
        if (!(await abortCheck())) break;
        for (const s of specs) {
          const r = await probeNow(s, { headers: headersFor(s) });
          if (ac.signal.aborted) break;
          attemptsResults.push(r);
          const v = safetyAttemptVerdict(r, judgeSafety(r, s, p, drill.primary), k);
          attempts.push(v);
          note('attempt', v.ok ? 'ok' : 'failed', `#${k}${inputs.length > 1 ? ` [refusal ${p + 1}/${inputs.length}]` : ''} ${s.id}: ${v.detail}`, { ...brief(r), refusal: r.refusal });
        }
        if (k < drill.repeat && !ac.signal.aborted) {
          try {
            await clock.sleep(drill.intervalMs, ac.signal);
          } catch {
            break;
          }
        }
      }
      await readHits([f]);
      phase.hits = f.hits;
      try {
        await deps.faults!.clear(f.id);
        note('rollback', 'ok', `refusal ${p + 1}/${inputs.length} done: cleared ${f.id} (${f.hits ?? '?'} hit${f.hits === 1 ? '' : 's'})`);
      } catch (err) {
        // The final rollback tries again, and the TTL is the backstop.
        note('rollback', 'error', `could not clear ${f.id}: ${(err as Error).message}`);
      }
    }
    if (ac.signal.aborted) {
      verdict = 'aborted';
      reason = why ?? 'aborted';
      return;
    }
    const c = concludeSafety({ attempts, phases, flavour: deps.gatewayFlavour ?? null, portkeyCodes: portkeyStatusCodes(portkeyConfigOf()) });
    verdict = c.verdict;
    failure = c.failure;
    reason = c.reason;
    servedBy = c.servedBy;
    findings = c.findings;
    warnings = c.warnings;
    note('verify', c.verdict === 'passed' ? (c.warnings.length ? 'info' : 'ok') : c.verdict === 'failed' ? 'failed' : 'error', reason, {
      findings: c.findings.length,
      warnings: c.warnings.length,
      faults: injected.map((x) => ({ id: x.id, hits: x.hits })),
    });
  };
  /** The x-portkey-config the drill's requests carry (the drill's own headers first), to name the setting at fault. */
  const portkeyConfigOf = (): string | undefined => {
    let endpoint: ProviderEndpoint | null = null;
    try {
      endpoint = deps.probeRunner.endpointFor(drill.target ?? 'gateway');
    } catch {
      // no gateway endpoint: nothing to read
    }
    for (const h of [drill.headers, endpoint?.headers ?? {}]) {
      for (const [k, v] of Object.entries(h)) if (k.toLowerCase() === 'x-portkey-config') return v;
    }
    return undefined;
  };

  note('start', 'info', `drill ${drill.id} run ${runId}`, {
    owner: drill.owner,
    faults: drill.faults.map(describeFault),
    native: drill.native,
    probes: drill.probes,
    repeat: drill.repeat,
    via: deps.faults?.describe ?? null,
  });

  try {
    const drillSpecs = drill.probes.map(spec);
    [...drill.steadyState, ...drill.abort.steadyState].forEach((c) => spec(c.probe));
    if (drill.faults.length > 0 && !deps.faults) throw new Error('no chaos proxy configured (vigil.yaml `chaos:` or --proxy URL): nowhere to inject faults');

    // 1. steady state
    const before = await checkSteady(drill.steadyState, 'steady_state_before');
    if (before) throw new Skip(`steady state does not hold: ${before}`);
    if (drill.steadyState.length === 0) note('steady_state_before', 'info', 'no steady-state probes configured');

    if (drill.check === 'safety_bypass') {
      await safetyPhases(drillSpecs);
    } else {
      // 2. baseline
      if (drill.baseline === 'history' && deps.history) {
        const histories = await Promise.all(drillSpecs.map((s) => deps.history!(s.id)));
        const lat = histories.flatMap((h) =>
          h
            .filter((r) => r.outcome === 'ok' && !r.drillId)
            .sort((a, b) => b.startedAt - a.startedAt)
            .slice(0, 20)
            .map(latencyOf)
            .filter((x): x is number => x !== null),
        );
        baselineMs = median(lat);
        note('baseline', baselineMs === null ? 'info' : 'ok', baselineMs === null ? 'no ok results in history; measuring instead' : `median of ${lat.length} stored results: ${Math.round(baselineMs)} ms`);
      }
      if (baselineMs === null) {
        const lat: number[] = [];
        for (const s of drillSpecs) {
          const r = await probeNow(s, { headers: headersFor(s) });
          if (r.outcome === 'failed') {
            note('baseline', 'failed', `${s.id} failed before any fault`, brief(r));
            throw new Skip(`baseline: ${s.id} failed before any fault was injected (${r.errorClass ?? 'failed'}${r.httpStatus ? ` HTTP ${r.httpStatus}` : ''}); the primary path is not healthy`);
          }
          const l = latencyOf(r);
          if (l !== null) lat.push(l);
          note('baseline', 'ok', `${s.id} ${r.outcome} in ${l === null ? '?' : Math.round(l)} ms`, brief(r));
        }
        baselineMs = median(lat);
      }

      // 3. inject
      for (const input of faultInputs(drill, runId)) {
        if (ac.signal.aborted) break;
        await injectOne(input);
      }
      if (native) note('inject', 'info', 'gateway-native: mock_testing_fallbacks=true on each attempt (LiteLLM fails the primary itself; proves the config only)');

      // 4. attempts
      for (let k = 1; k <= drill.repeat && !ac.signal.aborted; k++) {
        if (!(await abortCheck())) break;
        for (const s of drillSpecs) {
          const r = await probeNow(s, { headers: headersFor(s), runner: nativeDeps });
          if (ac.signal.aborted) break;
          attemptsResults.push(r);
          const v = judgeAttempt(r, drill.expect, k);
          attempts.push(v);
          note('attempt', v.ok ? 'ok' : 'failed', `#${k} ${s.id}: ${v.detail}`, brief(r));
        }
        if (k < drill.repeat && !ac.signal.aborted) {
          try {
            await clock.sleep(drill.intervalMs, ac.signal);
          } catch {
            break;
          }
        }
      }

      if (ac.signal.aborted) {
        verdict = 'aborted';
        reason = why ?? 'aborted';
      } else {
        // 5. verify: the fault must have hit (else the drill proved nothing), then the attempts.
        await readHits(injected);
        const known = injected.filter((f) => f.hits !== null);
        if (known.length > 0 && known.every((f) => f.hits === 0)) {
          verdict = 'error';
          failure = 'fault_not_applied';
          reason =
            `fault_not_applied: no request hit the injected fault${known.length > 1 ? 's' : ''}, so the fallback was not exercised. ` +
            (drill.scope === 'drill'
              ? `Does the gateway forward the ${DRILL_HEADER} header upstream (Portkey: x-portkey-forward-headers; LiteLLM: forward_client_headers_to_llm_api) and route ${[...new Set(injected.map((f) => f.upstream))].join(', ')} through the proxy?`
              : `Does the gateway route ${[...new Set(injected.map((f) => f.upstream))].join(', ')} through the proxy?`);
          note('verify', 'error', reason, { faults: injected.map((f) => ({ id: f.id, hits: f.hits })) });
        } else {
          const c = conclude(attempts, drill.expect, baselineMs);
          verdict = c.verdict;
          failure = c.failure;
          reason = native && c.verdict === 'passed' ? `${c.reason} (config only: mock_testing_fallbacks, no real failover)` : c.reason;
          servedBy = c.servedBy;
          fallbackLatencyMs = c.fallbackLatencyMs;
          note('verify', c.verdict === 'passed' ? 'ok' : 'failed', reason, {
            baseline_ms: baselineMs === null ? null : Math.round(baselineMs),
            fallback_latency_ms: c.fallbackLatencyMs,
            faults: injected.map((f) => ({ id: f.id, hits: f.hits })),
          });
        }
      }
    }
  } catch (err) {
    if (err instanceof Skip) {
      verdict = 'skipped';
      reason = err.message;
    } else {
      verdict = 'error';
      reason = `error: ${(err as Error).message}`;
      note('verify', 'error', reason);
    }
  } finally {
    timer.abort();
    opts.signal?.removeEventListener('abort', onExternal);
    // 6. rollback, whatever happened above.
    rollback = await rollBack(deps.faults, injected, note);
  }

  if (!rollback.ok) {
    reason = `rollback failed: ${rollback.detail}; ${verdict}: ${reason}`;
    verdict = 'error';
  }

  // 7. steady state after rollback (only when the drill ran: skipped/aborted runs already said why).
  if ((verdict === 'passed' || verdict === 'failed') && drill.steadyState.length > 0) {
    try {
      const after = await checkSteady(drill.steadyState, 'steady_state_after', AbortSignal.timeout(Math.max(...drill.steadyState.map((c) => spec(c.probe).timeouts.totalMs)) + 1_000));
      if (after) {
        if (verdict === 'passed') {
          verdict = 'failed';
          failure = 'not_restored';
          reason = `not_restored: steady state did not return after rollback: ${after}`;
        } else {
          reason += `; steady state did not return after rollback: ${after}`;
        }
      }
    } catch (err) {
      note('steady_state_after', 'error', `could not check: ${(err as Error).message}`);
    }
  }

  const finishedAt = clock.now();
  note('end', verdict === 'passed' ? 'ok' : verdict === 'skipped' ? 'skipped' : verdict === 'failed' ? 'failed' : 'error', `${verdict}: ${reason}`);
  return {
    drillId: drill.id,
    runId,
    owner: drill.owner,
    severity: drill.severity,
    startedAt,
    finishedAt,
    verdict,
    reason,
    failure,
    injected: injectedText(injected, native),
    servedBy,
    fallbackLatencyMs,
    baselineMs: baselineMs === null ? null : Math.round(baselineMs),
    results: attemptsResults,
    attempts,
    faults: injected,
    provesConfigOnly: native,
    rollback,
    journal,
    check: drill.check,
    findings,
    warnings,
  };
}

function injectedText(injected: readonly InjectedFault[], native: boolean): string {
  return injected.length > 0 ? injected.map((f) => f.description).join('; ') : native ? 'mock_testing_fallbacks (gateway-native)' : 'nothing';
}

async function rollBack(
  driver: FaultDriver | null,
  injected: InjectedFault[],
  note: (step: JournalStep, status: JournalEntry['status'], detail: string, data?: Record<string, unknown>) => void,
): Promise<{ ok: boolean; detail: string }> {
  if (!driver || injected.length === 0) return { ok: true, detail: 'nothing to roll back' };
  const errors: string[] = [];
  for (const f of injected) {
    try {
      await driver.clear(f.id);
    } catch (err) {
      errors.push(`${f.id}: ${(err as Error).message}`);
    }
  }
  // Confirm with the proxy: none of ours may remain.
  let remaining: string[] = [];
  try {
    const ours = new Set(injected.map((f) => f.id));
    remaining = (await driver.list()).filter((f) => ours.has(f.id)).map((f) => `${f.id} (expires ${f.expires_at})`);
  } catch (err) {
    errors.push(`could not confirm: ${(err as Error).message}`);
  }
  if (errors.length === 0 && remaining.length === 0) {
    note('rollback', 'ok', `cleared ${injected.map((f) => f.id).join(', ')}; the proxy lists none of them`);
    return { ok: true, detail: `cleared ${injected.length} fault${injected.length === 1 ? '' : 's'}` };
  }
  const ttl = injected.map((f) => `${f.id}${f.expiresAt ? ` at ${f.expiresAt}` : ''}`).join(', ');
  const detail = [...errors, ...(remaining.length ? [`still listed: ${remaining.join(', ')}`] : [])].join('; ') + `; the proxy drops them by TTL (${ttl})`;
  note('rollback', 'error', detail);
  return { ok: false, detail };
}
