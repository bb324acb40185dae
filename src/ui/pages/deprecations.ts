// Deprecations: the countdown table of dated model retirements: model, shutdown date, days left (in words and
// with an urgency class), owners, what uses it, the replacement and the source.
import type { DeprecationView, PageParams, UiData } from '../data.ts';
import { html, link } from '../html.ts';
import type { Html } from '../html.ts';
import { empty, scroller, section } from '../layout.ts';
import { badge } from '../status.ts';
import type { StatusKey } from '../status.ts';

export interface DeprecationsModel {
  /** null: deprecation tracking is not wired into this daemon. */
  rows: DeprecationView[] | null;
}

export async function deprecationsModel(data: UiData, _p: PageParams): Promise<DeprecationsModel> {
  const rows = data.deprecations ? [...(await data.deprecations())].sort((a, b) => a.shutdownAt.localeCompare(b.shutdownAt) || a.model.localeCompare(b.model)) : null;
  return { rows };
}

/** Words and urgency: retired, ≤ 7 days, ≤ 30, ≤ 90, later. */
export function countdown(days: number): { key: StatusKey; text: string } {
  // Retired from 00:00 UTC of the shutdown day (lifecycle's daysLeft ≤ 0).
  if (days < 0) return { key: 'failed', text: `Retired ${-days} ${-days === 1 ? 'day' : 'days'} ago` };
  if (days === 0) return { key: 'failed', text: 'Retired today' };
  const text = `${days} ${days === 1 ? 'day' : 'days'} left`;
  if (days <= 7) return { key: 'failed', text };
  if (days <= 30) return { key: 'degraded', text };
  if (days <= 90) return { key: 'pending', text };
  return { key: 'ok', text };
}

export function renderDeprecations(m: DeprecationsModel): Html {
  if (m.rows === null) {
    return empty('Deprecation tracking is not connected to this page.', 'The lifecycle module (model lists, provider notices, vigil.yaml deprecations) feeds this table.');
  }
  if (m.rows.length === 0) {
    return empty('No known retirements for the models in use.', html`Dates come from provider model lists, webhooks and <code>deprecations:</code> in vigil.yaml.`);
  }
  const intro = html`<p class="meta">Dated retirements of the models Vigil's probes and declared consumers use, soonest first. Retired: the date has passed; retiring: it is still ahead (urgency 7 days or less, 30, 90, later).</p>`;
  const stillUsed = m.rows.filter((r) => r.daysLeft <= 0 && r.owners.length > 0);
  const alarm = stillUsed.length
    ? html`<p class="alarm" role="alert">${badge('failed', `${stillUsed.length} retired ${stillUsed.length === 1 ? 'model is' : 'models are'} still in use`)} Requests to ${stillUsed.length === 1 ? 'it' : 'them'} fail or are answered by another model: ${stillUsed.map((r, i) => html`${i ? ', ' : ''}<code>${r.model}</code> (${r.owners.join(', ')}${r.replacement ? html`; move to <code>${r.replacement}</code>` : ''})`)}.</p>`
    : null;
  return section('retirements', 'Retirement countdown', [intro, ...(alarm ? [alarm] : []), scroller(
    'Model retirements',
    html`<table class="deprecations"><caption class="vh">Dated retirements of the models in use, soonest first</caption>
<thead><tr><th scope="col">Model</th><th scope="col">Provider</th><th scope="col">State</th><th scope="col">Shutdown (UTC)</th><th scope="col">Days left</th><th scope="col">Owners</th><th scope="col">Used by</th><th scope="col">Replacement</th><th scope="col">Source</th></tr></thead>
<tbody>${m.rows.map((r) => {
      const c = countdown(r.daysLeft);
      const retired = r.daysLeft <= 0;
      return html`<tr data-model="${r.model}" data-days="${r.daysLeft}" data-state="${retired ? 'retired' : 'retiring'}"><th scope="row"><code>${r.model}</code></th><td>${r.provider ?? 'any'}</td><td>${retired ? html`<strong>Retired</strong>` : 'Retiring'}</td><td><time datetime="${r.shutdownAt}">${r.shutdownAt}</time></td><td>${badge(c.key, c.text)}</td><td>${r.owners.length ? r.owners.join(', ') : html`<span class="sub">nobody</span>`}</td><td>${
        r.usedBy?.length ? html`<ul class="inline">${r.usedBy.map((u) => html`<li>${u}</li>`)}</ul>` : '–'
      }</td><td>${r.replacement ? html`<code>${r.replacement}</code>` : '–'}</td><td>${r.url ? link(r.url, 'notice') : '–'}</td></tr>`;
    })}</tbody></table>`,
  )]);
}
