// Wall-clock time in an IANA time zone, DST-correct through Intl: one cached formatter per zone, shared by the
// cron walker, the simulator's diurnal curve and the status page.

export interface WallTime {
  year: number;
  /** 1..12 */
  month: number;
  day: number;
  /** 0..23 */
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
type NumericPart = Exclude<keyof WallTime, 'weekday'>;
const NUMERIC_PARTS = new Set<string>(['year', 'month', 'day', 'hour', 'minute', 'second'] satisfies NumericPart[]);
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, f);
  }
  return f;
}

/** Throws RangeError on an unknown time zone (for validating config up front); caches its formatter. */
export function assertTimeZone(timezone: string): void {
  formatterFor(timezone);
}

/** Whether `tz` names a time zone. Not cached, so arbitrary input (a query string) cannot grow the cache. */
export function isTimeZone(tz: string): boolean {
  // No zone name is this long; rejects junk before Intl sees it.
  if (!tz || tz.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function isUtc(timezone: string): boolean {
  return timezone === 'UTC' || timezone === 'Etc/UTC' || timezone === 'GMT' || timezone === 'Etc/GMT';
}

/** Wall-clock parts of the instant `ms` in `timezone`. Throws RangeError on an unknown zone. */
export function wallTime(ms: number, timezone: string): WallTime {
  if (isUtc(timezone)) {
    // Same answer as Intl, without formatting a string: the common case in hot loops (cron next-run search).
    const d = new Date(ms);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      weekday: d.getUTCDay(),
    };
  }
  const w: WallTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, weekday: 0 };
  for (const p of formatterFor(timezone).formatToParts(ms)) {
    if (p.type === 'weekday') w.weekday = WEEKDAYS[p.value] ?? 0;
    else if (NUMERIC_PARTS.has(p.type)) w[p.type as NumericPart] = Number(p.value);
  }
  w.hour %= 24; // some ICU versions print midnight as "24"
  return w;
}
