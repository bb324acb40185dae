// Provider wire formats for injected faults: what a request asks for (model, stream), the provider's exact error
// responses, well-formed 200 answers (content filter, refusal, empty) and in-stream error events.
// Error bodies reuse the simulator's builders (src/sim), which follow the recorded transcripts byte for byte.
import { STATUS_CODES } from 'node:http';
import { REFUSAL_STOP_DETAILS, anthropicError, anthropicMessage, anthropicMessageDelta } from '../sim/anthropic.ts';
import { geminiError } from '../sim/gemini.ts';
import type { GeminiError } from '../sim/gemini.ts';
import { openaiError } from '../sim/openai.ts';
import { geminiCompact } from '../sim/replies.ts';

export type UpstreamKind = 'openai' | 'anthropic' | 'gemini';
export const UPSTREAM_KINDS: readonly UpstreamKind[] = ['openai', 'anthropic', 'gemini'];

/** A complete synthetic response: status, headers and body pieces (SSE events are separate pieces). */
export interface WireReply {
  status: number;
  headers: Record<string, string>;
  chunks: string[];
}

/** What the request asks for, as far as faults care. */
export interface RequestShape {
  model: string | null;
  stream: boolean;
  /** Gemini streamGenerateContent: SSE (`alt=sse`) or a streamed JSON array. Always true for other kinds when stream. */
  sse: boolean;
  /** OpenAI `stream_options.include_usage`. */
  includeUsage: boolean;
}

const GEMINI_PATH = /\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

/** Read model and stream flag from a request (body parsed only for the JSON-body providers). */
export function describeRequest(kind: UpstreamKind, path: string, query: string, body: Buffer): RequestShape {
  if (kind === 'gemini') {
    const m = GEMINI_PATH.exec(path);
    const stream = m?.[2] === 'streamGenerateContent';
    return {
      model: m ? decodeURIComponent(m[1]) : null,
      stream,
      sse: stream && new URLSearchParams(query).get('alt') === 'sse',
      includeUsage: false,
    };
  }
  let json: unknown = null;
  if (body.length > 0) {
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      json = null;
    }
  }
  const o = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
  const stream = o.stream === true;
  const opts = o.stream_options as { include_usage?: unknown } | undefined;
  return {
    model: typeof o.model === 'string' ? o.model : null,
    stream,
    sse: stream,
    includeUsage: stream && opts?.include_usage === true,
  };
}

// ---- ids ----

let idSeq = 0;
/** Provider-looking ids; deterministic per process (a counter), never secret. */
function fakeId(len: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'): string {
  let n = (++idSeq * 2654435761) >>> 0;
  let out = '';
  for (let i = 0; i < len; i++) {
    n = (Math.imul(n ^ (n >>> 15), 0x2c1b3c6d) + i) >>> 0;
    out += alphabet[n % alphabet.length];
  }
  return out;
}

// ---- error responses ----

export interface ErrorOptions {
  retryAfterSec?: number;
  message?: string;
  model?: string | null;
}

/** The provider's own error response for an HTTP status. */
export function errorReply(kind: UpstreamKind, status: number, opts: ErrorOptions = {}): WireReply {
  switch (kind) {
    case 'openai':
      return openaiErrorReply(status, opts);
    case 'anthropic':
      return anthropicErrorReply(status, opts);
    case 'gemini':
      return geminiErrorReply(status, opts);
  }
}

function openaiErrBody(message: string, type: string | null, code: string | null): string {
  // OpenAI pretty-prints error bodies with 4 spaces (transcripts/openai).
  return JSON.stringify({ error: { message, type, param: null, code } }, null, 4) + '\n';
}

