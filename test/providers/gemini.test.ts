import { describe, expect, it } from 'vitest';
import { geminiAdapter } from '../../src/providers/gemini.ts';
import { endpoint, feed, spec } from './helpers.ts';

const ep = endpoint({ kind: 'gemini', baseUrl: 'https://generativelanguage.googleapis.com', apiKey: 'AIzaSyTESTKEY0123456789' });
const chunk = (parts: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}, cand: Record<string, unknown> = {}) =>
  JSON.stringify({ candidates: [{ content: { parts, role: 'model' }, index: 0, ...cand }], modelVersion: 'gemini-2.5-flash', ...extra });

describe('gemini buildRequest', () => {
  it('builds generateContent and streamGenerateContent?alt=sse URLs', () => {
    expect(geminiAdapter.buildRequest(spec({ model: 'gemini-2.5-flash' }), ep).url).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent',
    );
    expect(geminiAdapter.buildRequest(spec({ model: 'models/gemini-2.5-flash', stream: true }), ep).url).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    );
    expect(geminiAdapter.buildRequest(spec({ model: 'gemini-2.5-flash' }), { ...ep, apiVersion: 'v1' }).url).toBe(
      'https://generativelanguage.googleapis.com/v1/models/gemini-2.5-flash:generateContent',
    );
    expect(geminiAdapter.buildRequest(spec({ model: 'g' }), { ...ep, baseUrl: 'http://127.0.0.1:9/v1beta/' }).url).toBe(
      'http://127.0.0.1:9/v1beta/models/g:generateContent',
    );
  });

  it('sends the key in x-goog-api-key, never in the URL', () => {
    const req = geminiAdapter.buildRequest(spec({ model: 'gemini-2.5-flash' }), ep);
    expect(req.headers['x-goog-api-key']).toBe('AIzaSyTESTKEY0123456789');
    expect(req.url).not.toContain('AIza');
    expect(req.headers.authorization).toBeUndefined();
  });

  it('maps roles, system instruction and generation config', () => {
    const req = geminiAdapter.buildRequest(
      spec({
        model: 'gemini-2.5-flash',
        temperature: 0,
        messages: [
          { role: 'system', content: 'Be terse.' },
          { role: 'user', content: 'ping' },
          { role: 'assistant', content: 'pong' },
          { role: 'user', content: 'again' },
        ],
      }),
      ep,
    );
    expect(JSON.parse(req.body)).toEqual({
      contents: [
        { role: 'user', parts: [{ text: 'ping' }] },
        { role: 'model', parts: [{ text: 'pong' }] },
        { role: 'user', parts: [{ text: 'again' }] },
      ],
      systemInstruction: { parts: [{ text: 'Be terse.' }] },
      generationConfig: { maxOutputTokens: 5, temperature: 0, thinkingConfig: { thinkingBudget: 0 } },
    });
  });

  it('turns thinking off only for 2.5 Flash models (Pro cannot; older models have none)', () => {
    const thinking = (model: string) =>
      JSON.parse(geminiAdapter.buildRequest(spec({ model }), ep).body).generationConfig.thinkingConfig;
    expect(thinking('gemini-2.5-flash-lite')).toEqual({ thinkingBudget: 0 });
    expect(thinking('gemini-2.5-pro')).toBeUndefined();
    expect(thinking('gemini-2.0-flash')).toBeUndefined();
  });
});

