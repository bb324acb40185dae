import { describe, expect, it } from 'vitest';
import { classifyStatus, parseDurationSec, parseRetryAfter, redactSecrets, shortMessage } from '../../src/providers/errors.ts';
import { adapterFor } from '../../src/providers/index.ts';
import { apiUrl } from '../../src/providers/request.ts';

describe('provider helpers', () => {
  it('classifyStatus', () => {
    const table: Array<[number, string]> = [
      [401, 'auth'],
      [403, 'auth'],
      [429, 'rate_limited'],
      [529, 'overloaded'],
      [500, 'server_error'],
      [502, 'server_error'],
      [503, 'server_error'],
      [400, 'bad_request'],
      [404, 'bad_request'],
      [422, 'bad_request'],
    ];
    for (const [s, c] of table) expect(classifyStatus(s), String(s)).toBe(c);
  });

  it('parseRetryAfter: seconds, ms (preferred), HTTP date against the date header', () => {
    expect(parseRetryAfter({ 'retry-after': '30' })).toBe(30);
    expect(parseRetryAfter({ 'retry-after': '30', 'retry-after-ms': '250' })).toBe(0.25);
    expect(
      parseRetryAfter({ 'retry-after': 'Wed, 21 Oct 2026 07:28:30 GMT', date: 'Wed, 21 Oct 2026 07:28:00 GMT' }),
    ).toBe(30);
    // A date with no reference point can't be turned into seconds without a clock.
    expect(parseRetryAfter({ 'retry-after': 'Wed, 21 Oct 2026 07:28:30 GMT' })).toBeNull();
    expect(parseRetryAfter({ 'retry-after': 'soon' })).toBeNull();
    expect(parseRetryAfter({})).toBeNull();
  });

  it('parseDurationSec (google.protobuf.Duration)', () => {
    expect(parseDurationSec('34.4s')).toBe(34.4);
    expect(parseDurationSec('0s')).toBe(0);
    expect(parseDurationSec('nonsense')).toBeNull();
  });

  it('redacts key material', () => {
    const s = redactSecrets(
      'Incorrect API key provided: sk-proj-abc123xyz. Bearer eyJhbGciOi.x.y key=AIzaSyA1234567890abcdef x-api-key: sk-ant-api03-zzzz',
    );
    expect(s).not.toMatch(/abc123xyz|eyJhbGciOi|AIzaSyA1234567890abcdef|api03-zzzz/);
    expect(redactSecrets('GET /v1beta/models/x?key=abc&alt=sse')).toBe('GET /v1beta/models/x?key=[redacted]&alt=sse');
  });

  it('shortMessage: one line, ≤ 200 chars, null for nothing', () => {
    expect(shortMessage('a\n  b')).toBe('a b');
    expect(shortMessage('x'.repeat(500))!.length).toBe(200);
    expect(shortMessage('  ')).toBeNull();
    expect(shortMessage(42)).toBeNull();
  });

  it('apiUrl does not double a version segment', () => {
    expect(apiUrl('https://h', 'v1', '/x')).toBe('https://h/v1/x');
    expect(apiUrl('https://h/v1', 'v1', '/x')).toBe('https://h/v1/x');
    expect(apiUrl('https://h/api/v1beta//', 'v1beta', '/x')).toBe('https://h/api/v1beta/x');
  });

  it('adapterFor returns the adapter of each kind', () => {
    for (const kind of ['openai', 'anthropic', 'gemini', 'gateway'] as const) expect(adapterFor(kind).kind).toBe(kind);
    expect(() => adapterFor('bedrock' as never)).toThrow(/bedrock/);
  });
});