function openaiErrorReply(status: number, opts: ErrorOptions): WireReply {
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'x-request-id': `req_${fakeId(32, '0123456789abcdef')}`,
  };
  let body: string;
  if (status === 502) {
    // Cloudflare in front of api.openai.com (stanfordnlp/dspy#203: content-length 84).
    headers['content-type'] = 'application/json';
    body = JSON.stringify({ error: { code: 502, message: opts.message ?? 'Bad gateway.', param: null, type: 'cf_bad_gateway' } });
  } else {
    const known: Record<number, Parameters<typeof openaiError>[0]> = {
      400: 'bad_request',
      401: 'auth',
      404: 'not_found',
      429: 'rate_limited',
      500: 'server_error',
      503: 'overloaded',
    };
    const k = known[status];
    if (k) {
      const e = openaiError(k, k === 'rate_limited' || k === 'not_found' ? (opts.model ?? 'gpt-4o-mini') : '');
      Object.assign(headers, e.headers);
      body = e.body;
      if (opts.message) {
        const parsed = JSON.parse(e.body) as { error: { type: string | null; code: string | null } };
        body = openaiErrBody(opts.message, parsed.error.type, parsed.error.code);
      }
    } else {
      body = openaiErrBody(opts.message ?? reason(status), status >= 500 ? 'server_error' : 'invalid_request_error', null);
    }
  }
  if (opts.retryAfterSec !== undefined) {
    headers['retry-after'] = String(Math.ceil(opts.retryAfterSec));
    headers['retry-after-ms'] = String(Math.round(opts.retryAfterSec * 1000));
    if (status === 429) headers['x-ratelimit-reset-requests'] = `${opts.retryAfterSec}s`;
  }
  return { status, headers, chunks: [body] };
}

function anthropicErrorReply(status: number, opts: ErrorOptions): WireReply {
  const known: Record<number, Parameters<typeof anthropicError>[0]> = {
    400: 'bad_request',
    401: 'auth',
    404: 'not_found',
    429: 'rate_limited',
    500: 'server_error',
    529: 'overloaded',
  };
  let type: string;
  let message: string;
  let extra: Record<string, string> = {};
  const k = known[status];
  if (k) {
    const e = anthropicError(k, k === 'not_found' ? `model: ${opts.model ?? 'unknown'}` : '');
    type = e.type;
    message = e.message;
    extra = e.headers;
  } else {
    // docs.claude.com/en/api/errors: the remaining documented statuses; anything else by class.
    const other: Record<number, [string, string]> = {
      402: ['billing_error', 'Your credit balance is too low to access the Anthropic API.'],
      403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
      413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
      504: ['timeout_error', 'Request timed out.'],
    };
    [type, message] = other[status] ?? (status >= 500 ? ['api_error', 'Internal server error'] : ['invalid_request_error', reason(status)]);
    extra = { 'x-should-retry': String(status >= 500 || status === 408 || status === 409) };
  }
  const rid = `req_011C${fakeId(20)}`;
  const body = JSON.stringify({ type: 'error', error: { type, message: opts.message ?? message }, request_id: rid });
  const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': rid, ...extra };
  if (opts.retryAfterSec !== undefined) headers['retry-after'] = String(Math.ceil(opts.retryAfterSec));
  return { status, headers, chunks: [body] };
}

const GOOGLE_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

