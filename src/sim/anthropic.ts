// Anthropic Messages wire format: POST /v1/messages (JSON and SSE), GET /v1/models[/{id}].
// Bytes follow shared/data/transcripts/anthropic: compact JSON, `event:`/`data:` SSE with ping, in-stream
// `event: error`, `stop_reason: "refusal"` with stop_details, request-id and anthropic-ratelimit-* headers.
import { decide } from './behaviour.ts';
import type { FaultKind, SimBehaviour } from './behaviour.ts';
import { hangReply, isoSeconds, jsonReply, nonStreamReply, resetReply, streamReply } from './replies.ts';
import type { ProviderHandler, RequestContext } from './server.ts';
import type { Chunk, Reply } from './timeline.ts';

const ORG = '00000000-0000-4000-8000-00000000a11c';

export interface AnthropicError {
  status: number;
  type: string;
  message: string;
  headers: Record<string, string>;
}

/** The error Anthropic sends for each error class (body built with the request id by `errorBody`). */
export function anthropicError(kind: FaultKind | 'not_found' | 'no_key' | 'no_version' | 'bad_json' | 'no_max_tokens', detail = ''): AnthropicError {
  const e = (status: number, type: string, message: string, retry: boolean, headers: Record<string, string> = {}): AnthropicError => ({
    status,
    type,
    message,
    headers: { 'x-should-retry': String(retry), ...headers },
  });
  switch (kind) {
    case 'rate_limited':
      return e(
        429,
        'rate_limit_error',
        `This request would exceed the rate limit for your organization (${ORG}) of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.`,
        true,
        { 'retry-after': '20' },
      );
    case 'overloaded':
    case 'stream_error':
      return e(529, 'overloaded_error', 'Overloaded', true);
    case 'server_error':
      return e(500, 'api_error', 'Internal server error', true);
    case 'auth':
      return e(401, 'authentication_error', 'invalid x-api-key', false);
    case 'no_key':
      return e(401, 'authentication_error', 'x-api-key header is required', false);
    case 'no_version':
      return e(400, 'invalid_request_error', 'anthropic-version: header is required', false);
    case 'bad_request':
      return e(400, 'invalid_request_error', detail || 'messages.0: Input does not match the expected shape.', false);
    case 'bad_json':
      return e(400, 'invalid_request_error', 'There was an error parsing the body of your request. Please ensure it is valid JSON.', false);
    case 'no_max_tokens':
      return e(400, 'invalid_request_error', 'max_tokens: Field required', false);
    case 'context_length':
      return e(400, 'invalid_request_error', 'prompt is too long: 215012 tokens > 200000 maximum', false);
    case 'not_found':
      return e(404, 'not_found_error', detail, false);
    default:
      return anthropicError('server_error');
  }
}

function requestId(ctx: RequestContext): string {
  return `req_011C${ctx.server.nextId(20)}`;
}

function errorReply(ctx: RequestContext, err: AnthropicError, at: number): Reply {
  const rid = requestId(ctx);
  const body = JSON.stringify({ type: 'error', error: { type: err.type, message: err.message }, request_id: rid });
  return jsonReply(err.status, { 'content-type': 'application/json', 'request-id': rid, 'anthropic-organization-id': ORG, ...err.headers }, body, at);
}

function rateHeaders(now: number): Record<string, string> {
  const reset = isoSeconds(now + 1000);
  return {
    'anthropic-ratelimit-requests-limit': '4000',
    'anthropic-ratelimit-requests-remaining': '3999',
    'anthropic-ratelimit-requests-reset': reset,
    'anthropic-ratelimit-input-tokens-limit': '2000000',
    'anthropic-ratelimit-input-tokens-remaining': '2000000',
    'anthropic-ratelimit-input-tokens-reset': reset,
    'anthropic-ratelimit-output-tokens-limit': '400000',
    'anthropic-ratelimit-output-tokens-remaining': '400000',
    'anthropic-ratelimit-output-tokens-reset': reset,
    'anthropic-ratelimit-tokens-limit': '2400000',
    'anthropic-ratelimit-tokens-remaining': '2400000',
    'anthropic-ratelimit-tokens-reset': reset,
  };
}

function promptText(req: Record<string, unknown>): string {
  const out: string[] = [];
  const add = (c: unknown) => {
    if (typeof c === 'string') out.push(c);
    else if (Array.isArray(c)) for (const p of c) if (typeof p?.text === 'string') out.push(p.text);
  };
  add(req.system);
  if (Array.isArray(req.messages)) for (const m of req.messages) add((m as { content?: unknown })?.content);
  return out.join('\n');
}

