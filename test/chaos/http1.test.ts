// The pass-through path's HTTP/1.1 head parser and chunked scanner (src/chaos/http1.ts) take bytes from anyone who
// can reach the proxy: fuzzed with fast-check, they must never throw, and on well-formed input they must find
// what a full parser would (framing, scope header, the header lines kept for the upstream).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkedScanner, MAX_HEAD, isParseError, parseRequestHead, parseResponseHead, rewriteHead } from '../../src/chaos/http1.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261204);
const CRLF2 = Buffer.from('\r\n\r\n');

function headOf(bytes: Buffer): { b: Buffer; end: number } | null {
  const i = bytes.indexOf(CRLF2);
  return i < 0 ? null : { b: bytes, end: i + 4 };
}

const tchars = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const name = fc.string({ unit: fc.constantFrom(...tchars.split('')), minLength: 1, maxLength: 20 });
const value = fc.stringMatching(/^[ -~]{0,40}$/).map((v) => v.trim());
const special = fc.constantFrom(
  ['Host', 'example.test'],
  ['Connection', 'keep-alive'],
  ['Connection', 'close'],
  ['Connection', 'keep-alive, x-hop'],
  ['x-hop', 'drop me'],
  ['Keep-Alive', 'timeout=5'],
  ['TE', 'trailers'],
  ['Upgrade', 'websocket'],
  ['Proxy-Authorization', 'Basic abc'],
  ['Content-Length', '12'],
  ['Transfer-Encoding', 'chunked'],
  ['X-Vigil-Drill', 'drill-1'],
  ['x-vigil-drill', ' spaced '],
);

