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

const MARK: Record<string, string> = { sent: '✓', queued: '…', failed: '✗', expired: '✗' };

/** Each receiver once, with the status of its latest notification: `pagerduty✓ slack✗`. */
function notified(i: Incident): string {
  const last = new Map<string, string>();
  for (const n of [...i.notifications].sort((a, b) => a.at - b.at)) last.set(n.receiver, n.status);
  return [...last].map(([r, st]) => `${r}${MARK[st] ?? '?'}`).join(' ') || '-';
}

function stateOf(i: Incident): string {
  return i.state === 'firing' && i.flapping ? 'FLAPPING' : i.state.toUpperCase();
}

function cut(s: string, n: number): string {
  return s.length <= n ? s : n <= 1 ? '…'.slice(0, n) : s.slice(0, n - 1) + '…';
}

export interface FormatIncidentsOptions {
  /** Each incident followed by its notifications and owner (what `--verbose` shows). */
  verbose?: boolean;
  /** Line width for the compact table; the summary is cut to fit (default 160). */
  width?: number;
}

/**
 * Compact (default): a header and one line per incident, newest first as given; the summary is cut to the width.
 *   ID                STATE     SEVERITY  KEY            STARTED            FOR   NOTIFIED              SUMMARY
 *   inc-m5x1-3fa2c1   FIRING    critical  openai-canary  2026-01-05 09:12Z  18m   pagerduty✓ slack✓     openai-canary failing: …
 * Verbose: one line per incident, then its notifications and owner indented:
 *   FIRING    critical  openai-canary   since 2026-01-05 09:12Z (18m)  openai-canary failing: …
 *             slack trigger sent C01:1700000000.1  ·  pagerduty trigger queued
 */
export function formatIncidents(list: readonly Incident[], now: number, opts: FormatIncidentsOptions = {}): string {
  if (list.length === 0) return 'no incidents';
  if (!opts.verbose) return compact(list, now, opts.width ?? 160);
  const keyWidth = Math.min(28, Math.max(...list.map((i) => i.key.length)));
  const lines: string[] = [];
  for (const i of list) {
    const state = stateOf(i).padEnd(9);
    const end = i.resolvedAt ?? now;
    const life = i.resolvedAt !== null ? `${when(i.firstSeen)} → ${when(i.resolvedAt)} (${span(end - i.firstSeen)})` : `since ${when(i.firstSeen)} (${span(end - i.firstSeen)})`;
    lines.push(`${state} ${pad(i.severity, 8)}  ${pad(i.key, keyWidth)}  ${life}  ${i.summary}`);
    const sent = i.notifications.map((n) => `${n.receiver} ${n.action} ${n.status}${n.ref ? ` ${n.ref}` : ''}`);
    if (sent.length) lines.push(`${' '.repeat(10)}${sent.join('  ·  ')}`);
    lines.push(`${' '.repeat(10)}id ${i.id}  owner ${i.labels.owner ?? '-'}  detector ${i.detector}`);
  }
  return lines.join('\n');
}

function compact(list: readonly Incident[], now: number, width: number): string {
  const rows = list.map((i) => [i.id, stateOf(i), i.severity, cut(i.key, 32), when(i.firstSeen), span((i.resolvedAt ?? now) - i.firstSeen), notified(i)]);
  const head = ['ID', 'STATE', 'SEVERITY', 'KEY', 'STARTED', 'FOR', 'NOTIFIED'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[], summary: string) => {
    const left = cells.map((x, c) => pad(x, widths[c])).join('  ') + '  ';
    return left + cut(summary, Math.max(20, width - left.length));
  };
  return [line(head, 'SUMMARY'), ...rows.map((r, n) => line(r, list[n].summary.replace(/\s+/g, ' ')))].join('\n');
}

/** `vigil incidents show <id>`: the incident, its labels, timeline and every notification. */
export function formatIncidentDetail(d: { incident: Incident; events: readonly { at: number; kind: string; detail: string }[] }, now: number): string {
  const i = d.incident;
  const lines = [formatIncidents([i], now, { verbose: true })];
  lines.push('', 'labels   ' + (Object.entries(i.labels).map(([k, v]) => `${k}=${v}`).join(' ') || '-'));
  if (d.events.length) {
    lines.push('', 'timeline');
    for (const e of d.events) lines.push(`  ${when(e.at)}  ${pad(e.kind, 12)}  ${e.detail}`);
  }
  lines.push('', 'notifications');
  if (i.notifications.length === 0) lines.push('  none');
  for (const n of i.notifications) lines.push(`  ${when(n.at)}  ${pad(n.receiver, 10)} ${pad(n.action, 8)} ${pad(n.status, 8)} ${n.ref ?? ''}`.trimEnd());
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
    if (r.fallback) lines.push(`    → console   ${r.fallback}`);
  }
  if (t.muted) lines.push(`  muted now: ${t.muted}`);
  if (t.paused) lines.push('  paused now: matching probes do not run (maintenance mode: pause)');
  return lines.join('\n');
}
