// Latency heatmap: hour-of-week (7 × 24, local time in the chosen zone) p95 per probe, coloured against the
// probe's own latency budget (its max_ttft_ms / max_total_ms assertion), with the number in every cell, so
// "slowest at 9am ET" is visible and readable without colour. The grid is the same "typical week" as
// `vigil report latency` (median over weeks of each hour's p95).
import type { ProbeSpec } from '../../domain.ts';
import { hourOfWeekGrid } from '../../detectors/report-latency.ts';
import { HOUR_MS } from '../../store/store.ts';
import type { PageParams, UiData } from '../data.ts';
import { fmtMs, fmtMsShort } from '../format.ts';
import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { empty, scroller, section } from '../layout.ts';
import { hourlySince, locationsSince } from '../queries.ts';

export const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const DAY_LONG = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const METRIC_TEXT = { ttft: 'time to first token', total: 'total time' } as const;

export interface HeatmapProbe {
  id: string;
  target: string;
  model: string;
  /** The latency budget the colours are judged against, or null (colours are then relative only). */
  budget: number | null;
  /** Range the five shades span: cells under 80 % of the budget (those above have colours of their own). */
  shadeMin: number | null;
  shadeMax: number | null;
  /** 7 rows (Mon..Sun) × 24 local hours; null = no data. */
  grid: (number | null)[][];
  min: number | null;
  max: number | null;
  slowest: { day: number; hour: number; v: number } | null;
  fastest: { day: number; hour: number; v: number } | null;
  cells: number;
}

export interface HeatmapModel {
  tz: string;
  metric: 'ttft' | 'total';
  days: number;
  selected: string | null;
  choices: { id: string; kind: string }[];
  probes: HeatmapProbe[];
  /** The requested probe does not exist. */
  unknownProbe: string | null;
  /** The location shown, or null for every location together. */
  location: string | null;
  /** Locations with results in the window (the selector's choices). */
  locations: string[];
  /** The requested location recorded nothing in the window (the page shows every location and says so). */
  unknownLocation: string | null;
}

export function budgetOf(spec: Pick<ProbeSpec, 'assertions'>, metric: 'ttft' | 'total'): number | null {
  for (const a of spec.assertions) {
    if (metric === 'ttft' && 'max_ttft_ms' in a) return a.max_ttft_ms;
    if (metric === 'total' && 'max_total_ms' in a) return a.max_total_ms;
  }
  return null;
}

export async function heatmapModel(data: UiData, p: PageParams): Promise<HeatmapModel> {
  const now = data.now();
  const all = data.probes().map((x) => x.spec);
  const known = p.probe ? all.find((s) => s.id === p.probe) : undefined;
  const unknownProbe = p.probe && p.probe !== 'all' && !known ? p.probe : null;
  const specs = known ? [known] : p.probe === 'all' ? all : all.filter((s) => s.kind === 'canary');
  const since = now - p.days * 24 * HOUR_MS;
  const locations = await locationsSince(data.store, since, now);
  const location = p.location !== null && locations.includes(p.location) ? p.location : null;
  const unknownLocation = p.location !== null && location === null ? p.location : null;
  const rollups = await hourlySince(data.store, specs.map((s) => s.id), since, now, location ?? undefined);
  const byProbe = new Map<string, typeof rollups>();
  for (const r of rollups) byProbe.set(r.probeId, [...(byProbe.get(r.probeId) ?? []), r]);
  const probes = specs.map((s): HeatmapProbe => {
    const grid = hourOfWeekGrid(byProbe.get(s.id) ?? [], p.tz, p.metric, 'p95');
    let min: HeatmapProbe['fastest'] = null;
    let max: HeatmapProbe['slowest'] = null;
    let cells = 0;
    for (let d = 0; d < 7; d++) {
      for (let h = 0; h < 24; h++) {
        const v = grid[d][h];
        if (v === null) continue;
        cells++;
        if (!max || v > max.v) max = { day: d, hour: h, v };
        if (!min || v < min.v) min = { day: d, hour: h, v };
      }
    }
    const budget = budgetOf(s, p.metric);
    const inBudget = grid.flat().filter((v): v is number => v !== null && (budget === null || v < 0.8 * budget));
    return {
      id: s.id,
      target: s.target,
      model: s.model,
      budget,
      shadeMin: inBudget.length ? Math.min(...inBudget) : null,
      shadeMax: inBudget.length ? Math.max(...inBudget) : null,
      grid,
      min: min?.v ?? null,
      max: max?.v ?? null,
      slowest: max,
      fastest: min,
      cells,
    };
  });
  return {
    tz: p.tz,
    metric: p.metric,
    days: p.days,
    selected: known ? known.id : p.probe === 'all' ? 'all' : null,
    choices: all.map((s) => ({ id: s.id, kind: s.kind })),
    probes,
    unknownProbe,
    location,
    locations,
    unknownLocation,
  };
}

