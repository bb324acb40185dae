// The page shell: head, navigation, the live region the client script refreshes, and the footer.
import type { PageParams } from './data.ts';
import { fmtTime, isoTime } from './format.ts';
import { html } from './html.ts';
import type { Html } from './html.ts';
import { queryOf } from './params.ts';

export const PAGES = [
  { id: 'overview', path: '/', title: 'Overview' },
  { id: 'heatmap', path: '/status/heatmap', title: 'Latency heatmap' },
  { id: 'drills', path: '/status/drills', title: 'Drills' },
  { id: 'safety', path: '/status/safety', title: 'Safety & drift' },
  { id: 'deprecations', path: '/status/deprecations', title: 'Deprecations' },
  { id: 'incidents', path: '/status/incidents', title: 'Incidents' },
] as const;

export type PageId = (typeof PAGES)[number]['id'];

export const ASSET_CSS = '/status/assets/style.css';
export const ASSET_JS = '/status/assets/app.js';

export function livePath(page: PageId): string {
  return `/status/live/${page}`;
}

export interface ShellOptions {
  page: PageId;
  params: PageParams;
  now: number;
  /** Controls above the live region (forms): not replaced by live updates. */
  controls?: Html | null;
  /** The live region's content (what /status/live/<page> returns). */
  body: Html;
  /** Extra query for the live endpoint (e.g. the heatmap's probe and metric). */
  liveQuery?: Record<string, string | null>;
}

export function updatedLine(now: number, tz: string): Html {
  return html`<time datetime="${isoTime(now)}">${fmtTime(now, tz, true)}</time> ${tz}`;
}

export function shell(o: ShellOptions): string {
  const current = PAGES.find((p) => p.id === o.page)!;
  const q = queryOf(o.params);
  const nav = PAGES.map(
    (p) => html`<li><a href="${p.path}${q}"${p.id === o.page ? html` aria-current="page"` : null}>${p.title}</a></li>`,
  );
  const live = livePath(o.page) + queryOf(o.params, o.liveQuery ?? {});
  const notes = o.params.notes.length ? html`<div class="notice" role="note"><ul>${o.params.notes.map((n) => html`<li>${n}</li>`)}</ul></div>` : null;
  return `<!doctype html>\n${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${current.title} · Vigil</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${ASSET_CSS}">
<script src="${ASSET_JS}" defer></script>
<noscript><meta http-equiv="refresh" content="60"></noscript>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<p class="brand"><a href="/${q}">Vigil</a> <span class="brand-sub">LLM dependency status</span></p>
<nav aria-label="Status pages"><ul>${nav}</ul></nav>
</header>
<main id="main" tabindex="-1">
<h1>${current.title}</h1>
${notes}${o.controls ?? null}
<div id="live" data-live="${live}" data-poll="${o.params.poll * 1000}" data-generated="${isoTime(o.now)}">
${o.body}
</div>
<p class="updated"><span id="live-status" role="status">Updated ${updatedLine(o.now, o.params.tz)}.</span>
<noscript>This page reloads itself every 60 s.</noscript></p>
</main>
<footer class="foot"><p>Vigil status page · data from this daemon's store · <a href="/api/probes">/api/probes</a> · <a href="/api/incidents">/api/incidents</a> · <a href="/metrics">/metrics</a></p></footer>
</body>
</html>`}`;
}

/** A titled section. `id` becomes the heading's anchor. */
export function section(id: string, title: string, body: Html | (Html | null)[], level: 2 | 3 = 2): Html {
  const h = level === 2 ? html`<h2 id="${id}">${title}</h2>` : html`<h3 id="${id}">${title}</h3>`;
  return html`<section class="panel" aria-labelledby="${id}">${h}${body}</section>`;
}

/** A table wrapper that scrolls sideways on a phone and can be reached with the keyboard. */
export function scroller(label: string, table: Html): Html {
  return html`<div class="scroll" role="region" aria-label="${label}" tabindex="0">${table}</div>`;
}

/** Honest empty state: says what is missing and how to get it. */
export function empty(text: string, hint?: string | Html): Html {
  return html`<div class="empty"><p><strong>${text}</strong></p>${hint ? html`<p>${hint}</p>` : null}</div>`;
}
