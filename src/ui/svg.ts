// Inline SVG charts rendered on the server: sparklines and a time-series line chart with bands and event
// markers. Every chart has a <title> and an aria-label that states its numbers, so it reads without the picture.
// Colours come from CSS classes (the page's content policy allows no inline style).
import { html } from './html.ts';
import type { Html } from './html.ts';

const r1 = (v: number) => Math.round(v * 10) / 10;

/** Polyline path pieces for a series with gaps (null breaks the line). */
function pathOf(points: readonly (readonly [number, number] | null)[]): string {
  let d = '';
  let pen = false;
  for (const p of points) {
    if (!p) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${r1(p[0])} ${r1(p[1])}`;
    pen = true;
  }
  return d;
}

export interface SparklineOptions {
  /** Main series (e.g. hourly p50), oldest first; null = no data that hour. */
  values: readonly (number | null)[];
  /** Second series drawn lighter (e.g. p95). */
  upper?: readonly (number | null)[];
  label: string;
  width?: number;
  height?: number;
}

/** A small two-line sparkline (p50 solid, p95 lighter) scaled from 0 to the largest value. */
export function sparkline(o: SparklineOptions): Html {
  const w = o.width ?? 120;
  const h = o.height ?? 28;
  const all = [...o.values, ...(o.upper ?? [])].filter((v): v is number => v !== null && Number.isFinite(v));
  if (all.length === 0) {
    return html`<svg class="spark" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${o.label}: no data"><title>${o.label}: no data</title><line class="spark-none" x1="0" y1="${h - 1}" x2="${w}" y2="${h - 1}"/></svg>`;
  }
  const max = Math.max(...all) || 1;
  const n = Math.max(o.values.length, o.upper?.length ?? 0);
  const x = (i: number) => (n <= 1 ? w / 2 : (i / (n - 1)) * (w - 2) + 1);
  const y = (v: number) => h - 2 - (v / max) * (h - 4);
  const pts = (s: readonly (number | null)[]) => s.map((v, i) => (v === null || !Number.isFinite(v) ? null : ([x(i), y(v)] as const)));
  const single = (s: readonly (number | null)[], cls: string) =>
    s.map((v, i) => (v !== null && (s[i - 1] ?? null) === null && (s[i + 1] ?? null) === null ? html`<circle class="${cls}" cx="${r1(x(i))}" cy="${r1(y(v))}" r="1.5"/>` : null));
  return html`<svg class="spark" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${o.label}"><title>${o.label}</title>${
    o.upper ? html`<path class="spark-upper" d="${pathOf(pts(o.upper))}"/>${single(o.upper, 'spark-upper-dot')}` : null
  }<path class="spark-main" d="${pathOf(pts(o.values))}"/>${single(o.values, 'spark-main-dot')}</svg>`;
}

export interface ChartSeries {
  name: string;
  /** CSS class suffix: `series-<cls>`. */
  cls: string;
  points: readonly { t: number; v: number | null }[];
}

export interface ChartBand {
  name: string;
  cls: string;
  low: number;
  high: number;
}

export interface ChartMarker {
  t: number;
  /** Short label drawn at the marker (e.g. "1"); the full text goes in its <title>. */
  label: string;
  title: string;
}

export interface LineChartOptions {
  title: string;
  /** Spoken summary of what the chart shows. */
  summary: string;
  from: number;
  to: number;
  series: readonly ChartSeries[];
  bands?: readonly ChartBand[];
  /** A horizontal line per band's baseline or an SLO. */
  lines?: readonly { name: string; cls: string; v: number }[];
  markers?: readonly ChartMarker[];
  yMax: number;
  yTicks: readonly number[];
  yFormat: (v: number) => string;
  /** X tick positions (epoch ms) with their text. */
  xTicks: readonly { t: number; text: string }[];
  width?: number;
  height?: number;
}

