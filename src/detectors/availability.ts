// The availability detector: a probe's recent final results → a firing or resolved Signal, or nothing.
// Pure (`evaluateAvailability`, `evaluateStreaks`); `AvailabilityDetector` keeps only running streaks per probe.
//
// - Only final results count: a failure that is about to be re-probed (not confirmed) is skipped, and so is
//   a failure whose confirmation a shutdown cut short. Failures therefore count once, confirmed.
// - Firing: the last `failure_threshold` final results are confirmed failures (Gatus failure-threshold; the
//   default 1 is enough because the scheduler's re-probe already confirmed it). `for:` (pending time) is the
//   incident engine's job: it gets the setting with the signal.
// - Severity follows the probe's kind and the failure: a canary's outage is critical. A safety probe (benign,
//   should_refuse) is there to measure refusals, runs rarely and slowly resolves: its failures are warnings
//   (the provider's canaries page for the outage itself). Config problems (auth, bad_request, context_length)
//   are the owner's mistake: a warning, not a page. A degraded streak (`degraded_threshold` > 0) raises a
//   warning on the same key.
// - Resolved: the last `success_threshold` results are ok (or degraded, when degraded does not alert).
// - In between (a lone success after failures): nothing, the incident holds (hysteresis).
// Our own egress going down never reaches here: the control target (src/health/egress.ts) turns those
// failures into `unknown` results, which this detector does not see.
import type { ErrorClass, ProbeResult, ProbeSpec, Signal } from '../domain.ts';
import type { AvailabilitySettings } from '../incidents/config.ts';

export const DETECTOR = 'availability';

/** Errors that mean the probe's config is wrong (key, model name, prompt size), not that the provider is down. */
export const CONFIG_ERROR_CLASSES: readonly ErrorClass[] = ['auth', 'bad_request', 'context_length'];

export const DEFAULT_AVAILABILITY: AvailabilitySettings = { failureThreshold: 1, successThreshold: 2, degradedThreshold: 0, forMs: 0 };

export type ProbeIdentity = Pick<ProbeSpec, 'id' | 'owner' | 'target' | 'model' | 'kind' | 'labels'>;

/**
 * Labels of a probe, the same for its signals (routing, grouping, silences) and for `isPaused`:
 * the probe's own labels, then probe, owner, provider (`provider:openai` → `openai`), target, model, kind.
 */
export function probeLabels(p: ProbeIdentity): Record<string, string> {
  const provider = p.target.startsWith('provider:') ? p.target.slice('provider:'.length) : p.target;
  return { ...p.labels, probe: p.id, owner: p.owner, provider, target: p.target, model: p.model, kind: p.kind };
}

/**
 * A result the detector counts: anything but a failure that was not confirmed, and never an `unknown` one (Vigil's
 * own fault says nothing about the target: it neither extends a failure streak nor breaks it).
 */
export function isFinal(r: Pick<ProbeResult, 'outcome' | 'confirmed'>): boolean {
  return r.outcome !== 'unknown' && (r.outcome !== 'failed' || r.confirmed);
}

