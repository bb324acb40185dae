// Standard Webhooks verification (https://www.standardwebhooks.com; OpenAI's webhooks use it): headers
// `webhook-id`, `webhook-timestamp`, `webhook-signature` (space-separated `v1,<base64>`), HMAC-SHA256 keyed by
// the base64 part of a `whsec_…` secret over `${id}.${timestamp}.${body}`.
//
// Signatures are computed with node:crypto over the raw bytes (exact for any body, and native: the official
// `standardwebhooks` package hashes in JavaScript, which cost about 5 % of the intake's CPU in bench:webhooks).
// The package stays the reference: the `package` engine signs with it (and `auto` uses it for UTF-8 bodies, the
// only ones its string conversion leaves intact), and the tests cross-check our engines against the package's own
// verify() in both directions. Its `verify()` is not used because it reads Date.now() with a fixed 300 s tolerance;
// the timestamp policy here runs on the injected clock with a configurable tolerance.
import { isUtf8 } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export interface StandardHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export type VerifyResult =
  | { ok: true; id: string; timestamp: number }
  | { ok: false; status: 400 | 401; code: string; message: string };

export type Engine = 'auto' | 'package' | 'crypto';

/** Bounds on header sizes so a hostile request can't make us compute much. */
const MAX_ID = 256;
const MAX_SIGNATURE_HEADER = 2048;
const MAX_SIGNATURES = 16;
const TIMESTAMP_RE = /^\d{1,12}$/;

export function secretKey(secret: string): Buffer {
  const b64 = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  const key = Buffer.from(b64, 'base64');
  if (key.length === 0) throw new Error('webhook secret is empty');
  return key;
}

/** node:crypto signature: base64 HMAC-SHA256 over `${id}.${timestamp}.` + raw body bytes. */
export function signCrypto(key: Buffer, id: string, timestamp: number, body: Buffer | string): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

export class StandardWebhookVerifier {
  private readonly keys: Buffer[];
  private readonly pkg: Webhook[];
  private readonly toleranceSec: number;
  private readonly engine: Engine;

  constructor(secrets: readonly string[], opts: { toleranceMs: number; engine?: Engine }) {
    if (secrets.length === 0) throw new Error('no webhook secret configured');
    this.keys = secrets.map(secretKey);
    this.pkg = secrets.map((s) => new Webhook(s));
    this.toleranceSec = Math.floor(opts.toleranceMs / 1000);
    this.engine = opts.engine ?? 'crypto';
  }

  verify(h: StandardHeaders, body: Buffer, nowMs: number): VerifyResult {
    const c = this.checkHeaders(h, nowMs);
    if (!c.ok) return c;
    const { id, timestamp: ts, offered } = c;
    const usePackage = this.engine === 'package' || (this.engine === 'auto' && isUtf8(body));
    for (let i = 0; i < this.keys.length; i++) {
      const expected = Buffer.from(
        usePackage ? this.pkg[i].sign(id, new Date(ts * 1000), body).slice(3) : signCrypto(this.keys[i], id, ts, body),
      );
      for (const sig of offered) {
        if (sig.length === expected.length && timingSafeEqual(sig, expected)) return { ok: true, id, timestamp: ts };
      }
    }
    return fail(401, 'invalid_signature', 'no signature matches a configured secret');
  }

  /**
   * Everything `verify` checks before computing a signature: presence, sizes, the timestamp's tolerance, at least
   * one `v1` signature. Cheap, so a request can be refused on its headers before its body is read.
   */
  checkHeaders(h: StandardHeaders, nowMs: number): { ok: true; id: string; timestamp: number; offered: Buffer[] } | Extract<VerifyResult, { ok: false }> {
    const missing = (['id', 'timestamp', 'signature'] as const).filter((k) => !h[k]);
    if (missing.length) {
      return fail(400, 'missing_headers', `missing ${missing.map((k) => `webhook-${k}`).join(', ')}`);
    }
    const id = h.id!;
    if (id.length > MAX_ID) return fail(400, 'invalid_headers', `webhook-id longer than ${MAX_ID} characters`);
    if (!TIMESTAMP_RE.test(h.timestamp!)) return fail(400, 'invalid_timestamp', 'webhook-timestamp must be integer seconds since the epoch');
    const ts = Number(h.timestamp);
    const nowSec = Math.floor(nowMs / 1000);
    if (Math.abs(nowSec - ts) > this.toleranceSec) {
      return fail(401, 'timestamp_out_of_tolerance', `webhook-timestamp is more than ${this.toleranceSec} s from now`);
    }
    const header = h.signature!;
    if (header.length > MAX_SIGNATURE_HEADER) return fail(400, 'invalid_headers', 'webhook-signature header too long');
    const offered = header
      .split(' ')
      .filter((e) => e.startsWith('v1,'))
      .slice(0, MAX_SIGNATURES)
      .map((e) => Buffer.from(e.slice(3)));
    if (offered.length === 0) return fail(401, 'invalid_signature', 'no v1 signature in webhook-signature');
    return { ok: true, id, timestamp: ts, offered };
  }
}

function fail(status: 400 | 401, code: string, message: string): Extract<VerifyResult, { ok: false }> {
  return { ok: false, status, code, message };
}

/** Headers for a request signed with `secret` (tests, the bench, and anyone forwarding to Vigil). */
export function signStandard(secret: string, id: string, timestampSec: number, body: Buffer | string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSec),
    'webhook-signature': `v1,${signCrypto(secretKey(secret), id, timestampSec, body)}`,
  };
}
