// Number and time formatting for the status page. Pure; times are formatted in an explicit IANA zone.
import { wallTime } from '../time.ts';

/** 850 ms, 2.4 s, 12 s; "–" for no value. */
export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 10_000) return `${(v / 1000).toFixed(1)} s`;
  return `${Math.round(v / 1000)} s`;
}

/** Compact for heatmap cells: 850, 2.4s, 12s. */
export function fmtMsShort(v: number): string {
  if (v < 1000) return String(Math.round(v));
  if (v < 10_000) return `${(v / 1000).toFixed(1)}s`;
  return `${Math.round(v / 1000)}s`;
}

/** 99.95 %, 100 %, "–" for no data. Never rounds a miss up to 100 %. */
export function fmtPct(ratio: number | null | undefined, digits = 2): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '–';
  const p = ratio * 100;
  if (p >= 100) return '100 %';
  const f = 10 ** digits;
  return `${(Math.floor(p * f) / f).toFixed(digits).replace(/\.?0+$/, '')} %`;
}

export function fmtUsd(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v === 0) return '$0';
  if (v < 0.01) return `$${v.toFixed(4)}`;
  return `$${v.toFixed(2)}`;
}

/** 45 s, 12 min, 1 h 05 min, 2 d 3 h: how long something lasted. */
export function fmtDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** "12 s ago", "5 min ago", "3 h ago", "2 d ago" (or "in …" for the future). */
export function fmtAgo(t: number, now: number): string {
  const d = now - t;
  const a = Math.abs(d);
  const s =
    a < 60_000 ? `${Math.round(a / 1000)} s` : a < 3_600_000 ? `${Math.round(a / 60_000)} min` : a < 172_800_000 ? `${Math.round(a / 3_600_000)} h` : `${Math.round(a / 86_400_000)} d`;
  return d >= 0 ? `${s} ago` : `in ${s}`;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** `2026-01-05 14:03` in `tz` (ISO-like, unambiguous, sortable). */
export function fmtTime(t: number, tz: string, withSeconds = false): string {
  const w = wallTime(t, tz);
  return `${w.year}-${pad2(w.month)}-${pad2(w.day)} ${pad2(w.hour)}:${pad2(w.minute)}${withSeconds ? `:${pad2(w.second)}` : ''}`;
}

/** Machine-readable instant for `<time datetime>`. */
export function isoTime(t: number): string {
  return new Date(t).toISOString();
}