/** `stop_details` of a refusal stop (the fault proxy's injected answers use it too, with `recommended_model`). */
export const REFUSAL_STOP_DETAILS = {
  type: 'refusal',
  category: 'cyber',
  explanation: "This request triggered restrictions on violative cyber content and was blocked under Anthropic's Usage Policy.",
};

/** A message's `usage` block, keys in the recorded order. */
function usageBlock(inputTokens: number, outputTokens: number) {
  return {
    input_tokens: inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: outputTokens,
    service_tier: 'standard',
    inference_geo: 'not_available',
  };
}

/**
 * A Messages API message: a whole non-stream reply (pass `stopDetails`, null included), or the one in
 * `message_start` (no content or stop reason yet, output_tokens a placeholder 1, no `stop_details` key).
 */
export function anthropicMessage(o: {
  model: string;
  id: string;
  content: unknown[];
  stopReason: string | null;
  stopDetails?: unknown;
  inputTokens: number;
  outputTokens: number;
}) {
  return {
    model: o.model,
    id: o.id,
    type: 'message',
    role: 'assistant',
    content: o.content,
    stop_reason: o.stopReason,
    stop_sequence: null,
    ...(o.stopDetails !== undefined ? { stop_details: o.stopDetails } : {}),
    usage: usageBlock(o.inputTokens, o.outputTokens),
  };
}

/** The payload of the closing `message_delta` event. */
export function anthropicMessageDelta(stopReason: string, stopDetails: unknown, inputTokens: number, outputTokens: number) {
  const delta: Record<string, unknown> = { stop_reason: stopReason, stop_sequence: null };
  if (stopDetails) delta.stop_details = stopDetails;
  return {
    type: 'message_delta',
    delta,
    usage: { input_tokens: inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: outputTokens },
  };
}

function messages(ctx: RequestContext, b: SimBehaviour): Reply {
  let req: Record<string, unknown>;
  try {
    req = JSON.parse(ctx.body);
    if (typeof req !== 'object' || req === null || Array.isArray(req)) throw new Error('not an object');
  } catch {
    return errorReply(ctx, anthropicError('bad_json'), 0);
  }
  if (typeof req.model !== 'string' || req.model === '') return errorReply(ctx, anthropicError('bad_request', 'model: Field required'), 0);
  if (!Array.isArray(req.messages)) return errorReply(ctx, anthropicError('bad_request', 'messages: Field required'), 0);
  if (typeof req.max_tokens !== 'number') return errorReply(ctx, anthropicError('no_max_tokens'), 0);
  const model = req.model;
  const stream = req.stream === true;
  const d = decide(b, { model, prompt: promptText(req), stream, maxTokens: req.max_tokens, headers: ctx.headers }, ctx.now, ctx.server.rng);
  const rec = ctx.record;
  rec.model = model;
  rec.stream = stream;
  rec.fault = d.fault;
  rec.planned.multiplier = d.plan.multiplier;
  if (d.notFound) return errorReply(ctx, anthropicError('not_found', `model: ${model}`), d.plan.ttfbMs);
  const f = d.fault;
  if (f === 'timeout') return hangReply();
  if (f === 'reset') return resetReply(d.plan.ttfbMs);
  if (f && f !== 'content_filter' && f !== 'empty' && f !== 'cut_stream' && f !== 'malformed_json' && f !== 'malformed_sse' && !(f === 'stream_error' && stream)) {
    return errorReply(ctx, anthropicError(f), d.plan.ttfbMs);
  }

  rec.servedModel = d.servedModel;
  rec.refusal = d.refusal || f === 'content_filter';
  // A content filter on Anthropic is the refusal stop reason: no content, stop_details says why.
  const refusalStop = d.refusalStop || f === 'content_filter';
  const tokens = refusalStop ? [] : d.tokens;
  const stopReason = refusalStop ? 'refusal' : d.finish === 'length' ? 'max_tokens' : 'end_turn';
  const stopDetails = refusalStop ? { ...REFUSAL_STOP_DETAILS, recommended_model: d.servedModel } : null;
  const outTokens = refusalStop ? 5 : tokens.length;
  rec.outputTokens = tokens.length;
  const id = `msg_01${ctx.server.nextId(22)}`;
  const rid = requestId(ctx);
  const headers: Record<string, string> = { 'request-id': rid, 'anthropic-organization-id': ORG, ...rateHeaders(ctx.now) };
  const total = d.plan.totalMs;

  if (!stream) {
    headers['content-type'] = 'application/json';
    const content = tokens.length > 0 ? [{ type: 'text', text: tokens.join('') }] : [];
    const body = JSON.stringify(
      anthropicMessage({ model: d.servedModel, id, content, stopReason, stopDetails, inputTokens: d.promptTokens, outputTokens: outTokens }),
    );
    return nonStreamReply(200, headers, body, total, f);
  }

  headers['content-type'] = 'text/event-stream; charset=utf-8';
  headers['cache-control'] = 'no-cache';
  const ev = (type: string, data: string) => `event: ${type}\ndata: ${data}\n\n`;
  const start = {
    type: 'message_start',
    message: anthropicMessage({ model: d.servedModel, id, content: [], stopReason: null, inputTokens: d.promptTokens, outputTokens: 1 }),
  };
  let preamble = ev('message_start', JSON.stringify(start));
  if (!refusalStop) preamble += ev('content_block_start', '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}');
  preamble += ev('ping', '{"type": "ping"}');
  const events: Chunk[] = [{ at: d.plan.ttfbMs, data: preamble }];
  tokens.forEach((t, i) =>
    events.push({
      at: d.plan.tokenAtMs[i],
      data: ev('content_block_delta', `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${JSON.stringify(t)}}}`),
      content: true,
    }),
  );
  let end = refusalStop ? '' : ev('content_block_stop', '{"type":"content_block_stop","index":0}');
  end += ev('message_delta', JSON.stringify(anthropicMessageDelta(stopReason, stopDetails, d.promptTokens, outTokens)));
  end += ev('message_stop', '{"type":"message_stop"}');
  events.push({ at: total, data: end });
  const errorEvent = ev('error', JSON.stringify({ type: 'error', error: { details: null, type: 'overloaded_error', message: 'Overloaded' }, request_id: rid }));
  return streamReply(headers, events, f, { sep: '\n\n', errorEvent });
}