/** CSS class of a cell: over/near the budget, else one of five shades of the probe's own (in-budget) range. */
export function cellClass(v: number | null, min: number | null, max: number | null, budget: number | null): string {
  if (v === null) return 'hm-none';
  if (budget !== null && v >= budget) return 'hm-over';
  if (budget !== null && v >= 0.8 * budget) return 'hm-warn';
  if (min === null || max === null || max <= min) return 'hm-0';
  return `hm-${Math.min(4, Math.floor(((v - min) / (max - min)) * 5))}`;
}

const hh = (h: number) => String(h).padStart(2, '0');

function probeTable(m: HeatmapModel, hp: HeatmapProbe): Html {
  const what = `p95 ${METRIC_TEXT[m.metric]}`;
  const budgetText = hp.budget !== null ? `budget ${fmtMs(hp.budget)} (${m.metric === 'ttft' ? 'max_ttft_ms' : 'max_total_ms'})` : 'no latency budget set: shades are relative to this probe’s own range';
  const head = html`<thead><tr><td class="corner"></td>${Array.from({ length: 24 }, (_, h) => html`<th scope="col" abbr="${hh(h)}:00">${hh(h)}</th>`)}</tr></thead>`;
  const body = hp.grid.map(
    (row, d) =>
      html`<tr><th scope="row" abbr="${DAY_LONG[d]}">${DAY_NAMES[d]}</th>${row.map((v, h) => {
        const cls = cellClass(v, hp.shadeMin, hp.shadeMax, hp.budget);
        const where = `${DAY_LONG[d]} ${hh(h)}:00 ${m.tz}`;
        if (v === null) return html`<td class="hm ${cls}" title="${where}: no data">·</td>`;
        const rel = hp.budget !== null ? `, ${Math.round((v / hp.budget) * 100)} % of the ${fmtMs(hp.budget)} budget` : '';
        const flag = cls === 'hm-over' ? html`<span class="flag" aria-hidden="true">!</span><span class="vh"> over budget</span>` : cls === 'hm-warn' ? html`<span class="vh"> near budget</span>` : null;
        return html`<td class="hm ${cls}" data-v="${Math.round(v)}" title="${where}: ${what} ${fmtMs(v)}${rel}">${fmtMsShort(v)}${flag}</td>`;
      })}</tr>`,
  );
  const summary =
    hp.slowest && hp.fastest
      ? html`<p class="hm-summary">Slowest <strong>${DAY_NAMES[hp.slowest.day]} ${hh(hp.slowest.hour)}:00</strong> (${fmtMs(hp.slowest.v)}), fastest ${DAY_NAMES[hp.fastest.day]} ${hh(hp.fastest.hour)}:00 (${fmtMs(hp.fastest.v)}) · ${budgetText} · ${hp.cells} of 168 hours have data.</p>`
      : html`<p class="hm-summary">No latency data in the last ${m.days} days · ${budgetText}.</p>`;
  return html`<section class="panel heatmap-panel" aria-labelledby="hm-${hp.id}" data-heatmap="${hp.id}">
<h2 id="hm-${hp.id}">${hp.id} <span class="sub">${hp.target} · ${hp.model}</span></h2>
${summary}
${scroller(
  `${hp.id} heatmap`,
  html`<table class="heatmap"><caption class="vh">${hp.id}: ${what} by local hour of week in ${m.tz}, median of each hour over the last ${m.days} days. ${budgetText}.</caption>${head}<tbody>${body}</tbody></table>`,
)}
</section>`;
}

