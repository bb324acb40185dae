// OpenAI wire format: POST /v1/chat/completions (JSON and SSE with include_usage), GET /v1/models[/{id}].
// Bytes follow shared/data/transcripts/openai: pretty-printed JSON bodies, 4-space error bodies, compact SSE chunks.
import { decide } from './behaviour.ts';
import type { Decision, FaultKind, SimBehaviour } from './behaviour.ts';
import { hangReply, jsonReply, nonStreamReply, resetReply, streamReply } from './replies.ts';
import type { ProviderHandler, RequestContext } from './server.ts';
import type { Chunk, Reply } from './timeline.ts';

const JSON_CT = 'application/json';
const ERR_CT = 'application/json; charset=utf-8';

export interface OpenAiError {
  status: number;
  body: string;
  headers: Record<string, string>;
}

function errBody(message: string, type: string | null, param: string | null, code: string | null): string {
  return JSON.stringify({ error: { message, type, param, code } }, null, 4) + '\n';
}

/** The exact error response OpenAI sends for each error class. */
export function openaiError(kind: FaultKind | 'not_found' | 'no_key' | 'bad_json' | 'invalid_url', detail = ''): OpenAiError {
  switch (kind) {
    case 'rate_limited':
      return {
        status: 429,
        body: errBody(
          `Rate limit reached for ${detail || 'gpt-4o-mini'} in organization org-sim on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
          'requests',
          null,
          'rate_limit_exceeded',
        ),
        headers: {
          'retry-after': '20',
          'x-ratelimit-limit-requests': '3',
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': '20s',
          'x-ratelimit-limit-tokens': '30000000',
          'x-ratelimit-remaining-tokens': '29999990',
          'x-ratelimit-reset-tokens': '0s',
        },
      };
    case 'overloaded':
      return { status: 503, body: errBody('The engine is currently overloaded, please try again later.', 'server_error', null, null), headers: {} };
    case 'server_error':
    case 'stream_error':
      return { status: 500, body: errBody('The server had an error while processing your request. Sorry about that!', 'server_error', null, null), headers: {} };
    case 'auth':
      return {
        status: 401,
        body: errBody(`Incorrect API key provided: ${detail || 'sk-sim****key'}. You can find your API key at https://platform.openai.com/account/api-keys.`, 'invalid_request_error', null, 'invalid_api_key'),
        headers: {},
      };
    case 'no_key':
      return {
        status: 401,
        body: errBody(
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
          'invalid_request_error',
          null,
          null,
        ),
        headers: {},
      };
    case 'bad_request':
      return {
        status: 400,
        body: errBody(detail || "Unsupported value: 'messages[0].role' does not support 'system' with this model.", 'invalid_request_error', 'messages[0].role', 'unsupported_value'),
        headers: {},
      };
    case 'bad_json':
      return {
        status: 400,
        body: errBody(
          detail ||
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
          'invalid_request_error',
          null,
          null,
        ),
        headers: {},
      };
    case 'context_length':
      return {
        status: 400,
        body: errBody(
          "This model's maximum context length is 128000 tokens. However, your messages resulted in 130532 tokens. Please reduce the length of the messages.",
          'invalid_request_error',
          'messages',
          'context_length_exceeded',
        ),
        headers: {},
      };
    case 'not_found':
      return {
        status: 404,
        body: errBody(`The model \`${detail}\` does not exist or you do not have access to it.`, 'invalid_request_error', null, 'model_not_found'),
        headers: {},
      };
    case 'invalid_url':
      return { status: 404, body: errBody(`Invalid URL (${detail})`, 'invalid_request_error', null, null), headers: {} };
    default:
      return openaiError('server_error');
  }
}

/** Mask a key the way OpenAI echoes it back: first 8 chars, ****, last 3. */
export function maskKey(key: string): string {
  return key.length <= 11 ? `${key.slice(0, 2)}****${key.slice(-2)}` : `${key.slice(0, 8)}****${key.slice(-3)}`;
}

function messagesText(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  const out: string[] = [];
  for (const m of messages) {
    const c = (m as { content?: unknown })?.content;
    if (typeof c === 'string') out.push(c);
    else if (Array.isArray(c)) for (const p of c) if (typeof p?.text === 'string') out.push(p.text);
  }
  return out.join('\n');
}

function baseHeaders(ctx: RequestContext): Record<string, string> {
  return {
    'openai-organization': 'user-sim',
    'openai-version': '2020-10-01',
    'x-request-id': `req_${ctx.server.nextId(32, 'hex')}`,
  };
}

function errorReply(ctx: RequestContext, e: OpenAiError, at: number): Reply {
  return jsonReply(e.status, { ...baseHeaders(ctx), 'content-type': ERR_CT, ...e.headers }, e.body, at);
}

function usage(d: Decision, completion: number) {
  return {
    prompt_tokens: d.promptTokens,
    completion_tokens: completion,
    total_tokens: d.promptTokens + completion,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function chat(ctx: RequestContext, b: SimBehaviour): Reply {
  let req: Record<string, unknown>;
  try {
    req = JSON.parse(ctx.body);
    if (typeof req !== 'object' || req === null || Array.isArray(req)) throw new Error('not an object');
  } catch {
    return errorReply(ctx, openaiError('bad_json'), 0);
  }
  if (typeof req.model !== 'string' || req.model === '') {
    return errorReply(ctx, openaiError('bad_json', 'you must provide a model parameter'), 0);
  }
  if (!Array.isArray(req.messages) || req.messages.length === 0) {
    const e = openaiError('bad_json', "Missing required parameter: 'messages'.");
    e.body = errBody("Missing required parameter: 'messages'.", 'invalid_request_error', 'messages', 'missing_required_parameter');
    return errorReply(ctx, e, 0);
  }
  const stream = req.stream === true;
  const includeUsage = stream && (req.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  const maxRaw = req.max_completion_tokens ?? req.max_tokens;
  const maxTokens = typeof maxRaw === 'number' ? maxRaw : null;
  const model = req.model;
  const d = decide(b, { model, prompt: messagesText(req.messages), stream, maxTokens, headers: ctx.headers }, ctx.now, ctx.server.rng);
  const rec = ctx.record;
  rec.model = model;
  rec.stream = stream;
  rec.fault = d.fault;
  rec.planned.multiplier = d.plan.multiplier;
  if (d.notFound) return errorReply(ctx, openaiError('not_found', model), d.plan.ttfbMs);

  const f = d.fault;
  if (f === 'timeout') return hangReply();
  if (f === 'reset') return resetReply(d.plan.ttfbMs);
  if (f && f !== 'content_filter' && f !== 'empty' && f !== 'cut_stream' && f !== 'malformed_json' && f !== 'malformed_sse' && !(f === 'stream_error' && stream)) {
    return errorReply(ctx, openaiError(f, f === 'rate_limited' ? model : ''), d.plan.ttfbMs);
  }

  rec.servedModel = d.servedModel;
  rec.refusal = d.refusal;
  const filtered = f === 'content_filter';
  const tokens = filtered ? [] : d.tokens;
  const finish = filtered ? 'content_filter' : d.finish;
  rec.outputTokens = tokens.length;
  const id = `chatcmpl-${ctx.server.nextId(29)}`;
  const created = Math.floor(ctx.now / 1000);
  const headers = baseHeaders(ctx);
  headers['x-ratelimit-limit-requests'] = '10000';
  headers['x-ratelimit-limit-tokens'] = '30000000';
  headers['x-ratelimit-remaining-requests'] = '9999';
  headers['x-ratelimit-remaining-tokens'] = String(30000000 - d.promptTokens - (maxTokens ?? 16));
  headers['x-ratelimit-reset-requests'] = '6ms';
  headers['x-ratelimit-reset-tokens'] = '0s';
  const total = filtered ? d.plan.ttftMs : d.plan.totalMs;

  if (!stream) {
    headers['openai-processing-ms'] = String(Math.round(total));
    headers['content-type'] = JSON_CT;
    const body =
      JSON.stringify(
        {
          id,
          object: 'chat.completion',
          created,
          model: d.servedModel,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: tokens.join(''), refusal: null, annotations: [] },
              logprobs: null,
              finish_reason: finish,
            },
          ],
          usage: usage(d, tokens.length),
          service_tier: 'default',
          system_fingerprint: b.fingerprint,
        },
        null,
        2,
      ) + '\n';
    return nonStreamReply(200, headers, body, total, f);
  }

  headers['openai-processing-ms'] = String(Math.round(d.plan.ttfbMs));
  headers['content-type'] = 'text/event-stream; charset=utf-8';
  headers['cache-control'] = 'no-cache, must-revalidate';
  // Chunk JSON is assembled from a fixed prefix and suffix: one JSON.stringify per token, not per chunk.
  const head = `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(d.servedModel)},"service_tier":"default","system_fingerprint":${JSON.stringify(b.fingerprint)},"choices":[{"index":0,"delta":`;
  const tail = (finishReason: string | null) =>
    `,"logprobs":null,"finish_reason":${finishReason === null ? 'null' : `"${finishReason}"`}}]${includeUsage ? ',"usage":null' : ''}}\n\n`;
  const events: Chunk[] = [{ at: d.plan.ttfbMs, data: head + '{"role":"assistant","content":"","refusal":null}' + tail(null) }];
  tokens.forEach((t, i) => events.push({ at: d.plan.tokenAtMs[i], data: head + `{"content":${JSON.stringify(t)}}` + tail(null), content: true }));
  let end = head + '{}' + tail(finish);
  if (includeUsage) {
    end += `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(d.servedModel)},"service_tier":"default","system_fingerprint":${JSON.stringify(b.fingerprint)},"choices":[],"usage":${JSON.stringify(usage(d, tokens.length))}}\n\n`;
  }
  end += 'data: [DONE]\n\n';
  events.push({ at: total, data: end });
  const errorEvent = `data: ${JSON.stringify({ error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } })}\n\n`;
  return streamReply(headers, events, f, { sep: '\n\n', errorEvent });
}

function modelObject(m: SimBehaviour['models'][number]) {
  const o: Record<string, unknown> = { id: m.id, object: 'model', created: m.created, owned_by: m.ownedBy ?? 'system' };
  if (m.shutdownDate !== undefined) o.shutdown_date = m.shutdownDate;
  return o;
}

export function openaiHandler(): ProviderHandler {
  return {
    handle(ctx: RequestContext): Reply {
      const b = ctx.server.behaviour;
      const auth = ctx.headers.authorization;
      const key = typeof auth === 'string' && /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, '').trim() : '';
      // An outage hits every route, before auth, as an edge failure would.
      if (b.outage) {
        ctx.record.fault = 'overloaded';
        return errorReply(ctx, openaiError('overloaded'), b.latency.ttfbMs);
      }
      if (!key) return errorReply(ctx, openaiError('no_key'), 0);
      if (b.apiKey !== null && key !== b.apiKey) return errorReply(ctx, openaiError('auth', maskKey(key)), 0);
      const { method, path } = ctx;
      if (method === 'POST' && path === '/v1/chat/completions') return chat(ctx, b);
      if (method === 'GET' && path === '/v1/models') {
        const body = JSON.stringify({ object: 'list', data: b.models.map(modelObject) }, null, 2) + '\n';
        return jsonReply(200, { ...baseHeaders(ctx), 'content-type': JSON_CT }, body, 0);
      }
      const m = method === 'GET' ? /^\/v1\/models\/(.+)$/.exec(path) : null;
      if (m) {
        const id = decodeURIComponent(m[1]);
        const found = b.models.find((x) => x.id === id);
        if (!found) {
          const e = openaiError('not_found', id);
          e.body = errBody(`The model '${id}' does not exist`, 'invalid_request_error', 'model', 'model_not_found');
          return errorReply(ctx, e, 0);
        }
        return jsonReply(200, { ...baseHeaders(ctx), 'content-type': JSON_CT }, JSON.stringify(modelObject(found), null, 2) + '\n', 0);
      }
      return errorReply(ctx, openaiError('invalid_url', `${method} ${path}`), 0);
    },
  };
}
