// Fetch a provider's model list through the project's HTTP client: OpenAI `GET /v1/models` (one page, with
// `shutdown_date` since 2026-08), Anthropic `GET /v1/models` (pages via `has_more` / `after_id`; no lifecycle
// field), Gemini `GET /v1beta/models` (pages via `nextPageToken`; entries without `name` exist and are
// skipped), and the `model_lists:` sources of vigil.yaml (Azure OpenAI data plane and ARM, Bedrock signed with
// AWS SigV4 by @smithy/signature-v4, Mistral, OpenRouter; parsed by src/lifecycle/sources.ts). A partial list is
// never returned: any failed page fails the whole fetch, so a glitch can't look like a disappearance.
import { createHash, createHmac } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { Sourced } from '../config/types.ts';
import type { ProviderEndpoint, Timeouts } from '../domain.ts';
import type { HttpClient } from '../http/types.ts';
import { parseAzureArm, parseAzureDataPlane, parseBedrock, parseMistral, parseOpenRouter } from '../lifecycle/sources.ts';
import type { ListedModel } from '../lifecycle/sources.ts';
import { DEFAULT_ANTHROPIC_VERSION } from '../providers/anthropic.ts';
import { DEFAULT_GEMINI_VERSION } from '../providers/gemini.ts';
import { apiUrl, mergeHeaders } from '../providers/request.ts';
import { utcDate } from './notice.ts';

export type { ListedModel } from '../lifecycle/sources.ts';

export class ModelListError extends Error {}

const MAX_PAGES = 50;
const MAX_BYTES = 8 * 1024 * 1024;
export const LIST_TIMEOUTS: Timeouts = { connectMs: 5_000, firstByteMs: 20_000, totalMs: 30_000 };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

async function getJson(http: HttpClient, url: string, headers: Record<string, string>, timeouts: Timeouts): Promise<Obj> {
  const res = await http.request({ url, method: 'GET', headers: { accept: 'application/json', ...headers }, timeouts });
  return readJson(res);
}

