// Query parameters of the status pages. Lenient on purpose: a bad value falls back to the default and the page
// says so (an on-call engineer with a typo in a bookmarked URL still gets the page).
import type { PageParams } from './data.ts';
import { isTimeZone } from '../time.ts';
import { LOCATION_RE } from '../config/schema.ts';

export const DEFAULT_POLL_S = 15;
export const DEFAULT_DAYS = 7;
export const MAX_DAYS = 90;

export function parseParams(q: URLSearchParams): PageParams {
  const notes: string[] = [];
  const one = (name: string): string | null => {
    const all = q.getAll(name);
    if (all.length > 1) notes.push(`"${name}" was given ${all.length} times; the first is used.`);
    return all.length ? all[0] : null;
  };
  let tz = one('tz') ?? 'UTC';
  if (!isTimeZone(tz)) {
    notes.push(`Unknown time zone "${tz.slice(0, 64)}"; showing UTC.`);
    tz = 'UTC';
  }
  const rawProbe = one('probe');
  const probe = rawProbe && rawProbe !== 'canary' && rawProbe.length <= 200 ? rawProbe : null;
  const m = one('metric');
  let metric: PageParams['metric'] = 'ttft';
  if (m === 'total') metric = 'total';
  else if (m !== null && m !== 'ttft') notes.push(`Unknown metric "${m.slice(0, 32)}"; showing time to first token.`);
  const num = (name: string, def: number, min: number, max: number): number => {
    const raw = one(name);
    if (raw === null || raw === '') return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      notes.push(`"${name}" must be a whole number from ${min} to ${max}; using ${def}.`);
      return def;
    }
    return n;
  };
  const days = num('days', DEFAULT_DAYS, 1, MAX_DAYS);
  const poll = num('poll', DEFAULT_POLL_S, 2, 600);
  // A location name as config accepts it (bounded, a small alphabet); the heatmap checks that it has data.
  const rawLoc = one('location');
  let location: string | null = null;
  if (rawLoc !== null && rawLoc !== '' && rawLoc !== 'all') {
    if (LOCATION_RE.test(rawLoc)) location = rawLoc;
    else notes.push(`"${rawLoc.slice(0, 64)}" is not a location name (lower-case letters, digits, "-" and "_"); showing all locations.`);
  }
  return { tz, probe, metric, days, poll, location, notes };
}

/** Query string for links and the live endpoint: only non-default values. */
export function queryOf(p: PageParams, extra: Record<string, string | null> = {}): string {
  const q = new URLSearchParams();
  if (p.tz !== 'UTC') q.set('tz', p.tz);
  if (p.poll !== DEFAULT_POLL_S) q.set('poll', String(p.poll));
  for (const [k, v] of Object.entries(extra)) if (v !== null) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
