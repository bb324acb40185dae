// Safety & drift: refusal rate of the benign (should be answered) and should-refuse (should be refused) probe
// sets per provider and model over time, the refusal-drift detector's baseline band when it is wired, and the
// served-model / fingerprint changes seen in results marked on the same timeline: "refusals rose right after
// the provider swapped the snapshot" is one glance.
import { HOUR_MS } from '../../store/store.ts';
import type { PageParams, RefusalBaselineView, UiData } from '../data.ts';
import { fmtPct, fmtTime, isoTime } from '../format.ts';
import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { empty, scroller } from '../layout.ts';
import { dedupeChanges, modelChanges, refusalBuckets } from '../queries.ts';
import type { ModelChange } from '../queries.ts';
import { badge } from '../status.ts';
import { lineChart, swatch } from '../svg.ts';
import type { ChartBand, ChartMarker } from '../svg.ts';

const DAY = 24 * HOUR_MS;
/** Raw results hold the refusal label; they are kept 14 days by default. */
export const SAFETY_MAX_DAYS = 14;

export type SafetyKind = 'benign' | 'should_refuse';
const KIND_TEXT: Record<SafetyKind, string> = { benign: 'Benign (should be answered)', should_refuse: 'Should refuse' };
const KIND_CLS: Record<SafetyKind, string> = { benign: 'benign', should_refuse: 'refuse' };

export interface SafetyStream {
  kind: SafetyKind;
  probes: string[];
  points: { t: number; v: number | null; answered: number; refused: number }[];
  /** Over the whole window and the last 24 h. */
  rate: number | null;
  rate24h: number | null;
  answered: number;
  baseline: RefusalBaselineView | null;
}

export interface SafetyGroup {
  provider: string;
  model: string;
  streams: SafetyStream[];
  /** Changes on this provider and model, numbered for the chart's markers. */
  changes: (ModelChange & { n: number })[];
}

export interface SafetyModel {
  tz: string;
  days: number;
  from: number;
  to: number;
  bucketMs: number;
  groups: SafetyGroup[];
  /** Every change in the window (direct provider targets), numbered. */
  changes: (ModelChange & { n: number })[];
  baselinesWired: boolean;
  clamped: boolean;
}

function providerOf(target: string): string {
  return target.startsWith('provider:') ? target.slice('provider:'.length) : target;
}

export async function safetyModel(data: UiData, p: PageParams): Promise<SafetyModel> {
  const now = data.now();
  const days = Math.min(p.days, SAFETY_MAX_DAYS);
  const bucketMs = days <= 2 ? HOUR_MS : days <= 14 ? 6 * HOUR_MS : DAY;
  const from = Math.floor((now - days * DAY) / bucketMs) * bucketMs;
  const specs = data.probes().map((x) => x.spec).filter((s) => s.kind !== 'canary');
  const baselines = data.refusalBaselines?.() ?? null;
  // A snapshot and a fingerprint change seen in the same answer are one event: one number, one marker.
  let n = 0;
  let prev: ModelChange | null = null;
  const changes = dedupeChanges(await modelChanges(data.store.sql, from)).map((c) => {
    if (!prev || prev.at !== c.at || prev.probeId !== c.probeId) n++;
    prev = c;
    return { ...c, n };
  });

  const groups = new Map<string, SafetyGroup>();
  const byStream = new Map<string, string[]>();
  for (const s of specs) {
    const provider = providerOf(s.target);
    const gk = `${provider}\u0000${s.model}`;
    if (!groups.has(gk)) groups.set(gk, { provider, model: s.model, streams: [], changes: changes.filter((c) => providerOf(c.target) === provider && c.requestedModel === s.model) });
    const sk = `${gk}\u0000${s.kind}`;
    byStream.set(sk, [...(byStream.get(sk) ?? []), s.id]);
  }
  const nBuckets = Math.ceil((now - from) / bucketMs);
  for (const [sk, ids] of byStream) {
    const [provider, model, kind] = sk.split('\u0000') as [string, string, SafetyKind];
    const buckets = await refusalBuckets(data.store.sql, ids, from, bucketMs);
    const pts = Array.from({ length: nBuckets }, (_, i) => ({ t: from + i * bucketMs + bucketMs / 2, v: null as number | null, answered: 0, refused: 0 }));
    let answered = 0;
    let refused = 0;
    let a24 = 0;
    let r24 = 0;
    for (const b of buckets) {
      const i = Math.floor((b.bucketStart - from) / bucketMs);
      if (i < 0 || i >= nBuckets) continue;
      pts[i].answered += b.answered;
      pts[i].refused += b.refused;
      answered += b.answered;
      refused += b.refused;
      if (b.bucketStart + bucketMs > now - DAY) {
        a24 += b.answered;
        r24 += b.refused;
      }
    }
    for (const pt of pts) pt.v = pt.answered ? pt.refused / pt.answered : null;
    const baseline = baselines?.find((b) => b.provider === provider && b.model === model && b.kind === kind) ?? null;
    groups.get(`${provider}\u0000${model}`)!.streams.push({
      kind,
      probes: ids,
      points: pts,
      rate: answered ? refused / answered : null,
      rate24h: a24 ? r24 / a24 : null,
      answered,
      baseline,
    });
  }
  for (const g of groups.values()) g.streams.sort((a, b) => a.kind.localeCompare(b.kind));
  return {
    tz: p.tz,
    days,
    from,
    to: now,
    bucketMs,
    groups: [...groups.values()].sort((a, b) => a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model)),
    changes,
    baselinesWired: baselines !== null,
    clamped: p.days > SAFETY_MAX_DAYS,
  };
}

