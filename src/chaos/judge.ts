// Pure verdicts for drills: does a steady-state check hold, did one attempt fall back properly, and what does
// the whole drill conclude. No I/O: the runner (drill.ts) feeds these ProbeResults.
import type { ProbeResult } from '../domain.ts';
import { globToRegExp } from './faults.ts';
import type { DrillExpect, LatencyBound, SteadyCheck } from './scenario.ts';
import type { SafetyAttempt } from './drill-safety.ts';

/** Why a drill failed, first word of its reason. */
export type DrillFailure = 'no_fallback' | 'wrong_target' | 'bad_answer' | 'too_slow' | 'fault_not_applied' | 'not_restored' | 'safety_bypass';

export interface AttemptVerdict {
  attempt: number;
  probe: string;
  ok: boolean;
  failure: DrillFailure | null;
  detail: string;
  httpStatus: number | null;
  servedBy: string | null;
  servedModel: string | null;
  provider: string | null;
  fallbacks: number | null;
  /** Time to first token (total for a non-streamed answer), ms. */
  latencyMs: number | null;
  totalMs: number;
  /** Safety drills: what the user got, from which target, and the finding. */
  safety?: SafetyAttempt;
}

/** The latency a drill compares: time to first token, which is where a fallback's cost lands. */
export function latencyOf(r: ProbeResult): number | null {
  return r.timings.ttftMs ?? (r.outcome === 'failed' ? null : r.timings.totalMs);
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function within(value: number, bound: LatencyBound): boolean {
  return bound.op === '<' ? value < bound.ms : value <= bound.ms;
}

function describeError(r: ProbeResult): string {
  const parts: string[] = [r.errorClass ?? r.outcome];
  if (r.httpStatus !== null) parts.push(`HTTP ${r.httpStatus}`);
  const msg = r.errorMessage ? `: ${r.errorMessage.slice(0, 160)}` : '';
  return parts.join(' ') + msg;
}

/** Does a steady-state check hold for this result? Returns null when it does, else why not. */
export function steadyStateBreach(check: SteadyCheck, r: ProbeResult): string | null {
  const outcomeOk = r.outcome === 'ok' || (r.outcome === 'degraded' && check.outcome === 'ok_or_degraded');
  if (!outcomeOk) return `${check.probe} was ${r.outcome} (${describeError(r)}), expected ${check.outcome === 'ok' ? 'ok' : 'ok or degraded'}`;
  if (check.servedBy !== null) {
    const served = r.gateway?.servedBy ?? null;
    if (served === null || !glob(check.servedBy, served)) return `${check.probe} was served by ${served ?? 'an unreported target'}, expected ${check.servedBy}`;
  }
  return null;
}

const globCache = new Map<string, RegExp>();
function glob(pattern: string, value: string): boolean {
  let re = globCache.get(pattern);
  if (!re) globCache.set(pattern, (re = globToRegExp(pattern)));
  return re.test(value);
}

/** Judge one attempt made during the fault. */
export function judgeAttempt(r: ProbeResult, expect: DrillExpect, attempt: number): AttemptVerdict {
  const gw = r.gateway;
  const base = {
    attempt,
    probe: r.probeId,
    httpStatus: r.httpStatus,
    servedBy: gw?.servedBy ?? null,
    servedModel: r.servedModel,
    provider: gw?.provider ?? null,
    fallbacks: gw?.attemptedFallbacks ?? null,
    latencyMs: latencyOf(r),
    totalMs: r.timings.totalMs,
  };
  const fail = (failure: DrillFailure, detail: string): AttemptVerdict => ({ ...base, ok: false, failure, detail });
  const assertionFailed = r.errorClass === 'assertion' || r.assertions.some((a) => !a.passed && !a.soft);
  if (r.outcome === 'failed' && !(r.errorClass === 'assertion' && expect.assertions === 'ignore')) {
    // A 2xx that failed is an answer that came back broken (cut stream, filter, wrong text): the gateway did
    // route, but what the user got is no good. Anything else means the gateway did not rescue the request.
    const answered = r.httpStatus !== null && r.httpStatus >= 200 && r.httpStatus < 300;
    if (assertionFailed || answered) return fail('bad_answer', `bad fallback answer: ${describeError(r)}`);
    return fail('no_fallback', `no fallback: the gateway answered ${describeError(r)}`);
  }
  if (r.outcome === 'degraded' && expect.outcome === 'ok') {
    return fail('bad_answer', `fallback answer degraded: ${r.errorMessage ?? 'soft assertion failed'}`);
  }
  if (expect.servedBy) {
    const served = gw?.servedBy ?? null;
    if (served === null) return fail('wrong_target', `the gateway did not say which target served (expected ${expect.servedBy.join(' or ')})`);
    if (!expect.servedBy.some((p) => glob(p, served))) return fail('wrong_target', `wrong target: served by ${served}, expected ${expect.servedBy.join(' or ')}`);
  }
  if (expect.provider) {
    const p = gw?.provider ?? null;
    if (p === null || p.toLowerCase() !== expect.provider.toLowerCase()) {
      return fail('wrong_target', `wrong provider: ${p ?? 'not reported'}, expected ${expect.provider}`);
    }
  }
  if (expect.model) {
    const m = r.servedModel;
    if (m === null || !glob(expect.model, m)) return fail('wrong_target', `wrong model: served ${m ?? 'unknown'}, expected ${expect.model}`);
  }
  const who = [base.servedBy, base.servedModel].filter(Boolean).join(' / ') || 'the gateway';
  return { ...base, ok: true, failure: null, detail: `served by ${who}${base.latencyMs !== null ? ` in ${Math.round(base.latencyMs)} ms` : ''}` };
}

export interface Conclusion {
  verdict: 'passed' | 'failed';
  failure: DrillFailure | null;
  reason: string;
  /** Median latency of the attempts during the fault minus the baseline, ms (null when either is unknown). */
  fallbackLatencyMs: number | null;
  /** What served most often. */
  servedBy: string | null;
}

/** The drill's verdict from its attempts (all must pass) and the latency budget. */
export function conclude(attempts: readonly AttemptVerdict[], expect: DrillExpect, baselineMs: number | null): Conclusion {
  // What answered: attempts the gateway did not rescue say nothing about who served (Portkey still names the last target tried).
  const served = mostCommon(attempts.filter((a) => a.failure !== 'no_fallback').map((a) => a.servedBy ?? a.servedModel).filter((x): x is string => x !== null));
  const okLatencies = attempts.filter((a) => a.ok && a.latencyMs !== null).map((a) => a.latencyMs!);
  const during = median(okLatencies);
  const extra = during !== null && baselineMs !== null ? Math.round(during - baselineMs) : null;
  const bad = attempts.filter((a) => !a.ok);
  if (attempts.length === 0) {
    return { verdict: 'failed', failure: 'no_fallback', reason: 'no attempt was made during the fault', fallbackLatencyMs: null, servedBy: null };
  }
  if (bad.length > 0) {
    const first = bad[0];
    return {
      verdict: 'failed',
      failure: first.failure,
      reason: `${first.failure}: ${bad.length}/${attempts.length} attempts failed; first (attempt ${first.attempt}, ${first.probe}): ${first.detail}`,
      fallbackLatencyMs: extra,
      servedBy: served,
    };
  }
  if (expect.extraLatency) {
    if (extra === null) {
      return { verdict: 'failed', failure: 'too_slow', reason: 'too_slow: no latency to compare with the budget (baseline or attempts unmeasured)', fallbackLatencyMs: null, servedBy: served };
    }
    if (!within(extra, expect.extraLatency)) {
      return {
        verdict: 'failed',
        failure: 'too_slow',
        reason: `too_slow: fallback added ${extra} ms to time to first token (median ${Math.round(during!)} ms vs baseline ${Math.round(baselineMs!)} ms), budget ${expect.extraLatency.op} ${expect.extraLatency.ms} ms`,
        fallbackLatencyMs: extra,
        servedBy: served,
      };
    }
  }
  const budget = expect.extraLatency ? ` (budget ${expect.extraLatency.op} ${expect.extraLatency.ms} ms)` : '';
  return {
    verdict: 'passed',
    failure: null,
    reason: `fallback worked: ${attempts.length}/${attempts.length} attempts served by ${served ?? 'the gateway'}${extra !== null ? `, ${vsBaseline(extra)}${budget}` : ''}`,
    fallbackLatencyMs: extra,
    servedBy: served,
  };
}

/** `+40 ms over baseline`, or `22 ms faster than baseline` (a fallback can be quicker: never "+-22"). */
export function vsBaseline(extraMs: number): string {
  return extraMs >= 0 ? `+${extraMs} ms over baseline` : `${-extraMs} ms faster than baseline`;
}

function mostCommon(xs: readonly string[]): string | null {
  const counts = new Map<string, number>();
  let best: string | null = null;
  let bestN = 0;
  for (const x of xs) {
    const n = (counts.get(x) ?? 0) + 1;
    counts.set(x, n);
    if (n > bestN) {
      best = x;
      bestN = n;
    }
  }
  return best;
}
