// Time parameters for the API (`since`, `until`): ISO-8601, epoch milliseconds, or a duration ago
// (`90s`, `15m`, `1h`, `7d`, `1h30m`). Pure: `now` is passed in from the injected clock.

export type TimeParse = { ok: true; ms: number } | { ok: false; reason: string };

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const RELATIVE = /^(?:\d+(?:ms|s|m|h|d|w))+$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
/** Below this an integer is far more likely epoch seconds (before 1973 as ms). */
const MIN_EPOCH_MS = 100_000_000_000;
/** ECMAScript's largest representable time. */
const MAX_EPOCH_MS = 8.64e15;

export function parseTimeParam(raw: string, nowMs: number): TimeParse {
  const s = raw.trim();
  if (s === '') return { ok: false, reason: 'empty' };
  if (s === 'now') return { ok: true, ms: nowMs };

  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < MIN_EPOCH_MS) return { ok: false, reason: 'looks like epoch seconds; give epoch milliseconds (13 digits)' };
    if (n > MAX_EPOCH_MS) return { ok: false, reason: 'epoch milliseconds out of range' };
    return { ok: true, ms: n };
  }

  if (RELATIVE.test(s)) {
    let total = 0;
    for (const [, n, unit] of s.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) total += Number(n) * UNIT_MS[unit];
    if (!Number.isSafeInteger(total) || total > nowMs) return { ok: false, reason: 'duration too long' };
    return { ok: true, ms: nowMs - total };
  }

  const m = ISO.exec(s);
  if (m) {
    const [, y, mo, d, hh, mm, ss, zone] = m;
    const month = Number(mo);
    const day = Number(d);
    // Date.parse rolls 2026-02-30 over to March; reject impossible dates instead.
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(Number(y), month)) return { ok: false, reason: 'no such date' };
    if (hh !== undefined && (Number(hh) > 23 || Number(mm) > 59 || Number(ss ?? 0) > 59)) return { ok: false, reason: 'no such time' };
    // A date-time without an offset would be read in the server's local zone: ambiguous, so refuse.
    if (hh !== undefined && zone === undefined) return { ok: false, reason: 'date-time needs a zone: add Z or an offset like +02:00' };
    const ms = Date.parse(zone && /^[+-]\d{4}$/.test(zone) ? s.replace(/([+-]\d{2})(\d{2})$/, '$1:$2') : s);
    if (Number.isNaN(ms)) return { ok: false, reason: 'not a valid ISO-8601 time' };
    return { ok: true, ms };
  }

  return { ok: false, reason: 'expected ISO-8601 (2026-01-05T12:00:00Z), epoch milliseconds, or a duration ago (15m, 1h, 7d)' };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
