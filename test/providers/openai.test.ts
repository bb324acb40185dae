import { describe, expect, it } from 'vitest';
import { openaiAdapter, usesMaxCompletionTokens } from '../../src/providers/openai.ts';
import { endpoint, feed, spec } from './helpers.ts';

const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'gpt-4o-mini-2024-07-18', system_fingerprint: 'fp_1', choices: [{ index: 0, delta, finish_reason: null }], ...extra });
const finishChunk = (reason: string) =>
  JSON.stringify({ model: 'gpt-4o-mini-2024-07-18', choices: [{ index: 0, delta: {}, finish_reason: reason }] });
const usageChunk = JSON.stringify({ model: 'gpt-4o-mini-2024-07-18', choices: [], usage: { prompt_tokens: 7, completion_tokens: 2 } });

describe('openai buildRequest', () => {
  it('builds the URL without doubling /v1', () => {
    expect(openaiAdapter.buildRequest(spec(), endpoint({ baseUrl: 'https://api.openai.com' })).url).toBe(
      'https://api.openai.com/v1/chat/completions',
    );
    expect(openaiAdapter.buildRequest(spec(), endpoint({ baseUrl: 'https://api.openai.com/v1/' })).url).toBe(
      'https://api.openai.com/v1/chat/completions',
    );
    expect(openaiAdapter.buildRequest(spec(), endpoint({ baseUrl: 'https://openrouter.ai/api/v1' })).url).toBe(
      'https://openrouter.ai/api/v1/chat/completions',
    );
  });

  it('sends a bearer key and merges endpoint and probe headers case-insensitively', () => {
    const req = openaiAdapter.buildRequest(
      spec({ headers: { 'X-Probe': 'p' } }),
      endpoint({ headers: { 'OpenAI-Organization': 'org-1', 'X-Probe': 'endpoint' } }),
    );
    expect(req.headers).toEqual({
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: 'Bearer sk-test-SECRET123',
      'openai-organization': 'org-1',
      'x-probe': 'p',
    });
    const noKey = openaiAdapter.buildRequest(spec(), endpoint({ apiKey: undefined }));
    expect(noKey.headers.authorization).toBeUndefined();
  });

  it('non-stream body: max_tokens, no stream_options, temperature only when set', () => {
    const body = JSON.parse(openaiAdapter.buildRequest(spec(), endpoint()).body);
    expect(body).toEqual({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Reply with the single word: pong' }],
      max_tokens: 5,
      stream: false,
    });
    const warm = JSON.parse(openaiAdapter.buildRequest(spec({ temperature: 0 }), endpoint()).body);
    expect(warm.temperature).toBe(0);
  });

  it('stream body asks for usage', () => {
    const req = openaiAdapter.buildRequest(spec({ stream: true }), endpoint());
    const body = JSON.parse(req.body);
    expect(body.stream).toBe(true);
    expect(body.stream_options).toEqual({ include_usage: true });
    expect(req.headers.accept).toBe('text/event-stream');
  });

  it('uses max_completion_tokens for o-series and gpt-5', () => {
    for (const m of ['o1-mini', 'o3', 'o4-mini-2025-04-16', 'gpt-5', 'gpt-5-mini', 'openai/gpt-5-nano']) {
      expect(usesMaxCompletionTokens(m), m).toBe(true);
    }
    for (const m of ['gpt-4o', 'gpt-4.1-nano', 'omni-moderation', 'claude-3-opus']) {
      expect(usesMaxCompletionTokens(m), m).toBe(false);
    }
    const body = JSON.parse(openaiAdapter.buildRequest(spec({ model: 'o3-mini' }), endpoint()).body);
    expect(body.max_completion_tokens).toBe(5);
    expect(body.max_tokens).toBeUndefined();
  });
});

describe('openai stream parser', () => {
  it('contentDelta is true once, on the first non-empty content (not role-only or empty deltas)', () => {
    const { deltas, result } = feed(openaiAdapter.createStreamParser(200, {}), [
      chunk({ role: 'assistant', content: '' }),
      chunk({ role: 'assistant' }),
      chunk({ reasoning_content: 'thinking...' }),
      chunk({ content: 'po' }),
      chunk({ content: 'ng' }),
      finishChunk('stop'),
      usageChunk,
      '[DONE]',
    ]);
    expect(deltas).toEqual([false, false, false, true, false, false, false, false]);
    expect(result).toMatchObject({
      text: 'pong',
      finishReason: 'stop',
      servedModel: 'gpt-4o-mini-2024-07-18',
      fingerprint: 'fp_1',
      tokensIn: 7,
      tokensOut: 2,
      errorClass: null,
    });
  });

  it('finish_reason content_filter is a content_filter error, text kept', () => {
    const { result } = feed(openaiAdapter.createStreamParser(200, {}), [chunk({ content: 'Hi' }), finishChunk('content_filter'), '[DONE]']);
    expect(result).toMatchObject({ finishReason: 'content_filter', errorClass: 'content_filter', text: 'Hi' });
  });

  it('a stream without finish_reason or [DONE] is malformed, whether or not the transport noticed', () => {
    for (const cut of [false, true]) {
      const { result } = feed(openaiAdapter.createStreamParser(200, {}), [chunk({ content: 'Hi' })], cut);
      expect(result).toMatchObject({ finishReason: 'error', errorClass: 'malformed', text: 'Hi' });
    }
  });

  it('an unparseable event makes the stream malformed even if [DONE] follows', () => {
    const { result } = feed(openaiAdapter.createStreamParser(200, {}), [chunk({ content: 'Hi' }), '{"choices":[{"del', finishChunk('stop'), '[DONE]']);
    expect(result.errorClass).toBe('malformed');
  });

  it('an empty stream is malformed', () => {
    expect(feed(openaiAdapter.createStreamParser(200, {}), ['[DONE]']).result.errorClass).toBe('malformed');
  });

  it('an in-stream error object is classified', () => {
    const { result } = feed(openaiAdapter.createStreamParser(200, {}), [
      chunk({ content: 'Hi' }),
      JSON.stringify({ error: { code: 429, message: 'Rate limit exceeded upstream' } }),
    ]);
    expect(result).toMatchObject({ finishReason: 'error', errorClass: 'rate_limited', errorMessage: 'Rate limit exceeded upstream' });
    const overloaded = feed(openaiAdapter.createStreamParser(200, {}), [JSON.stringify({ error: { message: 'The server is overloaded' } })]);
    expect(overloaded.result.errorClass).toBe('overloaded');
  });
});

