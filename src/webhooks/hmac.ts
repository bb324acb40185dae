// Signature for `generic` sources: `x-vigil-signature: sha256=<hex>`, HMAC-SHA256 keyed by the secret's UTF-8
// bytes over the raw body, or over `${timestamp}.${body}` when `x-vigil-timestamp` (unix seconds) is sent,
// which also bounds replays to the tolerance. The same scheme as GitHub's `x-hub-signature-256`, so
// `openssl dgst -sha256 -hmac` or any webhook forwarder can produce it.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { VerifyResult } from './standard.ts';

const SIG_RE = /^sha256=([0-9a-f]{64})$/i;
const TIMESTAMP_RE = /^\d{1,12}$/;

export function hmacHex(secret: string, body: Buffer | string, timestampSec?: number): string {
  const h = createHmac('sha256', Buffer.from(secret, 'utf8'));
  if (timestampSec !== undefined) h.update(`${timestampSec}.`);
  return h.update(body).digest('hex');
}

export interface GenericHeaders {
  signature: string | undefined;
  timestamp: string | undefined;
}

export function verifyGeneric(
  secrets: readonly string[],
  h: GenericHeaders,
  body: Buffer,
  nowMs: number,
  opts: { toleranceMs: number; requireTimestamp: boolean },
): { ok: true; timestamp: number | null } | Extract<VerifyResult, { ok: false }> {
  const c = checkGenericHeaders(h, nowMs, opts);
  if (!c.ok) return c;
  for (const secret of secrets) {
    const expected = Buffer.from(hmacHex(secret, body, c.timestamp ?? undefined), 'hex');
    if (timingSafeEqual(c.offered, expected)) return { ok: true, timestamp: c.timestamp };
  }
  return { ok: false, status: 401, code: 'invalid_signature', message: 'x-vigil-signature does not match a configured secret' };
}

/** What `verifyGeneric` checks before computing an HMAC (so a request can be refused before its body is read). */
export function checkGenericHeaders(
  h: GenericHeaders,
  nowMs: number,
  opts: { toleranceMs: number; requireTimestamp: boolean },
): { ok: true; timestamp: number | null; offered: Buffer } | Extract<VerifyResult, { ok: false }> {
  if (!h.signature) return { ok: false, status: 401, code: 'missing_signature', message: 'missing x-vigil-signature' };
  const m = SIG_RE.exec(h.signature.trim());
  if (!m) return { ok: false, status: 400, code: 'invalid_headers', message: 'x-vigil-signature must be "sha256=<64 hex digits>"' };
  let ts: number | null = null;
  if (h.timestamp !== undefined) {
    if (!TIMESTAMP_RE.test(h.timestamp)) return { ok: false, status: 400, code: 'invalid_timestamp', message: 'x-vigil-timestamp must be integer seconds since the epoch' };
    ts = Number(h.timestamp);
    if (Math.abs(Math.floor(nowMs / 1000) - ts) > Math.floor(opts.toleranceMs / 1000)) {
      return { ok: false, status: 401, code: 'timestamp_out_of_tolerance', message: `x-vigil-timestamp is more than ${Math.floor(opts.toleranceMs / 1000)} s from now` };
    }
  } else if (opts.requireTimestamp) {
    return { ok: false, status: 400, code: 'missing_headers', message: 'missing x-vigil-timestamp' };
  }
  return { ok: true, timestamp: ts, offered: Buffer.from(m[1].toLowerCase(), 'hex') };
}

/** Headers for a generic notice signed with `secret` (tests, the bench, forwarders written in TypeScript). */
export function signGeneric(secret: string, body: Buffer | string, timestampSec?: number): Record<string, string> {
  return {
    'x-vigil-signature': `sha256=${hmacHex(secret, body, timestampSec)}`,
    ...(timestampSec !== undefined ? { 'x-vigil-timestamp': String(timestampSec) } : {}),
  };
}