describe('request head parser', () => {
  it('never throws on arbitrary bytes, and answers a parse error or a head', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (bytes, terminate) => {
        const b = terminate ? Buffer.concat([Buffer.from(bytes), CRLF2]) : Buffer.from(bytes);
        const h = headOf(b);
        if (h === null) return;
        const r = parseRequestHead(h.b, h.end, 'x-vigil-drill');
        if (isParseError(r)) expect([400, 431]).toContain(r.status);
        else expect(r.length).toBe(h.end);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('never throws on near-valid heads (valid request line, mutated header block)', () => {
    const line = fc.constantFrom('GET /proxy/openai/v1/models HTTP/1.1', 'POST /proxy/x HTTP/1.0', 'PUT / HTTP/1.1', 'G@T / HTTP/1.1', 'GET  / HTTP/1.1', 'GET / HTTP/2.0', 'GET /\x00 HTTP/1.1');
    const piece = fc.oneof(
      special.map(([k, v]) => `${k}: ${v}`),
      fc.tuple(name, value).map(([k, v]) => `${k}: ${v}`),
      fc.constantFrom(' folded', '\tfolded', 'no colon', ': empty name', 'a\nb: c', 'x: a\rb', 'x: \x7f', 'Content-Length: -1', 'Content-Length: 99999999999999999', 'Content-Length: 1, 2', 'Transfer-Encoding: gzip'),
    );
    fc.assert(
      fc.property(line, fc.array(piece, { maxLength: 12 }), (l, lines) => {
        const b = Buffer.from(`${l}\r\n${lines.map((x) => `${x}\r\n`).join('')}\r\n`, 'latin1');
        const h = headOf(b);
        if (h === null) return;
        const r = parseRequestHead(h.b, h.end, 'x-vigil-drill');
        if (!isParseError(r)) {
          // Whatever it accepted, the rewritten head it produces is a head: one CRLFCRLF, at the end.
          const out = rewriteHead(h.b, r, '/v1/x', 'up.test');
          expect(out.indexOf(CRLF2)).toBe(out.length - 4);
        }
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('on well-formed heads: framing, scope and the kept header lines are what a full parser sees', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 15 }), fc.option(value, { nil: undefined }), fc.option(fc.integer({ min: 0, max: 1e9 }), { nil: undefined }), (headers, scope, length) => {
        const extra = headers.filter(([k]) => !['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'te', 'trailer', 'upgrade', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'x-vigil-drill'].includes(k.toLowerCase()));
        const lines = ['Host: h.test', ...extra.map(([k, v]) => `${k}: ${v}`)];
        if (scope !== undefined) lines.push(`X-Vigil-Drill: ${scope}`);
        if (length !== undefined) lines.push(`Content-Length: ${length}`);
        lines.push('Connection: keep-alive');
        const b = Buffer.from(`POST /proxy/openai/v1/chat HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`, 'latin1');
        const r = parseRequestHead(b, b.length, 'x-vigil-drill');
        if (isParseError(r)) throw new Error(`refused a well-formed head: ${r.reason}`);
        expect(r.method).toBe('POST');
        expect(r.target).toBe('/proxy/openai/v1/chat');
        expect(r.contentLength).toBe(length ?? -1);
        expect(r.chunked).toBe(false);
        expect(r.keepAlive).toBe(true);
        expect(r.scope).toBe(scope ?? null);
        const out = rewriteHead(b, r, '/v1/chat', 'up.test').toString('latin1');
        const kept = out.split('\r\n').slice(1, -2);
        const want = ['host: up.test', ...extra.map(([k, v]) => `${k}: ${v}`), ...(scope !== undefined ? [`X-Vigil-Drill: ${scope}`] : []), ...(length !== undefined ? [`Content-Length: ${length}`] : [])];
        expect(kept).toEqual(want);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('refuses what invites request smuggling or is oversized', () => {
    const cases: [string, number][] = [
      ['GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nHost: a\r\nX: a\nY: b\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
      ['GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
      [`GET / HTTP/1.1\r\nHost: a\r\n${Array.from({ length: 201 }, (_, i) => `x${i}: y\r\n`).join('')}\r\n`, 431],
    ];
    for (const [text, status] of cases) {
      const b = Buffer.from(text, 'latin1');
      const r = parseRequestHead(b, b.length, 'x-vigil-drill');
      expect(isParseError(r) && r.status, JSON.stringify(text.slice(0, 60))).toBe(status);
    }
    expect(MAX_HEAD).toBeGreaterThanOrEqual(16 * 1024);
  });

  it('carries the body bytes that came with the head behind the rewritten head', () => {
    const b = Buffer.from('POST /proxy/openai/v1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello+next', 'latin1');
    const end = b.indexOf(CRLF2) + 4;
    const r = parseRequestHead(b, end, 'x-vigil-drill');
    if (isParseError(r)) throw new Error(r.reason);
    expect(rewriteHead(b, r, '/v1', 'up.test', end + 5).toString('latin1')).toBe('POST /v1 HTTP/1.1\r\nhost: up.test\r\nContent-Length: 5\r\n\r\nhello');
  });
});

describe('response head parser', () => {
  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom('', 'HTTP/1.1 200 OK\r\n', 'HTTP/1.0 204 x\r\n'), (bytes, prefix) => {
        const b = Buffer.concat([Buffer.from(prefix, 'latin1'), Buffer.from(bytes), CRLF2]);
        const r = parseResponseHead(b, b.indexOf(CRLF2) + 4);
        if (r !== null) expect(r.status).toBeGreaterThanOrEqual(100);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('finds framing, persistence and the Keep-Alive line with its timeout', () => {
    const b = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 2\r\n\r\n{}', 'latin1');
    const r = parseResponseHead(b, b.indexOf(CRLF2) + 4)!;
    expect(r).toMatchObject({ status: 200, contentLength: 2, chunked: false, keepAlive: true, keepAliveTimeoutS: 5 });
    expect(b.toString('latin1', r.keepAliveStart, r.keepAliveEnd)).toBe('Keep-Alive: timeout=5, max=100\r\n');
    const c = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n', 'latin1');
    expect(parseResponseHead(c, c.length)).toMatchObject({ chunked: true, keepAlive: false, keepAliveStart: -1, keepAliveTimeoutS: -1 });
    const u = Buffer.from('HTTP/1.0 200 OK\r\n\r\n', 'latin1');
    expect(parseResponseHead(u, u.length)).toMatchObject({ untilClose: true, keepAlive: false });
  });
});

describe('chunked scanner', () => {
  const chunkedBody = fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 6 }).map((chunks) => {
    const parts: Buffer[] = [];
    for (const c of chunks) parts.push(Buffer.from(`${c.length.toString(16)};ext=1\r\n`), Buffer.from(c), Buffer.from('\r\n'));
    parts.push(Buffer.from('0\r\nx-trailer: t\r\n\r\n'));
    return Buffer.concat(parts);
  });

  it('finds the end of a valid body however it is split across reads', () => {
    fc.assert(
      fc.property(chunkedBody, fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 40 }), (body, cuts) => {
        const s = new ChunkedScanner();
        const tail = Buffer.from('GET /next');
        const all = Buffer.concat([body, tail]);
        let at = 0;
        let end = -1;
        let i = 0;
        while (at < all.length && end < 0) {
          const piece = all.subarray(at, Math.min(all.length, at + cuts[i++ % cuts.length]));
          const r = s.scan(piece, 0);
          expect(r).not.toBe(-2);
          if (r >= 0) end = at + r;
          at += piece.length;
        }
        expect(end).toBe(body.length);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 10 }), (pieces) => {
        const s = new ChunkedScanner();
        for (const p of pieces) {
          const r = s.scan(Buffer.from(p), 0);
          if (r === -2) {
            expect(s.error).toBeTruthy();
            return;
          }
          if (r >= 0) s.reset();
        }
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });
});
