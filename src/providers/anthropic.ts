// Anthropic Messages API.
import type { ErrorClass, FinishReason, ProbeSpec, ProviderEndpoint } from '../domain.ts';
import type { BuiltRequest, Normalised, ProviderAdapter, StreamParser } from './types.ts';
import {
  classifyStatus,
  describeNonJsonBody,
  emptyNormalised,
  errorNormalised,
  isObject,
  looksLikeContextLength,
  num,
  parseRetryAfter,
  str,
  tryParseJson,
} from './errors.ts';
import { apiUrl, mergeHeaders } from './request.ts';
import { AnswerText, eventObject } from './stream.ts';

export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

export function buildAnthropicRequest(spec: ProbeSpec, endpoint: ProviderEndpoint): BuiltRequest {
  // The Messages API takes system prompts as a top-level field, not as a message role.
  const system = spec.messages
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n\n');
  const body: Record<string, unknown> = { model: spec.model, max_tokens: spec.maxTokens };
  if (system) body.system = system;
  body.messages = spec.messages.filter((m) => m.role !== 'system').map((m) => ({ role: m.role, content: m.content }));
  if (spec.temperature !== undefined) body.temperature = spec.temperature;
  body.stream = spec.stream;
  const headers = mergeHeaders(
    {
      'content-type': 'application/json',
      accept: spec.stream ? 'text/event-stream' : 'application/json',
      'anthropic-version': endpoint.apiVersion ?? DEFAULT_ANTHROPIC_VERSION,
      ...(endpoint.apiKey ? { 'x-api-key': endpoint.apiKey } : {}),
    },
    endpoint.headers,
    spec.headers,
  );
  return { url: apiUrl(endpoint.baseUrl, 'v1', '/messages'), headers, body: JSON.stringify(body) };
}

export function mapAnthropicStop(reason: unknown): FinishReason | null {
  switch (reason) {
    case null:
    case undefined:
      return null;
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    // A refusal is the model's answer, not an error (the classifier judges whether it was expected).
    case 'refusal':
      return 'refusal';
    case 'tool_use':
      return 'tool_calls';
    default:
      return 'other';
  }
}

/** Error class from Anthropic's `error.type`, falling back to the HTTP status (null: in-stream error). */
export function classifyAnthropicError(status: number | null, type: unknown, message: string | null): ErrorClass {
  switch (type) {
    case 'overloaded_error':
      return 'overloaded';
    case 'rate_limit_error':
      return 'rate_limited';
    case 'authentication_error':
    case 'permission_error':
    case 'billing_error':
      return 'auth';
    case 'invalid_request_error':
      // "prompt is too long: 208000 tokens > 200000 maximum" comes as a plain invalid_request_error.
      return looksLikeContextLength(message) ? 'context_length' : 'bad_request';
    case 'not_found_error':
    case 'request_too_large':
      return 'bad_request';
    case 'api_error':
    case 'timeout_error':
      return 'server_error';
  }
  return status !== null ? classifyStatus(status) : 'server_error';
}

function errorOf(json: unknown): { type: unknown; message: string | null } {
  const err = isObject(json) && isObject(json.error) ? json.error : null;
  return { type: err?.type, message: str(err?.message) };
}

function textOf(content: unknown): string {
  if (!Array.isArray(content)) return '';
  // Only `text` blocks are the answer; `thinking` / `redacted_thinking` / `tool_use` are not.
  return content.map((b) => (isObject(b) && b.type === 'text' && typeof b.text === 'string' ? b.text : '')).join('');
}