function modelInfo(m: SimBehaviour['models'][number]) {
  return {
    type: 'model',
    id: m.id,
    display_name: m.displayName ?? m.id,
    created_at: isoSeconds(m.created * 1000),
    max_input_tokens: m.inputTokenLimit ?? 200000,
    max_tokens: m.outputTokenLimit ?? 64000,
  };
}

/**
 * The API key as the real API takes it: `x-api-key`, or `Authorization: Bearer …` (what the official SDK sends
 * since 1.x). x-api-key wins when both are present. '' when neither carries a key.
 */
export function anthropicKey(headers: RequestContext['headers']): string {
  const x = headers['x-api-key'];
  if (typeof x === 'string' && x.trim() !== '') return x.trim();
  const auth = headers.authorization;
  const m = typeof auth === 'string' ? /^bearer\s+(\S.*)$/i.exec(auth.trim()) : null;
  return m ? m[1].trim() : '';
}

export function anthropicHandler(): ProviderHandler {
  return {
    handle(ctx: RequestContext): Reply {
      const b = ctx.server.behaviour;
      if (b.outage) {
        ctx.record.fault = 'overloaded';
        return errorReply(ctx, anthropicError('overloaded'), b.latency.ttfbMs);
      }
      const key = anthropicKey(ctx.headers);
      if (key === '') return errorReply(ctx, anthropicError('no_key'), 0);
      if (b.apiKey !== null && key !== b.apiKey) return errorReply(ctx, anthropicError('auth'), 0);
      const { method, path } = ctx;
      if (method === 'POST' && path === '/v1/messages') {
        const v = ctx.headers['anthropic-version'];
        if (typeof v !== 'string' || v === '') return errorReply(ctx, anthropicError('no_version'), 0);
        return messages(ctx, b);
      }
      if (method === 'GET' && path === '/v1/models') {
        // Newest first, like the real list; `limit` and `after_id` page through it.
        const all = [...b.models].sort((x, y) => y.created - x.created);
        const after = ctx.query.get('after_id');
        const limit = Math.min(1000, Math.max(1, Number(ctx.query.get('limit') ?? 20) || 20));
        const startIdx = after ? all.findIndex((m) => m.id === after) + 1 : 0;
        const page = all.slice(startIdx, startIdx + limit);
        const body = JSON.stringify({
          data: page.map(modelInfo),
          has_more: startIdx + limit < all.length,
          first_id: page[0]?.id ?? null,
          last_id: page[page.length - 1]?.id ?? null,
        });
        return jsonReply(200, { 'content-type': 'application/json', 'request-id': requestId(ctx) }, body, 0);
      }
      const m = method === 'GET' ? /^\/v1\/models\/(.+)$/.exec(path) : null;
      if (m) {
        const id = decodeURIComponent(m[1]);
        const found = b.models.find((x) => x.id === id) ?? b.models.find((x) => x.id === b.aliases[id]);
        if (!found) return errorReply(ctx, anthropicError('not_found', `model: ${id}`), 0);
        return jsonReply(200, { 'content-type': 'application/json', 'request-id': requestId(ctx) }, JSON.stringify(modelInfo(found)), 0);
      }
      return errorReply(ctx, anthropicError('not_found', 'Not Found'), 0);
    },
  };
}
