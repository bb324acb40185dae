// OpenAI Chat Completions (also the wire format of OpenAI-compatible gateways, see gateway.ts).
import type { ErrorClass, FinishReason, ProbeSpec, ProviderEndpoint } from '../domain.ts';
import type { BuiltRequest, Normalised, ProviderAdapter, StreamParser } from './types.ts';
import {
  classifyStatus,
  describeNonJsonBody,
  emptyNormalised,
  errorNormalised,
  isObject,
  looksLikeContextLength,
  looksOverloaded,
  num,
  parseRetryAfter,
  shortMessage,
  str,
  tryParseJson,
} from './errors.ts';
import { apiUrl, mergeHeaders } from './request.ts';
import { AnswerText, eventObject } from './stream.ts';

/** o-series and gpt-5 reject `max_tokens` and want `max_completion_tokens`. Gateway names may carry a `vendor/` prefix. */
export function usesMaxCompletionTokens(model: string): boolean {
  const name = (model.split('/').pop() ?? model).toLowerCase();
  return /^(o\d|gpt-5)/.test(name);
}

export function buildOpenAIRequest(spec: ProbeSpec, endpoint: ProviderEndpoint): BuiltRequest {
  const body: Record<string, unknown> = {
    model: spec.model,
    messages: spec.messages.map((m) => ({ role: m.role, content: m.content })),
  };
  body[usesMaxCompletionTokens(spec.model) ? 'max_completion_tokens' : 'max_tokens'] = spec.maxTokens;
  if (spec.temperature !== undefined) body.temperature = spec.temperature;
  body.stream = spec.stream;
  // Without include_usage a stream carries no token counts at all.
  if (spec.stream) body.stream_options = { include_usage: true };
  const headers = mergeHeaders(
    {
      'content-type': 'application/json',
      accept: spec.stream ? 'text/event-stream' : 'application/json',
      ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}),
    },
    endpoint.headers,
    spec.headers,
  );
  return { url: apiUrl(endpoint.baseUrl, 'v1', '/chat/completions'), headers, body: JSON.stringify(body) };
}

export function mapOpenAIFinish(reason: unknown): FinishReason | null {
  if (reason === null || reason === undefined) return null;
  switch (reason) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content_filter';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'error': // OpenRouter: upstream failed mid-generation
      return 'error';
    default:
      return 'other';
  }
}

/** The `error` member of an OpenAI-style error body (object, or a bare string some proxies send). */
function errorFields(err: unknown): { code: unknown; type: unknown; message: string | null; inner: unknown } {
  if (typeof err === 'string') return { code: null, type: null, message: err, inner: null };
  if (!isObject(err)) return { code: null, type: null, message: null, inner: null };
  return { code: err.code, type: err.type, message: str(err.message), inner: err.innererror };
}

/** Error class of an OpenAI-style error, given the HTTP status (null for an in-stream or 200 error). */
export function classifyOpenAIError(status: number | null, err: unknown): ErrorClass {
  const { code, type, message, inner } = errorFields(err);
  const clientError = status === null || (status >= 400 && status < 500 && status !== 429);
  if (clientError) {
    if (code === 'context_length_exceeded' || (typeof code === 'string' && looksLikeContextLength(code))) {
      return 'context_length';
    }
    // Azure's prompt filter: 400 with code content_filter (innererror ResponsibleAIPolicyViolation).
    if (code === 'content_filter' || (isObject(inner) && inner.code === 'ResponsibleAIPolicyViolation')) {
      return 'content_filter';
    }
    if (looksLikeContextLength(message)) return 'context_length';
  }
  if (status !== null) {
    if (status === 503 && looksOverloaded(message)) return 'overloaded';
    return classifyStatus(status);
  }
  // In-stream / 200 errors carry no status: use the numeric code gateways put there (OpenRouter), else the type.
  if (typeof code === 'number' && code >= 300) return classifyOpenAIError(code, err);
  if (type === 'rate_limit_error' || code === 'rate_limit_exceeded') return 'rate_limited';
  if (looksOverloaded(message)) return 'overloaded';
  return 'server_error';
}

export interface OpenAIParsed {
  result: Normalised;
  /** The parsed body, when it was JSON (gateway.ts reads extra fields from it). */
  json: unknown;
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  // Some compatible servers send content as an array of parts.
  if (Array.isArray(content)) {
    return content.map((p) => (isObject(p) && p.type === 'text' && typeof p.text === 'string' ? p.text : '')).join('');
  }
  return '';
}

