// Wording shared by every notifier, so a page, a Slack message and a console line say the same thing.
// Pure functions of the queued Notification: no clock (times come from the incident snapshot).
import type { Notification } from './types.ts';

export type Status = 'FIRING' | 'RESOLVED' | 'TEST' | 'PENDING';

/** What the notification announces. An `update` of a firing incident is still FIRING. */
export function statusOf(n: Notification): Status {
  if (n.action === 'test') return 'TEST';
  if (n.action === 'resolve' || n.incident.state === 'resolved') return 'RESOLVED';
  if (n.incident.state === 'pending') return 'PENDING';
  return 'FIRING';
}

/** Slack emoji shortcode for the status; always shown next to the status word, never alone. */
export function statusEmoji(n: Notification): string {
  switch (statusOf(n)) {
    case 'TEST':
      return ':test_tube:';
    case 'RESOLVED':
      return ':white_check_mark:';
    case 'PENDING':
      return ':hourglass_flowing_sand:';
    case 'FIRING':
      return n.incident.severity === 'critical' ? ':rotating_light:' : n.incident.severity === 'warning' ? ':warning:' : ':information_source:';
  }
}

/** `FIRING critical`, `RESOLVED`, `TEST`, plus `flapping` when the incident flaps. */
export function statusWords(n: Notification): string {
  const s = statusOf(n);
  const words: string[] = [s];
  if (s === 'FIRING' || s === 'PENDING') words.push(n.incident.severity);
  if (n.incident.flapping && s !== 'TEST') words.push('flapping');
  return words.join(' ');
}

/** One-line headline: `FIRING critical: OpenAI canary failing`. */
export function headline(n: Notification): string {
  return `${statusWords(n)}: ${summaryOf(n)}`;
}

export function summaryOf(n: Notification): string {
  return n.action === 'test' ? `Vigil test notification for ${n.owner} (receiver ${n.receiver})` : n.incident.summary;
}

/** `2026-01-05 00:00:00 UTC`. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
}

/** `45s`, `12m 30s`, `4h 0m`, `2d 3h`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** How long it lasted (resolved) or has lasted so far (firing, up to the last evaluation). */
export function durationMs(n: Notification): number {
  const i = n.incident;
  return (i.resolvedAt ?? i.lastSeen) - i.firstSeen;
}

/** `since 2026-01-05 00:00:00 UTC (for 5m 0s)` or `from … to … (lasted 12m 30s)`. */
export function timeline(n: Notification): string {
  const i = n.incident;
  if (statusOf(n) === 'RESOLVED' && i.resolvedAt !== null) {
    return `from ${formatTime(i.firstSeen)} to ${formatTime(i.resolvedAt)} (lasted ${formatDuration(durationMs(n))})`;
  }
  return `since ${formatTime(i.firstSeen)} (for ${formatDuration(durationMs(n))})`;
}

export function formatValue(v: string | number | boolean | null): string {
  if (v === null) return '-';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

/** Evidence as `[name, value]` pairs in the detector's order. */
export function evidenceEntries(n: Notification): [string, string][] {
  return Object.entries(n.incident.evidence).map(([k, v]) => [k, formatValue(v)]);
}

/** Cut to at most `max` characters (code points), ending with an ellipsis when cut. */
export function truncate(s: string, max: number): string {
  const cps = Array.from(s);
  if (cps.length <= max) return s;
  return cps.slice(0, Math.max(0, max - 1)).join('') + '…';
}

/** The link to Vigil's own incident page, if the incidents engine supplied one. */
export function incidentLink(n: Notification): { href: string; text: string } | undefined {
  return n.links.find((l) => /\/incidents\//.test(l.href));
}

/** Plain-text rendering: the Slack `text` fallback (notifications, screen readers) and the console line body. */
export function plainText(n: Notification): string {
  if (n.action === 'test') return `[TEST] ${summaryOf(n)}. No action needed.`;
  const parts = [`[${statusWords(n)}] ${n.incident.summary}`, timeline(n), `owner ${n.owner}`];
  const ev = evidenceEntries(n);
  if (ev.length > 0) parts.push(ev.map(([k, v]) => `${k}=${v}`).join(' '));
  for (const l of n.links) parts.push(`${l.text}: ${l.href}`);
  return parts.join(' | ');
}
