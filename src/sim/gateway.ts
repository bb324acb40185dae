// An OpenAI-compatible gateway (LiteLLM- or Portkey-flavoured) with an ordered fallback list of targets.
// It forwards over real HTTP, falls back on 429/5xx/529/transport errors before the first byte, never after a
// 200 has started (a mid-stream cut reaches the client, as real gateways do; see shared/research/chaos_anchors.md),
// translates Anthropic/Gemini answers, and sets the flavour's headers.
// Content-policy refusals follow each gateway's real rules, so safety drills can show both verdicts:
// - LiteLLM: a content-policy 400 goes to `content_policy_fallbacks` when set, else to the generic fallbacks
//   (#40406); a non-streamed 200 with finish_reason content_filter raises (and falls back) only when
//   content_policy_fallbacks is set (#4365, #8953). Configure it with `contentPolicyFallbacks`.
// - Portkey: decides on the status only: any non-2xx without `fallbackOnStatus` (on_status_codes), else those
//   codes; a 200 content_filter is never failed over.
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { createParser } from 'eventsource-parser';
import { z } from 'zod';
import { BehaviourError, pickFault } from './behaviour.ts';
import { planLatency } from './latency.ts';
import { maskKey, openaiError } from './openai.ts';
import { hangReply, jsonReply, resetReply } from './replies.ts';
import type { ControlResult, ProviderHandler, RequestContext, SimServer } from './server.ts';
import type { Reply, ResponseWriter } from './timeline.ts';
import type { GatewayAttempt } from './truth.ts';
import { StreamTranslator, buildUpstreamRequest, providerLabel, toChatCompletion } from './translate.ts';
import type { ChatRequest, Flavour, UpstreamProvider } from './translate.ts';

const targetSchema = z.strictObject({
  provider: z.enum(['openai', 'anthropic', 'gemini']),
  /** Model sent upstream. */
  model: z.string().min(1),
  /** Name reported as `x-litellm-model-id` (LiteLLM's model_info.id); defaults to `<provider>/<model>`. */
  id: z.string().min(1).optional(),
  /** Upstream base URL; defaults to the fleet's simulator for `provider` (point it at a fault proxy for drills). */
  baseUrl: z.string().url().optional(),
  apiKey: z.string().min(1).optional(),
});

export const gatewayConfigSchema = z.strictObject({
  flavour: z.enum(['litellm', 'portkey']),
  targets: z.array(targetSchema).min(1),
  /** Retries on the same target before falling back (transient failures only). */
  retries: z.number().int().min(0).max(5),
  /** Upstream time to response headers, and max gap between body chunks, before the attempt counts as a timeout. */
  upstreamTimeoutMs: z.number().int().positive(),
  /** Client request headers with this prefix are forwarded upstream (drill scoping, e.g. `x-vigil-drill`). */
  forwardHeaderPrefix: z.string(),
  /** Fall back only on these upstream statuses (Portkey's strategy.on_status_codes); transport errors always do. */
  fallbackOnStatus: z.array(z.number().int()).optional(),
  /**
   * LiteLLM's `content_policy_fallbacks` for the primary's group: target ids tried, in order, after a content-policy
   * refusal of the primary. Unset (or empty, which LiteLLM treats as unset): a content-policy 400 goes to the
   * generic fallbacks like any error (#40406) and a 200 `content_filter` answer reaches the client. Set: a
   * content-policy 400 goes only to these, and a non-streamed 200 `content_filter` raises and goes to them too
   * (#4365, #8953). Portkey ignores it.
   */
  contentPolicyFallbacks: z.array(z.string().min(1)).nullable().optional(),
});

export type GatewayTarget = z.infer<typeof targetSchema>;
export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

/** Anthropic primary, OpenAI then Gemini as fallbacks (the design's example drill: anthropic 529 → vertex-gemini). */
export const DEFAULT_GATEWAY_TARGETS: GatewayTarget[] = [
  { provider: 'anthropic', model: 'claude-sonnet-4-5', id: 'anthropic-claude' },
  { provider: 'openai', model: 'gpt-4o-mini', id: 'openai-gpt' },
  { provider: 'gemini', model: 'gemini-2.5-flash', id: 'vertex-gemini' },
];

