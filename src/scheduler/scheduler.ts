// The probe scheduler: one timer loop over a min-heap of next planned times, driven by the injected Clock.
//
// - Interval probes run at `phase + k * every` (epoch-aligned, so no drift), phase = hash(id) (jitter).
// - Cron probes run at node-cron matches in their timezone (see cron.ts for DST behaviour; prefer UTC).
// - A probe never overlaps itself: a slot that comes while its previous run (including confirmation
//   re-probes, or waiting in the provider queue) is unfinished is skipped with reason `overlap`.
// - Per-provider cap (key = spec.target) with a FIFO queue; the wait counts as skew.
// - After a stall, all but the latest overdue slot are reported `missed`; the latest runs once, late.
// - Confirmation: a failed attempt with a confirmable class is re-run at once, up to confirmFailures
//   times; every attempt goes to onResult; passed-on-retry becomes `degraded` ("passed after retry").

import type { Clock } from '../clock.ts';
import { TRANSIENT_ERROR_CLASSES } from '../domain.ts';
import type { ErrorClass, ProbeResult, ProbeSpec } from '../domain.ts';
import { CronSchedule } from './cron.ts';
import { IndexedMinHeap } from './heap.ts';
import type { HeapItem } from './heap.ts';
import { intervalPhase, intervalSlotAfter } from './phase.ts';

export interface RunContext {
  /** 1 for the scheduled attempt, 2.. for confirmation re-probes. */
  attempt: number;
  /** The slot this run belongs to (epoch ms). */
  plannedAt: number;
  /** Aborted when stop() passes its deadline. */
  signal: AbortSignal;
}

export type ProbeRunner = (spec: ProbeSpec, ctx: RunContext) => Promise<ProbeResult>;

export interface ResultMeta {
  plannedAt: number;
  /** When this attempt started. */
  startedAt: number;
  /** Start of the run's first attempt minus plannedAt: timer latency, stalls and provider-queue wait. */
  skewMs: number;
  /** Same as result.confirmed. */
  confirmed: boolean;
  /** Last attempt of this run (false for a failure that is about to be confirmed). */
  final: boolean;
}

/**
 * overlap: the previous run of the probe was still going. missed: the process stalled past the slot
 * (or it was later than maxLateMs). removed: a queued run whose probe a reload removed. stopped: a queued
 * run dropped by stop().
 */
export type SkipReason = 'overlap' | 'missed' | 'removed' | 'stopped' | 'paused';

export interface SchedulerOptions {
  clock: Clock;
  runner: ProbeRunner;
  /** Every attempt. May return a promise; it is not awaited (the sink queues), rejections go to onError. */
  onResult: (result: ProbeResult, meta: ResultMeta) => void | Promise<void>;
  /** `count` > 1 only when more than maxMissedReports slots were missed at once: this slot and the next count-1. */
  onSkip?: (spec: ProbeSpec, plannedAt: number, reason: SkipReason, count: number) => void;
  /** Asked at each slot; false skips it (reason `paused`: a maintenance window with mode pause saves tokens). */
  shouldRun?: (spec: ProbeSpec, plannedAt: number) => boolean;
  /** A runner that threw (it should return a failed result instead) or a sink that threw. */
  onError?: (spec: ProbeSpec, error: unknown, where: { plannedAt: number; attempt: number }) => void;
  /** Confirmation re-probes after a confirmable failure. Default 1. */
  confirmFailures?: number;
  /** Error classes worth a confirmation re-probe. Default: TRANSIENT_ERROR_CLASSES plus `assertion`. */
  confirmClasses?: readonly ErrorClass[];
  /** Max concurrent runs per target. Default 4. */
  concurrencyPerProvider?: number;
  /** Spread interval probes by a hash of their id. Default true. */
  jitter?: boolean;
  /** A slot later than this (after a stall) is reported missed instead of run. Default: no limit. */
  maxLateMs?: number;
  /** Per probe and stall, report at most this many missed slots one by one, then one call with a count. Default 1000. */
  maxMissedReports?: number;
}

export interface ProviderStats {
  active: number;
  queued: number;
}

export interface SchedulerStats {
  running: boolean;
  probes: number;
  /** Runs holding a provider slot (their runner is executing, maybe a confirmation attempt). */
  inFlight: number;
  /** Runs waiting for a provider slot. */
  queued: number;
  providers: Record<string, ProviderStats>;
  /** Next planned time per probe id (null: a cron expression with no future match). */
  nextPlanned: Record<string, number | null>;
  counts: {
    runs: number;
    attempts: number;
    overlap: number;
    missed: number;
    removed: number;
    stopped: number;
    paused: number;
    errors: number;
  };
}

