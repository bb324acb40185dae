// Cron next-run times from an arbitrary instant, with timezones and DST, checked against node-cron's own
// matcher by brute force; and cron probes in the scheduler on a ManualClock.

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { CronSchedule } from '../../src/scheduler/index.ts';
import { HOUR, MIN, harness, spec } from './helpers.ts';

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const at = (s: string) => Date.parse(s);

function nextN(c: CronSchedule, from: number, n: number): string[] {
  const out: string[] = [];
  let t = from;
  for (let i = 0; i < n; i++) {
    t = c.next(t)!;
    out.push(iso(t)!);
  }
  return out;
}

describe('CronSchedule.next', () => {
  it('0 9 * * 1-5 in America/New_York: 14:00 UTC in winter, 13:00 UTC in summer, weekdays only', () => {
    const c = new CronSchedule('0 9 * * 1-5', 'America/New_York');
    // Fri 2026-01-02 after 9:00 -> Mon 2026-01-05
    expect(nextN(c, at('2026-01-02T15:00:00Z'), 3)).toEqual([
      '2026-01-05T14:00:00.000Z',
      '2026-01-06T14:00:00.000Z',
      '2026-01-07T14:00:00.000Z',
    ]);
    expect(iso(c.next(at('2026-07-06T00:00:00Z')))).toBe('2026-07-06T13:00:00.000Z');
    // Across the spring-forward weekend (Sun 2026-03-08): Fri at 14:00Z, Mon at 13:00Z.
    expect(nextN(c, at('2026-03-06T00:00:00Z'), 2)).toEqual(['2026-03-06T14:00:00.000Z', '2026-03-09T13:00:00.000Z']);
  });

  it('is strictly after the given instant', () => {
    const c = new CronSchedule('*/5 * * * *', 'UTC');
    expect(iso(c.next(at('2026-01-01T00:05:00Z')))).toBe('2026-01-01T00:10:00.000Z');
    expect(iso(c.next(at('2026-01-01T00:04:59.999Z')))).toBe('2026-01-01T00:05:00.000Z');
    const s = new CronSchedule('*/20 * * * * *', 'UTC'); // six fields: seconds
    expect(nextN(s, at('2026-01-01T00:00:30Z'), 3)).toEqual([
      '2026-01-01T00:00:40.000Z',
      '2026-01-01T00:01:00.000Z',
      '2026-01-01T00:01:20.000Z',
    ]);
  });

  it('DST spring forward: a job in the missing hour is skipped that day (prefer UTC)', () => {
    const c = new CronSchedule('30 2 * * *', 'America/New_York');
    expect(nextN(c, at('2026-03-07T00:00:00Z'), 2)).toEqual(['2026-03-07T07:30:00.000Z', '2026-03-09T06:30:00.000Z']);
  });

  it('DST fall back: a fixed-time job runs once; an every-30-minutes job keeps running (no silent hour)', () => {
    const daily = new CronSchedule('30 1 * * *', 'America/New_York');
    expect(nextN(daily, at('2026-10-31T12:00:00Z'), 2)).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
    const half = new CronSchedule('*/30 * * * *', 'America/New_York');
    const runs = nextN(half, at('2026-11-01T04:00:00Z'), 8).map(at);
    expect(runs.every((t, i) => i === 0 || t - runs[i - 1] === 30 * MIN)).toBe(true);
  });

  it('agrees with a brute-force minute scan over node-cron match()', () => {
    const cases: [string, string, string][] = [
      ['*/7 * * * *', 'UTC', '2026-01-30T22:00:00Z'],
      ['0 9 * * 1-5', 'America/New_York', '2026-03-04T00:00:00Z'],
      ['15 */3 * * *', 'Asia/Kolkata', '2026-02-26T00:00:00Z'],
      ['0 0 L * *', 'Europe/Berlin', '2026-03-25T00:00:00Z'],
      ['45 23 * * 0', 'Australia/Sydney', '2026-03-30T00:00:00Z'],
      ['5 4 1,15 * *', 'America/Los_Angeles', '2026-02-28T00:00:00Z'],
      ['0 12 * * 1#2', 'UTC', '2026-03-01T00:00:00Z'],
      ['30 2 * * *', 'Europe/London', '2026-03-27T00:00:00Z'],
      // Day skips that cross a spring-forward must not overshoot the next day's first hour.
      ['30 0 * * 1', 'America/New_York', '2026-03-07T00:00:00Z'],
      ['10 0 * * 1', 'Europe/Berlin', '2026-03-27T00:00:00Z'],
    ];
    for (const [expr, tz, from] of cases) {
      const c = new CronSchedule(expr, tz);
      const start = at(from);
      const end = start + 10 * 24 * HOUR;
      const brute: number[] = [];
      for (let t = start + MIN; t <= end; t += MIN) if (c.matches(t)) brute.push(t);
      const fast: number[] = [];
      for (let t = c.next(start); t !== null && t <= end; t = c.next(t)) fast.push(t);
      expect(fast.map(iso), `${expr} ${tz}`).toEqual(brute.map(iso));
    }
  });

  it('returns null for an expression that never matches, and rejects bad input', () => {
    // Feb 29 on a Monday (node-cron ANDs day of month and day of week): next in 2044, beyond the ~9-year horizon.
    expect(new CronSchedule('0 0 29 2 1', 'UTC').next(at('2026-01-01T00:00:00Z'))).toBeNull();
    expect(iso(new CronSchedule('0 0 29 2 *', 'UTC').next(at('2026-01-01T00:00:00Z')))).toBe('2028-02-29T00:00:00.000Z');
    expect(() => new CronSchedule('0 0 31 2 *', 'UTC')).toThrow(/impossible day/);
    expect(() => new CronSchedule('61 * * * *', 'UTC')).toThrow(/invalid cron/);
    expect(() => new CronSchedule('0 9 * * *', 'Nowhere/Special')).toThrow();
  });
});

