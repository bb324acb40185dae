import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, warmUp } from '../../src/http/client.ts';
import { readSse } from '../../src/http/sse.ts';
import { HttpError } from '../../src/http/types.ts';
import type { HttpClient, HttpResponse, SseEvent } from '../../src/http/types.ts';
import { get, rejection, sleep, startHttp } from './helpers.ts';
import type { Loopback } from './helpers.ts';

const enc = new TextEncoder();

/** An HttpResponse over fixed chunks, optionally failing at the end like a reset socket. */
function fake(chunks: Uint8Array[], endWith?: Error): HttpResponse {
  let t = 0;
  return {
    status: 200,
    headers: {},
    marks: { connectMs: 0, tlsMs: null, ttfbMs: 1, totalMs: null, reused: true },
    elapsed: () => ++t,
    body: (async function* () {
      for (const c of chunks) yield c;
      if (endWith) throw endWith;
    })(),
  };
}

async function collect(res: HttpResponse): Promise<{ events: SseEvent[]; error: unknown }> {
  const events: SseEvent[] = [];
  try {
    for await (const ev of readSse(res)) events.push(ev);
  } catch (e) {
    return { events, error: e };
  }
  return { events, error: null };
}

const strip = (evs: SseEvent[]) => evs.map(({ event, data, id }) => ({ event, data, id }));

// Anthropic-style names, OpenAI-style [DONE], a comment, a ping, multi-line data, an id, CRLF framing
// (Gemini), and a multi-byte character that a byte-level split can cut in half.
const STREAM =
  ': keep-alive comment\r\n\r\n' +
  'event: message_start\r\ndata: {"type":"message_start"}\r\n\r\n' +
  'event: ping\r\ndata: {"type": "ping"}\r\n\r\n' +
  'data: line one\r\ndata: line two\r\nid: 7\r\n\r\n' +
  'data: {"text":"héllo ☃"}\r\n\r\n' +
  'data: [DONE]\r\n\r\n';
const EXPECTED = [
  { event: 'message_start', data: '{"type":"message_start"}', id: undefined },
  { event: undefined, data: 'line one\nline two', id: '7' },
  { event: undefined, data: '{"text":"héllo ☃"}', id: undefined },
  { event: undefined, data: '[DONE]', id: undefined },
];

describe('readSse parsing', () => {
  it('parses CRLF framing, event names, multi-line data, ids and [DONE]; drops comments and pings', async () => {
    const { events, error } = await collect(fake([enc.encode(STREAM)]));
    expect(error).toBeNull();
    expect(strip(events)).toEqual(EXPECTED);
  });

  it('gives the same events with LF framing', async () => {
    const { events } = await collect(fake([enc.encode(STREAM.replaceAll('\r\n', '\n'))]));
    expect(strip(events)).toEqual(EXPECTED);
  });

  it('gives the same events for a split at every byte position, and one byte at a time', async () => {
    const bytes = enc.encode(STREAM);
    for (let i = 1; i < bytes.length; i++) {
      const { events, error } = await collect(fake([bytes.subarray(0, i), bytes.subarray(i)]));
      expect(error, `split at ${i}`).toBeNull();
      expect(strip(events), `split at ${i}`).toEqual(EXPECTED);
    }
    const single = Array.from(bytes, (b) => Uint8Array.of(b));
    const { events } = await collect(fake(single));
    expect(strip(events)).toEqual(EXPECTED);
  });

  it('throws HttpError(reset) when the body ends mid-event, after yielding the complete ones', async () => {
    for (const tail of ['data: {"partial', 'data: {"whole":1}\n', 'data: {"whole":1}\r\n', 'event: message_delta\r\ndata: {}']) {
      const { events, error } = await collect(fake([enc.encode('data: a\n\n' + tail)]));
      expect(strip(events), tail).toEqual([{ event: undefined, data: 'a', id: undefined }]);
      expect(error, tail).toBeInstanceOf(HttpError);
      expect((error as HttpError).kind).toBe('reset');
      expect((error as HttpError).message).toContain('mid-event');
    }
  });

  it('a body ending on an event boundary without [DONE] is not a cut (the adapter decides)', async () => {
    const { events, error } = await collect(fake([enc.encode('data: a\n\ndata: b\r\n\r\n')]));
    expect(events.map((e) => e.data)).toEqual(['a', 'b']);
    expect(error).toBeNull();
  });

  it('a trailing incomplete UTF-8 sequence counts as a cut', async () => {
    const snow = enc.encode('☃');
    const { error } = await collect(fake([enc.encode('data: a\n\n'), snow.subarray(0, 2)]));
    expect((error as HttpError).kind).toBe('reset');
  });

  it("rethrows the body's transport error", async () => {
    const reset = new HttpError('reset', 'ECONNRESET', { connectMs: 0, tlsMs: null, ttfbMs: 1, totalMs: null, reused: true });
    const { events, error } = await collect(fake([enc.encode('data: a\n\ndata: b')], reset));
    expect(events.map((e) => e.data)).toEqual(['a']);
    expect(error).toBe(reset);
  });
});