function geminiErrorReply(status: number, opts: ErrorOptions): WireReply {
  const known: Record<number, Parameters<typeof geminiError>[0]> = {
    400: 'bad_request',
    403: 'auth',
    404: 'not_found',
    429: 'rate_limited',
    500: 'server_error',
    503: 'overloaded',
  };
  const k = known[status];
  const e: GeminiError = k
    ? geminiError(k, k === 'not_found' ? (opts.model ?? 'unknown') : '')
    : status === 504
      ? { code: 504, status: 'DEADLINE_EXCEEDED', message: 'Deadline expired before operation could complete.' }
      : { code: status, status: GOOGLE_STATUS[status] ?? (status >= 500 ? 'UNKNOWN' : 'FAILED_PRECONDITION'), message: reason(status) };
  const error: Record<string, unknown> = { code: e.code, message: opts.message ?? e.message, status: e.status };
  let details = e.details;
  if (opts.retryAfterSec !== undefined) {
    // Google carries the delay in a RetryInfo detail, not a header.
    const retry = { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${opts.retryAfterSec}s` };
    details = [...(details ?? []).filter((d) => !String((d as { '@type'?: unknown })['@type']).endsWith('RetryInfo')), retry];
  }
  if (details) error.details = details;
  return {
    status,
    headers: { 'content-type': 'application/json; charset=UTF-8', vary: 'Origin, X-Origin, Referer' },
    chunks: [JSON.stringify({ error }, null, 2) + '\n'],
  };
}

function reason(status: number): string {
  return STATUS_CODES[status] ?? `HTTP ${status}`;
}

// ---- well-formed answers ----

export type AnswerVariant = 'content_filter' | 'refusal' | 'empty';

export const REFUSAL_TEXT = "I'm sorry, but I can't help with that.";

const GEMINI_SAFETY_RATINGS = [
  { category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'HIGH', blocked: true },
  { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'NEGLIGIBLE' },
];

/**
 * A 200 answer in the provider's format, streamed or not as the request asked:
 * - content_filter: OpenAI `finish_reason: "content_filter"`, Gemini `finishReason: "SAFETY"`, Anthropic
 *   `stop_reason: "refusal"` with stop_details (Anthropic has no other provider-side filter signal);
 * - refusal: Anthropic `stop_reason: "refusal"`; OpenAI and Gemini a refusal text with a normal stop;
 * - empty: no text and a normal stop.
 */
export function answerReply(kind: UpstreamKind, variant: AnswerVariant, req: RequestShape, nowMs: number): WireReply {
  const model = req.model ?? (kind === 'openai' ? 'gpt-4o-mini' : kind === 'anthropic' ? 'claude-sonnet-4-5' : 'gemini-2.5-flash');
  switch (kind) {
    case 'openai':
      return openaiAnswer(variant, req, model, nowMs);
    case 'anthropic':
      return anthropicAnswer(variant, req, model);
    case 'gemini':
      return geminiAnswer(variant, req, model);
  }
}

function openaiAnswer(variant: AnswerVariant, req: RequestShape, model: string, nowMs: number): WireReply {
  const text = variant === 'refusal' ? REFUSAL_TEXT : '';
  const finish = variant === 'content_filter' ? 'content_filter' : 'stop';
  const outTokens = text ? text.split(/\s+/).length : 0;
  const usage = {
    prompt_tokens: 12,
    completion_tokens: outTokens,
    total_tokens: 12 + outTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
  const id = `chatcmpl-${fakeId(29)}`;
  const created = Math.floor(nowMs / 1000);
  const headers: Record<string, string> = { 'x-request-id': `req_${fakeId(32, '0123456789abcdef')}`, 'openai-version': '2020-10-01' };
  if (!req.stream) {
    headers['content-type'] = 'application/json';
    const body = {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null, annotations: [] }, logprobs: null, finish_reason: finish }],
      usage,
      service_tier: 'default',
      system_fingerprint: null,
    };
    return { status: 200, headers, chunks: [JSON.stringify(body, null, 2) + '\n'] };
  }
  headers['content-type'] = 'text/event-stream; charset=utf-8';
  headers['cache-control'] = 'no-cache, must-revalidate';
  const head = `{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"service_tier":"default","system_fingerprint":null,"choices":[{"index":0,"delta":`;
  const tail = (fr: string | null) => `,"logprobs":null,"finish_reason":${fr === null ? 'null' : `"${fr}"`}}]${req.includeUsage ? ',"usage":null' : ''}}`;
  const chunks = [`data: ${head}{"role":"assistant","content":"","refusal":null}${tail(null)}\n\n`];
  if (text) chunks.push(`data: ${head}{"content":${JSON.stringify(text)}}${tail(null)}\n\n`);
  chunks.push(`data: ${head}{}${tail(finish)}\n\n`);
  if (req.includeUsage) {
    chunks.push(
      `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"service_tier":"default","system_fingerprint":null,"choices":[],"usage":${JSON.stringify(usage)}}\n\n`,
    );
  }
  chunks.push('data: [DONE]\n\n');
  return { status: 200, headers, chunks };
}

function anthropicAnswer(variant: AnswerVariant, req: RequestShape, model: string): WireReply {
  const refusal = variant !== 'empty';
  const stopReason = refusal ? 'refusal' : 'end_turn';
  const stopDetails = refusal ? { ...REFUSAL_STOP_DETAILS, recommended_model: model } : null;
  const outTokens = refusal ? 5 : 0;
  const id = `msg_01${fakeId(22)}`;
  const rid = `req_011C${fakeId(20)}`;
  const headers: Record<string, string> = { 'request-id': rid };
  if (!req.stream) {
    headers['content-type'] = 'application/json';
    const body = anthropicMessage({ model, id, content: [], stopReason, stopDetails, inputTokens: 12, outputTokens: outTokens });
    return { status: 200, headers, chunks: [JSON.stringify(body)] };
  }
  headers['content-type'] = 'text/event-stream; charset=utf-8';
  headers['cache-control'] = 'no-cache';
  const ev = (type: string, data: unknown) => `event: ${type}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
  const start = { type: 'message_start', message: anthropicMessage({ model, id, content: [], stopReason: null, inputTokens: 12, outputTokens: 1 }) };
  return {
    status: 200,
    headers,
    chunks: [
      ev('message_start', start),
      ev('ping', '{"type": "ping"}'),
      ev('message_delta', anthropicMessageDelta(stopReason, stopDetails, 12, outTokens)),
      ev('message_stop', '{"type":"message_stop"}'),
    ],
  };
}

function geminiAnswer(variant: AnswerVariant, req: RequestShape, model: string): WireReply {
  const text = variant === 'refusal' ? REFUSAL_TEXT : '';
  const outTokens = text ? text.split(/\s+/).length : 0;
  const candidate: Record<string, unknown> =
    variant === 'content_filter'
      ? { content: {}, finishReason: 'SAFETY', index: 0, safetyRatings: GEMINI_SAFETY_RATINGS }
      : { content: text ? { parts: [{ text }], role: 'model' } : { role: 'model' }, finishReason: 'STOP', index: 0 };
  const obj = {
    candidates: [candidate],
    usageMetadata: {
      promptTokenCount: 12,
      ...(variant === 'content_filter' ? {} : { candidatesTokenCount: outTokens }),
      totalTokenCount: 12 + outTokens,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: 12 }],
    },
    modelVersion: model,
    responseId: fakeId(23),
  };
  const headers: Record<string, string> = { vary: 'Origin, X-Origin, Referer' };
  if (req.stream && req.sse) {
    headers['content-type'] = 'text/event-stream';
    headers['content-disposition'] = 'attachment';
    return { status: 200, headers, chunks: [`data: ${geminiCompact(obj)}\r\n\r\n`] };
  }
  headers['content-type'] = 'application/json; charset=UTF-8';
  const json = JSON.stringify(obj, null, 2);
  // streamGenerateContent without alt=sse answers a JSON array of chunks.
  return { status: 200, headers, chunks: [req.stream ? `[${json}\n]` : json + '\n'] };
}

