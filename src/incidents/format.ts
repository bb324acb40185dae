// Text for the CLI: `vigil incidents` and `vigil routes test`.
import type { Incident } from '../domain.ts';
import type { RoutesTest } from './manager.ts';

function when(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + 'Z';
}

function span(ms: number): string {
  const m = Math.round(ms / 60_000);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h${m % 60 ? `${m % 60}m` : ''}` : `${Math.floor(h / 24)}d${h % 24 ? `${h % 24}h` : ''}`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/**
 * One line per incident, newest first as given, then its notifications indented:
 *   FIRING    critical  openai-canary   since 2026-01-05 09:12Z (18m)  openai-canary failing: …
 *             slack trigger sent C01:1700000000.1  ·  pagerduty trigger queued
 */
export function formatIncidents(list: readonly Incident[], now: number): string {
  if (list.length === 0) return 'no incidents';
  const keyWidth = Math.min(28, Math.max(...list.map((i) => i.key.length)));
  const lines: string[] = [];
  for (const i of list) {
    const state = (i.state === 'firing' && i.flapping ? 'FLAPPING' : i.state.toUpperCase()).padEnd(9);
    const end = i.resolvedAt ?? now;
    const life = i.resolvedAt !== null ? `${when(i.firstSeen)} → ${when(i.resolvedAt)} (${span(end - i.firstSeen)})` : `since ${when(i.firstSeen)} (${span(end - i.firstSeen)})`;
    lines.push(`${state} ${pad(i.severity, 8)}  ${pad(i.key, keyWidth)}  ${life}  ${i.summary}`);
    const sent = i.notifications.map((n) => `${n.receiver} ${n.action} ${n.status}${n.ref ? ` ${n.ref}` : ''}`);
    if (sent.length) lines.push(`${' '.repeat(10)}${sent.join('  ·  ')}`);
    lines.push(`${' '.repeat(10)}id ${i.id}  owner ${i.labels.owner ?? '-'}  detector ${i.detector}`);
  }
  return lines.join('\n');
}

/** `vigil routes test owner=search-team severity=critical provider=openai` */
export function formatRoutesTest(t: RoutesTest): string {
  const lines: string[] = [];
  const labels = Object.entries(t.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  lines.push(`alert {${labels}}`);
  for (const r of t.routes) {
    lines.push(`  ${r.route}  match ${r.matcher}`);
    lines.push(`    group ${r.groupKey}`);
    if (r.receivers.length === 0) lines.push('    (no receivers)');
    for (const x of r.receivers) lines.push(`    ${x.ok ? '→' : '✗'} ${pad(x.kind, 9)} ${x.name}: ${x.note}`);
  }
  if (t.muted) lines.push(`  muted now: ${t.muted}`);
  if (t.paused) lines.push('  paused now: matching probes do not run (maintenance mode: pause)');
  return lines.join('\n');
}
