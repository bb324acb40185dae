// The simulated gateways: real HTTP fallback, flavour headers, translation, and what they must NOT fail over on.
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SimFleet } from '../../src/sim/index.ts';
import { fastFleet, parseSse, raw } from './helpers.ts';

let fleet: SimFleet;
beforeAll(async () => {
  fleet = await fastFleet();
});
afterAll(async () => {
  await fleet.close();
});
beforeEach(() => {
  fleet.reset();
});

const AUTH = { authorization: 'Bearer sk-gateway' };
const chat = (extra: Record<string, unknown> = {}) => ({ model: 'smart', messages: [{ role: 'user', content: 'Reply with the single word: pong' }], ...extra });
const post = (url: string, body: unknown, headers: Record<string, string> = {}) => raw(`${url}/v1/chat/completions`, { headers: { ...AUTH, ...headers }, body });

describe('litellm flavour', () => {
  it('serves from the primary with its headers and translates Anthropic to OpenAI', async () => {
    const r = await post(fleet.urls.litellm, chat());
    expect(r.status).toBe(200);
    expect(r.headers['x-litellm-model-id']).toBe('anthropic-claude');
    expect(r.headers['x-litellm-attempted-fallbacks']).toBe('0');
    expect(r.headers['x-litellm-attempted-retries']).toBe('0');
    expect(r.headers['x-litellm-model-api-base']).toBe(fleet.urls.anthropic);
    expect(r.headers['llm_provider-request-id']).toMatch(/^req_011C/);
    const j = JSON.parse(r.body);
    expect(j).toMatchObject({ object: 'chat.completion', model: 'claude-sonnet-4-5-20250929' });
    expect(j.choices[0]).toMatchObject({ finish_reason: 'stop', message: { role: 'assistant', content: 'pong' } });
    expect(j.usage.completion_tokens).toBe(1);
  });

  it('falls back on a 429 from the primary to the secondary', async () => {
    fleet.anthropic.addBurst({ kind: 'rate_limited', ratio: 1 });
    const r = await post(fleet.urls.litellm, chat());
    expect(r.status).toBe(200);
    expect(r.headers['x-litellm-model-id']).toBe('openai-gpt');
    expect(r.headers['x-litellm-attempted-fallbacks']).toBe('1');
    expect(r.headers['x-litellm-model-api-base']).toBe(fleet.urls.openai);
    expect(JSON.parse(r.body).model).toBe('gpt-4o-mini-2024-07-18');
    const rec = fleet.litellm.requests().at(-1)!;
    expect(rec.gateway!.servedTarget).toBe(1);
    expect(rec.gateway!.attempts.map((a) => a.status)).toEqual([429, 200]);
    expect(rec.gateway!.attempts[1].upstreamRequestId).toBe(r.headers['x-sim-upstream-request-id']);
  });

  it('falls back on 529, 5xx and a reset, streaming too, down to the third target', async () => {
    fleet.anthropic.addBurst({ kind: 'overloaded', ratio: 1 });
    fleet.openai.addBurst({ kind: 'reset', ratio: 1 });
    const r = await post(fleet.urls.litellm, chat({ stream: true, stream_options: { include_usage: true } }));
    expect(r.status).toBe(200);
    expect(r.headers['x-litellm-model-id']).toBe('vertex-gemini');
    expect(r.headers['x-litellm-attempted-fallbacks']).toBe('2');
    const events = parseSse(r.body);
    expect(events.at(-1)!.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('pong');
    expect(chunks.at(-1).usage.completion_tokens).toBe(1);
    expect(chunks[0].model).toBe('gemini-2.5-flash');
    const attempts = fleet.litellm.requests().at(-1)!.gateway!.attempts;
    expect(attempts.map((a) => [a.status, a.error])).toEqual([[529, null], [null, 'reset'], [200, null]]);
  });

  it('does not fall back on a mid-stream cut: the client sees an error event, no [DONE]', async () => {
    fleet.anthropic.addBurst({ kind: 'cut_stream', ratio: 1 });
    const openaiBefore = fleet.openai.lastSeq;
    const r = await post(fleet.urls.litellm, chat({ stream: true, messages: [{ role: 'user', content: 'Say hello' }] }));
    expect(r.status).toBe(200);
    expect(r.headers['x-litellm-model-id']).toBe('anthropic-claude');
    const events = parseSse(r.body);
    expect(events.some((e) => e.data === '[DONE]')).toBe(false);
    expect(JSON.parse(events.at(-1)!.data).error.message).toMatch(/MidStreamFallbackError/);
    expect(fleet.openai.lastSeq).toBe(openaiBefore);
  });

  it('does not fall back on a 200 content_filter', async () => {
    fleet.anthropic.addBurst({ kind: 'content_filter', ratio: 1 });
    const r = await post(fleet.urls.litellm, chat());
    expect(r.status).toBe(200);
    expect(r.headers['x-litellm-model-id']).toBe('anthropic-claude');
    expect(JSON.parse(r.body).choices[0].finish_reason).toBe('content_filter');
  });

  it('retries on the same target before falling back', async () => {
    fleet.gatewayConfig('litellm').retries = 1;
    fleet.anthropic.addBurst({ kind: 'server_error', ratio: 1, count: 1 });
    const r = await post(fleet.urls.litellm, chat());
    expect(r.headers['x-litellm-model-id']).toBe('anthropic-claude');
    expect(r.headers['x-litellm-attempted-retries']).toBe('1');
  });

  it('mock_testing_fallbacks skips the primary without calling it', async () => {
    const before = fleet.anthropic.lastSeq;
    const r = await post(fleet.urls.litellm, chat({ mock_testing_fallbacks: true }));
    expect(r.headers['x-litellm-model-id']).toBe('openai-gpt');
    expect(r.headers['x-litellm-attempted-fallbacks']).toBe('1');
    expect(fleet.anthropic.lastSeq).toBe(before);
  });

  it('returns the last error when every target fails', async () => {
    for (const s of [fleet.openai, fleet.anthropic, fleet.gemini]) s.addBurst({ kind: 'rate_limited', ratio: 1 });
    const r = await post(fleet.urls.litellm, chat());
    expect(r.status).toBe(429);
    const e = JSON.parse(r.body).error;
    expect(e.code).toBe('429');
    expect(e.message).toMatch(/^litellm\.RateLimitError: GeminiException - /);
  });

  it('falls back on a refused connection and on an upstream timeout', async () => {
    const dead = net.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as net.AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const cfg = fleet.gatewayConfig('litellm');
    cfg.targets = [{ provider: 'openai', model: 'gpt-4o-mini', id: 'dead', baseUrl: `http://127.0.0.1:${port}` }, { provider: 'gemini', model: 'gemini-2.5-flash', id: 'g' }];
    const refused = await post(fleet.urls.litellm, chat());
    expect(refused.headers['x-litellm-model-id']).toBe('g');
    expect(fleet.litellm.requests().at(-1)!.gateway!.attempts[0].error).toBe('connect');

    cfg.targets = [{ provider: 'openai', model: 'gpt-4o-mini', id: 'slow' }, { provider: 'gemini', model: 'gemini-2.5-flash', id: 'g' }];
    cfg.upstreamTimeoutMs = 200;
    fleet.openai.addBurst({ kind: 'timeout', ratio: 1, count: 1 });
    const timedOut = await post(fleet.urls.litellm, chat());
    expect(timedOut.status).toBe(200);
    expect(timedOut.headers['x-litellm-model-id']).toBe('g');
    expect(timedOut.totalMs).toBeGreaterThanOrEqual(190);
    expect(timedOut.totalMs).toBeLessThan(900);
    expect(fleet.litellm.requests().at(-1)!.gateway!.attempts[0].error).toBe('timeout');
  });
});

describe('portkey flavour', () => {
  it('falls back from an Anthropic 529 with Portkey headers', async () => {
    fleet.anthropic.addBurst({ kind: 'overloaded', ratio: 1 });
    const r = await post(fleet.urls.portkey, chat());
    expect(r.status).toBe(200);
    expect(r.headers['x-portkey-last-used-option-index']).toBe('config.targets[1]');
    expect(r.headers['x-portkey-provider']).toBe('openai');
    expect(r.headers['x-portkey-retry-attempt-count']).toBe('0');
    expect(r.headers['x-portkey-cache-status']).toBe('DISABLED');
    // Portkey passes OpenAI bodies and headers through.
    expect(r.headers['openai-version']).toBe('2020-10-01');
    expect(JSON.parse(r.body).model).toBe('gpt-4o-mini-2024-07-18');
  });

  it('translates Anthropic like the recorded gateway (provider field, message id)', async () => {
    const r = await post(fleet.urls.portkey, chat());
    expect(r.headers['x-portkey-last-used-option-index']).toBe('config.targets[0]');
    expect(r.headers['x-portkey-provider']).toBe('anthropic');
    const j = JSON.parse(r.body);
    expect(j.provider).toBe('anthropic');
    expect(j.id).toMatch(/^msg_01/);
    expect(Object.keys(j)).toEqual(['id', 'object', 'created', 'model', 'provider', 'choices', 'usage']);
  });

  it('falls back on any non-2xx, including a 400', async () => {
    fleet.anthropic.addBurst({ kind: 'bad_request', ratio: 1 });
    const r = await post(fleet.urls.portkey, chat());
    expect(r.headers['x-portkey-last-used-option-index']).toBe('config.targets[1]');
  });

  it('a mid-stream cut is a truncated "success": 200, no error, no [DONE], no fallback', async () => {
    fleet.anthropic.addBurst({ kind: 'cut_stream', ratio: 1 });
    const r = await post(fleet.urls.portkey, chat({ stream: true, messages: [{ role: 'user', content: 'Say hello' }] }));
    expect(r.status).toBe(200);
    expect(r.error).toBeNull();
    expect(r.headers['x-portkey-last-used-option-index']).toBe('config.targets[0]');
    const events = parseSse(r.body);
    expect(events.length).toBeGreaterThan(1);
    expect(events.some((e) => e.data === '[DONE]' || e.data.includes('"error"'))).toBe(false);
  });

  it('wraps the last error when all targets fail', async () => {
    fleet.gatewayConfig('portkey').targets = [{ provider: 'openai', model: 'gpt-4o-mini' }, { provider: 'anthropic', model: 'claude-haiku-4-5' }];
    fleet.openai.addBurst({ kind: 'rate_limited', ratio: 1 });
    fleet.anthropic.addBurst({ kind: 'rate_limited', ratio: 1 });
    const r = await post(fleet.urls.portkey, chat());
    expect(r.status).toBe(429);
    expect(r.headers['x-portkey-last-used-option-index']).toBe('config.targets[1]');
    const j = JSON.parse(r.body);
    expect(j.provider).toBe('anthropic');
    expect(j.error.message).toMatch(/^anthropic error: This request would exceed the rate limit/);
  });

  it('reports a single target as "config" and maps Gemini to "google"', async () => {
    fleet.gatewayConfig('portkey').targets = [{ provider: 'gemini', model: 'gemini-2.5-flash' }];
    const r = await post(fleet.urls.portkey, chat());
    expect(r.headers['x-portkey-last-used-option-index']).toBe('config');
    expect(r.headers['x-portkey-provider']).toBe('google');
    expect(JSON.parse(r.body).model).toBe('gemini-2.5-flash');
  });
});

describe('portkey x-portkey-config header', () => {
  it('drives targets, custom_host and on_status_codes like the real gateway', async () => {
    fleet.anthropic.addBurst({ kind: 'overloaded', ratio: 1 });
    const config = {
      strategy: { mode: 'fallback' },
      targets: [
        { provider: 'anthropic', api_key: 'sk-ant', custom_host: `${fleet.urls.anthropic}/v1`, override_params: { model: 'claude-haiku-4-5' } },
        { provider: 'openai', api_key: 'sk-oa', custom_host: `${fleet.urls.openai}/v1`, override_params: { model: 'gpt-4o-mini' } },
      ],
    };
    const r = await post(fleet.urls.portkey, chat(), { 'x-portkey-config': JSON.stringify(config) });
    expect(r.status).toBe(200);
    expect(r.headers['x-portkey-last-used-option-index']).toBe('config.targets[1]');
    expect(r.headers['x-portkey-provider']).toBe('openai');
    expect(fleet.anthropic.requests().at(-1)!.model).toBe('claude-haiku-4-5');
    // on_status_codes: a 529 not in the list is returned, not failed over.
    const strict = { ...config, strategy: { mode: 'fallback', on_status_codes: [429] } };
    const r2 = await post(fleet.urls.portkey, chat(), { 'x-portkey-config': JSON.stringify(strict) });
    expect(r2.status).toBe(529);
    expect(JSON.parse(r2.body)).toMatchObject({ provider: 'anthropic', error: { message: 'anthropic error: Overloaded', type: 'overloaded_error' } });
    const bad = await post(fleet.urls.portkey, chat(), { 'x-portkey-config': '{nope' });
    expect(bad.status).toBe(400);
  });
});

describe('gateway itself', () => {
  it('requires a key and can be faulted on its own', async () => {
    const none = await raw(`${fleet.urls.litellm}/v1/chat/completions`, { body: chat() });
    expect(none.status).toBe(401);
    fleet.portkey.addBurst({ kind: 'server_error', ratio: 1, count: 1 });
    const before = fleet.anthropic.lastSeq;
    expect((await post(fleet.urls.portkey, chat())).status).toBe(500);
    expect(fleet.anthropic.lastSeq).toBe(before);
  });

  it('forwards x-vigil-* headers so drill faults can be scoped', async () => {
    fleet.anthropic.addBurst({ kind: 'overloaded', ratio: 1, match: { header: 'x-vigil-drill' } });
    const plain = await post(fleet.urls.litellm, chat());
    expect(plain.headers['x-litellm-model-id']).toBe('anthropic-claude');
    const drill = await post(fleet.urls.litellm, chat(), { 'x-vigil-drill': 'primary-down' });
    expect(drill.headers['x-litellm-model-id']).toBe('openai-gpt');
  });
});