export function parseOpenAIBody(status: number, headers: Record<string, string>, body: string): OpenAIParsed {
  const parsed = tryParseJson(body);
  const json = parsed.ok ? parsed.value : undefined;
  if (status < 200 || status >= 300) {
    const retryAfterSec = parseRetryAfter(headers);
    if (!isObject(json)) {
      return { result: errorNormalised(classifyStatus(status), describeNonJsonBody(status, body), { retryAfterSec }), json };
    }
    const err = json.error ?? json;
    const message = errorFields(err).message ?? str(json.message) ?? `HTTP ${status}`;
    return { result: errorNormalised(classifyOpenAIError(status, err), message, { retryAfterSec }), json };
  }
  if (!parsed.ok) {
    const what = /^\s*</.test(body) ? 'HTML body' : 'unparseable JSON body';
    return { result: errorNormalised('malformed', `${what} on HTTP ${status} (${body.length} bytes)`), json };
  }
  if (!isObject(json)) return { result: errorNormalised('malformed', 'response body is not a JSON object'), json };
  const base: Partial<Normalised> = {
    servedModel: str(json.model),
    fingerprint: str(json.system_fingerprint),
  };
  if (json.error !== undefined && json.error !== null && !Array.isArray(json.choices)) {
    // A 200 that carries an error (OpenRouter and some proxies do this).
    return { result: errorNormalised(classifyOpenAIError(null, json.error), errorFields(json.error).message, base), json };
  }
  const choices = json.choices;
  const choice = Array.isArray(choices) ? (choices.find((c) => isObject(c) && c.index === 0) ?? choices[0]) : undefined;
  if (!isObject(choice)) return { result: errorNormalised('malformed', 'response has no choices', base), json };
  const message = isObject(choice.message) ? choice.message : {};
  const usage = isObject(json.usage) ? json.usage : {};
  const finishReason = mapOpenAIFinish(choice.finish_reason);
  const result: Normalised = {
    ...emptyNormalised(),
    ...base,
    text: contentText(message.content),
    finishReason,
    tokensIn: num(usage.prompt_tokens),
    tokensOut: num(usage.completion_tokens),
  };
  markFinishError(result, finishReason, json.error);
  return { result, json };
}

/** A finish reason that is itself a failure sets the error class (content text is kept). */
function markFinishError(result: Normalised, finishReason: FinishReason | null, err: unknown): void {
  if (finishReason === 'content_filter') {
    result.errorClass = 'content_filter';
    result.errorMessage = 'finish_reason content_filter';
  } else if (finishReason === 'error') {
    result.errorClass = err ? classifyOpenAIError(null, err) : 'server_error';
    result.errorMessage = shortMessage(errorFields(err).message) ?? 'finish_reason error';
  }
}

/**
 * Stream parser. `onChunk` sees every parsed chunk object (gateway.ts reads `provider` from it).
 * A stream is complete once it has a finish_reason or `[DONE]`; anything else is `malformed`.
 */
export function createOpenAIStreamParser(onChunk?: (chunk: Record<string, unknown>) => void): StreamParser {
  let model: string | null = null;
  let fingerprint: string | null = null;
  const answer = new AnswerText();
  let finishRaw: unknown = null;
  let tokensIn: number | null = null;
  let tokensOut: number | null = null;
  let sawDone = false;
  let chunks = 0;
  let garbage = 0;
  let streamError: unknown = undefined;

  return {
    push(ev) {
      if (ev.data.trim() === '[DONE]') {
        sawDone = true;
        return { contentDelta: false };
      }
      const chunk = eventObject(ev.data);
      if (chunk === undefined) return { contentDelta: false };
      if (chunk === null) {
        garbage++;
        return { contentDelta: false };
      }
      chunks++;
      onChunk?.(chunk);
      if (chunk.error !== undefined && chunk.error !== null) streamError = chunk.error;
      // First non-empty model wins: Azure's first chunk (prompt_filter_results) has model "".
      model ??= str(chunk.model);
      fingerprint = str(chunk.system_fingerprint) ?? fingerprint;
      if (isObject(chunk.usage)) {
        tokensIn = num(chunk.usage.prompt_tokens) ?? tokensIn;
        tokensOut = num(chunk.usage.completion_tokens) ?? tokensOut;
      }
      let contentDelta = false;
      if (Array.isArray(chunk.choices)) {
        const choice = chunk.choices.find((c) => isObject(c) && (c.index === 0 || c.index === undefined));
        if (isObject(choice)) {
          const delta = isObject(choice.delta) ? choice.delta : {};
          contentDelta = answer.append(contentText(delta.content));
          if (choice.finish_reason !== null && choice.finish_reason !== undefined) finishRaw = choice.finish_reason;
        }
      }
      return { contentDelta };
    },
    finish(cut) {
      const base: Partial<Normalised> = { servedModel: model, fingerprint, text: answer.text, tokensIn, tokensOut };
      if (streamError !== undefined) {
        return errorNormalised(classifyOpenAIError(null, streamError), errorFields(streamError).message ?? 'error in stream', base);
      }
      if (garbage > 0) return errorNormalised('malformed', `${garbage} unparseable stream event(s)`, base);
      if (chunks === 0) return errorNormalised('malformed', cut ? 'stream cut before any chunk' : 'stream had no chunks', base);
      if (finishRaw === null && !sawDone) {
        return errorNormalised(
          'malformed',
          cut ? 'stream cut before finish_reason/[DONE]' : 'stream ended without finish_reason or [DONE]',
          base,
        );
      }
      const finishReason = mapOpenAIFinish(finishRaw);
      const result: Normalised = { ...emptyNormalised(), ...base, finishReason };
      markFinishError(result, finishReason, undefined);
      return result;
    },
  };
}

export const openaiAdapter: ProviderAdapter = {
  kind: 'openai',
  buildRequest: buildOpenAIRequest,
  parseResponse(status, headers, body) {
    return parseOpenAIBody(status, headers, body).result;
  },
  createStreamParser() {
    return createOpenAIStreamParser();
  },
};