export function defaultGatewayConfig(flavour: Flavour = 'litellm', targets: GatewayTarget[] = DEFAULT_GATEWAY_TARGETS): GatewayConfig {
  return gatewayConfigSchema.parse({ flavour, targets: structuredClone(targets), retries: 0, upstreamTimeoutMs: 10_000, forwardHeaderPrefix: 'x-vigil-' });
}

/** Statuses both gateways treat as transient: retried, then failed over. */
const TRANSIENT = new Set([408, 429, 500, 502, 503, 504, 529]);

/** Whether an upstream error status moves on to the next target (LiteLLM's content-policy errors: see handle). */
function shouldFallback(cfg: GatewayConfig, status: number): boolean {
  if (cfg.fallbackOnStatus) return cfg.fallbackOnStatus.includes(status);
  // Portkey's fallback mode without on_status_codes fails over on any non-2xx (handlerUtils.ts).
  if (cfg.flavour === 'portkey') return true;
  return TRANSIENT.has(status);
}

type Upstream =
  | { ok: true; res: Dispatcher.ResponseData; ms: number }
  | { ok: false; error: 'timeout' | 'connect' | 'reset' | 'aborted'; message: string; ms: number };

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date', 'x-sim-request-id', 'content-encoding']);

function pickHeaders(h: Dispatcher.ResponseData['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP.has(k)) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

const LITELLM_EXCEPTION: Record<UpstreamProvider, string> = { openai: 'OpenAIException', anthropic: 'AnthropicException', gemini: 'GeminiException' };

function litellmExceptionName(status: number): string {
  if (status === 429) return 'RateLimitError';
  if (status === 401 || status === 403) return 'AuthenticationError';
  if (status === 400) return 'BadRequestError';
  if (status === 404) return 'NotFoundError';
  if (status === 408) return 'Timeout';
  if (status === 503) return 'ServiceUnavailableError';
  return 'InternalServerError';
}

/** LiteLLM proxy error body: exception name + provider exception + raw upstream text, code as a string. */
function litellmError(status: number, provider: UpstreamProvider, detail: string, group: string, fallbacks: string[], contentPolicy = false): { status: number; body: string } {
  const out = status === 529 ? 500 : status;
  const message = `litellm.${contentPolicy ? 'ContentPolicyViolationError' : litellmExceptionName(out)}: ${LITELLM_EXCEPTION[provider]} - ${detail.trim()}. Received Model Group=${group}\nAvailable Model Group Fallbacks=${fallbacks.length ? JSON.stringify(fallbacks) : 'None'}`;
  return { status: out, body: JSON.stringify({ error: { message, type: 'None', param: 'None', code: String(out) } }) };
}

/** Portkey wraps the last target's error in OpenAI shape, prefixes the message and names the provider. */
function portkeyError(status: number, provider: UpstreamProvider, raw: string): { status: number; body: string } {
  const p = providerLabel(provider, 'portkey');
  let error: Record<string, unknown> = { message: `${p} error: ${raw.trim()}`, type: null, param: null, code: null };
  try {
    const j = JSON.parse(raw);
    if (provider === 'openai' && j?.error) {
      error = { message: `${p} error: ${j.error.message}`, type: j.error.type ?? null, param: j.error.param ?? null, code: j.error.code ?? null };
    } else if (provider === 'anthropic' && j?.error) {
      error = { message: `${p} error: ${j.error.message}`, type: j.error.type ?? null, param: null, code: null };
    } else if (provider === 'gemini' && j?.error) {
      error = { message: `${p} error: ${j.error.message}`, type: j.error.status ?? null, param: null, code: j.error.status ?? null };
    }
  } catch {
    // Not JSON (an HTML 502, a truncated body): keep the raw text in the message.
  }
  return { status, body: JSON.stringify({ error, provider: p }) };
}

export interface GatewayHandler extends ProviderHandler {
  config: GatewayConfig;
}

export interface GatewayHandlerOptions {
  config: GatewayConfig;
  /** Base URL of the simulator serving `provider`, for targets without their own baseUrl. */
  resolveBaseUrl: (provider: UpstreamProvider) => string;
}

export function gatewayHandler(opts: GatewayHandlerOptions): GatewayHandler {
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 2048, pipelining: 1 });
  const handler: GatewayHandler = {
    config: opts.config,
    handle: (ctx) => handle(ctx, handler.config, opts.resolveBaseUrl, agent),
    control(server: SimServer, method: string, path: string, body: unknown): ControlResult | null {
      if (path !== '/_sim/gateway') return null;
      if (method === 'GET') return { status: 200, body: handler.config };
      if (method === 'PATCH' || method === 'POST' || method === 'PUT') {
        const merged = method === 'PUT' ? body : { ...handler.config, ...(body as object) };
        const parsed = gatewayConfigSchema.safeParse(merged);
        if (!parsed.success) throw new BehaviourError(z.prettifyError(parsed.error));
        const ids = parsed.data.targets.map(targetId);
        const unknown = (parsed.data.contentPolicyFallbacks ?? []).filter((id) => !ids.slice(1).includes(id));
        if (unknown.length > 0) throw new BehaviourError(`contentPolicyFallbacks: ${unknown.join(', ')} is not a fallback target id (${ids.slice(1).join(', ') || 'none'})`);
        handler.config = parsed.data;
        return { status: 200, body: handler.config };
      }
      return null;
    },
    info: () => ({ gateway: handler.config }),
    close: async () => {
      await agent.destroy();
    },
  };
  return handler;
}

