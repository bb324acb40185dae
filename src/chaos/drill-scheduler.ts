// Runs scheduled drills at their cron times (src/scheduler's CronSchedule, UTC unless the drill says otherwise),
// one drill at a time: two drills faulting the same gateway at once would confuse both verdicts. All waiting is
// on the injected clock. A run that is due much later than planned (the process was suspended, a long drill held
// the slot) is skipped and reported rather than run at a surprising hour.
import type { Clock } from '../clock.ts';
import { CronSchedule } from '../scheduler/index.ts';
import type { DrillSpec } from './scenario.ts';

export interface DrillSchedulerOptions {
  clock: Clock;
  /** Runs one drill; the scheduler waits for it before the next. Errors are reported through onError. */
  run(drill: DrillSpec, signal: AbortSignal): Promise<unknown>;
  /** A slot more than this late is skipped (default 15 min). */
  maxLateMs?: number;
  onSkip?(drill: DrillSpec, plannedAt: number, reason: 'late'): void;
  onError?(drill: DrillSpec, error: unknown): void;
}

interface Entry {
  drill: DrillSpec;
  cron: CronSchedule;
  next: number | null;
}

const MAX_SLEEP_MS = 60_000;

export class DrillScheduler {
  private readonly o: DrillSchedulerOptions;
  private entries = new Map<string, Entry>();
  private loop: Promise<void> | null = null;
  private halt: AbortController | null = null;
  private wake: AbortController | null = null;

  constructor(opts: DrillSchedulerOptions) {
    this.o = opts;
  }

  get running(): boolean {
    return this.loop !== null;
  }

  /** Planned next run per scheduled drill (epoch ms). */
  nextRuns(): { id: string; at: number | null }[] {
    return [...this.entries.values()].map((e) => ({ id: e.drill.id, at: e.next }));
  }

  /** Replace the set of drills (a config reload); unchanged schedules keep their next slot. */
  update(drills: readonly DrillSpec[]): void {
    const now = this.o.clock.now();
    const next = new Map<string, Entry>();
    for (const d of drills) {
      if (!d.schedule) continue;
      const old = this.entries.get(d.id);
      if (old && old.cron.expression === d.schedule.cron && old.cron.timezone === d.schedule.timezone) {
        next.set(d.id, { ...old, drill: d });
        continue;
      }
      const cron = new CronSchedule(d.schedule.cron, d.schedule.timezone);
      next.set(d.id, { drill: d, cron, next: cron.next(now) });
    }
    this.entries = next;
    this.wake?.abort();
  }

  start(drills: readonly DrillSpec[]): void {
    this.update(drills);
    if (this.loop) return;
    this.halt = new AbortController();
    this.loop = this.run(this.halt.signal);
  }

  /** Stop scheduling; a drill in progress is aborted (its faults rolled back) and awaited. */
  async stop(): Promise<void> {
    this.halt?.abort();
    this.wake?.abort();
    await this.loop;
    this.loop = null;
    this.halt = null;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const clock = this.o.clock;
    const maxLate = this.o.maxLateMs ?? 15 * 60_000;
    while (!signal.aborted) {
      const now = clock.now();
      const due = [...this.entries.values()].filter((e) => e.next !== null && e.next <= now).sort((a, b) => a.next! - b.next!);
      for (const e of due) {
        if (signal.aborted) break;
        const planned = e.next!;
        e.next = e.cron.next(Math.max(planned, clock.now()));
        if (clock.now() - planned > maxLate) {
          this.o.onSkip?.(e.drill, planned, 'late');
          continue;
        }
        try {
          await this.o.run(e.drill, signal);
        } catch (err) {
          this.o.onError?.(e.drill, err);
        }
        // Slots that passed while this drill ran are late now; the check above skips them.
      }
      if (signal.aborted) break;
      const next = Math.min(...[...this.entries.values()].map((e) => e.next ?? Infinity));
      const wait = Math.max(0, Math.min(next - clock.now(), MAX_SLEEP_MS));
      this.wake = new AbortController();
      try {
        await clock.sleep(wait, AbortSignal.any([signal, this.wake.signal]));
      } catch {
        // Woken by update() or stop(): loop around.
      }
    }
  }
}
