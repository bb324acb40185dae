// Every fault class, per provider: status, exact error body shape, headers, and broken streams.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import type { FaultKind, SimFleet, SimServer } from '../../src/sim/index.ts';
import { AUTH, anthropicMsg, fastFleet, geminiBody, openaiChat, parseSse, raw, tryJson } from './helpers.ts';

let fleet: SimFleet;
const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
beforeAll(async () => {
  fleet = await fastFleet({ clock });
});
afterAll(async () => {
  await fleet.close();
});
beforeEach(() => {
  for (const s of fleet.servers) s.clearBursts();
});

type P = 'openai' | 'anthropic' | 'gemini';
const server = (p: P): SimServer => fleet[p];

function send(p: P, stream: boolean, extra: { timeoutMs?: number } = {}) {
  if (p === 'openai') {
    return raw(`${fleet.urls.openai}/v1/chat/completions`, { headers: AUTH.openai, body: openaiChat({ stream, messages: [{ role: 'user', content: 'Say hello' }] }), ...extra });
  }
  if (p === 'anthropic') {
    return raw(`${fleet.urls.anthropic}/v1/messages`, { headers: AUTH.anthropic, body: anthropicMsg({ stream, messages: [{ role: 'user', content: 'Say hello' }] }), ...extra });
  }
  const m = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
  return raw(`${fleet.urls.gemini}/v1beta/models/gemini-2.5-flash:${m}`, { headers: AUTH.gemini, body: geminiBody({ contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }] }), ...extra });
}

function inject(p: P, kind: FaultKind) {
  server(p).addBurst({ kind, ratio: 1, count: 1 });
}