function baseUrlOf(t: GatewayTarget, resolve: GatewayHandlerOptions['resolveBaseUrl']): string {
  return (t.baseUrl ?? resolve(t.provider)).replace(/\/+$/, '');
}

function targetId(t: GatewayTarget): string {
  return t.id ?? `${t.provider}/${t.model}`;
}

async function callUpstream(agent: Agent, url: string, headers: Record<string, string>, body: string, timeoutMs: number, signal: AbortSignal, t0: number): Promise<Upstream> {
  // Our own timer: undici's headersTimeout ticks at ~1 s resolution, far too coarse for drill timings.
  const timer = new AbortController();
  const t = setTimeout(() => timer.abort(new Error(`no response headers within ${timeoutMs} ms`)), timeoutMs);
  try {
    const res = await request(url, { method: 'POST', headers, body, dispatcher: agent, signal: AbortSignal.any([signal, timer.signal]), headersTimeout: 0, bodyTimeout: timeoutMs });
    return { ok: true, res, ms: performance.now() - t0 };
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    const ms = performance.now() - t0;
    const message = (err as Error).message;
    if (signal.aborted) return { ok: false, error: 'aborted', message, ms };
    if (timer.signal.aborted || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
      return { ok: false, error: 'timeout', message: timer.signal.aborted ? (timer.signal.reason as Error).message : message, ms };
    }
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH') return { ok: false, error: 'connect', message, ms };
    return { ok: false, error: 'reset', message, ms };
  } finally {
    clearTimeout(t);
  }
}

const PORTKEY_PROVIDERS: Record<string, UpstreamProvider> = { openai: 'openai', anthropic: 'anthropic', google: 'gemini', 'vertex-ai': 'gemini' };

/**
 * A Portkey `x-portkey-config` header (single target or `strategy.mode: fallback` with `targets`), so the same
 * config drives this simulator and the real gateway. `custom_host` is the provider base including `/v1`.
 * Returns null when absent, a string error when unusable.
 */