export function parseAnthropicResponse(status: number, headers: Record<string, string>, body: string): Normalised {
  const parsed = tryParseJson(body);
  if (status < 200 || status >= 300) {
    const retryAfterSec = parseRetryAfter(headers);
    if (!parsed.ok || !isObject(parsed.value)) {
      return errorNormalised(classifyStatus(status), describeNonJsonBody(status, body), { retryAfterSec });
    }
    const { type, message } = errorOf(parsed.value);
    return errorNormalised(classifyAnthropicError(status, type, message), message ?? `HTTP ${status}`, { retryAfterSec });
  }
  if (!parsed.ok) return errorNormalised('malformed', `unparseable JSON body on HTTP ${status} (${body.length} bytes)`);
  const json = parsed.value;
  if (!isObject(json)) return errorNormalised('malformed', 'response body is not a JSON object');
  if (json.type === 'error') {
    const { type, message } = errorOf(json);
    return errorNormalised(classifyAnthropicError(null, type, message), message);
  }
  if (!Array.isArray(json.content)) return errorNormalised('malformed', 'response has no content array', { servedModel: str(json.model) });
  const usage = isObject(json.usage) ? json.usage : {};
  return {
    ...emptyNormalised(),
    servedModel: str(json.model),
    text: textOf(json.content),
    finishReason: mapAnthropicStop(json.stop_reason),
    tokensIn: num(usage.input_tokens),
    tokensOut: num(usage.output_tokens),
  };
}

/** A stream is complete once it carries a stop_reason (message_delta) or message_stop. */
export function createAnthropicStreamParser(): StreamParser {
  let model: string | null = null;
  let tokensIn: number | null = null;
  let tokensOut: number | null = null;
  const answer = new AnswerText();
  let stopReason: unknown = null;
  let sawStop = false;
  let events = 0;
  let garbage = 0;
  let streamError: { type: unknown; message: string | null } | null = null;

  return {
    push(ev) {
      const obj = eventObject(ev.data);
      if (obj === undefined) return { contentDelta: false };
      if (obj === null) {
        garbage++;
        return { contentDelta: false };
      }
      events++;
      const type = typeof obj.type === 'string' ? obj.type : ev.event;
      switch (type) {
        case 'message_start': {
          const msg = isObject(obj.message) ? obj.message : {};
          model = str(msg.model) ?? model;
          // message_start's output_tokens is a placeholder (1); the real count comes in message_delta.
          if (isObject(msg.usage)) tokensIn = num(msg.usage.input_tokens) ?? tokensIn;
          return { contentDelta: false };
        }
        case 'content_block_start': {
          const block = isObject(obj.content_block) ? obj.content_block : {};
          return { contentDelta: block.type === 'text' ? answer.append(block.text) : false };
        }
        case 'content_block_delta': {
          const delta = isObject(obj.delta) ? obj.delta : {};
          // thinking_delta, signature_delta, input_json_delta, citations_delta are not answer text.
          return { contentDelta: delta.type === 'text_delta' ? answer.append(delta.text) : false };
        }
        case 'message_delta': {
          const delta = isObject(obj.delta) ? obj.delta : {};
          if (delta.stop_reason !== null && delta.stop_reason !== undefined) stopReason = delta.stop_reason;
          if (isObject(obj.usage)) {
            tokensOut = num(obj.usage.output_tokens) ?? tokensOut;
            tokensIn = num(obj.usage.input_tokens) ?? tokensIn;
          }
          return { contentDelta: false };
        }
        case 'message_stop':
          sawStop = true;
          return { contentDelta: false };
        case 'error':
          streamError = errorOf(obj);
          return { contentDelta: false };
        default: // ping, content_block_stop, future event types
          return { contentDelta: false };
      }
    },
    finish(cut) {
      const base: Partial<Normalised> = { servedModel: model, text: answer.text, tokensIn, tokensOut };
      if (streamError) {
        return errorNormalised(
          classifyAnthropicError(null, streamError.type, streamError.message),
          streamError.message ?? 'error event in stream',
          base,
        );
      }
      if (garbage > 0) return errorNormalised('malformed', `${garbage} unparseable stream event(s)`, base);
      if (events === 0) return errorNormalised('malformed', cut ? 'stream cut before any event' : 'stream had no events', base);
      if (!sawStop && (stopReason === null || stopReason === undefined)) {
        return errorNormalised(
          'malformed',
          cut ? 'stream cut before message_stop' : 'stream ended without message_delta/message_stop',
          base,
        );
      }
      return { ...emptyNormalised(), ...base, finishReason: mapAnthropicStop(stopReason) };
    },
  };
}

export const anthropicAdapter: ProviderAdapter = {
  kind: 'anthropic',
  buildRequest: buildAnthropicRequest,
  parseResponse: parseAnthropicResponse,
  createStreamParser() {
    return createAnthropicStreamParser();
  },
};