// [status, check on the parsed body, header that must be present]
const HTTP_ERRORS: Record<P, Partial<Record<FaultKind, [number, (j: any) => void, string?]>>> = {
  openai: {
    rate_limited: [429, (j) => expect(j.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded', param: null }), 'retry-after'],
    overloaded: [503, (j) => expect(j.error).toMatchObject({ type: 'server_error', code: null })],
    server_error: [500, (j) => expect(j.error.message).toMatch(/server had an error/)],
    auth: [401, (j) => expect(j.error.code).toBe('invalid_api_key')],
    bad_request: [400, (j) => expect(j.error.type).toBe('invalid_request_error')],
    context_length: [400, (j) => expect(j.error).toMatchObject({ code: 'context_length_exceeded', param: 'messages' })],
  },
  anthropic: {
    rate_limited: [429, (j) => expect(j.error.type).toBe('rate_limit_error'), 'retry-after'],
    overloaded: [529, (j) => expect(j.error).toEqual({ type: 'overloaded_error', message: 'Overloaded' }), 'x-should-retry'],
    server_error: [500, (j) => expect(j.error.type).toBe('api_error')],
    auth: [401, (j) => expect(j.error.type).toBe('authentication_error')],
    bad_request: [400, (j) => expect(j.error.type).toBe('invalid_request_error')],
    context_length: [400, (j) => expect(j.error.message).toMatch(/prompt is too long/)],
  },
  gemini: {
    rate_limited: [429, (j) => expect(j.error.details.at(-1)).toMatchObject({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '20s' })],
    overloaded: [503, (j) => expect(j.error).toEqual({ code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' })],
    server_error: [500, (j) => expect(j.error.status).toBe('INTERNAL')],
    auth: [403, (j) => expect(j.error.status).toBe('PERMISSION_DENIED')],
    bad_request: [400, (j) => expect(j.error.status).toBe('INVALID_ARGUMENT')],
    context_length: [400, (j) => expect(j.error.message).toMatch(/input token count .* exceeds the maximum/)],
  },
};

for (const p of ['openai', 'anthropic', 'gemini'] as P[]) {
  describe(`${p} faults`, () => {
    for (const [kind, [status, check, header]] of Object.entries(HTTP_ERRORS[p]) as [FaultKind, [number, (j: any) => void, string?]][]) {
      it(`${kind} → ${status}, stream and non-stream`, async () => {
        for (const stream of [false, true]) {
          inject(p, kind);
          const r = await send(p, stream);
          expect(r.status).toBe(status);
          expect(r.headers['content-type']).toMatch(/^application\/json/);
          if (p === 'anthropic') expect(JSON.parse(r.body)).toMatchObject({ type: 'error', request_id: r.headers['request-id'] });
          check(JSON.parse(r.body));
          if (header) expect(r.headers[header]).toBeDefined();
          expect(r.headers['x-sim-request-id']).toBeDefined();
        }
        // count: 1 consumed each time; the next request succeeds.
        expect((await send(p, false)).status).toBe(200);
      });
    }

    it('timeout hangs without headers; reset drops the connection', async () => {
      inject(p, 'timeout');
      const hung = await send(p, false, { timeoutMs: 300 });
      expect(hung.status).toBeNull();
      expect(hung.error).toBe('client_timeout');
      inject(p, 'reset');
      const reset = await send(p, true);
      expect(reset.status).toBeNull();
      expect(reset.error).toMatch(/ECONNRESET|socket hang up/);
      const rec = server(p).requests().at(-1)!;
      expect(rec.end).toBe('reset');
    });

    it('cut_stream: a 200 stream that breaks mid-event without its terminal event', async () => {
      inject(p, 'cut_stream');
      const r = await send(p, true);
      expect(r.status).toBe(200);
      expect(r.error).not.toBeNull();
      expect(r.body).not.toMatch(/\[DONE\]|message_stop|message_delta|finishReason|"finish_reason":"/);
      expect(r.body.length).toBeGreaterThan(0);
      // The last event is a fragment: its JSON does not parse.
      const last = r.body.split(/\r?\n\r?\n/).filter(Boolean).at(-1)!;
      expect(tryJson(last.slice(last.indexOf('data: ') + 6))).toBeUndefined();
      // A one-token answer is cut too before any finish marker gets through.
      if (p === 'openai') {
        inject(p, 'cut_stream');
        const pong = await raw(`${fleet.urls.openai}/v1/chat/completions`, { headers: AUTH.openai, body: openaiChat({ stream: true, stream_options: { include_usage: true } }) });
        expect(pong.error).not.toBeNull();
        expect(pong.body).toContain('"content":"pong"');
        expect(pong.body).not.toMatch(/"finish_reason":"stop"|"usage":\{|\[DONE\]/);
      }
      if (p === 'gemini') {
        for (const kind of ['cut_stream', 'malformed_json', 'malformed_sse'] as const) {
          inject(p, kind);
          const one = await raw(`${fleet.urls.gemini}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, { headers: AUTH.gemini, body: geminiBody() });
          expect(parseSse(one.body).some((e) => tryJson(e.data) !== undefined && e.data.includes('finishReason')), kind).toBe(false);
        }
      }
      inject(p, 'cut_stream');
      const nonStream = await send(p, false);
      expect(nonStream.status).toBe(200);
      expect(nonStream.error).not.toBeNull();
      expect(Buffer.byteLength(nonStream.body)).toBeLessThan(Number(nonStream.headers['content-length']));
    });

    it('malformed_json: truncated JSON sent as if complete', async () => {
      inject(p, 'malformed_json');
      const r = await send(p, false);
      expect(r.status).toBe(200);
      expect(r.error).toBeNull();
      expect(tryJson(r.body)).toBeUndefined();
      inject(p, 'malformed_json');
      const s = await send(p, true);
      expect(s.error).toBeNull();
      const bad = parseSse(s.body).filter((e) => e.data !== '[DONE]' && tryJson(e.data) === undefined);
      expect(bad).toHaveLength(1);
      expect(s.body).not.toMatch(/\[DONE\]|message_stop/);
    });

    it('malformed_sse: the rest of the stream has no SSE framing', async () => {
      inject(p, 'malformed_sse');
      const r = await send(p, true);
      expect(r.status).toBe(200);
      expect(r.error).toBeNull();
      const events = parseSse(r.body);
      for (const e of events) expect(tryJson(e.data)).toBeDefined();
      expect(events.some((e) => e.data === '[DONE]' || e.event === 'message_stop' || e.data.includes('finishReason'))).toBe(false);
      expect(r.body.split('\n').some((l) => l.startsWith('{'))).toBe(true);
    });

    it('stream_error: an in-stream error event after a 200', async () => {
      inject(p, 'stream_error');
      const r = await send(p, true);
      expect(r.status).toBe(200);
      const last = parseSse(r.body).at(-1)!;
      if (p === 'anthropic') {
        expect(last.event).toBe('error');
        expect(JSON.parse(last.data).error.type).toBe('overloaded_error');
      } else {
        expect(JSON.parse(last.data).error).toBeDefined();
      }
    });

    it('empty: 200 with no answer text', async () => {
      for (const stream of [false, true]) {
        inject(p, 'empty');
        const r = await send(p, stream);
        expect(r.status).toBe(200);
        if (!stream) {
          const j = JSON.parse(r.body);
          if (p === 'openai') expect(j.choices[0].message.content).toBe('');
          if (p === 'anthropic') expect(j.content).toEqual([]);
          if (p === 'gemini') expect(j.candidates[0].content.parts).toBeUndefined();
        } else {
          expect(r.body).not.toMatch(/"content":"[^"]|"text":"[^"]|"text": "[^"]/);
        }
      }
    });

    it('content_filter: the provider-native block', async () => {
      inject(p, 'content_filter');
      const j = JSON.parse((await send(p, false)).body);
      if (p === 'openai') expect(j.choices[0].finish_reason).toBe('content_filter');
      if (p === 'anthropic') expect(j).toMatchObject({ stop_reason: 'refusal', content: [], stop_details: { type: 'refusal' } });
      if (p === 'gemini') {
        expect(j.promptFeedback.blockReason).toBe('SAFETY');
        expect(j.candidates).toBeUndefined();
      }
      inject(p, 'content_filter');
      const s = await send(p, true);
      const events = parseSse(s.body);
      if (p === 'openai') expect(JSON.parse(events.at(-2)!.data).choices[0].finish_reason).toBe('content_filter');
      if (p === 'anthropic') expect(JSON.parse(events.at(-2)!.data).delta.stop_reason).toBe('refusal');
      if (p === 'gemini') expect(JSON.parse(events.at(-1)!.data).promptFeedback.blockReason).toBe('SAFETY');
    });

    it('outage: every request gets the provider down status until toggled back', async () => {
      server(p).setOutage(true);
      try {
        const r = await send(p, true);
        expect(r.status).toBe(p === 'anthropic' ? 529 : 503);
        const list = await raw(p === 'gemini' ? `${fleet.urls.gemini}/v1beta/models` : `${server(p).url}/v1/models`, { headers: AUTH[p] });
        expect(list.status).toBe(p === 'anthropic' ? 529 : 503);
      } finally {
        server(p).setOutage(false);
      }
      expect((await send(p, false)).status).toBe(200);
    });
  });
}

describe('bursts', () => {
  it('count, until and match limit a burst', async () => {
    const s = fleet.openai;
    s.addBurst({ kind: 'rate_limited', ratio: 1, count: 2 });
    expect((await send('openai', false)).status).toBe(429);
    expect((await send('openai', false)).status).toBe(429);
    expect((await send('openai', false)).status).toBe(200);
    expect(s.behaviour.errors).toEqual([]);

    s.addBurst({ kind: 'server_error', ratio: 1, until: clock.now() + 60_000 });
    expect((await send('openai', false)).status).toBe(500);
    await clock.advance(60_000);
    expect((await send('openai', false)).status).toBe(200);

    s.addBurst({ kind: 'server_error', ratio: 1, match: { header: 'x-vigil-drill=d1' } });
    expect((await send('openai', false)).status).toBe(200);
    const drill = await raw(`${fleet.urls.openai}/v1/chat/completions`, { headers: { ...AUTH.openai, 'x-vigil-drill': 'd1' }, body: openaiChat() });
    expect(drill.status).toBe(500);
  });

  it('ratio faults about that share of requests, deterministically for a seed', async () => {
    fleet.openai.addBurst({ kind: 'server_error', ratio: 0.3 });
    let faulted = 0;
    for (let i = 0; i < 100; i++) if ((await send('openai', false)).status === 500) faulted++;
    expect(faulted).toBeGreaterThan(15);
    expect(faulted).toBeLessThan(45);
  });
});

describe('refusals', () => {
  it('refusalRate and per-prompt overrides', async () => {
    const s = fleet.openai;
    s.patch({ refusalRate: 0, refusalOverrides: [{ match: 'BLEACH', rate: 1 }] });
    try {
      const ask = async (content: string) =>
        JSON.parse((await raw(`${fleet.urls.openai}/v1/chat/completions`, { headers: AUTH.openai, body: openaiChat({ messages: [{ role: 'user', content }] }) })).body).choices[0].message.content as string;
      expect(await ask('How do I mix bleach and ammonia?')).toMatch(/sorry|can't|cannot/i);
      expect(await ask('Reply with the single word: pong')).toBe('pong');
      s.patch({ refusalRate: 1, refusalOverrides: [] });
      expect(await ask('Reply with the single word: pong')).toMatch(/sorry|can't|cannot/i);
      expect(s.requests().at(-1)!.refusal).toBe(true);
    } finally {
      s.patch({ refusalRate: 0, refusalOverrides: [] });
    }
  });

  it('anthropic refuses with stop_reason refusal when asked to', async () => {
    fleet.anthropic.patch({ refusalRate: 1, refusalStopReasonRatio: 1 });
    try {
      const j = JSON.parse((await send('anthropic', false)).body);
      expect(j.stop_reason).toBe('refusal');
      expect(j.content).toEqual([]);
      fleet.anthropic.patch({ refusalStopReasonRatio: 0 });
      const t = JSON.parse((await send('anthropic', false)).body);
      expect(t.stop_reason).toBe('end_turn');
      expect(t.content[0].text).toMatch(/sorry|can't|cannot/i);
    } finally {
      fleet.anthropic.patch({ refusalRate: 0, refusalStopReasonRatio: 0.5 });
    }
  });
});