export function configFromPortkeyHeader(header: unknown, base: GatewayConfig): GatewayConfig | string | null {
  if (typeof header !== 'string' || header === '') return null;
  let j: Record<string, any>;
  try {
    j = JSON.parse(header);
  } catch {
    return 'x-portkey-config is not valid JSON';
  }
  const list: Record<string, any>[] = Array.isArray(j.targets) ? j.targets : [j];
  const targets: GatewayTarget[] = [];
  for (const t of list) {
    const provider = PORTKEY_PROVIDERS[String(t?.provider ?? '')];
    if (!provider) return `unsupported provider ${JSON.stringify(t?.provider)}`;
    const model = t.override_params?.model;
    targets.push({
      provider,
      model: typeof model === 'string' ? model : '',
      ...(typeof t.custom_host === 'string' ? { baseUrl: t.custom_host.replace(/\/(v1beta|v1)\/?$/, '') } : {}),
      ...(typeof t.api_key === 'string' && t.api_key ? { apiKey: t.api_key } : {}),
    });
  }
  const codes = j.strategy?.on_status_codes;
  const cfg: GatewayConfig = { ...base, flavour: 'portkey', targets };
  if (Array.isArray(codes)) cfg.fallbackOnStatus = codes.filter((c: unknown) => Number.isInteger(c));
  else delete cfg.fallbackOnStatus;
  return cfg;
}