describe('readSse over a socket', () => {
  let client: HttpClient;
  const servers: Loopback[] = [];
  beforeAll(async () => {
    client = createHttpClient();
    await warmUp(client);
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  afterAll(async () => {
    await client.close();
  });

  async function sse(write: (res: import('node:http').ServerResponse) => Promise<void>): Promise<Loopback> {
    const s = await startHttp(async (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      await write(res);
    });
    servers.push(s);
    return s;
  }

  it('reassembles events written one byte per TCP write', async () => {
    const s = await sse(async (res) => {
      for (const b of enc.encode(STREAM)) {
        res.write(Uint8Array.of(b));
        await sleep(1);
      }
      res.end();
    });
    const res = await client.request(get(s.url));
    const { events, error } = await collect(res);
    expect(error).toBeNull();
    expect(strip(events)).toEqual(EXPECTED);
    const ats = events.map((e) => e.at);
    expect([...ats].sort((a, b) => a - b)).toEqual(ats);
    expect(ats[0]).toBeGreaterThan(res.marks.ttfbMs!);
  });

  it('stamps each event with its arrival time on the request clock', async () => {
    const s = await sse(async (res) => {
      await sleep(50);
      res.write('data: first\n\n');
      await sleep(100);
      res.write('data: sec');
      await sleep(50);
      res.end('ond\n\n');
    });
    const res = await client.request(get(s.url));
    const events: SseEvent[] = [];
    for await (const ev of readSse(res)) {
      events.push(ev);
      // A slow consumer must not shift the stamps: the second event arrives 150 ms after the first,
      // but is only pulled 250 ms after it.
      if (events.length === 1) await sleep(250);
    }
    expect(events.map((e) => e.data)).toEqual(['first', 'second']);
    const [a, b] = events.map((e) => e.at);
    // The headers' own stamp can be a few ms late on a loaded machine (it is taken when the client gets to them),
    // so the lower bound allows for that; a stamp taken at header time would be ~0.
    expect(a - res.marks.ttfbMs!).toBeGreaterThanOrEqual(40);
    expect(a - res.marks.ttfbMs!).toBeLessThanOrEqual(75);
    // The second event is complete only when its tail arrives: 150 ms after the first.
    expect(b - a).toBeGreaterThanOrEqual(147);
    expect(b - a).toBeLessThanOrEqual(185);
  });

  it('a stream cut by a reset socket ends in HttpError(reset)', async () => {
    const s = await sse(async (res) => {
      res.write('data: {"choices":[{"delta":{"content":"po"}}]}\n\n');
      await sleep(20);
      res.write('data: {"choices":[{"del');
      await sleep(20);
      res.socket!.resetAndDestroy();
    });
    const { events, error } = await collect(await client.request(get(s.url)));
    expect(events).toHaveLength(1);
    expect((error as HttpError).kind).toBe('reset');
  });

  it('a stream that closes cleanly mid-event ends in HttpError(reset)', async () => {
    const s = await sse(async (res) => {
      res.write('event: content_block_delta\ndata: {"delta":{"text":"po"}}\n\n');
      res.end('event: message_delta\ndata: {"delta":');
    });
    const { events, error } = await collect(await client.request(get(s.url)));
    expect(events.map((e) => e.event)).toEqual(['content_block_delta']);
    expect((error as HttpError).kind).toBe('reset');
  });

  it('a total timeout mid-stream surfaces as a timeout, not a cut', async () => {
    const s = await sse(async (res) => {
      res.write('data: a\n\n');
    });
    const res = await client.request(get(s.url, { timeouts: { connectMs: 1000, firstByteMs: 1000, totalMs: 150 } }));
    const err = (await rejection(
      (async () => {
        for await (const _ of readSse(res));
      })(),
    )) as HttpError;
    expect([err.kind, err.phase]).toEqual(['timeout', 'total']);
  });
});
