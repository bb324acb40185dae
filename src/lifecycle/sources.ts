// Pure parsers for the lifecycle fields of each provider surface (research/lifecycle_signals.md §1), from the
// decoded JSON of one model-list page to `ListedModel`s: id, retirement date (UTC day), lifecycle state and
// the replacement where the payload names one. Malformed entries are skipped, never guessed at; a page without
// its list array is an error (a glitch must not look like every model disappearing).
//   Azure OpenAI data plane  GET {endpoint}/openai/models   data[].{id, lifecycle_status, deprecation.inference (unix s)}
//   Azure ARM                …/locations/{loc}/models       value[].model.{name, version, lifecycleStatus, deprecation.inference (ISO), skus[].deprecationDate}
//   AWS Bedrock              ListFoundationModels           modelSummaries[].{modelId, modelLifecycle.{status, endOfLifeTime}}
//   Mistral                  GET /v1/models                 data[].{id, aliases, deprecation (ISO), deprecation_replacement_model}
//   OpenRouter               GET /api/v1/models             data[].{id, expiration_date (YYYY-MM-DD)}
//   Gemini (in-band)         generateContent replies        modelStatus.{modelStage, retirementTime, message}

export interface ListedModel {
  id: string;
  /** Retirement / shutdown date (YYYY-MM-DD, UTC) when the payload gives one. */
  shutdownDate: string | null;
  /** The provider's own lifecycle word (`Deprecating`, `LEGACY`, `generally-available`…), when given. */
  state?: string | null;
  /** Replacement the provider names (Mistral's `deprecation_replacement_model`). */
  replacement?: string | null;
}

export class LifecycleParseError extends Error {}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/** Bounds on what a list may claim: epoch seconds between 2000 and 2200, ISO strings that parse. */
const MIN_S = 946_684_800;
const MAX_S = 7_258_118_400;

/** A date from unix seconds, unix milliseconds, or an ISO 8601 string → YYYY-MM-DD (UTC), else null. */
export function dayOf(v: unknown): string | null {
  if (typeof v === 'number' && Number.isFinite(v)) {
    const s = v > MAX_S ? v / 1000 : v;
    if (s < MIN_S || s > MAX_S) return null;
    return new Date(s * 1000).toISOString().slice(0, 10);
  }
  const t = str(v);
  if (!t || !/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) return null;
  const ms = Date.parse(t.length === 10 ? `${t}T00:00:00Z` : t);
  if (Number.isNaN(ms)) return null;
  const d = new Date(ms).toISOString().slice(0, 10);
  return t.length === 10 && d !== t ? null : d;
}

function listOf(body: unknown, key: string, what: string): Obj[] {
  if (!isObj(body) || !Array.isArray(body[key])) throw new LifecycleParseError(`${what} has no ${key} array`);
  return (body[key] as unknown[]).filter(isObj);
}

export function parseAzureDataPlane(body: unknown): ListedModel[] {
  return listOf(body, 'data', 'Azure OpenAI model list').flatMap((m) => {
    const id = str(m.id);
    if (!id) return [];
    const dep = isObj(m.deprecation) ? m.deprecation : {};
    return [{ id, shutdownDate: dayOf(dep.inference), state: str(m.lifecycle_status), replacement: null }];
  });
}

/**
 * Azure ARM location models. A model is `name` at `version`; dated versions (`2024-05-13`, `0613`) become
 * `name-version`, matching the ids users configure (`gpt-4o-2024-05-13`). The inference deprecation date is the
 * retirement; without it, the earliest SKU `deprecationDate`.
 */
export function parseAzureArm(body: unknown): ListedModel[] {
  return listOf(body, 'value', 'Azure ARM model list').flatMap((entry) => {
    const m = isObj(entry.model) ? entry.model : null;
    const name = m && str(m.name);
    if (!m || !name) return [];
    const version = str(m.version);
    const id = version && version.length >= 4 ? `${name}-${version}` : name;
    const dep = isObj(m.deprecation) ? m.deprecation : {};
    const skuDates = (Array.isArray(m.skus) ? m.skus : []).filter(isObj).map((s) => dayOf(s.deprecationDate)).filter((d): d is string => d !== null).sort();
    return [{ id, shutdownDate: dayOf(dep.inference) ?? skuDates[0] ?? null, state: str(m.lifecycleStatus), replacement: null }];
  });
}

/** Bedrock: `endOfLifeTime` is the date requests stop working (legacy and extended access come before it). */
export function parseBedrock(body: unknown): ListedModel[] {
  return listOf(body, 'modelSummaries', 'Bedrock ListFoundationModels').flatMap((m) => {
    const id = str(m.modelId);
    if (!id) return [];
    const lc = isObj(m.modelLifecycle) ? m.modelLifecycle : {};
    return [{ id, shutdownDate: dayOf(lc.endOfLifeTime), state: str(lc.status), replacement: null }];
  });
}

/** Mistral: each alias is listed too, with the same date, so users of an alias are matched. */
export function parseMistral(body: unknown): ListedModel[] {
  return listOf(body, 'data', 'Mistral model list').flatMap((m) => {
    const id = str(m.id);
    if (!id) return [];
    const row = { shutdownDate: dayOf(m.deprecation), state: m.deprecation ? 'deprecated' : null, replacement: str(m.deprecation_replacement_model) };
    const aliases = (Array.isArray(m.aliases) ? m.aliases : []).map(str).filter((a): a is string => a !== null && a !== id);
    return [{ id, ...row }, ...aliases.map((a) => ({ id: a, ...row }))];
  });
}

export function parseOpenRouter(body: unknown): ListedModel[] {
  return listOf(body, 'data', 'OpenRouter model list').flatMap((m) => {
    const id = str(m.id);
    return id ? [{ id, shutdownDate: dayOf(m.expiration_date), state: null, replacement: null }] : [];
  });
}

export interface GeminiModelStatus {
  /** `STABLE`, `LEGACY`, `DEPRECATED`, `RETIRED`… */
  stage: string;
  retireAt: string | null;
  message: string | null;
}

/** Gemini's in-band lifecycle: `modelStatus` of a generateContent reply (or the reply itself), or null. */
export function geminiModelStatus(v: unknown): GeminiModelStatus | null {
  const ms = isObj(v) && isObj(v.modelStatus) ? v.modelStatus : v;
  if (!isObj(ms) || !str(ms.modelStage)) return null;
  const message = str(ms.message);
  return { stage: str(ms.modelStage)!, retireAt: dayOf(ms.retirementTime), message: message ? message.slice(0, 300) : null };
}