describe('openai parseResponse errors', () => {
  const err = (code: string | null, message = 'm', type = 'invalid_request_error') =>
    JSON.stringify({ error: { message, type, param: null, code } });

  it('maps statuses to classes', () => {
    const cases: Array<[number, string, string]> = [
      [401, err('invalid_api_key'), 'auth'],
      [403, err('unsupported_country_region_territory'), 'auth'],
      [429, err('rate_limit_exceeded'), 'rate_limited'],
      [429, err('insufficient_quota'), 'rate_limited'],
      [400, err('context_length_exceeded'), 'context_length'],
      [400, err('content_filter'), 'content_filter'],
      [400, err('unsupported_value'), 'bad_request'],
      [404, err('model_not_found'), 'bad_request'],
      [422, err(null), 'bad_request'],
      [500, err(null, 'The server had an error', 'server_error'), 'server_error'],
      [503, err(null, 'That model is currently overloaded with other requests.', 'server_error'), 'overloaded'],
      [503, err(null, 'Service Unavailable', 'server_error'), 'server_error'],
      [502, '<html><head><title>502 Bad Gateway</title></head></html>', 'server_error'],
      [504, 'upstream request timeout', 'server_error'],
      [400, err(null, "This model's maximum context length is 8192 tokens."), 'context_length'],
    ];
    for (const [status, body, cls] of cases) {
      const r = openaiAdapter.parseResponse(status, { 'content-type': 'application/json' }, body);
      expect(r.errorClass, `${status} ${body}`).toBe(cls);
      expect(r.finishReason).toBe('error');
      expect(r.errorMessage).toBeTruthy();
    }
  });

  it('HTML error pages give a short description, not the page', () => {
    const r = openaiAdapter.parseResponse(502, {}, '<html><head><title>502 Bad Gateway</title></head><body>' + 'x'.repeat(5000) + '</body></html>');
    expect(r.errorMessage).toBe('HTTP 502: 502 Bad Gateway');
  });

  it('keeps retry-after and prefers retry-after-ms', () => {
    expect(openaiAdapter.parseResponse(429, { 'retry-after': '20' }, err('rate_limit_exceeded')).retryAfterSec).toBe(20);
    expect(openaiAdapter.parseResponse(429, { 'Retry-After': '20', 'retry-after-ms': '1500' }, err(null)).retryAfterSec).toBe(1.5);
    expect(openaiAdapter.parseResponse(429, {}, err(null)).retryAfterSec).toBeNull();
  });

  it('never echoes a key and caps the message at 200 chars', () => {
    const r = openaiAdapter.parseResponse(401, {}, err('invalid_api_key', 'Incorrect API key provided: sk-proj-abcdef1234567890. You can find your API key at https://platform.openai.com/account/api-keys.'));
    expect(r.errorMessage).not.toContain('abcdef1234567890');
    const long = openaiAdapter.parseResponse(400, {}, err(null, 'x'.repeat(1000)));
    expect(long.errorMessage!.length).toBe(200);
  });

  it('a truncated or HTML 2xx body is malformed', () => {
    expect(openaiAdapter.parseResponse(200, {}, '{"choices": [{"finish_reason"').errorClass).toBe('malformed');
    expect(openaiAdapter.parseResponse(200, {}, '<html>captive portal</html>').errorClass).toBe('malformed');
    expect(openaiAdapter.parseResponse(200, {}, '{}').errorClass).toBe('malformed');
  });

  it('a 200 content_filter finish is a content_filter error', () => {
    const body = JSON.stringify({ model: 'gpt-4o', choices: [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'content_filter' }] });
    expect(openaiAdapter.parseResponse(200, {}, body)).toMatchObject({ finishReason: 'content_filter', errorClass: 'content_filter', text: '' });
  });

  it('tool_calls and unknown finish reasons are not errors', () => {
    const mk = (fr: string) => JSON.stringify({ model: 'm', choices: [{ index: 0, message: { content: '' }, finish_reason: fr }] });
    expect(openaiAdapter.parseResponse(200, {}, mk('tool_calls'))).toMatchObject({ finishReason: 'tool_calls', errorClass: null });
    expect(openaiAdapter.parseResponse(200, {}, mk('eos'))).toMatchObject({ finishReason: 'other', errorClass: null });
  });
});
