// "Can this process still do its job?": the checks behind /healthz, the heartbeat's gate and the self-monitoring
// metrics. Each check is cheap and answers from what the daemon already knows (the outcome of its last writes,
// the scheduler's plan, the loop monitor), plus one small throttled test write. A failing `fatal` check makes
// /healthz 503 so a supervisor restarts the daemon; the others are reported but don't fail it (a Slack outage is
// not cured by a restart).

export interface HealthCheck {
  name: string;
  ok: boolean;
  /** Fails /healthz when not ok. */
  fatal: boolean;
  /** Short, safe to serve (no secrets). */
  detail: string;
  /** Since when it has been failing (epoch ms), when known. */
  since?: number;
}

export interface HealthReport {
  ok: boolean;
  checks: HealthCheck[];
}

/** The outcome of the daemon's writes to its store, whoever made them (results, test writes, engine). */
export class StoreHealth {
  private failingSince: number | null = null;
  private lastError = '';
  private lastOkAt: number | null = null;
  private testing: Promise<void> | null = null;
  private lastTestAt = 0;
  private readonly onChange: (ok: boolean, error: string) => void;

  constructor(onChange: (ok: boolean, error: string) => void = () => {}) {
    this.onChange = onChange;
  }

  get ok(): boolean {
    return this.failingSince === null;
  }

  get since(): number | null {
    return this.failingSince;
  }

  get error(): string {
    return this.lastError;
  }

  noteOk(now: number): void {
    this.lastOkAt = now;
    if (this.failingSince === null) return;
    this.failingSince = null;
    this.onChange(true, '');
  }

  noteFailure(now: number, err: unknown): void {
    this.lastError = (err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 200);
    if (this.failingSince !== null) return;
    this.failingSince = now;
    this.onChange(false, this.lastError);
  }

  /**
   * A small real write, at most every `minGapMs`; resolves with the result. Concurrent callers share one write.
   * Inserts that need a new page fail on a full disk before small updates do, so the daemon's real writes
   * (every probe result) report too.
   */
  test(write: () => Promise<void>, at: number, minGapMs = 5_000): Promise<void> {
    if (this.testing) return this.testing;
    // Throttled on real time (a test clock may stand still); `at` (the daemon's clock) dates a failure.
    const mono = performance.now();
    if (this.lastTestAt !== 0 && mono - this.lastTestAt < minGapMs) return Promise.resolve();
    this.lastTestAt = mono;
    this.testing = write()
      .then(
        () => this.noteOk(at),
        (err: unknown) => this.noteFailure(at, err),
      )
      .finally(() => {
        this.testing = null;
      });
    return this.testing;
  }

  /**
   * Liveness of the store. Failing writes are reported at once (and fail /readyz), but fail /healthz only after
   * `graceMs`: a restart does not free a full disk, and meanwhile Vigil goes on from memory (results buffered,
   * notifications delivered). Past the grace it must not look healthy to a supervisor any longer.
   */
  check(now: number, graceMs = 0): HealthCheck {
    if (this.ok) return { name: 'store', ok: true, fatal: true, detail: 'writable' };
    const since = this.failingSince!;
    const fatal = now - since >= graceMs;
    const grace = fatal ? '' : `; going on from memory, /healthz fails after ${Math.round(graceMs / 1000)} s of this`;
    return { name: 'store', ok: false, fatal, detail: `writes failing: ${this.lastError}${grace}`, since };
  }
}

/** The scheduler is alive when no probe's planned slot is long overdue. */
export function schedulerCheck(stats: { running: boolean; nextPlanned: Record<string, number | null> }, now: number, lateMs: number): HealthCheck {
  if (!stats.running) return { name: 'scheduler', ok: false, fatal: true, detail: 'not running' };
  let oldest: number | null = null;
  for (const at of Object.values(stats.nextPlanned)) if (at !== null && (oldest === null || at < oldest)) oldest = at;
  if (oldest !== null && now - oldest > lateMs) {
    return { name: 'scheduler', ok: false, fatal: true, detail: `not ticking: a slot planned ${Math.round((now - oldest) / 1000)} s ago has not run`, since: oldest };
  }
  return { name: 'scheduler', ok: true, fatal: true, detail: `${Object.keys(stats.nextPlanned).length} probes scheduled` };
}

/** The incident engine delivers: no notification due for longer than `lateMs` is still waiting for its turn. */
export function engineCheck(oldestDueAt: number | null, now: number, lateMs: number): HealthCheck {
  if (oldestDueAt !== null && now - oldestDueAt > lateMs) {
    return { name: 'incident_engine', ok: false, fatal: true, detail: `not ticking: a notification due ${Math.round((now - oldestDueAt) / 1000)} s ago was never attempted`, since: oldestDueAt };
  }
  return { name: 'incident_engine', ok: true, fatal: true, detail: 'ticking' };
}

export function loopCheck(status: { stalled: boolean; recentStall: { at: number; ms: number } | null; maxLagMs: number }): HealthCheck {
  if (status.stalled && status.recentStall) {
    return { name: 'event_loop', ok: false, fatal: true, detail: `stalled ${status.recentStall.ms} ms at ${new Date(status.recentStall.at).toISOString()}`, since: status.recentStall.at };
  }
  return { name: 'event_loop', ok: true, fatal: true, detail: `max lag ${status.maxLagMs} ms in the last minute` };
}

export function report(checks: HealthCheck[]): HealthReport {
  return { ok: checks.every((c) => c.ok || !c.fatal), checks };
}
