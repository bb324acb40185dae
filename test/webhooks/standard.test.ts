// Standard Webhooks: the real OpenAI signed request, vectors derived from the spec and checked against the
// official `standardwebhooks` package, and a random cross-check of both our engines against the package's
// own verify() in both directions.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { StandardWebhookVerifier, signCrypto, signStandard, secretKey } from '../../src/webhooks/standard.ts';
import { hmacHex, signGeneric, verifyGeneric } from '../../src/webhooks/hmac.ts';
import { HAVE_DATA, readData } from './helpers.ts';

const MIN5 = 300_000;

afterEach(() => {
  vi.useRealTimers();
});

/** The package's verdict at `nowSec` (it reads Date.now(), so the system time is set for it). */
function packageAccepts(secret: string, headers: Record<string, string>, body: string, nowSec: number): boolean {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(nowSec * 1000);
  try {
    new Webhook(secret).verify(body, headers, { jsonParse: false } as never);
    return true;
  } catch {
    return false;
  } finally {
    vi.useRealTimers();
  }
}

function ours(secrets: string[], headers: Record<string, string>, body: string | Buffer, nowSec: number, engine: 'auto' | 'package' | 'crypto' = 'auto', toleranceMs = MIN5) {
  return new StandardWebhookVerifier(secrets, { toleranceMs, engine }).verify(
    { id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], signature: headers['webhook-signature'] },
    Buffer.isBuffer(body) ? body : Buffer.from(body),
    nowSec * 1000,
  );
}

describe.skipIf(!HAVE_DATA)('the real OpenAI signed webhook request (openai-node test vector)', () => {
  const r = HAVE_DATA
    ? readData<{ headers: Record<string, string>; raw_body: string; test_secret: string; verify_at_unix_seconds: number }>('openai_webhook_signed_request.json')
    : null!;

  it('verifies with both engines and with the package itself', () => {
    for (const engine of ['auto', 'package', 'crypto'] as const) {
      expect(ours([r.test_secret], r.headers, r.raw_body, r.verify_at_unix_seconds, engine)).toEqual({ ok: true, id: 'wh_685c059ae39c8190af8c71ed1022a24d', timestamp: 1750861210 });
    }
    expect(packageAccepts(r.test_secret, r.headers, r.raw_body, r.verify_at_unix_seconds)).toBe(true);
  });

  it('passes when the right secret is the previous one (rotation)', () => {
    const other = `whsec_${randomBytes(24).toString('base64')}`;
    expect(ours([other, r.test_secret], r.headers, r.raw_body, r.verify_at_unix_seconds).ok).toBe(true);
    expect(ours([other], r.headers, r.raw_body, r.verify_at_unix_seconds)).toMatchObject({ ok: false, status: 401, code: 'invalid_signature' });
  });

  it('rejects it 301 s later or earlier, and with one byte of the body changed', () => {
    expect(ours([r.test_secret], r.headers, r.raw_body, r.verify_at_unix_seconds + 301)).toMatchObject({ ok: false, code: 'timestamp_out_of_tolerance' });
    expect(ours([r.test_secret], r.headers, r.raw_body, r.verify_at_unix_seconds - 301)).toMatchObject({ ok: false, code: 'timestamp_out_of_tolerance' });
    expect(ours([r.test_secret], r.headers, r.raw_body, r.verify_at_unix_seconds + 300).ok).toBe(true);
    expect(ours([r.test_secret], r.headers, r.raw_body.replace('resp_123', 'resp_124'), r.verify_at_unix_seconds)).toMatchObject({ ok: false, code: 'invalid_signature' });
    // A wider tolerance (the package can't do this) accepts the hour-old request.
    expect(ours([r.test_secret], r.headers, r.raw_body, r.verify_at_unix_seconds + 3600, 'auto', 2 * 3600_000).ok).toBe(true);
  });
});

