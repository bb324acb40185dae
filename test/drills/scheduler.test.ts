// DrillScheduler on a ManualClock: cron slots in UTC, one drill at a time, late slots skipped, stop aborts.
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { DrillScheduler } from '../../src/chaos/drill-scheduler.ts';
import type { DrillSpec } from '../../src/chaos/scenario.ts';
import { drillFrom } from './helpers.ts';

const MON = Date.UTC(2026, 0, 5, 0, 0, 0); // Monday
const TUE_10 = Date.UTC(2026, 0, 6, 10, 0, 0);
const HOUR = 3_600_000;

const weekly = (id: string, cron = '0 10 * * 2'): DrillSpec => ({ ...drillFrom({ id }), schedule: { cron, timezone: 'UTC' } });

let sched: DrillScheduler | null = null;
afterEach(async () => {
  await sched?.stop();
  sched = null;
});

describe('DrillScheduler', () => {
  it('runs a weekly drill at its UTC slot, once per week; manual drills never', async () => {
    const clock = new ManualClock(MON);
    const runs: { id: string; at: number }[] = [];
    sched = new DrillScheduler({ clock, run: async (d) => void runs.push({ id: d.id, at: clock.now() }) });
    sched.start([weekly('primary-down'), drillFrom({ id: 'by-hand' })]);
    expect(sched.nextRuns()).toEqual([{ id: 'primary-down', at: TUE_10 }]);
    await clock.advance(TUE_10 - MON - 1_000);
    expect(runs).toEqual([]);
    await clock.advance(61_000);
    expect(runs).toEqual([{ id: 'primary-down', at: TUE_10 }]);
    await clock.advance(7 * 24 * HOUR);
    expect(runs.map((r) => r.at)).toEqual([TUE_10, TUE_10 + 7 * 24 * HOUR]);
  });

  it('runs drills due at the same time one after the other, never together', async () => {
    const clock = new ManualClock(MON);
    let inFlight = 0;
    let maxInFlight = 0;
    const order: string[] = [];
    sched = new DrillScheduler({
      clock,
      run: async (d) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        order.push(d.id);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
      },
    });
    sched.start([weekly('a', '0 1 * * 1'), weekly('b', '0 1 * * 1')]);
    await clock.advance(HOUR + 1_000);
    await new Promise((r) => setTimeout(r, 80));
    expect(order).toEqual(['a', 'b']);
    expect(maxInFlight).toBe(1);
  });

  it('skips a slot that comes up much later than planned (suspended process) instead of running it at a surprising hour', async () => {
    const clock = new ManualClock(TUE_10 - 30_000);
    const ran: number[] = [];
    const skipped: number[] = [];
    sched = new DrillScheduler({ clock, maxLateMs: 15 * 60_000, run: async () => void ran.push(clock.now()), onSkip: (_d, at) => skipped.push(at) });
    sched.start([weekly('primary-down')]);
    clock.set(TUE_10 + 3 * HOUR); // the machine slept through the slot
    await clock.advance(0);
    await clock.advance(60_000);
    expect(ran).toEqual([]);
    expect(skipped).toEqual([TUE_10]);
    expect(sched.nextRuns()[0].at).toBe(TUE_10 + 7 * 24 * HOUR);
  });

  it('stop() aborts the drill in progress through its signal and waits for it', async () => {
    const clock = new ManualClock(TUE_10 - 1_000);
    let aborted = false;
    sched = new DrillScheduler({
      clock,
      run: (_d, signal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          });
        }),
    });
    sched.start([weekly('primary-down')]);
    await clock.advance(2_000);
    await sched.stop();
    sched = null;
    expect(aborted).toBe(true);
  });

  it('a reload keeps unchanged schedules and picks up new ones', async () => {
    const clock = new ManualClock(MON);
    sched = new DrillScheduler({ clock, run: async () => {} });
    sched.start([weekly('a')]);
    sched.update([weekly('a'), weekly('b', '30 9 * * 1')]);
    expect(sched.nextRuns()).toEqual([
      { id: 'a', at: TUE_10 },
      { id: 'b', at: Date.UTC(2026, 0, 5, 9, 30, 0) },
    ]);
  });
});