async function handle(ctx: RequestContext, baseCfg: GatewayConfig, resolve: GatewayHandlerOptions['resolveBaseUrl'], agent: Agent): Promise<Reply | void> {
  const b = ctx.server.behaviour;
  const rec = ctx.record;
  const fromHeader = baseCfg.flavour === 'portkey' ? configFromPortkeyHeader(ctx.headers['x-portkey-config'], baseCfg) : null;
  if (typeof fromHeader === 'string') {
    return jsonReply(400, { 'content-type': 'application/json' }, JSON.stringify({ status: 'failure', message: `Invalid config passed: ${fromHeader}` }), 0);
  }
  const cfg = fromHeader ?? baseCfg;
  const flavour = cfg.flavour;
  const json = (status: number, body: string, headers: Record<string, string> = {}) =>
    jsonReply(status, { 'content-type': 'application/json', ...headers }, body, 0);
  if (b.outage) {
    rec.fault = 'overloaded';
    const e = openaiError('overloaded');
    return json(e.status, e.body);
  }
  const auth = ctx.headers.authorization;
  const key = (typeof auth === 'string' && auth.replace(/^bearer\s+/i, '').trim()) || (ctx.headers['x-portkey-api-key'] as string | undefined) || '';
  if (!key) {
    const e = flavour === 'litellm'
      ? { status: 401, body: JSON.stringify({ error: { message: 'Authentication Error, No api key passed in.', type: 'auth_error', param: 'None', code: '401' } }) }
      : portkeyError(401, 'openai', openaiError('no_key').body);
    return json(e.status, e.body);
  }
  if (b.apiKey !== null && key !== b.apiKey) {
    const e = flavour === 'litellm'
      ? { status: 401, body: JSON.stringify({ error: { message: `Authentication Error, Invalid proxy server token passed. Received API Key = ${maskKey(key)}`, type: 'auth_error', param: 'None', code: '401' } }) }
      : portkeyError(401, 'openai', openaiError('auth', maskKey(key)).body);
    return json(e.status, e.body);
  }
  if (ctx.method !== 'POST' || ctx.path !== '/v1/chat/completions') {
    const e = openaiError('invalid_url', `${ctx.method} ${ctx.path}`);
    return json(404, e.body);
  }
  let req: ChatRequest;
  try {
    req = JSON.parse(ctx.body);
    if (typeof req !== 'object' || req === null || Array.isArray(req)) throw new Error('not an object');
  } catch {
    return json(400, openaiError('bad_json').body);
  }
  const group = typeof req.model === 'string' ? req.model : '';
  const stream = req.stream === true;
  const includeUsage = stream && req.stream_options?.include_usage === true;
  rec.model = group || null;
  rec.stream = stream;
  const attempts: GatewayAttempt[] = [];
  rec.gateway = { flavour, servedTarget: null, attempts };

  // The gateway's own faults (its outage or bursts), before any upstream call.
  const own = pickFault(b, { model: group, stream, headers: ctx.headers }, ctx.now, ctx.server.rng);
  const ownPlan = planLatency(b.latency, ctx.now, 0, ctx.server.rng);
  rec.planned.multiplier = ownPlan.multiplier;
  if (own) {
    rec.fault = own;
    if (own === 'timeout') return hangReply();
    if (own === 'reset') return resetReply(ownPlan.ttfbMs);
    const e = openaiError(own);
    return jsonReply(e.status, { 'content-type': 'application/json', ...e.headers }, e.body, ownPlan.ttfbMs);
  }
  if (ownPlan.ttfbMs > 1) await new Promise((r) => setTimeout(r, ownPlan.ttfbMs));

  const abort = new AbortController();
  ctx.writer.res.on('close', () => abort.abort());
  const forwarded: Record<string, string> = {};
  if (cfg.forwardHeaderPrefix) {
    for (const [k, v] of Object.entries(ctx.headers)) if (k.startsWith(cfg.forwardHeaderPrefix) && typeof v === 'string') forwarded[k] = v;
  }
  const upstreamReq: ChatRequest = { ...req };
  delete upstreamReq.mock_testing_fallbacks;
  const targets = cfg.targets;
  const fallbackIds = targets.slice(1).map(targetId);
  const generic = targets.map((_, k) => k).slice(1);
  const cpChain = contentPolicyChain(cfg);
  let last: Last | null = null;
  /** The primary's failure, when it was a content-policy refusal: LiteLLM answers with it once its chain is spent. */
  let original: Last | null = null;
  // Targets in the order they are tried: the primary, then the list its failure selects.
  let order = [0];

  for (let depth = 0; depth < order.length; depth++) {
    const i = order[depth];
    // A Portkey header target without override_params.model sends the client's model.
    const t = { ...targets[i], model: targets[i].model || group };
    // LiteLLM's mock_testing_fallbacks fails the primary inside the router, before any provider call.
    if (depth === 0 && flavour === 'litellm' && req.mock_testing_fallbacks === true && targets.length > 1) {
      attempts.push({ target: 0, provider: t.provider, model: t.model, status: null, error: 'mock_testing_fallbacks', upstreamRequestId: null, ms: 0, retry: false });
      order = [0, ...generic];
      continue;
    }
    const base = baseUrlOf(t, resolve);
    const up = buildUpstreamRequest(t.provider, base, t.model, t.apiKey ?? 'sim-key', upstreamReq, stream);
    Object.assign(up.headers, forwarded);
    let retries = 0;
    let next: 'fallback' | 'stop' = 'stop';
    for (;;) {
      const r = await callUpstream(agent, up.url, up.headers, up.body, cfg.upstreamTimeoutMs, abort.signal, rec.t0);
      if (!r.ok && r.error === 'aborted') return;
      const upstreamRequestId = r.ok ? ((r.res.headers['x-sim-request-id'] as string | undefined) ?? null) : null;
      const attempt: GatewayAttempt = {
        target: i,
        provider: t.provider,
        model: t.model,
        status: r.ok ? r.res.statusCode : null,
        error: r.ok ? null : r.error,
        upstreamRequestId,
        ms: r.ms,
        retry: retries > 0,
      };
      attempts.push(attempt);
      let contentPolicy = false;
      if (r.ok && r.res.statusCode >= 200 && r.res.statusCode < 300) {
        const meta = { i, depth, t, base, retries, group, upstreamRequestId };
        if (stream) {
          rec.gateway.servedTarget = i;
          return serveStream(ctx, cfg, r.res, meta, includeUsage);
        }
        const answer = await readAnswer(ctx, cfg, r.res, meta);
        // LiteLLM raises ContentPolicyViolationError on a 200 `content_filter` answer only when
        // content_policy_fallbacks is set (#4365, #8953); otherwise the filtered answer reaches the client.
        // Streams never (#28599): too late once the 200 is sent.
        if (cpChain === null || 'reply' in answer || finishReasonOf(answer.out) !== 'content_filter') {
          rec.gateway.servedTarget = i;
          return 'reply' in answer ? answer.reply : jsonReply(200, answer.headers, answer.out, 0);
        }
        attempt.error = 'content_policy_raised';
        last = { target: i, depth, status: 400, raw: 'Response output was blocked.', contentPolicy: true };
        contentPolicy = true;
      } else if (r.ok) {
        const raw = await r.res.body.text().catch(() => '');
        contentPolicy = flavour === 'litellm' && isContentPolicyError(r.res.statusCode, raw);
        last = { target: i, depth, status: r.res.statusCode, raw, contentPolicy };
      } else {
        last = { target: i, depth, error: r };
      }
      const transient = !r.ok || TRANSIENT.has(r.res.statusCode);
      if (transient && !contentPolicy && retries < cfg.retries) {
        retries++;
        continue;
      }
      if (depth === 0 && contentPolicy) original = last;
      next = contentPolicy || !r.ok || shouldFallback(cfg, r.res.statusCode) ? 'fallback' : 'stop';
      break;
    }
    if (next === 'stop') return failReply(cfg, targets, original ?? last!, group, fallbackIds, retries, ctx, resolve);
    if (depth === 0) {
      // LiteLLM (#40406): a content-policy refusal goes to content_policy_fallbacks when set, else to the generic
      // fallbacks like any other error. Portkey only looks at the status (fallbackOnStatus above).
      order = [0, ...(last!.contentPolicy && cpChain !== null ? cpChain : generic)];
    }
  }
  return failReply(cfg, targets, original ?? last!, group, fallbackIds, 0, ctx, resolve);
}

