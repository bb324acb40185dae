// Byte-level details of the injected wire formats, and the SSE event splitter the stream faults rely on.
import { describe, expect, it } from 'vitest';
import { SseSplitter } from '../../src/chaos/body-faults.ts';
import { answerReply, describeRequest, errorReply, halfEvent, isContentEvent, unframed } from '../../src/chaos/wire.ts';

describe('error replies', () => {
  it('OpenAI 429 carries retry-after and x-ratelimit-* headers and the rate_limit_exceeded body', () => {
    const r = errorReply('openai', 429, { retryAfterSec: 12, model: 'gpt-4o-mini' });
    expect(r.headers['retry-after']).toBe('12');
    for (const h of ['x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests', 'x-ratelimit-limit-tokens']) {
      expect(r.headers[h], h).toBeDefined();
    }
    expect(r.headers['x-ratelimit-remaining-requests']).toBe('0');
    const body = JSON.parse(r.chunks[0]);
    expect(body.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded', param: null });
    expect(body.error.message).toContain('gpt-4o-mini');
    // OpenAI's 4-space pretty-printed error bodies.
    expect(r.chunks[0]).toMatch(/^\{\n {4}"error": \{\n {8}"message"/);
  });

  it("OpenAI 502 is Cloudflare's JSON, byte for byte (84 bytes as recorded)", () => {
    const r = errorReply('openai', 502);
    expect(r.chunks[0]).toBe('{"error":{"code":502,"message":"Bad gateway.","param":null,"type":"cf_bad_gateway"}}');
    expect(Buffer.byteLength(r.chunks[0])).toBe(84);
  });

  it('Anthropic 529 overloaded_error and 429 rate_limit_error with retry-after', () => {
    const o = JSON.parse(errorReply('anthropic', 529).chunks[0]);
    expect(o).toMatchObject({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    expect(o.request_id).toMatch(/^req_011C/);
    const r = errorReply('anthropic', 429, { retryAfterSec: 3 });
    expect(JSON.parse(r.chunks[0]).error.type).toBe('rate_limit_error');
    expect(r.headers['retry-after']).toBe('3');
    expect(r.headers['x-should-retry']).toBe('true');
  });

  it('Gemini 429 RESOURCE_EXHAUSTED with RetryInfo, 503 UNAVAILABLE', () => {
    const r = JSON.parse(errorReply('gemini', 429, { retryAfterSec: 9 }).chunks[0]);
    expect(r.error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
    const retry = r.error.details.filter((d: { '@type': string }) => d['@type'].endsWith('google.rpc.RetryInfo'));
    expect(retry).toEqual([{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '9s' }]);
    expect(JSON.parse(errorReply('gemini', 503).chunks[0]).error).toMatchObject({ code: 503, status: 'UNAVAILABLE' });
    expect(JSON.parse(errorReply('gemini', 504).chunks[0]).error.status).toBe('DEADLINE_EXCEEDED');
  });

  it('a message override keeps the shape', () => {
    const r = JSON.parse(errorReply('openai', 503, { message: 'Service Unavailable' }).chunks[0]);
    expect(r.error).toEqual({ message: 'Service Unavailable', type: 'server_error', param: null, code: null });
  });
});

describe('answers', () => {
  it('OpenAI content_filter stream with include_usage ends in [DONE]', () => {
    const req = describeRequest('openai', '/v1/chat/completions', '', Buffer.from('{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}}'));
    expect(req).toEqual({ model: 'gpt-4o', stream: true, sse: true, includeUsage: true });
    const r = answerReply('openai', 'content_filter', req, 0);
    expect(r.headers['content-type']).toContain('text/event-stream');
    expect(r.chunks.at(-1)).toBe('data: [DONE]\n\n');
    expect(r.chunks.join('')).toContain('"finish_reason":"content_filter"');
  });

  it('Gemini requests: model and stream from the path, SSE from alt=sse', () => {
    expect(describeRequest('gemini', '/v1beta/models/gemini-2.5-flash:streamGenerateContent', 'alt=sse', Buffer.alloc(0))).toMatchObject({
      model: 'gemini-2.5-flash',
      stream: true,
      sse: true,
    });
    const arr = describeRequest('gemini', '/v1beta/models/gemini-2.5-flash:streamGenerateContent', '', Buffer.alloc(0));
    expect(arr.sse).toBe(false);
    const body = answerReply('gemini', 'empty', arr, 0).chunks[0];
    expect(Array.isArray(JSON.parse(body))).toBe(true);
  });
});

describe('SSE helpers', () => {
  it('splits events on LF and CRLF framing across arbitrary chunk boundaries, bytes unchanged', () => {
    const text = 'data: {"a":"é"}\r\n\r\ndata: {"b":2}\r\n\r\nevent: x\ndata: y\n\n: comment\n\ndata: tail';
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const s = new SseSplitter();
      const events = [...s.push(bytes.subarray(0, cut)), ...s.push(bytes.subarray(cut))];
      expect(events).toEqual(['data: {"a":"é"}\r\n\r\n', 'data: {"b":2}\r\n\r\n', 'event: x\ndata: y\n\n', ': comment\n\n']);
      expect(s.rest()).toBe('data: tail');
    }
  });

  it('content events per provider', () => {
    expect(isContentEvent('openai', 'data: {"choices":[{"index":0,"delta":{"content":"po"}}]}\n\n')).toBe(true);
    expect(isContentEvent('openai', 'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n')).toBe(false);
    expect(isContentEvent('anthropic', 'event: content_block_delta\ndata: {"delta":{"type":"text_delta","text":"x"}}\n\n')).toBe(true);
    expect(isContentEvent('anthropic', 'event: ping\ndata: {"type": "ping"}\n\n')).toBe(false);
    expect(isContentEvent('gemini', 'data: {"candidates": [{"content": {"parts": [{"text": "No"}]}}]}\r\n\r\n')).toBe(true);
  });

  it('halfEvent cuts inside the JSON; unframed drops the data: framing', () => {
    const ev = 'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"}}\n\n';
    const h = halfEvent(ev);
    expect(h.startsWith('event: message_delta\ndata: {"type"')).toBe(true);
    expect(() => JSON.parse(h.slice(h.indexOf('data: ') + 6))).toThrow();
    expect(unframed('data: {"a":1}\n\n')).toBe('{"a":1}\n');
    expect(unframed('data: [DONE]\n\n')).toBe('');
  });
});
