// Next-run computation for cron expressions on an arbitrary instant (the injected clock's "now").
//
// node-cron 4.6 parses and matches expressions (`parse()`, `ScheduledTask.match(date)` with a `timezone`),
// but its public API only computes next runs from the real `new Date()` (`getNextRun`, `getNextRuns`); the
// walker that could start from any instant (`TimeMatcher.getNextMatch`) is internal and the package's
// `exports` map blocks importing it. So this module uses node-cron for parsing, validation and the final
// match (the source of truth for day-of-month/day-of-week, including `L`, `W`, `#`), and does its own
// search over wall-clock minutes, skipping whole hours/days that cannot match. A next-run costs ~3 steps
// per non-matching day plus a few per matching day (each step is one Intl.DateTimeFormat call).
//
// DST (non-UTC timezones). Recommendation: schedule in UTC. If a timezone is given:
// - Spring forward: wall times that do not exist that day (e.g. 02:30 in America/New_York on the March
//   change) are skipped for that day, the same as node-cron. A job at such a time does not run that day.
// - Fall back: a wall time that occurs twice (01:30 in New York in November) fires once (the first
//   occurrence) when the hour field is restricted (`30 1 * * *`); expressions whose hour field is `*`
//   (every minute, `*/30 * * * *`) keep firing on every real occurrence, so a canary does not go silent
//   for an hour (node-cron's own scheduler goes silent for 61 min there; see research/pitfalls.md).
// - Fixed-time jobs fire at the wall time, so their UTC instant moves by the DST shift: `0 9 * * 1-5` in
//   America/New_York is 14:00 UTC in winter and 13:00 UTC in summer.

import { createTask, parse, validateDetailed } from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import { assertTimeZone, isUtc, wallTime } from '../time.ts';
import type { WallTime } from '../time.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Give up after this horizon (covers `0 0 29 2 *`, which can be 8 years apart across a century). */
const HORIZON_MS = 9 * 366 * 24 * HOUR;
/** Skipping by wall-clock distance can overshoot by a DST shift; stop this far short and walk hourly. */
const DST_MARGIN_MIN = 120;

function sameWall(a: WallTime, b: WallTime): boolean {
  return a.minute === b.minute && a.hour === b.hour && a.day === b.day && a.month === b.month && a.year === b.year;
}

/** Table t[v] = smallest allowed value >= v, or -1. */
function nextTable(allowed: Set<number>, size: number): Int16Array {
  const t = new Int16Array(size + 1).fill(-1);
  for (let v = size - 1; v >= 0; v--) t[v] = allowed.has(v) ? v : t[v + 1];
  return t;
}

/** Throws with node-cron's field errors when the expression is invalid. */
export function validateCron(expression: string, timezone = 'UTC'): void {
  const v = validateDetailed(expression);
  if (!v.valid) {
    throw new Error(
      `invalid cron expression "${expression}": ${v.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
    );
  }
  // Throws RangeError on an unknown timezone: surfaced when the schedule is compiled (config load).
  assertTimeZone(timezone);
}

export class CronSchedule {
  readonly expression: string;
  readonly timezone: string;
  private readonly task: ScheduledTask;
  private readonly seconds: number[];
  private readonly months: Set<number>;
  private readonly hours: Set<number>;
  private readonly nextMinute: Int16Array;
  private readonly nextHour: Int16Array;
  private readonly allHours: boolean;

  constructor(expression: string, timezone = 'UTC') {
    validateCron(expression, timezone);
    this.expression = expression;
    this.timezone = timezone;
    const f = parse(expression);
    this.seconds = [...f.second].sort((a, b) => a - b);
    this.months = new Set(f.month);
    this.hours = new Set(f.hour);
    this.nextMinute = nextTable(new Set(f.minute), 60);
    this.nextHour = nextTable(this.hours, 24);
    this.allHours = this.hours.size === 24;
    // A task that is never started: only its matcher is used. destroy() takes it out of node-cron's
    // global registry (createTask registers every task), so reloads do not leak; match() still works.
    this.task = createTask(expression, () => {}, { timezone, name: `vigil-matcher:${expression}` });
    void this.task.destroy();
  }

  /** node-cron's own verdict for an instant (seconds precision). */
  matches(ms: number): boolean {
    return this.task.match(new Date(ms));
  }

  /** The first matching instant strictly after `afterMs`, or null when there is none within ~9 years. */
  next(afterMs: number): number | null {
    const tz = this.timezone;
    const limit = afterMs + HORIZON_MS;
    let m = Math.floor(afterMs / MINUTE) * MINUTE;
    while (m <= limit) {
      const w = wallTime(m, tz);
      if (!this.months.has(w.month)) {
        m += this.skipDay(w);
        continue;
      }
      if (!this.hours.has(w.hour)) {
        m += this.skipToHour(w);
        continue;
      }
      const nm = this.nextMinute[w.minute];
      if (nm !== w.minute) {
        // Within the hour: DST changes happen on hour or half-hour boundaries that this never crosses
        // except to land exactly on them.
        m += (nm < 0 ? 60 - w.minute : nm - w.minute) * MINUTE;
        continue;
      }
      let candidate = -1;
      for (const s of this.seconds) {
        const t = m + s * 1000;
        if (t > afterMs) {
          candidate = t;
          break;
        }
      }
      if (candidate < 0) {
        m += MINUTE;
        continue;
      }
      if (!this.task.match(new Date(candidate))) {
        // Month, hour, minute and second match, so the day fields (day of month / week) rejected it.
        m += this.skipDay(w);
        continue;
      }
      if (!this.allHours && this.isRepeatedWallTime(m, w)) {
        m += MINUTE;
        continue;
      }
      return candidate;
    }
    return null;
  }

  /** Fall back: is this wall minute a second occurrence (the clock was turned back 1 h or 30 min)? */
  private isRepeatedWallTime(m: number, w: WallTime): boolean {
    if (isUtc(this.timezone)) return false;
    return sameWall(wallTime(m - HOUR, this.timezone), w) || sameWall(wallTime(m - 30 * MINUTE, this.timezone), w);
  }

  /** Towards the next wall-clock day, stopping DST_MARGIN_MIN short and then walking hour by hour. */
  private skipDay(w: WallTime): number {
    const remaining = 1440 - (w.hour * 60 + w.minute);
    return (remaining > DST_MARGIN_MIN + 60 ? remaining - DST_MARGIN_MIN : 60 - w.minute) * MINUTE;
  }

  private skipToHour(w: WallTime): number {
    const nh = this.nextHour[w.hour];
    if (nh < 0) return this.skipDay(w);
    const distance = (nh - w.hour) * 60 - w.minute;
    return (distance > DST_MARGIN_MIN + 60 ? distance - DST_MARGIN_MIN : 60 - w.minute) * MINUTE;
  }
}
