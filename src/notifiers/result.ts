// Turning an HTTP outcome into a DeliveryResult, the same way for every notifier: the outbox retries
// what is transient (429, 5xx, 408, network, timeout) and gives up on what is not (other 4xx, bad config).
import { redactSecrets } from '../log.ts';
import type { DeliveryResult } from './types.ts';

export const ok = (ref?: string): DeliveryResult => (ref === undefined ? { ok: true, retryable: false } : { ok: true, retryable: false, ref });

export function permanent(error: string, secrets: (string | undefined)[] = []): DeliveryResult {
  return { ok: false, retryable: false, error: clean(error, secrets) };
}

export function retryable(error: string, retryAfterMs?: number, secrets: (string | undefined)[] = []): DeliveryResult {
  const r: DeliveryResult = { ok: false, retryable: true, error: clean(error, secrets) };
  if (retryAfterMs !== undefined) r.retryAfterMs = retryAfterMs;
  return r;
}

/** Errors are short and never carry a routing key or token. */
function clean(s: string, secrets: (string | undefined)[]): string {
  return redactSecrets(s.length > 500 ? s.slice(0, 499) + '…' : s, secrets.filter((x): x is string => !!x));
}

/** Retry-After is delay-seconds or an HTTP-date (RFC 9110 §10.2.3); `nowMs` only serves the date form. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/** Timeout, caller abort or network failure: all transient. `cause` is whatever the client threw. */
export function transportFailure(cause: unknown, timeoutMs: number, callerSignal: AbortSignal | undefined, secrets: (string | undefined)[]): DeliveryResult {
  if (callerSignal?.aborted) return retryable('aborted before the provider answered');
  const err = cause as { name?: string; code?: string; message?: string; cause?: { code?: string; name?: string; message?: string } } | undefined;
  if (err?.name === 'TimeoutError' || err?.cause?.name === 'TimeoutError') return retryable(`timeout after ${timeoutMs} ms`);
  const code = err?.code ?? err?.cause?.code;
  // fetch says only "fetch failed"; the reason (connect ECONNREFUSED …) is in its cause.
  const why = err?.cause?.message && !err.message?.includes(err.cause.message) ? ` (${err.cause.message})` : '';
  return retryable(`network error${code ? ` ${code}` : ''}: ${err?.message ?? String(cause)}${why}`, undefined, secrets);
}