type Last =
  | { target: number; depth: number; status: number; raw: string; contentPolicy?: boolean }
  | { target: number; depth: number; error: Upstream & { ok: false }; contentPolicy?: undefined };

/** A 400 that LiteLLM maps to ContentPolicyViolationError (it matches the provider's error text). */
export function isContentPolicyError(status: number, body: string): boolean {
  return status === 400 && CONTENT_POLICY_RE.test(body);
}
const CONTENT_POLICY_RE = /content[_ ]?(filter|policy|management)|safety system|responsibleaipolicyviolation/i;

/**
 * LiteLLM's `content_policy_fallbacks` for the primary's group as target indices, or null when unset. An empty
 * list counts as unset, as in LiteLLM (a falsy router argument falls back to the unset global).
 */
function contentPolicyChain(cfg: GatewayConfig): number[] | null {
  const ids = cfg.contentPolicyFallbacks;
  if (cfg.flavour !== 'litellm' || !ids || ids.length === 0) return null;
  return ids.map((id) => cfg.targets.findIndex((t) => targetId(t) === id)).filter((k) => k > 0);
}

function finishReasonOf(body: string): string | null {
  try {
    const j = JSON.parse(body);
    const f = j?.choices?.[0]?.finish_reason;
    return typeof f === 'string' ? f : null;
  } catch {
    return null;
  }
}

/** `i`: the serving target's index in the list (Portkey's option index); `depth`: fallbacks taken to reach it (LiteLLM). */
function flavourHeaders(cfg: GatewayConfig, i: number, depth: number, t: GatewayTarget, base: string, retries: number, group: string, ctx: RequestContext): Record<string, string> {
  const ms = String(Math.round(performance.now() - ctx.record.t0));
  if (cfg.flavour === 'litellm') {
    return {
      'x-litellm-model-id': targetId(t),
      'x-litellm-model-api-base': base,
      'x-litellm-model-group': group,
      'x-litellm-attempted-fallbacks': String(depth),
      'x-litellm-attempted-retries': String(retries),
      'x-litellm-call-id': `${ctx.server.nextId(8, 'hex')}-${ctx.server.nextId(4, 'hex')}-4${ctx.server.nextId(3, 'hex')}-a${ctx.server.nextId(3, 'hex')}-${ctx.server.nextId(12, 'hex')}`,
      'x-litellm-version': '1.74.9',
      'x-litellm-response-duration-ms': ms,
    };
  }
  return {
    'x-portkey-last-used-option-index': cfg.targets.length === 1 ? 'config' : `config.targets[${i}]`,
    'x-portkey-provider': providerLabel(t.provider, 'portkey'),
    'x-portkey-retry-attempt-count': String(retries),
    'x-portkey-cache-status': 'DISABLED',
    'x-portkey-trace-id': '',
  };
}

