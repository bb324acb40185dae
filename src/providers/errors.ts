// Shared by the adapters: status → error class, retry-after parsing, safe short messages, JSON helpers.
import type { ErrorClass } from '../domain.ts';
import type { Normalised } from './types.ts';

export const MAX_ERROR_MESSAGE = 200;

/** A Normalised with nothing known yet; adapters fill in what the response carries. */
export function emptyNormalised(): Normalised {
  return {
    servedModel: null,
    fingerprint: null,
    text: '',
    finishReason: null,
    tokensIn: null,
    tokensOut: null,
    errorClass: null,
    errorMessage: null,
    retryAfterSec: null,
    gateway: null,
  };
}

/** HTTP status alone → error class (used when the body says nothing more specific). */
export function classifyStatus(status: number): ErrorClass {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate_limited';
  // Anthropic's "overloaded"; some proxies in front of Anthropic pass it through unchanged.
  if (status === 529) return 'overloaded';
  if (status >= 500) return 'server_error';
  // 3xx and 4xx: the request (or the configured base URL) is wrong; retrying won't help.
  if (status >= 300) return 'bad_request';
  return 'server_error';
}

/** Message heuristics shared by providers whose error codes are missing or generic. */
export function looksLikeContextLength(message: string | null): boolean {
  if (!message) return false;
  return /maximum context length|context[_ ]length[_ ]exceeded|context window|prompt is too long|exceeds? (the )?context limit|exceeds the maximum number of tokens/i.test(
    message,
  );
}

export function looksOverloaded(message: string | null): boolean {
  return !!message && /overload/i.test(message);
}

/** Lower-case header names (the HTTP layer already does; adapters must not depend on it). */
export function lowerHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

/** "34.4s" / "1.5s" / "20" (protobuf Duration JSON form) → seconds. */
export function parseDurationSec(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$/.exec(value);
  if (!m) return null;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : n;
}

/**
 * Seconds to wait, from `retry-after-ms` (OpenAI, more precise, preferred) or `retry-after`
 * (delta-seconds, or an HTTP date judged against the response's own `date` header so this stays a
 * pure function with no clock).
 */
export function parseRetryAfter(headers: Record<string, string>): number | null {
  const h = lowerHeaders(headers);
  const ms = h['retry-after-ms'];
  if (ms !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Number(ms) / 1000;
  const ra = h['retry-after'];
  if (ra === undefined) return null;
  if (/^\s*\d+(\.\d+)?\s*$/.test(ra)) return Number(ra);
  const when = Date.parse(ra);
  const now = h['date'] !== undefined ? Date.parse(h['date']) : NaN;
  if (Number.isNaN(when) || Number.isNaN(now)) return null;
  return Math.max(0, Math.round((when - now) / 1000));
}

/** Strip anything that looks like a credential out of provider text. */
export function redactSecrets(s: string): string {
  return s
    .replace(/(API key provided:\s*)\S+?(\.?(\s|$))/gi, '$1[redacted]$2')
    .replace(/\bBearer\s+[A-Za-z0-9._~+/=*-]+/gi, 'Bearer [redacted]')
    .replace(/\bsk-[A-Za-z0-9_*-]{3,}/g, 'sk-[redacted]')
    .replace(/\bAIza[0-9A-Za-z_-]{10,}/g, '[redacted]')
    .replace(/([?&](?:key|api[_-]?key|token)=)[^&\s"']+/gi, '$1[redacted]')
    .replace(/\b(x-api-key|x-goog-api-key|api[_-]?key|authorization)(["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, '$1$2[redacted]');
}

/** Provider message → one short line, secrets removed, at most MAX_ERROR_MESSAGE chars. */
export function shortMessage(message: unknown): string | null {
  if (typeof message !== 'string') return null;
  const oneLine = redactSecrets(message).replace(/\s+/g, ' ').trim();
  if (!oneLine) return null;
  return oneLine.length <= MAX_ERROR_MESSAGE ? oneLine : `${oneLine.slice(0, MAX_ERROR_MESSAGE - 1)}…`;
}

export type JsonResult = { ok: true; value: unknown } | { ok: false };

export function tryParseJson(text: string): JsonResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

export function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** A non-JSON error body (HTML page from a proxy, plain text): a short description, never the page. */
export function describeNonJsonBody(status: number, body: string): string {
  const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1]?.trim();
  if (title) return shortMessage(`HTTP ${status}: ${title}`) ?? `HTTP ${status}`;
  if (/^\s*</.test(body)) return `HTTP ${status}: HTML body`;
  const text = body.trim();
  if (!text) return `HTTP ${status}: empty body`;
  return shortMessage(`HTTP ${status}: ${text.slice(0, 120)}`) ?? `HTTP ${status}`;
}

/** Normalised result for a response that is an error (HTTP error, in-stream error, malformed). */
export function errorNormalised(
  errorClass: ErrorClass,
  message: string | null,
  extra: Partial<Normalised> = {},
): Normalised {
  return {
    ...emptyNormalised(),
    ...extra,
    finishReason: 'error',
    errorClass,
    errorMessage: shortMessage(message),
  };
}
