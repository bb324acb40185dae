// Incidents: what is open (firing or pending), what resolved recently, the notifications each one sent, and the
// silences in force or scheduled.
import type { Incident } from '../../domain.ts';
import type { PageParams, SilenceView, UiData } from '../data.ts';
import { fmtAgo, fmtDuration, fmtTime, isoTime } from '../format.ts';
import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { empty, scroller, section } from '../layout.ts';
import { badge } from '../status.ts';
import type { StatusKey } from '../status.ts';

const DAY = 86_400_000;
export const RECENT_DAYS = 7;
/** Most resolved incidents listed; the rest are in /api/incidents. */
export const MAX_RECENT = 25;

export interface IncidentsModel {
  now: number;
  tz: string;
  /** null: the incidents engine is not wired to this page. */
  open: Incident[] | null;
  recent: Incident[];
  silences: SilenceView[] | null;
}

export async function incidentsModel(data: UiData, p: PageParams): Promise<IncidentsModel> {
  const now = data.now();
  const open = data.incidents ? await data.incidents({ state: 'open', limit: 200 }) : null;
  const recent = data.incidents ? (await data.incidents({ state: 'resolved', limit: 200 })).filter((i) => (i.resolvedAt ?? i.lastSeen) >= now - RECENT_DAYS * DAY) : [];
  const silences = data.silences ? (await data.silences()).filter((s) => s.endsAt > now).sort((a, b) => a.startsAt - b.startsAt) : null;
  return { now, tz: p.tz, open, recent, silences };
}

function stateBadge(i: Incident): Html {
  const k: StatusKey = i.state === 'firing' ? 'failed' : i.state === 'pending' ? 'pending' : 'ok';
  return badge(k, i.state === 'firing' ? 'Firing' : i.state === 'pending' ? 'Pending' : 'Resolved');
}

function labelsOf(i: Incident): string {
  const keys = ['probe', 'provider', 'model', 'owner', 'direction'];
  return keys
    .filter((k) => i.labels[k])
    .map((k) => `${k}=${i.labels[k]}`)
    .join(' ');
}

/** Notifications grouped by receiver, action and status (a repeat every 4 h is one line with a count). */
function notifications(i: Incident, tz: string): Html {
  if (!i.notifications.length) return html`<span class="sub">none sent</span>`;
  const groups = new Map<string, { n: (typeof i.notifications)[number]; count: number; last: number }>();
  for (const n of i.notifications) {
    const k = `${n.receiver}|${n.action}|${n.status}`;
    const g = groups.get(k);
    if (g) {
      g.count++;
      g.last = Math.max(g.last, n.at);
    } else groups.set(k, { n, count: 1, last: n.at });
  }
  return html`<ul class="notes">${[...groups.values()].map(
    ({ n, count, last }) =>
      html`<li><span class="nt-${n.status}">${n.receiver} ${n.action}${count > 1 ? ` ×${count}` : ''}: ${n.status}</span> <time datetime="${isoTime(last)}" title="${fmtTime(last, tz)} ${tz}">${fmtTime(last, tz).slice(11)}</time></li>`,
  )}</ul>`;
}

function incidentTable(m: IncidentsModel, list: Incident[], label: string, resolved: boolean): Html {
  return scroller(
    label,
    html`<table class="incidents"><caption class="vh">${label}</caption>
<thead><tr><th scope="col">State</th><th scope="col">Severity</th><th scope="col">Summary</th><th scope="col">Since</th><th scope="col">${resolved ? 'Resolved' : 'Last seen'}</th><th scope="col">Notifications</th></tr></thead>
<tbody>${list.map((i) => {
      const end = resolved ? (i.resolvedAt ?? i.lastSeen) : m.now;
      return html`<tr data-incident="${i.id}" data-state="${i.state}"><td>${stateBadge(i)}${i.flapping ? html`<span class="sub">flapping</span>` : null}</td><td><span class="sev sev-${i.severity}">${i.severity}</span></td><td class="summary"><span>${i.summary}</span><span class="sub">${i.detector} · ${labelsOf(i)} · <a href="/api/incidents/${encodeURIComponent(i.id)}">details (JSON)</a></span></td><td><time datetime="${isoTime(i.firstSeen)}">${fmtTime(i.firstSeen, m.tz)}</time><span class="sub">${fmtAgo(i.firstSeen, m.now)}</span></td><td>${
        resolved
          ? html`<time datetime="${isoTime(end)}">${fmtTime(end, m.tz)}</time><span class="sub">lasted ${fmtDuration(end - i.firstSeen)}</span>`
          : html`<time datetime="${isoTime(i.lastSeen)}">${fmtAgo(i.lastSeen, m.now)}</time>`
      }</td><td>${notifications(i, m.tz)}</td></tr>`;
    })}</tbody></table>`,
  );
}

function silencesTable(m: IncidentsModel): Html {
  if (m.silences === null) return empty('Silences are not connected to this page.');
  if (!m.silences.length) return empty('No active or scheduled silences.', html`Create one with <code>POST /api/silences</code> or in <code>alerts/*.yaml</code>.`);
  return scroller(
    'Silences',
    html`<table class="compact"><caption class="vh">Active and scheduled silences</caption>
<thead><tr><th scope="col">State</th><th scope="col">Matchers</th><th scope="col">From</th><th scope="col">Until</th><th scope="col">Comment</th><th scope="col">By</th></tr></thead>
<tbody>${m.silences.map((s) => {
      const active = s.startsAt <= m.now;
      const matchers = [...Object.entries(s.matchers).map(([k, v]) => `${k}="${v}"`), ...Object.entries(s.matchersRe ?? {}).map(([k, v]) => `${k}=~"${v}"`)].join(', ');
      return html`<tr data-silence="${s.id}"><td>${badge(active ? 'maintenance' : 'pending', active ? 'Active' : 'Scheduled')}</td><td><code>${matchers}</code></td><td><time datetime="${isoTime(s.startsAt)}">${fmtTime(s.startsAt, m.tz)}</time></td><td><time datetime="${isoTime(s.endsAt)}">${fmtTime(s.endsAt, m.tz)}</time><span class="sub">${fmtAgo(s.endsAt, m.now)}</span></td><td>${s.comment}</td><td>${s.createdBy}${s.origin ? html`<span class="sub">${s.origin}</span>` : null}</td></tr>`;
    })}</tbody></table>`,
  );
}

export function renderIncidents(m: IncidentsModel): Html {
  if (m.open === null) return empty('The incidents engine is not connected to this page.');
  const open = m.open.length
    ? incidentTable(m, m.open, 'Open incidents', false)
    : html`<div class="empty all-clear"><p>${badge('ok', 'Nothing open')} No incident is firing or pending.</p></div>`;
  const shown = m.recent.slice(0, MAX_RECENT);
  const more = m.recent.length - shown.length;
  const recent = m.recent.length
    ? html`${incidentTable(m, shown, `Resolved in the last ${RECENT_DAYS} days`, true)}${more > 0 ? html`<p class="meta">${more} more: <a href="/api/incidents?state=resolved">/api/incidents?state=resolved</a></p>` : null}`
    : empty(`Nothing resolved in the last ${RECENT_DAYS} days.`);
  return html`${section('open', `Open (${m.open.length})`, open)}${section('recent', `Recent (${m.recent.length})`, recent)}${section('silences', 'Silences', silencesTable(m))}`;
}