export interface UpdateSummary {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: number;
}

/**
 * Assertion failures are confirmed too: a model's answer is often flaky (a canary that says "Pong!" once),
 * and a re-probe is cheap. Auth, bad_request, context_length and content_filter are deterministic or config
 * problems: not re-run, and final at once (confirmed: true, nothing left to confirm).
 */
export const DEFAULT_CONFIRM_CLASSES: readonly ErrorClass[] = [...TRANSIENT_ERROR_CLASSES, 'assertion'];

/** The loop never sleeps longer than this, so a wall-clock step backwards is noticed within a minute. */
const MAX_SLEEP_MS = 60_000;

interface Entry extends HeapItem {
  id: string;
  spec: ProbeSpec;
  everyMs: number;
  phase: number;
  cron: CronSchedule | null;
  /** Next planned time, or null when there is none (then it is not in the heap). */
  nextAt: number | null;
  removed: boolean;
}

interface Run {
  entry: Entry;
  spec: ProbeSpec;
  plannedAt: number;
  /** Created when the run starts executing. Per run, so listeners a runner leaves behind die with it. */
  controller: AbortController | null;
}

interface Provider {
  active: number;
  queue: Run[];
  head: number;
}

type State = 'idle' | 'running' | 'stopping' | 'stopped';

export class Scheduler {
  private readonly clock: Clock;
  private readonly runner: ProbeRunner;
  private readonly onResult: SchedulerOptions['onResult'];
  private readonly onSkip: NonNullable<SchedulerOptions['onSkip']>;
  private readonly shouldRun: NonNullable<SchedulerOptions['shouldRun']>;
  private readonly onError: NonNullable<SchedulerOptions['onError']>;
  private readonly confirmFailures: number;
  private readonly confirmClasses: ReadonlySet<ErrorClass>;
  private readonly cap: number;
  private readonly jitter: boolean;
  private readonly maxLateMs: number;
  private readonly maxMissedReports: number;

  private state: State = 'idle';
  private readonly entries = new Map<string, Entry>();
  private readonly heap = new IndexedMinHeap<Entry>();
  private readonly providers = new Map<string, Provider>();
  /** Probe id -> its unfinished run (queued or executing): the no-overlap check, across reloads. */
  private readonly unfinished = new Map<string, Run>();
  private order = 0;
  private executing = 0;
  private queued = 0;
  /** Runs whose runner is executing (stop() aborts these at its deadline). */
  private readonly executingRuns = new Set<Run>();
  private wake: AbortController | null = null;
  private lastNow = 0;
  private onIdle: (() => void) | null = null;
  private stopping: Promise<void> | null = null;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly counts = { runs: 0, attempts: 0, overlap: 0, missed: 0, removed: 0, stopped: 0, paused: 0, errors: 0 };

