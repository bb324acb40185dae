// Routes of the status page, for the server's router: register each with `server.addRoute(method, pattern, handler)`.
//   GET /                          overview (also /status and /status/overview)
//   GET /status/<page>             heatmap | drills | safety | deprecations | incidents
//   GET /status/live/<page>        JSON { html, generatedAt, updated }: the page's live region, for polling
//   GET /status/assets/style.css   GET /status/assets/app.js
import type { Handler, Reply } from '../server/router.ts';
import { HttpError, json } from '../server/router.ts';
import { CSS, JS } from './assets.ts';
import type { PageParams, UiData } from './data.ts';
import { isoTime } from './format.ts';
import type { Html } from './html.ts';
import { ASSET_CSS, ASSET_JS, PAGES, shell, updatedLine } from './layout.ts';
import type { PageId } from './layout.ts';
import { parseParams } from './params.ts';
import { deprecationsModel, renderDeprecations } from './pages/deprecations.ts';
import { drillsModel, renderDrills } from './pages/drills.ts';
import { heatmapControls, heatmapModel, renderHeatmap } from './pages/heatmap.ts';
import { incidentsModel, renderIncidents } from './pages/incidents.ts';
import { overviewModel, renderOverview } from './pages/overview.ts';
import { renderSafety, safetyModel } from './pages/safety.ts';

export interface UiRoute {
  method: 'GET';
  pattern: string;
  handler: Handler;
}

interface Rendered {
  body: Html;
  controls?: Html;
  liveQuery?: Record<string, string | null>;
}

type Renderer = (data: UiData, p: PageParams) => Rendered | Promise<Rendered>;

const RENDERERS: Record<PageId, Renderer> = {
  overview: async (d, p) => ({ body: renderOverview(await overviewModel(d, p)) }),
  heatmap: async (d, p) => {
    const m = await heatmapModel(d, p);
    return {
      body: renderHeatmap(m),
      controls: heatmapControls(m),
      liveQuery: { probe: m.selected, metric: m.metric === 'ttft' ? null : m.metric, days: p.days === 7 ? null : String(p.days), location: m.location },
    };
  },
  drills: async (d, p) => ({ body: renderDrills(await drillsModel(d, p)) }),
  safety: async (d, p) => ({ body: renderSafety(await safetyModel(d, p)), liveQuery: { days: p.days === 7 ? null : String(p.days) } }),
  deprecations: async (d, p) => ({ body: renderDeprecations(await deprecationsModel(d, p)) }),
  incidents: async (d, p) => ({ body: renderIncidents(await incidentsModel(d, p)) }),
};

/**
 * The page's own content policy: scripts, styles and connections only from this server; no inline script or
 * style; no framing. The SVG charts are inline markup styled by classes, which this allows.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const HTML_HEADERS = { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CONTENT_SECURITY_POLICY };

function pageId(name: string): PageId {
  const p = PAGES.find((x) => x.id === name);
  if (!p) throw new HttpError(404, 'not_found', 'no such status page');
  return p.id;
}

export async function renderPage(data: UiData, page: PageId, query: URLSearchParams): Promise<string> {
  const params = parseParams(query);
  const r = await RENDERERS[page](data, params);
  return shell({ page, params, now: data.now(), body: r.body, controls: r.controls, liveQuery: r.liveQuery });
}

export async function renderLive(data: UiData, page: PageId, query: URLSearchParams): Promise<{ html: string; generatedAt: string; updated: string }> {
  const params = parseParams(query);
  const now = data.now();
  return { html: (await RENDERERS[page](data, params)).body.value, generatedAt: isoTime(now), updated: updatedLine(now, params.tz).value };
}

export function uiRoutes(data: UiData): UiRoute[] {
  const page =
    (id: PageId | null): Handler =>
    async (ctx): Promise<Reply> => ({ status: 200, headers: HTML_HEADERS, body: await renderPage(data, id ?? pageId(ctx.params.page), ctx.query) });
  return [
    { method: 'GET', pattern: '/', handler: page('overview') },
    { method: 'GET', pattern: '/status', handler: page('overview') },
    { method: 'GET', pattern: '/status/:page', handler: page(null) },
    { method: 'GET', pattern: '/status/live/:page', handler: async (ctx) => json(await renderLive(data, pageId(ctx.params.page), ctx.query)) },
    { method: 'GET', pattern: ASSET_CSS, handler: () => asset(CSS, 'text/css; charset=utf-8') },
    { method: 'GET', pattern: ASSET_JS, handler: () => asset(JS, 'text/javascript; charset=utf-8') },
  ];
}

function asset(body: string, type: string): Reply {
  return { status: 200, headers: { 'content-type': type, 'cache-control': 'public, max-age=300' }, body };
}
