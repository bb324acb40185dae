// Fetch a provider's model list through the project's HTTP client: OpenAI `GET /v1/models` (one page, with
// `shutdown_date` since 2026-08), Anthropic `GET /v1/models` (pages via `has_more` / `after_id`; no lifecycle
// field), Gemini `GET /v1beta/models` (pages via `nextPageToken`; entries without `name` exist and are
// skipped). A partial list is never returned: any failed page fails the whole fetch, so a glitch can't look
// like a disappearance.
import type { ProviderEndpoint, Timeouts } from '../domain.ts';
import type { HttpClient } from '../http/types.ts';
import { DEFAULT_ANTHROPIC_VERSION } from '../providers/anthropic.ts';
import { DEFAULT_GEMINI_VERSION } from '../providers/gemini.ts';
import { apiUrl, mergeHeaders } from '../providers/request.ts';
import { utcDate } from './notice.ts';

export interface ListedModel {
  id: string;
  /** OpenAI `shutdown_date` (YYYY-MM-DD) when set. */
  shutdownDate: string | null;
}

export class ModelListError extends Error {}

const MAX_PAGES = 50;
const MAX_BYTES = 8 * 1024 * 1024;
export const LIST_TIMEOUTS: Timeouts = { connectMs: 5_000, firstByteMs: 20_000, totalMs: 30_000 };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

async function getJson(http: HttpClient, url: string, headers: Record<string, string>, timeouts: Timeouts): Promise<Obj> {
  const res = await http.request({ url, method: 'GET', headers: { accept: 'application/json', ...headers }, timeouts });
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of res.body) {
    size += c.byteLength;
    if (size > MAX_BYTES) throw new ModelListError(`model list larger than ${MAX_BYTES} bytes`);
    chunks.push(c);
  }
  if (res.status !== 200) throw new ModelListError(`model list answered HTTP ${res.status}`);
  let v: unknown;
  try {
    v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ModelListError('model list is not JSON');
  }
  if (!isObj(v)) throw new ModelListError('model list is not a JSON object');
  return v;
}

export async function fetchModelList(http: HttpClient, ep: ProviderEndpoint, timeouts: Timeouts = LIST_TIMEOUTS): Promise<ListedModel[]> {
  switch (ep.kind) {
    case 'openai':
      return fetchOpenAI(http, ep, timeouts);
    case 'anthropic':
      return fetchAnthropic(http, ep, timeouts);
    case 'gemini':
      return fetchGemini(http, ep, timeouts);
    default:
      throw new ModelListError(`no model list for ${ep.kind}`);
  }
}

async function fetchOpenAI(http: HttpClient, ep: ProviderEndpoint, timeouts: Timeouts): Promise<ListedModel[]> {
  const headers = mergeHeaders(ep.apiKey ? { authorization: `Bearer ${ep.apiKey}` } : {}, ep.headers);
  const body = await getJson(http, apiUrl(ep.baseUrl, 'v1', '/models'), headers, timeouts);
  if (!Array.isArray(body.data)) throw new ModelListError('OpenAI model list has no data array');
  return body.data.filter(isObj).flatMap((m) =>
    typeof m.id === 'string' && m.id ? [{ id: m.id, shutdownDate: typeof m.shutdown_date === 'string' ? utcDate(m.shutdown_date) : null }] : [],
  );
}

async function fetchAnthropic(http: HttpClient, ep: ProviderEndpoint, timeouts: Timeouts): Promise<ListedModel[]> {
  const headers = mergeHeaders(
    { 'anthropic-version': ep.apiVersion ?? DEFAULT_ANTHROPIC_VERSION },
    ep.apiKey ? { 'x-api-key': ep.apiKey } : {},
    ep.headers,
  );
  const out: ListedModel[] = [];
  let after: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const q = new URLSearchParams({ limit: '1000' });
    if (after) q.set('after_id', after);
    const body = await getJson(http, `${apiUrl(ep.baseUrl, 'v1', '/models')}?${q}`, headers, timeouts);
    if (!Array.isArray(body.data)) throw new ModelListError('Anthropic model list has no data array');
    for (const m of body.data.filter(isObj)) if (typeof m.id === 'string' && m.id) out.push({ id: m.id, shutdownDate: null });
    if (body.has_more !== true) return out;
    const next = typeof body.last_id === 'string' && body.last_id ? body.last_id : null;
    if (!next || next === after) throw new ModelListError('Anthropic model list says has_more without a new last_id');
    after = next;
  }
  throw new ModelListError(`Anthropic model list longer than ${MAX_PAGES} pages`);
}

async function fetchGemini(http: HttpClient, ep: ProviderEndpoint, timeouts: Timeouts): Promise<ListedModel[]> {
  const headers = mergeHeaders(ep.apiKey ? { 'x-goog-api-key': ep.apiKey } : {}, ep.headers);
  const out: ListedModel[] = [];
  let token: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const q = new URLSearchParams({ pageSize: '1000' });
    if (token) q.set('pageToken', token);
    const body = await getJson(http, `${apiUrl(ep.baseUrl, ep.apiVersion ?? DEFAULT_GEMINI_VERSION, '/models')}?${q}`, headers, timeouts);
    if (!Array.isArray(body.models)) throw new ModelListError('Gemini model list has no models array');
    for (const m of body.models.filter(isObj)) {
      if (typeof m.name === 'string' && m.name) out.push({ id: m.name.replace(/^models\//, ''), shutdownDate: null });
    }
    const next = typeof body.nextPageToken === 'string' && body.nextPageToken ? body.nextPageToken : null;
    if (!next) return out;
    if (next === token) throw new ModelListError('Gemini model list repeats its nextPageToken');
    token = next;
  }
  throw new ModelListError(`Gemini model list longer than ${MAX_PAGES} pages`);
}

/** Gemini's in-band lifecycle (`modelStatus` in generateContent replies): a retirement date, or null. */
export function geminiRetirement(modelStatus: unknown): { stage: string; retireAt: string | null } | null {
  if (!isObj(modelStatus) || typeof modelStatus.modelStage !== 'string') return null;
  const retireAt = typeof modelStatus.retirementTime === 'string' ? utcDate(modelStatus.retirementTime) : null;
  return { stage: modelStatus.modelStage, retireAt };
}