describe('cron probes in the scheduler', () => {
  async function week(start: string) {
    const clock = new ManualClock(at(start));
    const { scheduler, runner } = harness(clock, () => ({ durationMs: 2000 }));
    scheduler.start([spec('weekday-9am', { cron: '0 9 * * 1-5', timezone: 'America/New_York' })]);
    await clock.advance(7 * 24 * HOUR);
    await scheduler.stop({ deadlineMs: 0 });
    return runner.calls.map((c) => iso(c.plannedAt));
  }

  it('fires at 14:00 UTC on winter weekdays and 13:00 UTC on summer weekdays', async () => {
    expect(await week('2026-01-05T00:00:00Z')).toEqual([
      '2026-01-05T14:00:00.000Z',
      '2026-01-06T14:00:00.000Z',
      '2026-01-07T14:00:00.000Z',
      '2026-01-08T14:00:00.000Z',
      '2026-01-09T14:00:00.000Z',
    ]);
    expect((await week('2026-07-06T00:00:00Z')).every((t) => t!.endsWith('T13:00:00.000Z'))).toBe(true);
  });

  it('after a stall over several cron slots: missed ones recorded, one late run', async () => {
    const clock = new ManualClock(at('2026-01-05T00:00:00Z'));
    const { scheduler, runner, rec } = harness(clock, () => ({ durationMs: 1000 }));
    scheduler.start([spec('hourly', { cron: '0 * * * *', timezone: 'UTC' })]);
    await clock.advance(90 * MIN); // ran at 01:00
    clock.set(at('2026-01-05T04:10:00Z'));
    await clock.advance(0);
    expect(rec.skips.map((k) => [iso(k.plannedAt), k.reason])).toEqual([
      ['2026-01-05T02:00:00.000Z', 'missed'],
      ['2026-01-05T03:00:00.000Z', 'missed'],
    ]);
    expect(runner.calls.map((c) => [iso(c.plannedAt), iso(c.startedAt)])).toEqual([
      ['2026-01-05T00:00:00.000Z', '2026-01-05T00:00:00.000Z'], // a slot exactly at start() runs
      ['2026-01-05T01:00:00.000Z', '2026-01-05T01:00:00.000Z'],
      ['2026-01-05T04:00:00.000Z', '2026-01-05T04:10:00.000Z'],
    ]);
    await scheduler.stop({ deadlineMs: 0 });
  });
});