// ---- stream pieces ----

/** The provider's in-stream error event (after a 200), framed with `sep`. */
export function streamErrorEvent(kind: UpstreamKind, sep: string): string {
  switch (kind) {
    case 'openai':
      return `data: ${JSON.stringify({ error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } })}${sep}`;
    case 'anthropic':
      return `event: error${sep === '\r\n\r\n' ? '\r\n' : '\n'}data: ${JSON.stringify({ type: 'error', error: { details: null, type: 'overloaded_error', message: 'Overloaded' }, request_id: `req_011C${fakeId(20)}` })}${sep}`;
    case 'gemini':
      return `data: ${geminiCompact({ error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } })}${sep}`;
  }
}

/** Does this SSE event carry answer text? (Throttling paces these; cut/malformed count them.) */
export function isContentEvent(kind: UpstreamKind, event: string): boolean {
  switch (kind) {
    case 'openai':
      return /"delta":\{[^{}]*"content":"(?!")/.test(event);
    case 'anthropic':
      return event.includes('"text_delta"');
    case 'gemini':
      return /"text": ?"(?!")/.test(event);
  }
}

/** An event cut inside its JSON payload (after `data: `), without its terminator. */
export function halfEvent(ev: string): string {
  const d = ev.lastIndexOf('data:');
  const start = d < 0 ? 0 : d + 6;
  const body = ev.trimEnd();
  return body.slice(0, start + Math.max(1, Math.floor((body.length - start) / 2)));
}

/** The event's payload lines without SSE framing (`data: ` prefixes, blank-line terminator): a parser dispatches nothing. */
export function unframed(ev: string): string {
  const raw = ev
    .split(/\r?\n/)
    .filter((l) => l.startsWith('data:'))
    .map((l) => l.slice(5).replace(/^ /, ''))
    .filter((l) => l !== '[DONE]')
    .join('\n');
  return raw ? raw + '\n' : '';
}
