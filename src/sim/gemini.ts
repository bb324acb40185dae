// Gemini wire format: POST /{v1beta,v1,v1alpha}/models/{model}:generateContent, :streamGenerateContent (?alt=sse: SSE with
// \r\n\r\n framing; without it a streamed JSON array), GET /v1beta/models[/{model}]. Key via x-goog-api-key or ?key=.
// Bytes follow shared/data/transcripts/gemini: 2-space pretty JSON bodies, compact `": "` SSE chunks.
import { decide } from './behaviour.ts';
import type { Decision, FaultKind, SimBehaviour } from './behaviour.ts';
import { geminiCompact, hangReply, jsonReply, nonStreamReply, resetReply, streamReply } from './replies.ts';
import type { ProviderHandler, RequestContext } from './server.ts';
import type { Chunk, Reply } from './timeline.ts';

const JSON_CT = 'application/json; charset=UTF-8';

export interface GeminiError {
  code: number;
  status: string;
  message: string;
  details?: unknown[];
}

/** The error Google sends for each error class. */
export function geminiError(kind: FaultKind | 'not_found' | 'no_key' | 'bad_key' | 'bad_json', detail = '', version = 'v1beta'): GeminiError {
  switch (kind) {
    case 'rate_limited':
      return {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        message: 'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_requests', quotaId: 'GenerateRequestsPerMinutePerProjectPerModel' }],
          },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '20s' },
        ],
      };
    case 'overloaded':
    case 'stream_error':
      return { code: 503, status: 'UNAVAILABLE', message: 'The model is overloaded. Please try again later.' };
    case 'server_error':
      return { code: 500, status: 'INTERNAL', message: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting' };
    case 'auth':
      return { code: 403, status: 'PERMISSION_DENIED', message: 'The caller does not have permission' };
    case 'no_key':
      return {
        code: 403,
        status: 'PERMISSION_DENIED',
        message: "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      };
    case 'bad_key':
      // What Google really answers for a wrong key: 400, with ErrorInfo reason API_KEY_INVALID.
      return {
        code: 400,
        status: 'INVALID_ARGUMENT',
        message: 'API key not valid. Please pass a valid API key.',
        details: [
          { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
        ],
      };
    case 'bad_request':
      return { code: 400, status: 'INVALID_ARGUMENT', message: detail || 'Request contains an invalid argument.' };
    case 'bad_json':
      return { code: 400, status: 'INVALID_ARGUMENT', message: `Invalid JSON payload received. ${detail || 'Unexpected token.'}` };
    case 'context_length':
      return { code: 400, status: 'INVALID_ARGUMENT', message: 'The input token count (1048583) exceeds the maximum number of tokens allowed (1048576).' };
    case 'not_found':
      return {
        code: 404,
        status: 'NOT_FOUND',
        message: `models/${detail} is not found for API version ${version}, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`,
      };
    default:
      return geminiError('server_error');
  }
}

function errorBody(e: GeminiError): string {
  const error: Record<string, unknown> = { code: e.code, message: e.message, status: e.status };
  if (e.details) error.details = e.details;
  return JSON.stringify({ error }, null, 2) + '\n';
}

function errorReply(e: GeminiError, at: number): Reply {
  return jsonReply(e.code, { 'content-type': JSON_CT, vary: 'Origin, X-Origin, Referer' }, errorBody(e), at);
}

function promptText(req: Record<string, unknown>): string {
  const out: string[] = [];
  const addParts = (c: unknown) => {
    const parts = (c as { parts?: unknown })?.parts;
    if (Array.isArray(parts)) for (const p of parts) if (typeof p?.text === 'string') out.push(p.text);
  };
  addParts(req.systemInstruction);
  if (Array.isArray(req.contents)) for (const c of req.contents) addParts(c);
  return out.join('\n');
}

function usage(d: Decision, candidates: number | null) {
  const u: Record<string, unknown> = { promptTokenCount: d.promptTokens };
  if (candidates !== null) u.candidatesTokenCount = candidates;
  u.totalTokenCount = d.promptTokens + (candidates ?? 0);
  u.promptTokensDetails = [{ modality: 'TEXT', tokenCount: d.promptTokens }];
  return u;
}

const SAFETY_RATINGS = [
  { category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'HIGH' },
  { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'NEGLIGIBLE' },
];

function generate(ctx: RequestContext, b: SimBehaviour, model: string, method: 'generateContent' | 'streamGenerateContent', version: string): Reply {
  let req: Record<string, unknown>;
  try {
    req = JSON.parse(ctx.body);
    if (typeof req !== 'object' || req === null || Array.isArray(req)) throw new Error('not an object');
  } catch {
    return errorReply(geminiError('bad_json'), 0);
  }
  if (!Array.isArray(req.contents) || req.contents.length === 0) {
    return errorReply(geminiError('bad_request', '* GenerateContentRequest.contents: contents is not specified\n'), 0);
  }
  const stream = method === 'streamGenerateContent';
  const sse = stream && ctx.query.get('alt') === 'sse';
  const gc = req.generationConfig as { maxOutputTokens?: unknown } | undefined;
  const maxTokens = typeof gc?.maxOutputTokens === 'number' ? gc.maxOutputTokens : null;
  const d = decide(b, { model, prompt: promptText(req), stream, maxTokens, headers: ctx.headers }, ctx.now, ctx.server.rng);
  const rec = ctx.record;
  rec.model = model;
  rec.stream = stream;
  rec.fault = d.fault;
  rec.planned.multiplier = d.plan.multiplier;
  if (d.notFound) return errorReply(geminiError('not_found', model, version), d.plan.ttfbMs);
  const f = d.fault;
  if (f === 'timeout') return hangReply();
  if (f === 'reset') return resetReply(d.plan.ttfbMs);
  if (f && f !== 'content_filter' && f !== 'empty' && f !== 'cut_stream' && f !== 'malformed_json' && f !== 'malformed_sse' && !(f === 'stream_error' && sse)) {
    return errorReply(geminiError(f), d.plan.ttfbMs);
  }

  rec.servedModel = d.servedModel;
  rec.refusal = d.refusal;
  const blocked = f === 'content_filter';
  const tokens = blocked ? [] : d.tokens;
  rec.outputTokens = tokens.length;
  const responseId = ctx.server.nextId(23);
  const status = b.modelStatus[model] ?? b.modelStatus[d.servedModel];
  const finishReason = d.finish === 'length' ? 'MAX_TOKENS' : 'STOP';
  const tail = { modelVersion: d.servedModel, responseId, ...(status ? { modelStatus: status } : {}) };
  const total = blocked ? d.plan.ttftMs : d.plan.totalMs;
  const blockedObj = { promptFeedback: { blockReason: 'SAFETY', safetyRatings: SAFETY_RATINGS }, usageMetadata: usage(d, null), ...tail };
  const headers: Record<string, string> = { vary: 'Origin, X-Origin, Referer', 'server-timing': `gfet4t7; dur=${Math.round(total)}` };

  if (!stream) {
    headers['content-type'] = JSON_CT;
    const obj = blocked
      ? blockedObj
      : {
          candidates: [
            {
              content: tokens.length > 0 ? { parts: [{ text: tokens.join('') }], role: 'model' } : { role: 'model' },
              finishReason,
              index: 0,
            },
          ],
          usageMetadata: usage(d, tokens.length),
          ...tail,
        };
    return nonStreamReply(200, headers, JSON.stringify(obj, null, 2) + '\n', total, f);
  }

  // One chunk per token; the last one carries finishReason and the candidate token count.
  const chunkObjs: { at: number; obj: unknown; content: boolean }[] = [];
  if (blocked) {
    chunkObjs.push({ at: total, obj: blockedObj, content: false });
  } else if (tokens.length === 0) {
    chunkObjs.push({ at: total, obj: { candidates: [{ content: { parts: [{ text: '' }], role: 'model' }, finishReason, index: 0 }], usageMetadata: usage(d, 0), ...tail }, content: false });
  } else {
    tokens.forEach((t, i) => {
      const last = i === tokens.length - 1;
      const cand: Record<string, unknown> = { content: { parts: [{ text: t }], role: 'model' } };
      if (last) cand.finishReason = finishReason;
      cand.index = 0;
      chunkObjs.push({ at: d.plan.tokenAtMs[i], obj: { candidates: [cand], usageMetadata: usage(d, last ? tokens.length : null), ...tail }, content: true });
    });
  }

  if (sse) {
    headers['content-type'] = 'text/event-stream';
    headers['content-disposition'] = 'attachment';
    const events: Chunk[] = chunkObjs.map((c) => ({ at: c.at, data: `data: ${geminiCompact(c.obj)}\r\n\r\n`, content: c.content }));
    const reply = streamReply(headers, events, f, {
      sep: '\r\n\r\n',
      errorEvent: `data: ${geminiCompact({ error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } })}\r\n\r\n`,
    });
    // Google sends the headers before the first chunk is ready.
    reply.headersAt = Math.min(reply.headersAt, d.plan.ttfbMs);
    return reply;
  }

  // streamGenerateContent without alt=sse: a JSON array written element by element.
  headers['content-type'] = JSON_CT;
  const events: Chunk[] = chunkObjs.map((c, i) => ({
    at: c.at,
    data: (i === 0 ? '[' : ',\r\n') + JSON.stringify(c.obj, null, 2) + (i === chunkObjs.length - 1 ? '\n]' : '\n'),
    content: c.content,
  }));
  const reply: Reply = { status: 200, headers, headersAt: d.plan.ttfbMs, chunks: events, end: 'end' };
  if (f === 'cut_stream' || f === 'malformed_json' || f === 'malformed_sse') {
    const k = Math.max(1, Math.ceil(events.length / 2));
    reply.chunks = events.slice(0, k);
    if (k === events.length) reply.chunks[k - 1] = { ...events[k - 1], data: events[k - 1].data.slice(0, -2) };
    reply.end = f === 'cut_stream' ? 'destroy' : 'end';
  }
  return reply;
}

function modelObject(m: SimBehaviour['models'][number]) {
  return {
    name: `models/${m.id}`,
    version: m.id.replace(/^gemini-/, '').split('-')[0] ?? '001',
    displayName: m.displayName ?? m.id,
    description: m.displayName ?? m.id,
    inputTokenLimit: m.inputTokenLimit ?? 1048576,
    outputTokenLimit: m.outputTokenLimit ?? 8192,
    supportedGenerationMethods: ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'],
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 2,
  };
}

export function geminiHandler(): ProviderHandler {
  return {
    handle(ctx: RequestContext): Reply {
      const b = ctx.server.behaviour;
      if (b.outage) {
        ctx.record.fault = 'overloaded';
        return errorReply(geminiError('overloaded'), b.latency.ttfbMs);
      }
      const h = ctx.headers['x-goog-api-key'];
      const key = (typeof h === 'string' && h) || ctx.query.get('key') || '';
      if (!key) return errorReply(geminiError('no_key'), 0);
      if (b.apiKey !== null && key !== b.apiKey) return errorReply(geminiError('bad_key'), 0);
      const { method } = ctx;
      // The real API serves the same methods under v1beta, v1 (the default of @google/genai 3) and v1alpha.
      const version = /^\/(v1beta|v1|v1alpha)\//.exec(ctx.path)?.[1] ?? 'v1beta';
      const path = ctx.path.replace(/^\/(v1beta|v1|v1alpha)\//, '/v1beta/');
      const gen = method === 'POST' ? /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(path) : null;
      if (gen) return generate(ctx, b, decodeURIComponent(gen[1]), gen[2] as 'generateContent' | 'streamGenerateContent', version);
      if (method === 'GET' && path === '/v1beta/models') {
        const body = JSON.stringify({ models: b.models.map(modelObject) }, null, 2) + '\n';
        return jsonReply(200, { 'content-type': JSON_CT }, body, 0);
      }
      const one = method === 'GET' ? /^\/v1beta\/models\/([^/:]+)$/.exec(path) : null;
      if (one) {
        const id = decodeURIComponent(one[1]);
        const found = b.models.find((m) => m.id === id);
        if (!found) return errorReply(geminiError('not_found', id, version), 0);
        return jsonReply(200, { 'content-type': JSON_CT }, JSON.stringify(modelObject(found), null, 2) + '\n', 0);
      }
      return errorReply({ code: 404, status: 'NOT_FOUND', message: `Method not found: ${method} ${ctx.path}` }, 0);
    },
  };
}