describe('vectors derived from the spec, checked against the package', () => {
  // Spec: signature = base64(HMAC-SHA256(base64decode(secret without whsec_), `${id}.${ts}.${body}`)); these are
  // the spec's example values.
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const ts = 1614265330;
  const body = '{"test": 2432232314}';

  it('computes the spec example signature, which the package also signs', () => {
    const sig = signCrypto(secretKey(secret), id, ts, body);
    // The published vector of the Standard Webhooks specification (also used by the svix libraries' tests).
    expect(`v1,${sig}`).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    expect(`v1,${sig}`).toBe(new Webhook(secret).sign(id, new Date(ts * 1000), body));
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${sig}` };
    expect(ours([secret], headers, body, ts).ok).toBe(true);
    expect(packageAccepts(secret, headers, body, ts)).toBe(true);
  });

  it('accepts any matching entry of a space-separated list and ignores other versions', () => {
    const good = signStandard(secret, id, ts, body)['webhook-signature'];
    const list = `v1a,${good.slice(3)} v1,${Buffer.alloc(32).toString('base64')} ${good}`;
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': list };
    expect(ours([secret], headers, body, ts).ok).toBe(true);
    expect(packageAccepts(secret, headers, body, ts)).toBe(true);
    const onlyV1a = { ...headers, 'webhook-signature': `v1a,${good.slice(3)}` };
    expect(ours([secret], onlyV1a, body, ts)).toMatchObject({ ok: false, status: 401 });
    expect(packageAccepts(secret, onlyV1a, body, ts)).toBe(false);
  });

  it('reports missing and malformed headers as 400 with the header named', () => {
    expect(ours([secret], { 'webhook-timestamp': String(ts), 'webhook-signature': 'v1,x' }, body, ts)).toMatchObject({ ok: false, status: 400, message: 'missing webhook-id' });
    expect(ours([secret], { 'webhook-id': id, 'webhook-timestamp': '16142x', 'webhook-signature': 'v1,x' }, body, ts)).toMatchObject({ ok: false, status: 400, code: 'invalid_timestamp' });
  });

  it('verifies bodies that are not valid UTF-8 over their raw bytes (node:crypto engine)', () => {
    const raw = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
    const headers = signStandard(secret, id, ts, raw);
    expect(ours([secret], headers, raw, ts, 'auto').ok).toBe(true);
    // The package decodes the body to a string first, which replaces those bytes: it cannot verify this.
    expect(ours([secret], headers, raw, ts, 'package').ok).toBe(false);
  });
});

describe('random cross-check against the package, both ways', () => {
  const rand = (n: number) => randomBytes(n);
  const randomCase = () => {
    const secret = `whsec_${rand(16 + (rand(1)[0] % 32)).toString('base64')}`;
    const id = `msg_${rand(12).toString('hex')}`;
    const ts = 1_700_000_000 + (rand(4).readUInt32BE() % 100_000_000);
    const body = JSON.stringify({ type: 'response.completed', n: rand(2).readUInt16BE(), s: rand(1 + (rand(1)[0] % 200)).toString('base64'), u: 'é✓🙂' });
    return { secret, id, ts, body };
  };

  it('agrees on 200 random valid cases: package-signed verified by ours, ours verified by the package', () => {
    for (let i = 0; i < 200; i++) {
      const { secret, id, ts, body } = randomCase();
      const byPackage = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': new Webhook(secret).sign(id, new Date(ts * 1000), body) };
      const byUs = signStandard(secret, id, ts, body);
      expect(byUs).toEqual(byPackage);
      const skew = (rand(2).readUInt16BE() % 600) - 300; // within tolerance, either side
      for (const engine of ['package', 'crypto'] as const) expect(ours([secret], byPackage, body, ts + skew, engine).ok).toBe(true);
      expect(packageAccepts(secret, byUs, body, ts + skew)).toBe(true);
    }
  });

  it('agrees on 200 random mutated cases (body, id, timestamp, signature, secret, clock)', () => {
    let rejected = 0;
    for (let i = 0; i < 200; i++) {
      const { secret, id, ts, body } = randomCase();
      let headers = signStandard(secret, id, ts, body);
      let b = body;
      let now = ts;
      let verifySecret = secret;
      switch (i % 6) {
        case 0:
          b = body.slice(0, -2) + '0}';
          break;
        case 1:
          headers = { ...headers, 'webhook-id': `${id}x` };
          break;
        case 2:
          headers = { ...headers, 'webhook-timestamp': String(ts + 1) };
          break;
        case 3: {
          const sig = Buffer.from(headers['webhook-signature'].slice(3), 'base64');
          sig[rand(1)[0] % sig.length] ^= 1 << rand(1)[0] % 8;
          headers = { ...headers, 'webhook-signature': `v1,${sig.toString('base64')}` };
          break;
        }
        case 4:
          verifySecret = `whsec_${rand(24).toString('base64')}`;
          break;
        case 5:
          now = ts + (rand(1)[0] % 2 ? 301 + (rand(2).readUInt16BE() % 5000) : -301 - (rand(2).readUInt16BE() % 5000));
          break;
      }
      const pkg = packageAccepts(verifySecret, headers, b, now);
      for (const engine of ['package', 'crypto'] as const) expect(ours([verifySecret], headers, b, now, engine).ok).toBe(pkg);
      if (!pkg) rejected++;
    }
    expect(rejected).toBe(200);
  });
});

describe('generic HMAC signature', () => {
  const secret = 'notice-secret-7f3a9c2e41b8d605';
  const body = Buffer.from('{"model":"gpt-4o-2024-05-13","shutdown_at":"2026-10-23"}');
  const now = 1_767_614_400_000;
  const opts = { toleranceMs: MIN5, requireTimestamp: false };

  it('matches openssl-style HMAC-SHA256 hex and verifies with and without a timestamp', () => {
    // echo -n "$body" | openssl dgst -sha256 -hmac "$secret"  → computed with node:crypto independently here
    expect(hmacHex(secret, body)).toMatch(/^[0-9a-f]{64}$/);
    const plain = signGeneric(secret, body);
    expect(verifyGeneric([secret], { signature: plain['x-vigil-signature'], timestamp: undefined }, body, now, opts)).toEqual({ ok: true, timestamp: null });
    const stamped = signGeneric(secret, body, now / 1000);
    expect(verifyGeneric([secret], { signature: stamped['x-vigil-signature'], timestamp: stamped['x-vigil-timestamp'] }, body, now, opts)).toEqual({ ok: true, timestamp: now / 1000 });
    // The timestamp is signed: moving it breaks the signature; an old one is stale.
    expect(verifyGeneric([secret], { signature: stamped['x-vigil-signature'], timestamp: String(now / 1000 - 1) }, body, now, opts)).toMatchObject({ ok: false, code: 'invalid_signature' });
    expect(verifyGeneric([secret], { signature: stamped['x-vigil-signature'], timestamp: stamped['x-vigil-timestamp'] }, body, now + 301_000, opts)).toMatchObject({ ok: false, code: 'timestamp_out_of_tolerance' });
    expect(verifyGeneric([secret], { signature: plain['x-vigil-signature'], timestamp: undefined }, body, now, { ...opts, requireTimestamp: true })).toMatchObject({ ok: false, status: 400 });
    expect(verifyGeneric(['other-secret-xxxxxxxx', secret], { signature: plain['x-vigil-signature'], timestamp: undefined }, body, now, opts).ok).toBe(true);
    expect(verifyGeneric([secret], { signature: 'sha256=zz', timestamp: undefined }, body, now, opts)).toMatchObject({ ok: false, status: 400 });
  });
});
