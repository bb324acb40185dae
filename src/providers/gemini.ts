// Google Gemini API (generateContent / streamGenerateContent?alt=sse).
import { geminiModelStatus } from '../lifecycle/sources.ts';
import type { GeminiModelStatus } from '../lifecycle/sources.ts';
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
  parseDurationSec,
  parseRetryAfter,
  shortMessage,
  str,
  tryParseJson,
} from './errors.ts';
import { apiUrl, mergeHeaders } from './request.ts';
import { AnswerText, eventObject } from './stream.ts';

export const DEFAULT_GEMINI_VERSION = 'v1beta';

export function buildGeminiRequest(spec: ProbeSpec, endpoint: ProviderEndpoint): BuiltRequest {
  const model = spec.model.replace(/^models\//, '');
  const method = spec.stream ? ':streamGenerateContent?alt=sse' : ':generateContent';
  const path = `/models/${encodeURIComponent(model)}${method}`;
  const system = spec.messages.filter((m) => m.role === 'system').map((m) => ({ text: m.content }));
  const body: Record<string, unknown> = {
    contents: spec.messages
      .filter((m) => m.role !== 'system')
      .map((m) => ({ role: m.role === 'assistant' ? 'model' : 'user', parts: [{ text: m.content }] })),
  };
  if (system.length > 0) body.systemInstruction = { parts: system };
  const generationConfig: Record<string, unknown> = { maxOutputTokens: spec.maxTokens };
  if (spec.temperature !== undefined) generationConfig.temperature = spec.temperature;
  // 2.5 Flash models think by default and count thinking inside maxOutputTokens, so a canary's small budget
  // can come back empty with MAX_TOKENS. Flash allows turning thinking off; Pro does not.
  if (/gemini-2\.5-flash/.test(model)) generationConfig.thinkingConfig = { thinkingBudget: 0 };
  body.generationConfig = generationConfig;
  const headers = mergeHeaders(
    {
      'content-type': 'application/json',
      accept: spec.stream ? 'text/event-stream' : 'application/json',
      // Header, not `?key=`: URLs end up in logs.
      ...(endpoint.apiKey ? { 'x-goog-api-key': endpoint.apiKey } : {}),
    },
    endpoint.headers,
    spec.headers,
  );
  return {
    url: apiUrl(endpoint.baseUrl, endpoint.apiVersion ?? DEFAULT_GEMINI_VERSION, path),
    headers,
    body: JSON.stringify(body),
  };
}

const CONTENT_FILTER_FINISH = new Set([
  'SAFETY',
  'RECITATION',
  'PROHIBITED_CONTENT',
  'BLOCKLIST',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

export function mapGeminiFinish(reason: unknown): FinishReason | null {
  if (reason === null || reason === undefined) return null;
  if (reason === 'STOP') return 'stop';
  if (reason === 'MAX_TOKENS') return 'length';
  if (typeof reason === 'string' && CONTENT_FILTER_FINISH.has(reason)) return 'content_filter';
  return 'other';
}

interface GeminiError {
  status: unknown;
  message: string | null;
  details: unknown[];
}

function errorOf(json: unknown): GeminiError | null {
  // streamGenerateContent without alt=sse answers errors as a one-element array.
  const obj = Array.isArray(json) ? json[0] : json;
  if (!isObject(obj) || !isObject(obj.error)) return null;
  const e = obj.error;
  return { status: e.status, message: str(e.message), details: Array.isArray(e.details) ? e.details : [] };
}

function hasDetail(details: unknown[], typeSuffix: string, pred: (d: Record<string, unknown>) => boolean = () => true): boolean {
  return details.some((d) => isObject(d) && typeof d['@type'] === 'string' && d['@type'].endsWith(typeSuffix) && pred(d));
}

/** Error class from google.rpc `status`, falling back to the HTTP status (null: in-stream error). */
export function classifyGeminiError(httpStatus: number | null, err: GeminiError): ErrorClass {
  const { status, message, details } = err;
  switch (status) {
    case 'RESOURCE_EXHAUSTED':
      return 'rate_limited';
    case 'UNAVAILABLE':
      return looksOverloaded(message) ? 'overloaded' : 'server_error';
    case 'PERMISSION_DENIED':
    case 'UNAUTHENTICATED':
      return 'auth';
    case 'INVALID_ARGUMENT':
      // A bad API key is a 400 INVALID_ARGUMENT with ErrorInfo reason API_KEY_INVALID: it is an auth problem.
      if (hasDetail(details, 'google.rpc.ErrorInfo', (d) => d.reason === 'API_KEY_INVALID') || /API key not valid/i.test(message ?? '')) {
        return 'auth';
      }
      return looksLikeContextLength(message) ? 'context_length' : 'bad_request';
    case 'NOT_FOUND':
    case 'FAILED_PRECONDITION':
    case 'OUT_OF_RANGE':
    case 'ALREADY_EXISTS':
    case 'UNIMPLEMENTED':
      return 'bad_request';
    case 'INTERNAL':
    case 'UNKNOWN':
    case 'DEADLINE_EXCEEDED':
    case 'ABORTED':
    case 'DATA_LOSS':
    case 'CANCELLED':
      return 'server_error';
  }
  if (httpStatus !== null) {
    if (httpStatus === 503 && looksOverloaded(message)) return 'overloaded';
    return classifyStatus(httpStatus);
  }
  return 'server_error';
}

function retryDelayOf(details: unknown[]): number | null {
  for (const d of details) {
    if (isObject(d) && typeof d['@type'] === 'string' && d['@type'].endsWith('google.rpc.RetryInfo')) {
      return parseDurationSec(d.retryDelay);
    }
  }
  return null;
}

/**
 * Folds response objects (one for generateContent, one per SSE event for streams) into a result.
 * Usage counts are taken from the latest chunk that carries them (streams repeat them cumulatively).
 */
class GeminiAccumulator {
  model: string | null = null;
  readonly answer = new AnswerText();
  finishRaw: unknown = null;
  blockReason: string | null = null;
  blockMessage: string | null = null;
  tokensIn: number | null = null;
  tokensOut: number | null = null;
  error: GeminiError | null = null;
  chunks = 0;
  garbage = 0;
  modelStatus: GeminiModelStatus | null = null;

  /** Returns true when this chunk carried the first non-empty answer text. */
  add(obj: Record<string, unknown>): boolean {
    this.chunks++;
    const err = errorOf(obj);
    if (err) this.error = err;
    this.model = str(obj.modelVersion) ?? this.model;
    this.modelStatus = geminiModelStatus(obj) ?? this.modelStatus;
    if (isObject(obj.promptFeedback) && str(obj.promptFeedback.blockReason)) {
      this.blockReason = str(obj.promptFeedback.blockReason);
      this.blockMessage = str(obj.promptFeedback.blockReasonMessage);
    }
    if (isObject(obj.usageMetadata)) {
      this.tokensIn = num(obj.usageMetadata.promptTokenCount) ?? this.tokensIn;
      // candidatesTokenCount excludes thoughtsTokenCount, which is what we want.
      this.tokensOut = num(obj.usageMetadata.candidatesTokenCount) ?? this.tokensOut;
    }
    let first = false;
    const candidates = Array.isArray(obj.candidates) ? obj.candidates : [];
    const cand = candidates.find((c) => isObject(c) && (c.index === 0 || c.index === undefined));
    if (isObject(cand)) {
      const parts = isObject(cand.content) && Array.isArray(cand.content.parts) ? cand.content.parts : [];
      for (const p of parts) {
        // Thought summaries (`thought: true`) are not the answer.
        if (isObject(p) && p.thought !== true && this.answer.append(p.text)) first = true;
      }
      if (cand.finishReason !== null && cand.finishReason !== undefined) this.finishRaw = cand.finishReason;
    }
    return first;
  }

  result(stream: boolean, cut: boolean): Normalised {
    const base: Partial<Normalised> = {
      servedModel: this.model,
      text: this.answer.text,
      tokensIn: this.tokensIn,
      tokensOut: this.tokensOut,
      ...(this.modelStatus ? { modelStatus: this.modelStatus } : {}),
    };
    if (this.error) {
      return errorNormalised(classifyGeminiError(null, this.error), this.error.message ?? 'error in response', {
        ...base,
        retryAfterSec: retryDelayOf(this.error.details),
      });
    }
    if (this.garbage > 0) return errorNormalised('malformed', `${this.garbage} unparseable stream event(s)`, base);
    if (this.blockReason) {
      // The prompt was blocked before generation: no candidates, a provider-side filter.
      return {
        ...emptyNormalised(),
        ...base,
        finishReason: 'content_filter',
        errorClass: 'content_filter',
        errorMessage: shortMessage(`prompt blocked: ${this.blockReason}${this.blockMessage ? ` (${this.blockMessage})` : ''}`),
      };
    }
    if (this.finishRaw === null) {
      const why = this.chunks === 0 ? 'no chunks' : stream ? 'no finishReason' : 'no candidates';
      return errorNormalised('malformed', stream ? `stream ${cut ? 'cut' : 'ended'} with ${why}` : `response has ${why}`, base);
    }
    const finishReason = mapGeminiFinish(this.finishRaw);
    const result: Normalised = { ...emptyNormalised(), ...base, finishReason };
    if (finishReason === 'content_filter') {
      result.errorClass = 'content_filter';
      result.errorMessage = `finishReason ${String(this.finishRaw)}`;
    }
    return result;
  }
}

export function parseGeminiResponse(status: number, headers: Record<string, string>, body: string): Normalised {
  const parsed = tryParseJson(body);
  if (status < 200 || status >= 300) {
    const retryAfterSec = parseRetryAfter(headers);
    const err = parsed.ok ? errorOf(parsed.value) : null;
    if (!err) return errorNormalised(classifyStatus(status), describeNonJsonBody(status, body), { retryAfterSec });
    return errorNormalised(classifyGeminiError(status, err), err.message ?? `HTTP ${status}`, {
      retryAfterSec: retryAfterSec ?? retryDelayOf(err.details),
    });
  }
  if (!parsed.ok) return errorNormalised('malformed', `unparseable JSON body on HTTP ${status} (${body.length} bytes)`);
  const acc = new GeminiAccumulator();
  // A non-SSE streamGenerateContent answer is a JSON array of chunks; fold it the same way.
  const items = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
  for (const item of items) {
    if (isObject(item)) acc.add(item);
    else acc.garbage++;
  }
  return acc.result(false, false);
}

export function createGeminiStreamParser(): StreamParser {
  const acc = new GeminiAccumulator();
  return {
    push(ev) {
      const obj = eventObject(ev.data);
      if (obj === undefined) return { contentDelta: false };
      if (obj === null) {
        acc.garbage++;
        return { contentDelta: false };
      }
      return { contentDelta: acc.add(obj) };
    },
    finish(cut) {
      return acc.result(true, cut);
    },
  };
}

export const geminiAdapter: ProviderAdapter = {
  kind: 'gemini',
  buildRequest: buildGeminiRequest,
  parseResponse: parseGeminiResponse,
  createStreamParser() {
    return createGeminiStreamParser();
  },
};