/** Upstream headers as each gateway exposes them: Portkey passes them through, LiteLLM prefixes `llm_provider-`. */
function upstreamHeaders(cfg: GatewayConfig, res: Dispatcher.ResponseData): Record<string, string> {
  const h = pickHeaders(res.headers);
  delete h['content-type'];
  if (cfg.flavour === 'portkey') return h;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[`llm_provider-${k}`] = v;
  return out;
}

function failReply(
  cfg: GatewayConfig,
  targets: GatewayTarget[],
  last: Last | null,
  group: string,
  fallbackIds: string[],
  retries: number,
  ctx: RequestContext,
  resolve: GatewayHandlerOptions['resolveBaseUrl'],
): Reply {
  const idx = last?.target ?? 0;
  const t = targets[idx];
  const headers = { 'content-type': 'application/json', ...flavourHeaders(cfg, idx, last?.depth ?? 0, t, baseUrlOf(t, resolve), retries, group, ctx) };
  let e: { status: number; body: string };
  if (last && 'status' in last) {
    e = cfg.flavour === 'litellm' ? litellmError(last.status, t.provider, last.raw, group, fallbackIds, last.contentPolicy === true) : portkeyError(last.status, t.provider, last.raw);
  } else {
    const err = last && 'error' in last ? last.error : null;
    const timeout = err?.error === 'timeout';
    if (cfg.flavour === 'litellm') {
      const name = timeout ? 'Timeout' : 'APIConnectionError';
      const status = timeout ? 408 : 500;
      const message = `litellm.${name}: ${LITELLM_EXCEPTION[t.provider]} - ${err?.message ?? 'mock_testing_fallbacks'}. Received Model Group=${group}\nAvailable Model Group Fallbacks=${fallbackIds.length ? JSON.stringify(fallbackIds) : 'None'}`;
      e = { status, body: JSON.stringify({ error: { message, type: 'None', param: 'None', code: String(status) } }) };
    } else {
      const p = providerLabel(t.provider, 'portkey');
      e = timeout
        ? { status: 408, body: JSON.stringify({ error: { message: `Request exceeded the timeout sent in the request: ${cfg.upstreamTimeoutMs}ms`, type: 'timeout_error', param: null, code: null }, provider: p }) }
        : { status: 503, body: JSON.stringify({ error: { message: `${p} error: ${err?.message ?? 'fetch failed'}`, type: null, param: null, code: null }, provider: p }) };
    }
  }
  return jsonReply(e.status, headers, e.body, 0);
}

interface ServeMeta {
  i: number;
  depth: number;
  t: GatewayTarget;
  base: string;
  retries: number;
  group: string;
  upstreamRequestId: string | null;
}

/** A non-streamed 200: the body read and translated to a chat completion (or the error reply when unusable). */
async function readAnswer(ctx: RequestContext, cfg: GatewayConfig, res: Dispatcher.ResponseData, m: ServeMeta): Promise<{ out: string; headers: Record<string, string> } | { reply: Reply }> {
  const headers: Record<string, string> = {
    ...upstreamHeaders(cfg, res),
    'content-type': 'application/json',
    ...flavourHeaders(cfg, m.i, m.depth, m.t, m.base, m.retries, m.group, ctx),
  };
  if (m.upstreamRequestId) headers['x-sim-upstream-request-id'] = m.upstreamRequestId;
  let raw: string;
  try {
    raw = await res.body.text();
  } catch (err) {
    // A body cut after a 200: too late to fall back; both gateways surface an error.
    const e = cfg.flavour === 'litellm'
      ? litellmError(500, m.t.provider, `Connection error: ${(err as Error).message}`, m.group, [])
      : portkeyError(500, m.t.provider, (err as Error).message);
    return { reply: jsonReply(e.status, headers, e.body, 0) };
  }
  let out: string;
  if (m.t.provider === 'openai') {
    out = raw;
  } else {
    try {
      const created = Math.floor(ctx.now / 1000);
      out = JSON.stringify(toChatCompletion(m.t.provider, cfg.flavour, raw, created, m.t.model, () => ctx.server.nextId(29)));
    } catch (err) {
      const e = cfg.flavour === 'litellm'
        ? litellmError(500, m.t.provider, `Invalid JSON from provider: ${(err as Error).message}`, m.group, [])
        : portkeyError(500, m.t.provider, raw);
      return { reply: jsonReply(e.status, headers, e.body, 0) };
    }
  }
  try {
    const j = JSON.parse(out);
    ctx.record.servedModel = typeof j.model === 'string' ? j.model : null;
  } catch {
    // Pass-through of a malformed OpenAI body: the client must see it as malformed.
  }
  return { out, headers };
}