describe('gemini stream parser', () => {
  it('contentDelta fires on the first non-thought text; thought parts are excluded', () => {
    const { deltas, result } = feed(geminiAdapter.createStreamParser(200, {}), [
      chunk([{ text: 'Planning the answer', thought: true }]),
      chunk([{ text: '' }]),
      chunk([{ text: 'po' }]),
      chunk([{ text: 'ng' }], { usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 2, thoughtsTokenCount: 30 } }, { finishReason: 'STOP' }),
    ]);
    expect(deltas).toEqual([false, false, true, false]);
    expect(result).toMatchObject({ text: 'pong', finishReason: 'stop', tokensIn: 4, tokensOut: 2, servedModel: 'gemini-2.5-flash', errorClass: null });
  });

  it('a stream that ends without a finishReason is malformed', () => {
    const { result } = feed(geminiAdapter.createStreamParser(200, {}), [chunk([{ text: 'po' }])]);
    expect(result).toMatchObject({ errorClass: 'malformed', finishReason: 'error', text: 'po' });
  });

  it('maps content-filter finish reasons', () => {
    for (const reason of ['SAFETY', 'RECITATION', 'PROHIBITED_CONTENT', 'BLOCKLIST', 'SPII']) {
      const { result } = feed(geminiAdapter.createStreamParser(200, {}), [chunk([{ text: 'x' }], {}, { finishReason: reason })]);
      expect(result, reason).toMatchObject({ finishReason: 'content_filter', errorClass: 'content_filter' });
    }
    const len = feed(geminiAdapter.createStreamParser(200, {}), [chunk([{ text: 'x' }], {}, { finishReason: 'MAX_TOKENS' })]);
    expect(len.result).toMatchObject({ finishReason: 'length', errorClass: null });
  });

  it('an error object in the stream is classified', () => {
    const { result } = feed(geminiAdapter.createStreamParser(200, {}), [
      chunk([{ text: 'po' }]),
      JSON.stringify({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }),
    ]);
    expect(result).toMatchObject({ errorClass: 'overloaded', finishReason: 'error', text: 'po' });
  });
});

describe('gemini parseResponse', () => {
  const err = (code: number, status: string, message: string, details: unknown[] = []) =>
    JSON.stringify({ error: { code, status, message, details } });

  it('classifies by google.rpc status', () => {
    const cases: Array<[number, string, string]> = [
      [429, err(429, 'RESOURCE_EXHAUSTED', 'quota'), 'rate_limited'],
      [503, err(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'), 'overloaded'],
      [503, err(503, 'UNAVAILABLE', 'The service is currently unavailable.'), 'server_error'],
      [403, err(403, 'PERMISSION_DENIED', 'no'), 'auth'],
      [401, err(401, 'UNAUTHENTICATED', 'no'), 'auth'],
      [
        400,
        err(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
          { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' },
        ]),
        'auth',
      ],
      [400, err(400, 'INVALID_ARGUMENT', 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).'), 'context_length'],
      [400, err(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.'), 'bad_request'],
      [404, err(404, 'NOT_FOUND', 'models/x is not found'), 'bad_request'],
      [500, err(500, 'INTERNAL', 'An internal error has occurred.'), 'server_error'],
      [502, '<html><title>502</title></html>', 'server_error'],
    ];
    for (const [status, body, cls] of cases) {
      const r = geminiAdapter.parseResponse(status, {}, body);
      expect(r.errorClass, body).toBe(cls);
      expect(r.finishReason).toBe('error');
    }
  });

  it('keeps RetryInfo retryDelay, header first', () => {
    const body = err(429, 'RESOURCE_EXHAUSTED', 'quota', [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }]);
    expect(geminiAdapter.parseResponse(429, {}, body).retryAfterSec).toBe(7);
    expect(geminiAdapter.parseResponse(429, { 'retry-after': '2' }, body).retryAfterSec).toBe(2);
  });

  it('folds a non-SSE stream answer (JSON array of chunks)', () => {
    const body = `[${chunk([{ text: 'po' }])},${chunk([{ text: 'ng' }], {}, { finishReason: 'STOP' })}]`;
    expect(geminiAdapter.parseResponse(200, {}, body)).toMatchObject({ text: 'pong', finishReason: 'stop' });
  });

  it('a body with neither candidates nor blockReason is malformed', () => {
    expect(geminiAdapter.parseResponse(200, {}, '{"usageMetadata":{}}').errorClass).toBe('malformed');
  });
});