function hhmm(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 16)} UTC`;
}

function describeFailure(r: ProbeResult): string {
  const cls = r.errorClass ?? 'failed';
  return r.httpStatus ? `${cls} (HTTP ${r.httpStatus})` : cls;
}

/** The trailing runs of final results a verdict needs: how many in a row, and since when (the first's start). */
export interface Streaks {
  failed: Run;
  degraded: Run;
  /** ok only (degraded alerts on its own). */
  ok: Run;
  /** ok or degraded (degraded is not alerted on). */
  okOrDegraded: Run;
}
interface Run {
  n: number;
  since: number;
}

export function emptyStreaks(): Streaks {
  return { failed: { n: 0, since: 0 }, degraded: { n: 0, since: 0 }, ok: { n: 0, since: 0 }, okOrDegraded: { n: 0, since: 0 } };
}

/** What seeding and streaks read of a result. */
export type SeedRow = Pick<ProbeResult, 'startedAt' | 'outcome' | 'confirmed' | 'drillId'>;

/**
 * Whether a probe's result reaches this detector at all: a benign or should-refuse probe failing its refusal
 * assertion is the drift detector's business (it tests rates against a baseline), not an outage.
 */
export function reachesAvailability(kind: ProbeSpec['kind'], r: Pick<ProbeResult, 'errorClass'>): boolean {
  return kind === 'canary' || r.errorClass !== 'assertion';
}

/** One probe's saved streaks: the newest counted result's start, then n and since of failed, degraded, ok, okOrDegraded. */
export type SavedStreaks = [at: number | null, fN: number, fSince: number, dN: number, dSince: number, oN: number, oSince: number, odN: number, odSince: number];

/** Extend or break each run with one final result (in place). */
export function extendStreaks(s: Streaks, r: Pick<ProbeResult, 'startedAt' | 'outcome'>): void {
  const step = (run: Run, on: boolean) => {
    if (!on) run.n = 0;
    else if (run.n++ === 0) run.since = r.startedAt;
  };
  step(s.failed, r.outcome === 'failed');
  step(s.degraded, r.outcome === 'degraded');
  step(s.ok, r.outcome === 'ok');
  step(s.okOrDegraded, r.outcome === 'ok' || r.outcome === 'degraded');
}

/** `results`: the probe's recent results, oldest first (any attempts; non-final ones are skipped). */
export function evaluateAvailability(probe: ProbeIdentity, results: readonly ProbeResult[], settings: AvailabilitySettings): Signal | null {
  const final = results.filter((r) => !r.drillId && isFinal(r));
  const last = final[final.length - 1];
  if (!last) return null;
  const streaks = emptyStreaks();
  for (const r of final) extendStreaks(streaks, r);
  return evaluateStreaks(probe, streaks, last, settings);
}

/** The verdict from the trailing runs and the newest final result (`last`, the one a page quotes). */
export function evaluateStreaks(probe: ProbeIdentity, streaks: Streaks, last: ProbeResult, settings: AvailabilitySettings): Signal | null {
  const labels = probeLabels(probe);
  const base = { detector: DETECTOR, key: probe.id, labels, at: last.startedAt };

  const failures = streaks.failed;
  if (failures.n > 0 && failures.n >= settings.failureThreshold) {
    const since = failures.since;
    const config = last.errorClass !== null && CONFIG_ERROR_CLASSES.includes(last.errorClass);
    const safety = probe.kind !== 'canary';
    const what = describeFailure(last);
    const n = `${failures.n} confirmed failure${failures.n === 1 ? '' : 's'}`;
    return {
      ...base,
      severity: config || safety ? 'warning' : 'critical',
      status: 'firing',
      summary: config
        ? `${probe.id} failing: ${what} since ${hhmm(since)}, ${n}: a config problem (key, model or request), not an outage`
        : safety
          ? `${probe.id} failing: ${what} since ${hhmm(since)}, ${n} (a ${probe.kind} safety probe: a warning; the canaries page for outages)`
          : `${probe.id} failing: ${what} since ${hhmm(since)}, ${n}`,
      evidence: evidence(last, failures.n, since, probe),
    };
  }

  const degradedAlerts = settings.degradedThreshold > 0;
  if (degradedAlerts) {
    const degraded = streaks.degraded;
    if (degraded.n >= settings.degradedThreshold) {
      const since = degraded.since;
      const why = last.errorMessage ?? last.assertions.find((a) => !a.passed)?.detail ?? 'slow or soft check failed';
      return {
        ...base,
        severity: 'warning',
        status: 'firing',
        summary: `${probe.id} degraded since ${hhmm(since)}, ${degraded.n} results in a row: ${clip(why, 200)}`,
        evidence: { ...evidence(last, 0, since, probe), degraded: degraded.n },
      };
    }
  }

  const ok = degradedAlerts ? streaks.ok : streaks.okOrDegraded;
  if (ok.n >= settings.successThreshold) {
    return {
      ...base,
      severity: 'info',
      status: 'resolved',
      summary: `${probe.id} recovered: ${ok.n} successful results in a row since ${hhmm(ok.since)}`,
      evidence: { successes: ok.n, last_status: last.httpStatus, ttft_ms: last.timings.ttftMs, served_model: last.servedModel },
    };
  }
  return null;
}

function evidence(last: ProbeResult, failures: number, since: number, probe: ProbeIdentity): Signal['evidence'] {
  return {
    failures,
    last_status: last.httpStatus,
    last_error_class: last.errorClass,
    last_error: last.errorMessage ? clip(last.errorMessage, 300) : null,
    timeout_phase: last.timeoutPhase,
    ttft_ms: last.timings.ttftMs,
    total_ms: Math.round(last.timings.totalMs),
    since: new Date(since).toISOString(),
    model: probe.model,
    served_model: last.servedModel,
    retry_after_s: last.retryAfterSec,
  };
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/**
 * Keeps, per probe, the running streaks: a few numbers, however long the history (50 full results × 10,000 probes
 * held half a million results). A verdict quotes the result just observed, so no result is kept. Seed it from the
 * store at start (only start time, outcome, confirmation and drill of the newest rows are needed).
 */
export class AvailabilityDetector {
  private readonly recent = new Map<string, Streaks>();
  /** Per probe, the start of the newest result counted (resuming from a save skips stored results up to it). */
  private readonly at = new Map<string, number>();
  private readonly settings: () => AvailabilitySettings;

  constructor(settings: () => AvailabilitySettings = () => DEFAULT_AVAILABILITY) {
    this.settings = settings;
  }

  /** Results from before a restart (oldest first), so streaks continue across it. */
  seed(probeId: string, results: readonly SeedRow[]): void {
    this.recent.set(probeId, emptyStreaks());
    this.at.set(probeId, -Infinity);
    for (const r of results) if (!r.drillId && isFinal(r)) this.extend(probeId, r);
  }

  /** Results stored after a save (oldest first): those that started after the newest one counted are counted. */
  catchUp(probeId: string, r: SeedRow): void {
    if (r.startedAt > (this.at.get(probeId) ?? -Infinity) && !r.drillId && isFinal(r)) this.extend(probeId, r);
  }

  /** Every probe's streaks, as saved (see availability-persist.ts). */
  save(): Record<string, SavedStreaks> {
    const out: Record<string, SavedStreaks> = {};
    for (const [id, s] of this.recent) {
      const at = this.at.get(id) ?? -Infinity;
      out[id] = [Number.isFinite(at) ? at : null, s.failed.n, s.failed.since, s.degraded.n, s.degraded.since, s.ok.n, s.ok.since, s.okOrDegraded.n, s.okOrDegraded.since];
    }
    return out;
  }

  /** One probe's saved streaks back, replacing what it had. */
  load(probeId: string, v: SavedStreaks): void {
    const run = (n: number, since: number) => ({ n, since });
    this.recent.set(probeId, { failed: run(v[1], v[2]), degraded: run(v[3], v[4]), ok: run(v[5], v[6]), okOrDegraded: run(v[7], v[8]) });
    this.at.set(probeId, v[0] ?? -Infinity);
  }

  /** The running streaks of a probe (tests and diagnostics). */
  streaks(probeId: string): Streaks | undefined {
    return this.recent.get(probeId);
  }

  /** One result from the scheduler (every attempt may be passed; only final ones count). */
  observe(probe: ProbeIdentity, result: ProbeResult): Signal | null {
    if (result.drillId || !isFinal(result)) return null;
    return evaluateStreaks(probe, this.extend(probe.id, result), result, this.settings());
  }

  private extend(probeId: string, r: SeedRow): Streaks {
    let s = this.recent.get(probeId);
    if (!s) this.recent.set(probeId, (s = emptyStreaks()));
    extendStreaks(s, r);
    if (r.startedAt > (this.at.get(probeId) ?? -Infinity)) this.at.set(probeId, r.startedAt);
    return s;
  }

  /** Forget probes a reload removed. */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.recent.keys()) if (!ids.has(id)) this.recent.delete(id);
    for (const id of this.at.keys()) if (!ids.has(id)) this.at.delete(id);
  }
}