async function serveStream(ctx: RequestContext, cfg: GatewayConfig, res: Dispatcher.ResponseData, m: ServeMeta, includeUsage: boolean): Promise<void> {
  const w: ResponseWriter = ctx.writer;
  const headers: Record<string, string> = {
    ...upstreamHeaders(cfg, res),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    ...flavourHeaders(cfg, m.i, m.depth, m.t, m.base, m.retries, m.group, ctx),
  };
  if (m.upstreamRequestId) headers['x-sim-upstream-request-id'] = m.upstreamRequestId;
  w.head(200, headers);
  w.flushHeaders();
  ctx.record.planned.headersMs = ctx.record.actual.headersMs;
  const created = Math.floor(ctx.now / 1000);
  const tr = new StreamTranslator(m.t.provider, cfg.flavour, includeUsage, created, `chatcmpl-${ctx.server.nextId(29)}`, m.t.model);
  let terminal = false;
  let broken: string | null = null;
  let upstreamError: unknown = null;
  let tokens = 0;
  const parser = createParser({
    onEvent(ev) {
      if (terminal || broken || upstreamError) return;
      try {
        const r = tr.push(ev);
        if (r.error) {
          upstreamError = r.error;
          return;
        }
        if (r.content) tokens++;
        if (r.out) w.write(r.out, r.content);
        if (r.terminal) terminal = true;
      } catch (err) {
        if (cfg.flavour === 'portkey' && m.t.provider === 'openai') {
          w.write(`data: ${ev.data}\n\n`); // Portkey relays OpenAI chunks without parsing them.
        } else {
          broken = `invalid JSON in upstream stream: ${(err as Error).message}`;
        }
      }
    },
  });
  const dec = new TextDecoder();
  try {
    for await (const chunk of res.body) {
      parser.feed(dec.decode(chunk as Uint8Array, { stream: true }));
      if (w.finished) break;
    }
  } catch (err) {
    broken ??= `upstream stream ended: ${(err as Error).message}`;
  }
  ctx.record.outputTokens = tokens;
  ctx.record.servedModel = tr.servedModel;
  if (w.finished) return;
  if (!terminal && !broken && !upstreamError) broken = 'upstream stream ended without a terminal event';
  if (upstreamError) {
    const e = upstreamError as { message?: string; type?: string };
    w.write(`data: ${JSON.stringify({ error: { message: `${cfg.flavour === 'litellm' ? 'litellm.APIError: ' : ''}${e.message ?? 'upstream error'}`, type: e.type ?? null, param: null, code: null } })}\n\n`);
  } else if (broken && cfg.flavour === 'litellm') {
    // LiteLLM surfaces a broken stream as a clean error event; Portkey just ends it (a truncated "success").
    w.write(`data: ${JSON.stringify({ error: { message: `litellm.MidStreamFallbackError: ${LITELLM_EXCEPTION[m.t.provider]} - ${broken}`, type: 'None', param: 'None', code: '500' } })}\n\n`);
  }
  ctx.record.planned.lastByteMs = performance.now() - ctx.record.t0;
  w.end();
}