function dayTicks(from: number, to: number, tz: string): { t: number; text: string }[] {
  const out: { t: number; text: string }[] = [];
  const step = to - from > 8 * DAY ? 2 * DAY : DAY;
  // Midnights in UTC are close enough for tick positions; the text is the local date.
  for (let t = Math.ceil(from / DAY) * DAY; t <= to; t += step) out.push({ t, text: fmtTime(t, tz).slice(5, 10) });
  return out;
}

function baselineText(b: RefusalBaselineView | null, wired: boolean): Html {
  if (!wired) return html`<span class="sub">detector not wired</span>`;
  if (!b) return html`<span class="sub">no stream</span>`;
  const band = b.low !== undefined && b.high !== undefined ? ` (band ${fmtPct(b.low, 1)} – ${fmtPct(b.high, 1)})` : '';
  const state = b.firing ? badge('failed', 'Drifting') : b.ready === false ? badge('pending', `Learning${b.samples !== undefined ? `, ${b.samples} samples` : ''}`) : badge('ok', 'Within baseline');
  return html`${fmtPct(b.baseline, 1)}${band} ${state}`;
}

function markersOf(changes: readonly (ModelChange & { n: number })[], tz: string): ChartMarker[] {
  const byN = new Map<number, (ModelChange & { n: number })[]>();
  for (const c of changes) byN.set(c.n, [...(byN.get(c.n) ?? []), c]);
  return [...byN].map(([n, cs]) => ({
    t: cs[0].at,
    label: String(n),
    title: `${n}: ${cs.map((c) => `${c.kind === 'snapshot' ? 'served model' : 'fingerprint'} ${c.from ?? 'none'} → ${c.to ?? 'none'}`).join(', ')} (${fmtTime(cs[0].at, tz)} ${tz})`,
  }));
}

