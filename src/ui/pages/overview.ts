// Overview: one row per canary probe, grouped by target (each provider, the gateway): status in words, uptime
// over 24 h / 7 d / 30 d, p50/p95 TTFT and total over 24 h with hourly sparklines, served model, cost this month.
// Above it, cards for what else is on fire: open incidents, the last drill, the next retirement, safety probes.
import type { ClusterView, UiData } from '../data.ts';
import type { PageParams } from '../data.ts';
import { fmtAgo, fmtMs, fmtPct, fmtTime, fmtUsd, isoTime } from '../format.ts';
import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { empty, scroller, section } from '../layout.ts';
import { queryOf } from '../params.ts';
import { hourlySince, latencySamples, totalsSince } from '../queries.ts';
import type { Totals } from '../queries.ts';
import type { LocationSummary } from '../../store/store.ts';
import { SEVERITY_RANK, badge, statusBadge, statusOf, statusText } from '../status.ts';
import type { StatusKey, StatusView } from '../status.ts';
import { sparkline } from '../svg.ts';
import { HOUR_MS, hourFloor, nearestRank } from '../../store/store.ts';

const DAY = 24 * HOUR_MS;

export interface LatencyView {
  p50: number | null;
  p95: number | null;
  n: number;
  /** 24 hourly values, oldest first. */
  hourlyP50: (number | null)[];
  hourlyP95: (number | null)[];
}

export interface OverviewRow {
  id: string;
  target: string;
  model: string;
  owner: string;
  stream: boolean;
  status: StatusView;
  servedModel: string | null;
  lastAt: number | null;
  uptime: { d1: number | null; d7: number | null; d30: number | null };
  ttft: LatencyView;
  total: LatencyView;
  costMonth: number;
  /** Per location over the last hour, when more than one location reported this probe; else []. */
  locations: LocationSummary[];
}

/** The per-location rows cover this window (as /api/locations' default). */
export const LOCATION_WINDOW_MS = HOUR_MS;

export interface OverviewGroup {
  target: string;
  rows: OverviewRow[];
  worst: StatusKey;
  costMonth: number;
}

export interface SafetySummary {
  target: string;
  probes: number;
  ok: number;
  notOk: { id: string; status: StatusView }[];
}

export interface OverviewModel {
  now: number;
  /** Who leads, on a shared store; null on a lone instance (it always leads: nothing to tell the on-call). */
  cluster: ClusterView | null;
  tz: string;
  query: string;
  monthStart: number;
  groups: OverviewGroup[];
  safety: SafetySummary[];
  incidents: { open: number; firing: number; worst: string | null } | null;
  drill: { scenarios: number; last: { id: string; verdict: string; at: number } | null } | null;
  /** null: not wired. Same rows as the deprecations page: retired ones (date passed) and the next retiring one. */
  deprecation: {
    next: { model: string; daysLeft: number; shutdownAt: string; owners: string[] } | null;
    retired: { model: string; daysLeft: number; owners: string[] }[];
  } | null;
}

function uptime(t: Totals | undefined): number | null {
  return t && t.count > 0 ? (t.count - t.failures) / t.count : null;
}