/** A time-series chart with gridlines, optional bands, horizontal reference lines and event markers. */
export function lineChart(o: LineChartOptions): Html {
  const W = o.width ?? 720;
  const H = o.height ?? 220;
  const L = 44;
  const R = 10;
  const T = 18;
  const B = 26;
  const pw = W - L - R;
  const ph = H - T - B;
  const span = Math.max(1, o.to - o.from);
  const x = (t: number) => L + ((t - o.from) / span) * pw;
  const y = (v: number) => T + ph - (Math.max(0, Math.min(o.yMax, v)) / o.yMax) * ph;
  const grid = o.yTicks.map(
    (v) => html`<line class="grid" x1="${L}" x2="${W - R}" y1="${r1(y(v))}" y2="${r1(y(v))}"/><text class="tick" x="${L - 6}" y="${r1(y(v) + 4)}" text-anchor="end">${o.yFormat(v)}</text>`,
  );
  const xt = o.xTicks
    .filter((t) => t.t >= o.from && t.t <= o.to)
    .map((t) => html`<line class="grid grid-x" x1="${r1(x(t.t))}" x2="${r1(x(t.t))}" y1="${T}" y2="${T + ph}"/><text class="tick" x="${r1(x(t.t))}" y="${H - 8}" text-anchor="middle">${t.text}</text>`);
  const bands = (o.bands ?? []).map(
    (b) =>
      html`<rect class="band band-${b.cls}" x="${L}" width="${pw}" y="${r1(y(b.high))}" height="${r1(Math.max(1, y(b.low) - y(b.high)))}"><title>${b.name}: ${o.yFormat(b.low)} – ${o.yFormat(b.high)}</title></rect>`,
  );
  const lines = (o.lines ?? []).map(
    (l) => html`<line class="ref ref-${l.cls}" x1="${L}" x2="${W - R}" y1="${r1(y(l.v))}" y2="${r1(y(l.v))}"><title>${l.name}: ${o.yFormat(l.v)}</title></line>`,
  );
  const series = o.series.map((s) => {
    const pts = s.points.map((p) => (p.v === null ? null : ([x(p.t), y(p.v)] as const)));
    const dots = s.points.map((p) =>
      p.v === null ? null : html`<circle class="dot series-${s.cls}" cx="${r1(x(p.t))}" cy="${r1(y(p.v))}" r="2.2"><title>${s.name}: ${o.yFormat(p.v)}</title></circle>`,
    );
    return html`<g class="series"><path class="line series-${s.cls}" d="${pathOf(pts)}"/>${dots}</g>`;
  });
  const markers = (o.markers ?? [])
    .filter((m) => m.t >= o.from && m.t <= o.to)
    .map((m) => {
      const mx = r1(x(m.t));
      return html`<g class="marker"><title>${m.title}</title><line x1="${mx}" x2="${mx}" y1="${T}" y2="${T + ph}"/><rect x="${r1(mx - 7)}" y="1" width="14" height="14" rx="3"/><text x="${mx}" y="12" text-anchor="middle">${m.label}</text></g>`;
    });
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${o.title}. ${o.summary}" preserveAspectRatio="xMidYMid meet"><title>${o.title}</title><desc>${o.summary}</desc>${bands}${grid}${xt}${lines}<line class="axis" x1="${L}" x2="${L}" y1="${T}" y2="${T + ph}"/><line class="axis" x1="${L}" x2="${W - R}" y1="${T + ph}" y2="${T + ph}"/>${series}${markers}</svg>`;
}

/** A legend swatch matching a chart series or band class. */
export function swatch(cls: string, kind: 'line' | 'band' | 'ref' = 'line'): Html {
  const shape =
    kind === 'band'
      ? html`<rect class="band band-${cls}" x="0" y="2" width="18" height="8"/>`
      : kind === 'ref'
        ? html`<line class="ref ref-${cls}" x1="0" x2="18" y1="6" y2="6"/>`
        : html`<line class="line series-${cls}" x1="0" x2="18" y1="6" y2="6"/>`;
  return html`<svg class="swatch" viewBox="0 0 18 12" width="18" height="12" aria-hidden="true">${shape}</svg>`;
}