async function readJson(res: Awaited<ReturnType<HttpClient['request']>>): Promise<Obj> {
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

// ── model_lists: sources of vigil.yaml ────────────────────────────────────────────────────────────────

export type ModelListKind = 'azure-openai' | 'azure-arm' | 'bedrock' | 'mistral' | 'openrouter';

/** One `model_lists:` entry, typed (the schema validated it). Secrets: apiKey, token, secret, sessionToken. */
export interface ModelListSource {
  name: string;
  kind: ModelListKind;
  url: string | null;
  apiKey: string | null;
  token: string | null;
  region: string | null;
  accessKeyId: string | null;
  secret: string | null;
  sessionToken: string | null;
  /** Provider the listed ids belong to (consumers match on it). */
  provider: string;
  everyMs: number | null;
  headers: Record<string, string>;
}

const DEFAULT_LIST_URLS: Partial<Record<ModelListKind, string>> = {
  mistral: 'https://api.mistral.ai',
  openrouter: 'https://openrouter.ai',
};

export function modelListSources(raw: Record<string, Sourced>, parseMs: (d: string) => number | null): ModelListSource[] {
  return Object.entries(raw).map(([name, { value: v }]) => {
    const s = (k: string) => (typeof v[k] === 'string' && v[k] !== '' ? (v[k] as string) : null);
    const kind = v.kind as ModelListKind;
    return {
      name,
      kind,
      url: s('url'),
      apiKey: s('api_key'),
      token: s('token'),
      region: s('region'),
      accessKeyId: s('access_key_id'),
      secret: s('secret'),
      sessionToken: s('session_token'),
      provider: s('provider') ?? (kind.startsWith('azure') ? 'azure' : kind),
      everyMs: s('every') ? parseMs(s('every')!) : null,
      headers: (v.headers as Record<string, string> | undefined) ?? {},
    };
  });
}

const trim = (u: string) => u.replace(/\/+$/, '');

/** Fetch and parse one `model_lists:` source (all pages). `now` (the injected clock) dates the Bedrock signature. */
export async function fetchListSource(http: HttpClient, src: ModelListSource, timeouts: Timeouts = LIST_TIMEOUTS, now: number = Date.now()): Promise<ListedModel[]> {
  switch (src.kind) {
    case 'azure-openai': {
      const url = new URL(`${trim(src.url!)}/openai/models`);
      if (!url.searchParams.has('api-version')) url.searchParams.set('api-version', '2024-10-21');
      return parseAzureDataPlane(await getJson(http, url.toString(), mergeHeaders({ 'api-key': src.apiKey ?? '' }, src.headers), timeouts));
    }
    case 'azure-arm': {
      // ARM pages through `nextLink` (absolute URLs on the same host).
      const out: ListedModel[] = [];
      let url: string | null = src.url!;
      const origin = new URL(url).origin;
      for (let page = 0; url && page < MAX_PAGES; page++) {
        const body = await getJson(http, url, mergeHeaders({ authorization: `Bearer ${src.token ?? ''}` }, src.headers), timeouts);
        out.push(...parseAzureArm(body));
        const next: string | null = typeof body.nextLink === 'string' && body.nextLink ? body.nextLink : null;
        if (next && new URL(next).origin !== origin) throw new ModelListError('Azure ARM nextLink points at another host');
        url = next;
      }
      if (url) throw new ModelListError(`Azure ARM model list longer than ${MAX_PAGES} pages`);
      return out;
    }
    case 'bedrock':
      return fetchBedrock(http, src, timeouts, now);
    case 'mistral': {
      const base = trim(src.url ?? DEFAULT_LIST_URLS.mistral!);
      return parseMistral(await getJson(http, `${base}/v1/models`, mergeHeaders({ authorization: `Bearer ${src.apiKey ?? ''}` }, src.headers), timeouts));
    }
    case 'openrouter': {
      // Pages through `links.next` (a path relative to the same origin), as the OpenRouter SDK does.
      const base = trim(src.url ?? DEFAULT_LIST_URLS.openrouter!);
      const origin = new URL(base).origin;
      const headers = mergeHeaders(src.apiKey ? { authorization: `Bearer ${src.apiKey}` } : {}, src.headers);
      const out: ListedModel[] = [];
      let url: string | null = `${base}/api/v1/models`;
      const seen = new Set<string>();
      for (let page = 0; url && page < MAX_PAGES; page++) {
        seen.add(url);
        const body = await getJson(http, url, headers, timeouts);
        out.push(...parseOpenRouter(body));
        const links = isObj(body.links) ? body.links : {};
        const nextRaw: string | null = typeof links.next === 'string' && links.next ? links.next : null;
        const next: string | null = nextRaw ? new URL(nextRaw, origin).toString() : null;
        if (next && new URL(next).origin !== origin) throw new ModelListError('OpenRouter next link points at another host');
        // The example payload points `next` past the end; an empty page ends the walk.
        if (next && (seen.has(next) || parseOpenRouter(body).length === 0)) break;
        url = next;
      }
      return [...new Map(out.map((m) => [m.id, m])).values()];
    }
    default:
      throw new ModelListError(`unknown model list kind ${String(src.kind)}`);
  }
}

/** node:crypto behind the hash interface @smithy/signature-v4 expects (SHA-256, HMAC when given a key). */
class NodeSha256 {
  private readonly h: Hash | ReturnType<typeof createHmac>;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {}
}

function toBuffer(d: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d);
}

/** Bedrock ListFoundationModels: `GET /foundation-models` on the control-plane host, SigV4-signed (service `bedrock`). */
async function fetchBedrock(http: HttpClient, src: ModelListSource, timeouts: Timeouts, now: number): Promise<ListedModel[]> {
  const url = new URL(`${trim(src.url ?? `https://bedrock.${src.region}.amazonaws.com`)}/foundation-models`);
  // Loaded when a Bedrock list is first fetched: about 2 MB of heap a daemon without one would carry for nothing.
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const signer = new SignatureV4({
    service: 'bedrock',
    region: src.region!,
    credentials: { accessKeyId: src.accessKeyId!, secretAccessKey: src.secret!, ...(src.sessionToken ? { sessionToken: src.sessionToken } : {}) },
    sha256: NodeSha256,
  });
  const signed = await signer.sign({
    method: 'GET',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query: {},
    headers: { host: url.host, accept: 'application/json', ...src.headers },
  }, { signingDate: new Date(now) });
  const res = await http.request({ url: url.toString(), method: 'GET', headers: signed.headers as Record<string, string>, timeouts });
  return parseBedrock(await readJson(res));
}
