// Hour of the week in an IANA time zone (DST-correct through Intl), for bucketing latency by local time.

export interface LocalHour {
  /** 0 = Monday … 6 = Sunday (ISO order, so a report reads Mon..Sun). */
  day: number;
  /** 0..23 local hour. */
  hour: number;
  /** day * 24 + hour, 0..167. */
  how: number;
}

const DAYS: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };
const formatters = new Map<string, Intl.DateTimeFormat>();
// Offsets change at most twice a year and always on a quarter-hour, so cache per UTC quarter-hour.
const QUARTER_MS = 900_000;
const cache = new Map<string, { q: number; value: LocalHour }>();

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', hour: '2-digit', hourCycle: 'h23' });
    formatters.set(tz, f);
  }
  return f;
}

/** Local day-of-week and hour of `epochMs` in `timezone`. Throws RangeError on an unknown zone. */
export function localHour(epochMs: number, timezone: string): LocalHour {
  const q = Math.floor(epochMs / QUARTER_MS);
  const hit = cache.get(timezone);
  if (hit && hit.q === q) return hit.value;
  let day = 0;
  let hour = 0;
  for (const p of formatter(timezone).formatToParts(epochMs)) {
    if (p.type === 'weekday') day = DAYS[p.value] ?? 0;
    else if (p.type === 'hour') hour = Number(p.value) % 24;
  }
  const value = { day, hour, how: day * 24 + hour };
  cache.set(timezone, { q, value });
  return value;
}