function groupPanel(m: SafetyModel, g: SafetyGroup): Html {
  const id = `safety-${g.provider}-${g.model}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const bands: ChartBand[] = [];
  const lines: { name: string; cls: string; v: number }[] = [];
  for (const s of g.streams) {
    const b = s.baseline;
    if (!b) continue;
    if (b.low !== undefined && b.high !== undefined) bands.push({ name: `${KIND_TEXT[s.kind]} baseline band`, cls: KIND_CLS[s.kind], low: b.low, high: b.high });
    lines.push({ name: `${KIND_TEXT[s.kind]} baseline`, cls: KIND_CLS[s.kind], v: b.baseline });
  }
  const summary = g.streams
    .map((s) => `${KIND_TEXT[s.kind]}: ${fmtPct(s.rate, 1)} refused over ${m.days} days, ${fmtPct(s.rate24h, 1)} in the last 24 h`)
    .concat(g.changes.map((c) => `change ${c.n}: ${c.kind} ${c.from ?? 'none'} to ${c.to ?? 'none'} at ${fmtTime(c.at, m.tz)}`))
    .join('; ');
  const chart = lineChart({
    title: `Refusal rate, ${g.provider} ${g.model}`,
    summary,
    from: m.from,
    to: m.to,
    series: g.streams.map((s) => ({ name: KIND_TEXT[s.kind], cls: KIND_CLS[s.kind], points: s.points })),
    bands,
    lines,
    markers: markersOf(g.changes, m.tz),
    yMax: 1,
    yTicks: [0, 0.25, 0.5, 0.75, 1],
    yFormat: (v) => `${Math.round(v * 100)}%`,
    xTicks: dayTicks(m.from, m.to, m.tz),
  });
  const legend = html`<ul class="legend" aria-label="Chart legend">${g.streams.map((s) => html`<li>${swatch(KIND_CLS[s.kind])}${KIND_TEXT[s.kind]}</li>`)}${
    lines.length ? html`<li>${swatch('benign', 'ref')}baseline (dashed)</li>` : null
  }${bands.length ? html`<li>${swatch('benign', 'band')}baseline band</li>` : null}${g.changes.length ? html`<li><span class="key key-marker" aria-hidden="true">1</span>model or fingerprint change</li>` : null}</ul>`;
  const table = scroller(
    `${g.provider} ${g.model} refusal rates`,
    html`<table class="compact"><caption class="vh">Refusal rates of ${g.provider} ${g.model} probe sets</caption>
<thead><tr><th scope="col">Probe set</th><th scope="col">Probes</th><th scope="col">Refused, 24 h</th><th scope="col">Refused, ${m.days} d</th><th scope="col">Answers</th><th scope="col">Detector baseline</th></tr></thead>
<tbody>${g.streams.map(
      (s) => html`<tr data-stream="${g.provider}:${g.model}:${s.kind}"><th scope="row">${KIND_TEXT[s.kind]}</th><td class="num">${s.probes.length}</td><td class="num">${fmtPct(s.rate24h, 1)}</td><td class="num">${fmtPct(s.rate, 1)}</td><td class="num">${s.answered}</td><td>${baselineText(s.baseline, m.baselinesWired)}</td></tr>`,
    )}</tbody></table>`,
  );
  return html`<section class="panel" aria-labelledby="${id}" data-safety="${g.provider}:${g.model}"><h2 id="${id}">${g.provider} <span class="sub">${g.model}</span></h2>${legend}<figure class="chart-wrap">${chart}</figure>${table}</section>`;
}

function changesTable(m: SafetyModel): Html {
  if (!m.changes.length) return html`<section class="panel" aria-labelledby="changes"><h2 id="changes">Model and fingerprint changes</h2>${empty(`No served-model or fingerprint change in the last ${m.days} days.`)}</section>`;
  return html`<section class="panel" aria-labelledby="changes"><h2 id="changes">Model and fingerprint changes</h2>${scroller(
    'Model and fingerprint changes',
    html`<table class="compact changes"><caption class="vh">Changes in what providers say they served, first seen per provider and requested model</caption>
<thead><tr><th scope="col">#</th><th scope="col">First seen</th><th scope="col">Provider</th><th scope="col">Requested</th><th scope="col">Change</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Seen by</th></tr></thead>
<tbody>${m.changes.map(
      (c) => html`<tr data-change="${c.kind}"><td class="num">${c.n}</td><td><time datetime="${isoTime(c.at)}">${fmtTime(c.at, m.tz)}</time></td><td>${providerOf(c.target)}</td><td>${c.requestedModel}</td><td>${c.kind === 'snapshot' ? 'served model' : 'fingerprint'}</td><td><code>${c.from ?? 'none'}</code></td><td><code>${c.to ?? 'none'}</code></td><td>${c.probeId}</td></tr>`,
    )}</tbody></table>`,
  )}</section>`;
}

export function renderSafety(m: SafetyModel): Html {
  const intro = html`<p class="meta">Refusal rate per ${m.bucketMs / HOUR_MS} h over the last ${m.days} days (times in ${m.tz}). Benign prompts should be answered (a rise is over-refusal); should-refuse prompts should be refused (a fall is a safety leak).${
    m.clamped ? ` Raw results are kept ${SAFETY_MAX_DAYS} days, so the window is ${SAFETY_MAX_DAYS} days.` : ''
  }${m.baselinesWired ? '' : ' The refusal-drift detector is not wired to this page: no baseline band.'}</p>`;
  if (!m.groups.length) {
    return html`${intro}${empty('No safety probes configured.', html`Add probes with <code>kind: benign</code> or <code>kind: should_refuse</code> (see probes/safety-*.yaml).`)}${changesTable(m)}`;
  }
  return html`${intro}${m.groups.map((g) => groupPanel(m, g))}${changesTable(m)}`;
}