export function heatmapLegend(): Html {
  const items: [string, string][] = [
    ['hm-0', 'fastest fifth of this probe’s range'],
    ['hm-2', 'middle'],
    ['hm-4', 'slowest fifth'],
    ['hm-warn', '≥ 80 % of the budget'],
    ['hm-over', 'over the budget (marked !)'],
    ['hm-none', 'no data (·)'],
  ];
  return html`<ul class="legend" aria-label="Colour legend">${items.map(([c, t]) => html`<li><span class="key ${c}" aria-hidden="true"></span>${t}</li>`)}</ul>`;
}

export function renderHeatmap(m: HeatmapModel): Html {
  const notes = html`${m.unknownProbe ? html`<div class="notice" role="note"><p>No probe "${m.unknownProbe}"; showing the canary probes.</p></div>` : null}${
    m.unknownLocation ? html`<div class="notice" role="note"><p>No results from location "${m.unknownLocation}" in the last ${m.days} days; showing every location.</p></div>` : null
  }${m.location ? html`<p class="meta" data-location="${m.location}">Showing results from <strong>${m.location}</strong> only (of ${m.locations.length} locations).</p>` : null}`;
  if (m.probes.length === 0) return html`${notes}${empty('No probes to show.', 'Configure probes under probes/*.yaml.')}`;
  return html`${notes}${heatmapLegend()}${m.probes.map((p) => probeTable(m, p))}`;
}

export function heatmapControls(m: HeatmapModel): Html {
  const zones = timeZones(m.tz);
  const kinds = ['canary', 'benign', 'should_refuse'];
  const opts = kinds.map((k) => {
    const ids = m.choices.filter((c) => c.kind === k);
    return ids.length ? html`<optgroup label="${k}">${ids.map((c) => html`<option value="${c.id}"${m.selected === c.id ? html` selected` : null}>${c.id}</option>`)}</optgroup>` : null;
  });
  return html`<form class="controls" method="get" action="/status/heatmap" data-autosubmit>
<div class="field"><label for="hm-tz">Time zone</label><select id="hm-tz" name="tz">${zones.map((z) => html`<option${z === m.tz ? html` selected` : null}>${z}</option>`)}</select></div>
<div class="field"><label for="hm-probe">Probes</label><select id="hm-probe" name="probe"><option value="canary"${m.selected === null ? html` selected` : null}>All canary probes</option><option value="all"${m.selected === 'all' ? html` selected` : null}>Every probe</option>${opts}</select></div>
<div class="field"><label for="hm-metric">Metric</label><select id="hm-metric" name="metric"><option value="ttft"${m.metric === 'ttft' ? html` selected` : null}>Time to first token</option><option value="total"${m.metric === 'total' ? html` selected` : null}>Total time</option></select></div>
${locationField(m)}<div class="field"><label for="hm-days">Days</label><input id="hm-days" name="days" type="number" min="1" max="90" value="${m.days}" inputmode="numeric"></div>
<div class="field"><button type="submit">Show</button></div>
</form>`;
}

/** Only when results came from more than one location: a lone instance's page stays as it was. */
function locationField(m: HeatmapModel): Html | null {
  if (m.locations.length < 2 && m.location === null) return null;
  return html`<div class="field"><label for="hm-location">Location</label><select id="hm-location" name="location"><option value="all"${m.location === null ? html` selected` : null}>All locations</option>${m.locations.map(
    (l) => html`<option value="${l}"${m.location === l ? html` selected` : null}>${l}</option>`,
  )}</select></div>`;
}

const COMMON = ['UTC', 'America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles', 'Europe/London', 'Europe/Berlin', 'Asia/Kolkata', 'Asia/Singapore', 'Asia/Tokyo', 'Australia/Sydney'];

/** Common zones first, then every zone the runtime knows. */
export function timeZones(current: string): string[] {
  let all: string[] = [];
  try {
    all = Intl.supportedValuesOf('timeZone');
  } catch {
    all = [];
  }
  return [...new Set([...COMMON, current, ...all])];
}
