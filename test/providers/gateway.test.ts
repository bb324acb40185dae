import { describe, expect, it } from 'vitest';
import { gatewayAdapter } from '../../src/providers/gateway.ts';
import { openaiAdapter } from '../../src/providers/openai.ts';
import { endpoint, feed, spec } from './helpers.ts';

const okBody = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'gpt-4o-mini', choices: [{ index: 0, message: { content: 'pong' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1 }, ...extra });

describe('gateway adapter', () => {
  it('builds the same request as OpenAI', () => {
    const s = spec({ model: 'anthropic/claude-haiku-4-5', stream: true });
    const ep = endpoint({ kind: 'gateway', baseUrl: 'http://127.0.0.1:4000' });
    expect(gatewayAdapter.buildRequest(s, ep)).toEqual(openaiAdapter.buildRequest(s, ep));
  });

  it('reads LiteLLM routing headers and keeps only known gateway headers in raw', () => {
    const headers = {
      'content-type': 'application/json',
      'x-litellm-model-id': 'b7d1e6c2',
      'x-litellm-model-api-base': 'https://user:hunter2@example-azure.openai.azure.com',
      'x-litellm-attempted-fallbacks': '1',
      'x-litellm-attempted-retries': '2',
      'x-litellm-key-spend': '0.01',
      authorization: 'Bearer sk-litellm-SECRET',
      'set-cookie': 'session=abc',
    };
    const r = gatewayAdapter.parseResponse(200, headers, okBody());
    expect(r).toMatchObject({ text: 'pong', finishReason: 'stop', errorClass: null });
    expect(r.gateway).toEqual({
      servedBy: 'b7d1e6c2',
      provider: null,
      attemptedFallbacks: 1,
      retryAttempts: 2,
      raw: {
        'x-litellm-model-id': 'b7d1e6c2',
        'x-litellm-model-api-base': 'https://example-azure.openai.azure.com',
        'x-litellm-attempted-fallbacks': '1',
        'x-litellm-attempted-retries': '2',
      },
    });
    expect(JSON.stringify(r.gateway)).not.toMatch(/SECRET|hunter2|session/);
  });

  it('reads Portkey headers; the body provider is the fallback', () => {
    const r = gatewayAdapter.parseResponse(
      200,
      { 'x-portkey-last-used-option-index': 'config.targets[1]', 'x-portkey-retry-attempt-count': '3', 'x-portkey-trace-id': '' },
      okBody({ provider: 'openai' }),
    );
    expect(r.gateway).toMatchObject({ servedBy: 'config.targets[1]', provider: 'openai', retryAttempts: 3, attemptedFallbacks: null });
    // Empty headers carry nothing and are not kept.
    expect(r.gateway!.raw).toEqual({ 'x-portkey-last-used-option-index': 'config.targets[1]', 'x-portkey-retry-attempt-count': '3' });
  });

  it('OpenRouter errors: upstream provider and its message from error.metadata', () => {
    const body = JSON.stringify({
      error: { code: 429, message: 'Provider returned error', metadata: { provider_name: 'Google', raw: 'gemini is temporarily rate-limited upstream' } },
    });
    const r = gatewayAdapter.parseResponse(429, {}, body);
    expect(r).toMatchObject({ errorClass: 'rate_limited', errorMessage: 'Provider returned error: gemini is temporarily rate-limited upstream' });
    expect(r.gateway!.provider).toBe('Google');
  });

  it('classifies wrapped "openai error:" messages by status', () => {
    const body = JSON.stringify({ error: { message: 'openai error: The server had an error', type: 'server_error' }, provider: 'openai' });
    const r = gatewayAdapter.parseResponse(500, { 'x-portkey-provider': 'openai' }, body);
    expect(r).toMatchObject({ errorClass: 'server_error', finishReason: 'error' });
    expect(r.gateway!.provider).toBe('openai');
  });

  it('streams: records the body provider (OpenRouter chunks) and keeps TTFT semantics', () => {
    const c = (delta: Record<string, unknown>, fr: string | null = null) =>
      JSON.stringify({ model: 'openai/gpt-4o-mini', provider: 'OpenAI', choices: [{ index: 0, delta, finish_reason: fr }] });
    const { deltas, result } = feed(gatewayAdapter.createStreamParser(200, { 'x-litellm-model-id': 'm1' }), [
      c({ role: 'assistant', content: '' }),
      c({ content: 'pong' }),
      c({}, 'stop'),
      '[DONE]',
    ]);
    expect(deltas).toEqual([false, true, false, false]);
    expect(result).toMatchObject({ text: 'pong', finishReason: 'stop', errorClass: null });
    expect(result.gateway).toMatchObject({ servedBy: 'm1', provider: 'OpenAI' });
  });

  it('a cut gateway stream (Portkey mid-stream failure: 200 without [DONE]) is malformed, never success', () => {
    const { result } = feed(gatewayAdapter.createStreamParser(200, {}), [
      JSON.stringify({ model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content: 'po' }, finish_reason: null }] }),
    ]);
    expect(result).toMatchObject({ errorClass: 'malformed', finishReason: 'error', text: 'po' });
    expect(result.gateway).not.toBeNull();
  });

  it('OpenRouter finish_reason error mid-stream is an error', () => {
    const { result } = feed(gatewayAdapter.createStreamParser(200, {}), [
      JSON.stringify({ model: 'm', choices: [{ index: 0, delta: { content: 'po' }, finish_reason: null }] }),
      JSON.stringify({ model: 'm', error: { code: 502, message: 'Provider disconnected' }, choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error' }] }),
    ]);
    expect(result).toMatchObject({ errorClass: 'server_error', finishReason: 'error', errorMessage: 'Provider disconnected' });
  });
});