  constructor(opts: SchedulerOptions) {
    this.clock = opts.clock;
    this.runner = opts.runner;
    this.onResult = opts.onResult;
    this.onSkip = opts.onSkip ?? (() => {});
    this.shouldRun = opts.shouldRun ?? (() => true);
    this.onError =
      opts.onError ??
      ((spec, err) => console.error(`scheduler: probe ${spec.id}: ${err instanceof Error ? err.message : err}`));
    this.confirmFailures = Math.max(0, Math.floor(opts.confirmFailures ?? 1));
    this.confirmClasses = new Set(opts.confirmClasses ?? DEFAULT_CONFIRM_CLASSES);
    this.cap = Math.max(1, Math.floor(opts.concurrencyPerProvider ?? 4));
    this.jitter = opts.jitter ?? true;
    this.maxLateMs = opts.maxLateMs ?? Infinity;
    this.maxMissedReports = Math.max(0, opts.maxMissedReports ?? 1000);
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Start scheduling `specs`; each probe's first slot is its first planned time at or after now. */
  start(specs: readonly ProbeSpec[]): void {
    if (this.state === 'running' || this.state === 'stopping') throw new Error('scheduler already running');
    this.entries.clear();
    this.heap.clear();
    this.stopping = null;
    this.apply(specs, true);
    this.state = 'running';
    this.lastNow = this.clock.now();
    this.loopDone = this.loop();
  }

  /**
   * Reload: unchanged probes keep their slot and in-flight run; removed ones stop (an executing run
   * finishes, a queued one is dropped); added ones start at their first slot at or after now; changed ones
   * restart at their first slot after now (and still never overlap a run of their old version).
   * Validates everything first: on error it throws and nothing changes.
   */
  update(specs: readonly ProbeSpec[]): UpdateSummary {
    if (this.state !== 'running') throw new Error('scheduler is not running');
    const summary = this.apply(specs, false);
    this.wakeLoop();
    return summary;
  }

  /**
   * Stop scheduling, drop queued runs, wait up to deadlineMs (clock time) for executing runs, then abort
   * them through their signal. Resolves when every run has settled.
   */
  stop(opts: { deadlineMs?: number } = {}): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.state !== 'running') return Promise.resolve();
    const deadlineMs = opts.deadlineMs ?? 10_000;
    // Everything up to arming the deadline happens now, synchronously, so the deadline counts from this call.
    this.state = 'stopping';
    this.wakeLoop();
    this.heap.clear();
    for (const e of this.entries.values()) e.nextAt = null;
    for (const p of this.providers.values()) {
      for (let i = p.head; i < p.queue.length; i++) {
        const run = p.queue[i];
        this.finish(run);
        this.skip(run.spec, run.plannedAt, 'stopped', 1);
      }
      p.queue = [];
      p.head = 0;
    }
    this.queued = 0;
    let deadline: Promise<boolean> = Promise.resolve(true);
    const timer = new AbortController();
    if (this.executing > 0 && deadlineMs > 0) {
      deadline = this.clock.sleep(deadlineMs, timer.signal).then(
        () => true,
        () => false,
      );
    }
    this.stopping = this.settle(deadline, timer, deadlineMs);
    return this.stopping;
  }

  stats(): SchedulerStats {
    const providers: Record<string, ProviderStats> = {};
    for (const [key, p] of this.providers) {
      if (p.active > 0 || p.queue.length > p.head) providers[key] = { active: p.active, queued: p.queue.length - p.head };
    }
    const nextPlanned: Record<string, number | null> = {};
    for (const [id, e] of this.entries) nextPlanned[id] = e.nextAt;
    return {
      running: this.running,
      probes: this.entries.size,
      inFlight: this.executing,
      queued: this.queued,
      providers,
      nextPlanned,
      counts: { ...this.counts },
    };
  }

  // ---- planning ---------------------------------------------------------------------------------------

  private apply(specs: readonly ProbeSpec[], initial: boolean): UpdateSummary {
    const now = this.clock.now();
    const seen = new Set<string>();
    const compiled = new Map<string, Pick<Entry, 'everyMs' | 'phase' | 'cron'>>();
    for (const spec of specs) {
      if (seen.has(spec.id)) throw new Error(`duplicate probe id "${spec.id}"`);
      seen.add(spec.id);
      // Compared only on a reload, from the kept spec: nothing per probe is stored for it, nothing computed at start.
      const old = this.entries.get(spec.id);
      if (old && fingerprint(old.spec) === fingerprint(spec)) continue;
      compiled.set(spec.id, this.compile(spec));
    }
    const summary: UpdateSummary = { added: [], removed: [], changed: [], unchanged: 0 };
    for (const [id, e] of this.entries) {
      if (seen.has(id)) continue;
      this.heap.remove(e);
      e.removed = true;
      this.entries.delete(id);
      summary.removed.push(id);
    }
    for (const spec of specs) {
      const c = compiled.get(spec.id);
      const old = this.entries.get(spec.id);
      if (!c) {
        summary.unchanged++;
        continue;
      }
      const e: Entry = old ?? {
        id: spec.id,
        spec,
        key: 0,
        order: this.order++,
        heapIndex: -1,
        nextAt: null,
        removed: false,
        ...c,
      };
      Object.assign(e, c);
      e.spec = spec;
      // New probes may fire at now; changed ones wait for the next slot after now (their old version may
      // have just run at now).
      this.plan(e, old && !initial ? now : now - 1);
      if (!old) this.entries.set(spec.id, e);
      (old ? summary.changed : summary.added).push(spec.id);
    }
    return summary;
  }

  private compile(spec: ProbeSpec): Pick<Entry, 'everyMs' | 'phase' | 'cron'> {
    const s = spec.schedule;
    if (s.cron !== undefined && s.everyMs !== undefined) {
      throw new Error(`probe "${spec.id}": schedule has both every and cron`);
    }
    if (s.cron !== undefined) {
      try {
        return { everyMs: 0, phase: 0, cron: new CronSchedule(s.cron, s.timezone || 'UTC') };
      } catch (err) {
        throw new Error(`probe "${spec.id}": ${err instanceof Error ? err.message : err}`);
      }
    }
    if (!(typeof s.everyMs === 'number' && Number.isFinite(s.everyMs) && s.everyMs >= 1)) {
      throw new Error(`probe "${spec.id}": schedule needs every (> 0) or cron`);
    }
    const everyMs = Math.round(s.everyMs);
    return { everyMs, phase: intervalPhase(spec.id, everyMs, this.jitter), cron: null };
  }

  private slotAfter(e: Entry, t: number): number | null {
    return e.cron ? e.cron.next(t) : intervalSlotAfter(t, e.phase, e.everyMs);
  }

  /** Set e's next slot to the first one strictly after `after`, and place it in the heap. */
  private plan(e: Entry, after: number): void {
    e.nextAt = this.slotAfter(e, after);
    if (e.nextAt === null) {
      this.heap.remove(e);
      return;
    }
    e.key = e.nextAt;
    this.heap.update(e);
  }

  // ---- the timer loop ---------------------------------------------------------------------------------

  private async loop(): Promise<void> {
    while (this.state === 'running') {
      const now = this.clock.now();
      if (now < this.lastNow - 1000) {
        // The wall clock stepped back: without re-planning every probe would go silent until it caught up.
        for (const e of this.entries.values()) this.plan(e, now - 1);
      }
      this.lastNow = now;
      let top = this.heap.peek();
      while (top && top.key <= now) {
        this.dispatch(top, now);
        top = this.heap.peek();
      }
      const wait = top ? Math.min(top.key - now, MAX_SLEEP_MS) : MAX_SLEEP_MS;
      const wake = new AbortController();
      this.wake = wake;
      try {
        await this.clock.sleep(wait, wake.signal);
      } catch {
        // woken early by update() or stop()
      }
      this.wake = null;
    }
  }

  private wakeLoop(): void {
    this.wake?.abort();
  }

  /** e is due (e.key <= now): report missed slots, run or skip the latest, plan the next. */
  private dispatch(e: Entry, now: number): void {
    const spec = e.spec;
    let slot = e.key;
    let next = this.slotAfter(e, slot);
    if (next !== null && next <= now) {
      // Stalled past more than one slot: all but the latest are missed; no catch-up burst.
      let reported = 0;
      while (next !== null && next <= now) {
        if (reported < this.maxMissedReports) {
          this.skip(spec, slot, 'missed', 1);
          reported++;
          slot = next;
          next = this.slotAfter(e, slot);
        } else {
          const first = slot;
          let count = 0;
          if (!e.cron) {
            const latest = e.phase + Math.floor((now - e.phase) / e.everyMs) * e.everyMs;
            count = (latest - slot) / e.everyMs;
            slot = latest;
            next = latest + e.everyMs;
          } else {
            while (next !== null && next <= now) {
              count++;
              slot = next;
              next = this.slotAfter(e, slot);
            }
          }
          this.skip(spec, first, 'missed', count);
        }
      }
    }
    if (now - slot > this.maxLateMs) this.skip(spec, slot, 'missed', 1);
    else if (this.unfinished.has(e.id)) this.skip(spec, slot, 'overlap', 1);
    else if (!this.shouldRun(spec, slot)) this.skip(spec, slot, 'paused', 1);
    else this.startRun(e, slot);
    e.nextAt = next;
    if (next === null) this.heap.remove(e);
    else {
      e.key = next;
      this.heap.update(e);
    }
  }

  private skip(spec: ProbeSpec, plannedAt: number, reason: SkipReason, count: number): void {
    this.counts[reason] += count;
    try {
      this.onSkip(spec, plannedAt, reason, count);
    } catch (err) {
      this.error(spec, err, plannedAt, 0);
    }
  }

  // ---- runs -------------------------------------------------------------------------------------------

  private provider(target: string): Provider {
    let p = this.providers.get(target);
    if (!p) {
      p = { active: 0, queue: [], head: 0 };
      this.providers.set(target, p);
    }
    return p;
  }

  private startRun(e: Entry, plannedAt: number): void {
    const run: Run = { entry: e, spec: e.spec, plannedAt, controller: null };
    this.unfinished.set(e.id, run);
    this.counts.runs++;
    const p = this.provider(run.spec.target);
    if (p.active < this.cap) {
      p.active++;
      void this.execute(run, p);
    } else {
      p.queue.push(run);
      this.queued++;
    }
  }

  private finish(run: Run): void {
    if (this.unfinished.get(run.entry.id) === run) this.unfinished.delete(run.entry.id);
  }

  /** A slot freed up on p: hand it to the oldest queued run still wanted. */
  private release(p: Provider): void {
    p.active--;
    while (p.active < this.cap && p.head < p.queue.length) {
      const run = p.queue[p.head++];
      this.queued--;
      if (p.head > 1024 && p.head * 2 > p.queue.length) {
        p.queue = p.queue.slice(p.head);
        p.head = 0;
      }
      if (run.entry.removed) {
        this.finish(run);
        this.skip(run.spec, run.plannedAt, 'removed', 1);
        continue;
      }
      p.active++;
      void this.execute(run, p);
    }
  }

  private async execute(run: Run, p: Provider): Promise<void> {
    this.executing++;
    this.executingRuns.add(run);
    const { spec, plannedAt } = run;
    run.controller = new AbortController();
    const signal = run.controller.signal;
    const firstStart = this.clock.now();
    const skewMs = firstStart - plannedAt;
    let firstFailure: ErrorClass | null = null;
    try {
      for (let attempt = 1; ; attempt++) {
        const startedAt = attempt === 1 ? firstStart : this.clock.now();
        this.counts.attempts++;
        let result: ProbeResult;
        try {
          result = await this.runner(spec, { attempt, plannedAt, signal });
        } catch (err) {
          this.error(spec, err, plannedAt, attempt);
          break;
        }
        const failed = result.outcome === 'failed';
        const confirmable = failed && (result.errorClass === null || this.confirmClasses.has(result.errorClass));
        if (confirmable && attempt <= this.confirmFailures && !signal.aborted) {
          if (attempt === 1) firstFailure = result.errorClass;
          this.emit(spec, { ...result, attempt, confirmed: false }, plannedAt, startedAt, skewMs, false);
          continue;
        }
        let out: ProbeResult;
        if (failed) {
          // Confirmed unless a stop cut the confirmation short.
          out = { ...result, attempt, confirmed: !confirmable || attempt > this.confirmFailures };
        } else if (attempt > 1 && result.outcome !== 'unknown') {
          const note = `passed after retry (attempt ${attempt}; attempt 1 failed: ${firstFailure ?? 'unknown'})`;
          out = {
            ...result,
            attempt,
            confirmed: false,
            outcome: 'degraded',
            errorMessage: result.errorMessage ? `${note}; ${result.errorMessage}` : note,
          };
        } else {
          out = { ...result, attempt, confirmed: false };
        }
        this.emit(spec, out, plannedAt, startedAt, skewMs, true);
        break;
      }
    } finally {
      this.executing--;
      this.executingRuns.delete(run);
      this.finish(run);
      this.release(p);
      if (this.executing === 0) this.onIdle?.();
    }
  }

  private emit(spec: ProbeSpec, result: ProbeResult, plannedAt: number, startedAt: number, skewMs: number, final: boolean): void {
    const meta: ResultMeta = { plannedAt, startedAt, skewMs, confirmed: result.confirmed, final };
    try {
      const r = this.onResult(result, meta);
      if (r && typeof r.then === 'function') r.then(undefined, (err: unknown) => this.error(spec, err, plannedAt, result.attempt));
    } catch (err) {
      this.error(spec, err, plannedAt, result.attempt);
    }
  }

  private error(spec: ProbeSpec, err: unknown, plannedAt: number, attempt: number): void {
    this.counts.errors++;
    try {
      this.onError(spec, err, { plannedAt, attempt });
    } catch {
      // an error handler that throws has nowhere left to report to
    }
  }

  // ---- shutdown ---------------------------------------------------------------------------------------

  private async settle(deadline: Promise<boolean>, timer: AbortController, deadlineMs: number): Promise<void> {
    await this.loopDone;
    if (this.executing > 0) {
      const idle = new Promise<void>((resolve) => (this.onIdle = resolve));
      const timedOut = await Promise.race([idle.then(() => false), deadline]);
      if (timedOut) {
        const reason = new Error(`scheduler stopped: runs still going after ${deadlineMs} ms`);
        for (const run of this.executingRuns) run.controller?.abort(reason);
        await idle;
      }
      this.onIdle = null;
    }
    timer.abort(); // release the deadline sleeper if the runs finished first
    this.state = 'stopped';
  }
}

/** `source` (file:line) is left out: adding a probe above another in a YAML file is not a change to it. */
function fingerprint(spec: ProbeSpec): string {
  return stableStringify({ ...spec, source: undefined });
}

/** JSON with sorted keys, so a reload that only reorders YAML keys is not a change. */
function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'undefined';
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
    .join(',')}}`;
}