function monthStartUtc(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function targetOrder(t: string): string {
  // Providers first (alphabetical), then gateways: the gateway row reads as "and through the gateway".
  return (t.startsWith('gateway') ? '1' : '0') + t;
}

export async function overviewModel(data: UiData, params: PageParams): Promise<OverviewModel> {
  const now = data.now();
  const probes = data.probes();
  const monthStart = monthStartUtc(now);
  const [t1, t7, t30, tm] = await Promise.all(
    [now - DAY, now - 7 * DAY, now - 30 * DAY, monthStart].map((since) => totalsSince(data.store, since, now)),
  );
  const canaries = probes.filter((p) => p.spec.kind === 'canary');
  const hourly = await hourlySince(data.store, canaries.map((p) => p.spec.id), now - 23 * HOUR_MS, now);
  const firstHour = hourFloor(now) - 23 * HOUR_MS;
  const series = (id: string, metric: 'ttft' | 'total', stat: 'p50' | 'p95') => {
    const out: (number | null)[] = Array(24).fill(null);
    for (const r of hourly) {
      if (r.probeId !== id) continue;
      const i = Math.round((r.hourStart - firstHour) / HOUR_MS);
      if (i >= 0 && i < 24) out[i] = r[metric][stat];
    }
    return out;
  };
  // The query behind GET /api/locations, so the page and the API agree on every number.
  const byLocation = new Map<string, LocationSummary[]>();
  const seen = new Set<string>();
  for (const l of await data.store.resultsByLocation(now - LOCATION_WINDOW_MS)) {
    byLocation.set(l.probe, [...(byLocation.get(l.probe) ?? []), l]);
    seen.add(l.location);
  }
  const byTarget = new Map<string, OverviewRow[]>();
  for (const p of canaries) {
    const s = p.spec;
    const samples = await latencySamples(data.store.sql, s.id, now - DAY);
    const lat = (metric: 'ttft' | 'total'): LatencyView => ({
      p50: nearestRank(samples[metric], 50),
      p95: nearestRank(samples[metric], 95),
      n: samples[metric].length,
      hourlyP50: series(s.id, metric, 'p50'),
      hourlyP95: series(s.id, metric, 'p95'),
    });
    const row: OverviewRow = {
      id: s.id,
      target: s.target,
      model: s.model,
      owner: s.owner,
      stream: s.stream,
      status: statusOf(p.last, p.state),
      servedModel: p.last?.servedModel ?? null,
      lastAt: p.last?.startedAt ?? null,
      uptime: { d1: uptime(t1.get(s.id)), d7: uptime(t7.get(s.id)), d30: uptime(t30.get(s.id)) },
      ttft: lat('ttft'),
      total: lat('total'),
      costMonth: tm.get(s.id)?.costUsd ?? 0,
      locations: (byLocation.get(s.id) ?? []).length > 1 ? byLocation.get(s.id)! : [],
    };
    byTarget.set(s.target, [...(byTarget.get(s.target) ?? []), row]);
  }
  const groups = [...byTarget.entries()]
    .sort((a, b) => targetOrder(a[0]).localeCompare(targetOrder(b[0])))
    .map(([target, rows]) => ({
      target,
      rows,
      worst: rows.reduce<StatusKey>((w, r) => (SEVERITY_RANK[r.status.key] > SEVERITY_RANK[w] ? r.status.key : w), 'ok'),
      costMonth: rows.reduce((sum, r) => sum + r.costMonth, 0),
    }));

  const safetyBy = new Map<string, SafetySummary>();
  for (const p of probes) {
    if (p.spec.kind === 'canary') continue;
    const s = safetyBy.get(p.spec.target) ?? { target: p.spec.target, probes: 0, ok: 0, notOk: [] };
    s.probes++;
    const st = statusOf(p.last, p.state);
    if (st.key === 'ok') s.ok++;
    else s.notOk.push({ id: p.spec.id, status: st });
    safetyBy.set(p.spec.target, s);
  }

  let incidents: OverviewModel['incidents'] = null;
  if (data.incidents) {
    const open = await data.incidents({ state: 'open', limit: 1000 });
    const firing = open.filter((i) => i.state === 'firing');
    const rank = { critical: 3, warning: 2, info: 1 } as const;
    const worst = firing.reduce<string | null>((w, i) => (!w || rank[i.severity] > rank[w as keyof typeof rank] ? i.severity : w), null);
    incidents = { open: open.length, firing: firing.length, worst };
  }
  let drill: OverviewModel['drill'] = null;
  if (data.drills) {
    const sc = await data.drills();
    let last: { id: string; verdict: string; at: number } | null = null;
    for (const s of sc) for (const r of s.runs) if (!last || r.startedAt > last.at) last = { id: s.id, verdict: r.verdict, at: r.startedAt };
    drill = { scenarios: sc.length, last };
  }
  let deprecation: OverviewModel['deprecation'] = null;
  if (data.deprecations) {
    const rows = await data.deprecations();
    const next = rows.filter((d) => d.daysLeft > 0).sort((a, b) => a.daysLeft - b.daysLeft)[0];
    const retired = rows.filter((d) => d.daysLeft <= 0).sort((a, b) => b.daysLeft - a.daysLeft).map((d) => ({ model: d.model, daysLeft: d.daysLeft, owners: d.owners }));
    deprecation = { next: next ? { model: next.model, daysLeft: next.daysLeft, shutdownAt: next.shutdownAt, owners: next.owners } : null, retired };
  }
  const cv = data.cluster ? await data.cluster() : null;
  return {
    now,
    // Shared store, or results from more than one location in the last hour (several instances on one file):
    // then who leads matters. A lone instance always leads itself and gets no line.
    cluster: cv && (cv.shared || seen.size > 1) ? cv : null,
    tz: params.tz,
    query: queryOf(params),
    monthStart,
    groups,
    safety: [...safetyBy.values()].sort((a, b) => targetOrder(a.target).localeCompare(targetOrder(b.target))),
    incidents,
    drill,
    deprecation,
  };
}

function latencyCell(label: string, l: LatencyView): Html {
  const max = Math.max(...l.hourlyP95.filter((v): v is number => v !== null), 0);
  const spoken = l.n
    ? `${label} over 24 hours: p50 ${fmtMs(l.p50)}, p95 ${fmtMs(l.p95)} from ${l.n} samples; highest hourly p95 ${fmtMs(max)}`
    : `${label}: no samples in 24 hours`;
  return html`<td class="lat"><span class="lat-nums"><span class="p50" title="p50">${fmtMs(l.p50)}</span> <span class="sep">/</span> <span class="p95" title="p95">${fmtMs(l.p95)}</span></span>${sparkline({ values: l.hourlyP50, upper: l.hourlyP95, label: spoken })}</td>`;
}

const OUTCOME_KEY: Record<string, StatusKey> = { ok: 'ok', degraded: 'degraded', failed: 'failed', unknown: 'unknown' };

/** One location's view of a probe, under the probe's row: newest outcome, failures, total time. */
function locationRow(r: OverviewRow, l: LocationSummary, m: OverviewModel): Html {
  const k = OUTCOME_KEY[l.lastOutcome] ?? 'unknown';
  return html`<tr class="loc" data-probe-location="${r.id}@${l.location}">
<th scope="row" class="probe loc"><span class="sub">from</span> ${l.location}</th>
<td class="st">${badge(k)}<span class="sub"><time datetime="${isoTime(l.lastAt)}" title="${fmtTime(l.lastAt, m.tz, true)} ${m.tz}">${fmtAgo(l.lastAt, m.now)}</time></span></td>
<td class="num" colspan="3">${l.failed} of ${l.results} failed <span class="sub">last hour</span></td>
<td class="lat">–</td>
<td class="lat"><span class="lat-nums"><span class="mean" title="mean">${fmtMs(l.meanTotalMs)}</span></span><span class="sub">mean of answers, last hour</span></td>
<td colspan="2"></td>
</tr>`;
}

/** Who leads now, on a shared store: where incidents are evaluated and pages sent from. */
function leaderLine(c: ClusterView, m: OverviewModel): Html {
  const l = c.leader;
  const self = html`This page: ${c.instance} (${c.location}).`;
  if (!l || !l.live) {
    const last = l ? html` The last holder was ${l.holder} (${l.location}), lease expired <time datetime="${isoTime(l.expiresAt)}">${fmtAgo(l.expiresAt, m.now)}</time>.` : null;
    return html`<div class="notice" role="alert" data-leader=""><p><strong>No instance leads now</strong>: incidents are not evaluated and no page is sent until one takes the lease.${last} ${self}</p></div>`;
  }
  return html`<p class="meta" data-leader="${l.holder}">Leader now: <strong>${l.holder}</strong> in <strong>${l.location}</strong> since <time datetime="${isoTime(l.since)}" title="${fmtTime(l.since, m.tz, true)} ${m.tz}">${fmtTime(l.since, m.tz)}</time> (${fmtAgo(l.since, m.now)}), fencing token ${l.token}. ${self}</p>`;
}

function card(title: string, value: Html, note: Html | string | null, href: string, tone: StatusKey): Html {
  return html`<li class="card card-${tone}"><a href="${href}"><span class="card-title">${title}</span><span class="card-value">${value}</span>${note ? html`<span class="card-note">${note}</span>` : null}</a></li>`;
}

function cards(m: OverviewModel): Html {
  const q = m.query;
  const out: Html[] = [];
  const worstGroup = m.groups.reduce<StatusKey>((w, g) => (SEVERITY_RANK[g.worst] > SEVERITY_RANK[w] ? g.worst : w), 'ok');
  const bad = m.groups.flatMap((g) => g.rows).filter((r) => r.status.key !== 'ok');
  out.push(
    card(
      'Canaries',
      badge(worstGroup, bad.length ? `${bad.length} not OK` : 'All OK'),
      bad.length ? bad.map((r) => `${r.id}: ${r.status.text}`).join(', ') : `${m.groups.reduce((n, g) => n + g.rows.length, 0)} probes on ${m.groups.length} targets`,
      `/${q}#canaries`,
      worstGroup,
    ),
  );
  if (m.incidents) {
    const i = m.incidents;
    // Red for a critical one firing, amber for warnings, violet for pending or info only.
    const tone: StatusKey = i.worst === 'critical' ? 'failed' : i.worst === 'warning' ? 'degraded' : i.open ? 'pending' : 'ok';
    out.push(
      card(
        'Open incidents',
        badge(tone, i.open ? `${i.open} open` : 'None open'),
        i.open ? `${i.firing} firing${i.worst ? `, worst ${i.worst}` : ''}` : 'Nothing firing or pending',
        `/status/incidents${q}`,
        tone,
      ),
    );
  } else out.push(card('Open incidents', badge('unknown', 'Not wired'), 'The incidents engine is not connected to this page', `/status/incidents${q}`, 'unknown'));
  if (m.drill?.last) {
    const l = m.drill.last;
    const k: StatusKey = l.verdict === 'passed' ? 'ok' : l.verdict === 'skipped' ? 'unknown' : 'failed';
    out.push(card('Last drill', badge(k, cap(l.verdict)), html`${l.id}, ${fmtAgo(l.at, m.now)}`, `/status/drills${q}`, k));
  } else {
    out.push(card('Last drill', badge('unknown', m.drill ? 'No runs yet' : 'No drills'), m.drill?.scenarios ? `${m.drill.scenarios} scenarios configured` : 'No drills configured', `/status/drills${q}`, 'unknown'));
  }
  const dep = m.deprecation;
  const stillUsed = dep?.retired.filter((r) => r.owners.length > 0) ?? [];
  if (stillUsed.length) {
    // Retired and still probed or declared in use: the loudest retirement news there is.
    const names = stillUsed.map((r) => r.model).join(', ');
    out.push(card('Retired, still in use', badge('failed', `${stillUsed.length} retired`), html`${names}: requests fail or are answered by another model`, `/status/deprecations${q}`, 'failed'));
  } else if (dep?.next) {
    const d = dep.next;
    const k: StatusKey = d.daysLeft <= 30 ? 'failed' : d.daysLeft <= 90 ? 'degraded' : 'ok';
    const also = dep.retired.length ? ` (${dep.retired.length} already retired, unused)` : '';
    out.push(card('Next retirement', badge(k, `${d.daysLeft} ${d.daysLeft === 1 ? 'day' : 'days'}`), html`${d.model} on ${d.shutdownAt}${also}`, `/status/deprecations${q}`, k));
  } else if (dep?.retired.length) {
    out.push(card('Next retirement', badge('ok', 'None upcoming'), `${dep.retired.length} listed model${dep.retired.length === 1 ? ' is' : 's are'} already retired, none in use`, `/status/deprecations${q}`, 'ok'));
  } else {
    out.push(card('Next retirement', badge(dep ? 'ok' : 'unknown', dep ? 'None known' : 'Not wired'), dep ? 'No dated retirement for the models in use' : 'Deprecation tracking is not connected', `/status/deprecations${q}`, dep ? 'ok' : 'unknown'));
  }
  const sTotal = m.safety.reduce((n, s) => n + s.probes, 0);
  if (sTotal) {
    const notOk = m.safety.reduce((n, s) => n + s.notOk.length, 0);
    const k: StatusKey = notOk ? 'degraded' : 'ok';
    out.push(card('Safety probes', badge(k, notOk ? `${notOk} of ${sTotal} not OK` : `${sTotal} OK`), 'Benign and should-refuse prompt sets', `/status/safety${q}`, k));
  }
  return html`<ul class="cards" aria-label="Summary">${out}</ul>`;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function renderOverview(m: OverviewModel): Html {
  const rows = m.groups.map(
    (g) => html`<tbody data-target="${g.target}">
<tr class="group"><th scope="rowgroup" colspan="9"><span class="group-name">${g.target}</span> ${badge(g.worst, g.worst === 'ok' ? 'All OK' : `Worst: ${statusText(g.worst)}`)} <span class="group-cost">canary cost this month ${fmtUsd(g.costMonth)}</span></th></tr>
${g.rows.map(
  (r) => html`<tr data-probe="${r.id}">
<th scope="row" class="probe"><span class="probe-id">${r.id}</span><span class="sub">${r.model}${r.stream ? '' : ' · no stream'} · ${r.owner}</span></th>
<td class="st">${statusBadge(r.status)}${r.status.detail ? html`<span class="sub detail" title="${r.status.detail}">${clipText(r.status.detail, 90)}</span>` : null}${r.lastAt !== null ? html`<span class="sub"><time datetime="${isoTime(r.lastAt)}" title="${fmtTime(r.lastAt, m.tz, true)} ${m.tz}">${fmtAgo(r.lastAt, m.now)}</time></span>` : null}</td>
<td class="num">${fmtPct(r.uptime.d1)}</td><td class="num">${fmtPct(r.uptime.d7)}</td><td class="num">${fmtPct(r.uptime.d30)}</td>
${latencyCell(`${r.id} time to first token`, r.ttft)}${latencyCell(`${r.id} total time`, r.total)}
<td class="model">${r.servedModel ?? '–'}</td><td class="num">${fmtUsd(r.costMonth)}</td>
</tr>${r.locations.map((l) => locationRow(r, l, m))}`,
)}</tbody>`,
  );
  const table = m.groups.length
    ? scroller(
        'Canary probes by target',
        html`<table class="overview">
<caption class="vh">Canary probes by target</caption>
<thead><tr><th scope="col">Probe</th><th scope="col">Status</th><th scope="col">Uptime 24 h</th><th scope="col">7 d</th><th scope="col">30 d</th><th scope="col">TTFT p50 / p95</th><th scope="col">Total p50 / p95</th><th scope="col">Served model</th><th scope="col">Cost this month</th></tr></thead>
${rows}
</table>`,
      )
    : empty('No canary probes configured.', 'Add probes with kind: canary (the default) under probes/*.yaml.');
  const safety = m.safety.length
    ? scroller(
        'Safety probe sets by target',
        html`<table class="compact"><caption class="vh">Benign and should-refuse probes by target</caption>
<thead><tr><th scope="col">Target</th><th scope="col">Probes</th><th scope="col">OK</th><th scope="col">Not OK</th></tr></thead>
<tbody>${m.safety.map(
          (s) => html`<tr data-safety-target="${s.target}"><th scope="row">${s.target}</th><td class="num">${s.probes}</td><td class="num">${s.ok}</td><td>${
            s.notOk.length ? html`<ul class="inline">${s.notOk.map((n) => html`<li>${n.id}: ${statusBadge(n.status)}</li>`)}</ul>` : 'none'
          }</td></tr>`,
        )}</tbody></table>`,
      )
    : null;
  const note = html`<p class="meta">Uptime is the share of probe attempts that did not fail. Latency: p50 / p95 over the last 24 h; sparklines show hourly p50 (dark) and p95 (light) over 24 h.</p>`;
  const locNote = m.groups.some((g) => g.rows.some((r) => r.locations.length))
    ? html`<p class="meta">Rows marked “from” are each location’s view of the probe above over the last hour: its newest outcome, failures, and the mean total time of its answers (ok or degraded), as GET /api/locations reports them.</p>`
    : null;
  return html`${m.cluster ? leaderLine(m.cluster, m) : null}${cards(m)}${section('canaries', 'Providers and gateway', [note, locNote, table])}${safety ? section('safety-sets', 'Safety probe sets', safety) : null}`;
}

function clipText(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
