// Shared fixtures for scheduler tests: specs, results and a recording fake runner on a ManualClock.

import type { Clock, ManualClock } from '../../src/clock.ts';
import type { ErrorClass, Outcome, ProbeResult, ProbeSpec } from '../../src/domain.ts';
import { Scheduler } from '../../src/scheduler/index.ts';
import { makeResultFor, makeSpec } from '../fixtures.ts';
import type { ProbeRunner, ResultMeta, RunContext, SchedulerOptions, SkipReason } from '../../src/scheduler/index.ts';

export function spec(id: string, over: Partial<ProbeSpec> & { everyMs?: number; cron?: string; timezone?: string } = {}): ProbeSpec {
  const { everyMs, cron, timezone, ...rest } = over;
  return makeSpec({
    id,
    model: 'gpt-test',
    schedule: cron !== undefined ? { cron, timezone: timezone ?? 'UTC' } : { everyMs: everyMs ?? 60_000, timezone: 'UTC' },
    ...rest,
  });
}

export function result(s: ProbeSpec, startedAt: number, outcome: Outcome = 'ok', errorClass: ErrorClass | null = null): ProbeResult {
  return makeResultFor(s, startedAt, {
    outcome,
    errorClass,
    errorMessage: errorClass ? `simulated ${errorClass}` : null,
    httpStatus: outcome === 'failed' ? 500 : 200,
    timings: { connectMs: 1, tlsMs: null, ttfbMs: 10, ttftMs: 10, totalMs: 20, outputTokensPerSec: null },
    tokensIn: 5,
    costUsd: 0,
    textHash: '0',
    attempt: 0,
  });
}

export interface Call {
  id: string;
  target: string;
  attempt: number;
  plannedAt: number;
  startedAt: number;
  endedAt?: number;
  aborted?: boolean;
}

export interface Behaviour {
  /** Fake time the attempt takes. */
  durationMs: number;
  outcome?: Outcome;
  errorClass?: ErrorClass | null;
}

/**
 * A runner that takes fake time on the clock and records every call, the concurrency per target and
 * per probe. It honours the abort signal like a real probe (rejects when aborted).
 */
export class FakeRunner {
  readonly calls: Call[] = [];
  readonly activeByTarget = new Map<string, number>();
  readonly maxByTarget = new Map<string, number>();
  readonly activeById = new Map<string, number>();
  maxPerProbe = 0;
  private readonly clock: Clock;
  private readonly behave: (s: ProbeSpec, ctx: RunContext) => Behaviour;

  constructor(clock: Clock, behave: (s: ProbeSpec, ctx: RunContext) => Behaviour) {
    this.clock = clock;
    this.behave = behave;
  }

  readonly run: ProbeRunner = async (s, ctx) => {
    const call: Call = { id: s.id, target: s.target, attempt: ctx.attempt, plannedAt: ctx.plannedAt, startedAt: this.clock.now() };
    this.calls.push(call);
    const t = (this.activeByTarget.get(s.target) ?? 0) + 1;
    this.activeByTarget.set(s.target, t);
    this.maxByTarget.set(s.target, Math.max(t, this.maxByTarget.get(s.target) ?? 0));
    const p = (this.activeById.get(s.id) ?? 0) + 1;
    this.activeById.set(s.id, p);
    this.maxPerProbe = Math.max(this.maxPerProbe, p);
    const b = this.behave(s, ctx);
    try {
      await this.clock.sleep(b.durationMs, ctx.signal);
    } catch (err) {
      call.aborted = true;
      throw err;
    } finally {
      call.endedAt = this.clock.now();
      this.activeByTarget.set(s.target, this.activeByTarget.get(s.target)! - 1);
      this.activeById.set(s.id, this.activeById.get(s.id)! - 1);
    }
    return result(s, call.startedAt, b.outcome ?? 'ok', b.errorClass ?? null);
  };
}

export interface Recorded {
  results: { result: ProbeResult; meta: ResultMeta }[];
  skips: { id: string; plannedAt: number; reason: SkipReason; count: number }[];
  errors: { id: string; error: unknown }[];
}

export function harness(
  clock: ManualClock,
  behave: (s: ProbeSpec, ctx: RunContext) => Behaviour,
  opts: Partial<SchedulerOptions> = {},
): { scheduler: Scheduler; runner: FakeRunner; rec: Recorded } {
  const runner = new FakeRunner(clock, behave);
  const rec: Recorded = { results: [], skips: [], errors: [] };
  const scheduler = new Scheduler({
    clock,
    runner: runner.run,
    onResult: (result, meta) => void rec.results.push({ result, meta }),
    onSkip: (s, plannedAt, reason, count) => void rec.skips.push({ id: s.id, plannedAt, reason, count }),
    onError: (s, error) => void rec.errors.push({ id: s.id, error }),
    ...opts,
  });
  return { scheduler, runner, rec };
}

export const MIN = 60_000;
export const HOUR = 60 * MIN;
