// Discrete-event time for benchmarks that drive the whole daemon: the clock stands still while real I/O
// (probe calls, deliveries) runs, and jumps straight to the next sleeper's wake time once the caller says
// everything is idle. So hours of schedule take seconds and every timing is exact (no step granularity).
// `monotonic()` is real time, so a probe's measured duration stays real.
import type { Clock } from '../src/clock.ts';

export class EventClock implements Clock {
  private t: number;
  private sleepers: { at: number; seq: number; wake: () => void }[] = [];
  private seq = 0;

  constructor(start: number) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  monotonic(): number {
    return performance.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const entry = {
        at: this.t + Math.max(0, ms),
        seq: this.seq++,
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((s) => s !== entry);
        reject(signal!.reason);
      };
      this.sleepers.push(entry);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Earliest wake time, or null when nobody sleeps. */
  nextAt(): number | null {
    let min: number | null = null;
    for (const s of this.sleepers) if (min === null || s.at < min) min = s.at;
    return min;
  }

  /** Move to `at` (never backwards) and wake every sleeper due by then, in time order. */
  wakeUntil(at: number): void {
    this.t = Math.max(this.t, at);
    const due = this.sleepers.filter((s) => s.at <= this.t).sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.sleepers = this.sleepers.filter((s) => s.at > this.t);
    for (const s of due) s.wake();
  }
}

/** Let promise continuations and ready I/O callbacks run. */
export async function yieldLoop(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise<void>((r) => setImmediate(r));
}

/**
 * Run until clock time `target`: wake the next sleepers, wait (real time) until `idle()` holds, repeat.
 * Sleepers due at the same instant wake together, as they would on a real clock.
 */
export async function runTo(clock: EventClock, target: number, idle: () => boolean, timeoutMs = 30_000): Promise<void> {
  for (;;) {
    await waitIdle(idle, timeoutMs);
    const next = clock.nextAt();
    if (next === null || next > target) {
      clock.wakeUntil(target);
      await waitIdle(idle, timeoutMs);
      return;
    }
    clock.wakeUntil(next);
  }
}

async function waitIdle(idle: () => boolean, timeoutMs: number): Promise<void> {
  await yieldLoop();
  const end = performance.now() + timeoutMs;
  while (!idle()) {
    if (performance.now() > end) throw new Error('did not go idle');
    await new Promise((r) => setTimeout(r, 1));
  }
  await yieldLoop(2);
}
