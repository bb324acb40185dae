// Success paths of each provider, parsed with plain code: the fields a client must extract.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimFleet } from '../../src/sim/index.ts';
import { AUTH, anthropicMsg, fastFleet, geminiBody, openaiChat, parseSse, raw } from './helpers.ts';

let fleet: SimFleet;
beforeAll(async () => {
  fleet = await fastFleet();
});
afterAll(async () => {
  await fleet.close();
});

describe('openai', () => {
  const url = () => `${fleet.urls.openai}/v1/chat/completions`;

  it('answers a non-stream chat completion', async () => {
    const r = await raw(url(), { headers: AUTH.openai, body: openaiChat() });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.body));
    expect(r.headers['x-request-id']).toMatch(/^req_[0-9a-f]{32}$/);
    expect(r.headers['x-sim-request-id']).toMatch(/^openai-\d+$/);
    const j = JSON.parse(r.body);
    expect(j.object).toBe('chat.completion');
    expect(j.id).toMatch(/^chatcmpl-[A-Za-z0-9]{29}$/);
    expect(j.model).toBe('gpt-4o-mini-2024-07-18');
    expect(j.system_fingerprint).toBe('fp_4f5f0b399a');
    expect(j.choices[0].message).toEqual({ role: 'assistant', content: 'pong', refusal: null, annotations: [] });
    expect(j.choices[0].finish_reason).toBe('stop');
    expect(j.usage.completion_tokens).toBe(1);
    expect(j.usage.total_tokens).toBe(j.usage.prompt_tokens + 1);
  });

  it('streams chunks with a final include_usage chunk and [DONE]', async () => {
    const body = openaiChat({ stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Say hello' }] });
    const r = await raw(url(), { headers: AUTH.openai, body });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const events = parseSse(r.body);
    expect(events.at(-1)!.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '', refusal: null });
    for (const c of chunks) {
      expect(c.object).toBe('chat.completion.chunk');
      expect(c.model).toBe('gpt-4o-mini-2024-07-18');
      expect(c.system_fingerprint).toBe('fp_4f5f0b399a');
      expect(c).toHaveProperty('usage');
    }
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    const usage = chunks.at(-1);
    expect(usage.choices).toEqual([]);
    expect(usage.usage.completion_tokens).toBe(text.split(' ').length);
    expect(chunks.at(-2).choices[0].finish_reason).toBe('stop');
    expect(text.length).toBeGreaterThan(5);
  });

  it('omits usage without include_usage and honours max_completion_tokens', async () => {
    const body = openaiChat({ stream: true, max_completion_tokens: 2, messages: [{ role: 'user', content: 'Say hello' }] });
    const r = await raw(url(), { headers: AUTH.openai, body });
    const chunks = parseSse(r.body).slice(0, -1).map((e) => JSON.parse(e.data));
    for (const c of chunks) expect(c).not.toHaveProperty('usage');
    expect(chunks.filter((c) => c.choices[0].delta.content).length).toBe(2);
    expect(chunks.at(-1).choices[0].finish_reason).toBe('length');
    const nonStream = await raw(url(), { headers: AUTH.openai, body: openaiChat({ max_tokens: 1, messages: [{ role: 'user', content: 'Say hello' }] }) });
    expect(JSON.parse(nonStream.body).choices[0].finish_reason).toBe('length');
  });

  it('lists and retrieves models in the real shape', async () => {
    const list = await raw(`${fleet.urls.openai}/v1/models`, { headers: AUTH.openai });
    const j = JSON.parse(list.body);
    expect(j.object).toBe('list');
    expect(Object.keys(j.data[0]).sort()).toEqual(['created', 'id', 'object', 'owned_by', 'shutdown_date']);
    const one = await raw(`${fleet.urls.openai}/v1/models/gpt-4o-mini`, { headers: AUTH.openai });
    expect(JSON.parse(one.body).id).toBe('gpt-4o-mini');
    const missing = await raw(`${fleet.urls.openai}/v1/models/nope`, { headers: AUTH.openai });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).error.code).toBe('model_not_found');
  });

  it('requires a key, and the configured one', async () => {
    const none = await raw(url(), { body: openaiChat() });
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body).error.message).toMatch(/didn't provide an API key/);
    fleet.openai.behaviour.apiKey = 'sk-right';
    try {
      const wrong = await raw(url(), { headers: AUTH.openai, body: openaiChat() });
      expect(wrong.status).toBe(401);
      const e = JSON.parse(wrong.body).error;
      expect(e).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key', param: null });
      expect(e.message).toContain('sk-test-****123');
      expect(wrong.body).toMatch(/^\{\n {4}"error"/); // OpenAI's 4-space error bodies
      const right = await raw(url(), { headers: { authorization: 'Bearer sk-right' }, body: openaiChat() });
      expect(right.status).toBe(200);
    } finally {
      fleet.openai.behaviour.apiKey = null;
    }
  });
});

describe('anthropic', () => {
  const url = () => `${fleet.urls.anthropic}/v1/messages`;

  it('answers a non-stream message', async () => {
    const r = await raw(url(), { headers: AUTH.anthropic, body: anthropicMsg() });
    expect(r.status).toBe(200);
    expect(r.headers['request-id']).toMatch(/^req_011C[A-Za-z0-9]{20}$/);
    expect(r.headers['anthropic-ratelimit-requests-remaining']).toBeDefined();
    const j = JSON.parse(r.body);
    expect(j).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', stop_reason: 'end_turn', stop_sequence: null });
    expect(j.id).toMatch(/^msg_01[A-Za-z0-9]{22}$/);
    expect(j.content).toEqual([{ type: 'text', text: 'pong' }]);
    expect(j.usage.output_tokens).toBe(1);
    expect(j.usage.input_tokens).toBeGreaterThan(0);
  });

  it('streams the full event sequence', async () => {
    const r = await raw(url(), { headers: AUTH.anthropic, body: anthropicMsg({ stream: true, messages: [{ role: 'user', content: 'Say hello' }] }) });
    expect(r.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const events = parseSse(r.body);
    const types = events.map((e) => e.event);
    expect(types.slice(0, 3)).toEqual(['message_start', 'content_block_start', 'ping']);
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    for (const e of events) expect(JSON.parse(e.data).type).toBe(e.event);
    const start = JSON.parse(events[0].data).message;
    expect(start.model).toBe('claude-sonnet-4-5-20250929');
    const deltas = events.filter((e) => e.event === 'content_block_delta').map((e) => JSON.parse(e.data).delta.text);
    const md = JSON.parse(events.at(-2)!.data);
    expect(md.delta.stop_reason).toBe('end_turn');
    expect(md.usage.output_tokens).toBe(deltas.length);
  });

  it('maps max_tokens to stop_reason max_tokens', async () => {
    const r = await raw(url(), { headers: AUTH.anthropic, body: anthropicMsg({ max_tokens: 2, messages: [{ role: 'user', content: 'Say hello' }] }) });
    expect(JSON.parse(r.body).stop_reason).toBe('max_tokens');
  });

  it('checks x-api-key and anthropic-version', async () => {
    const noKey = await raw(url(), { headers: { 'anthropic-version': '2023-06-01' }, body: anthropicMsg() });
    expect(noKey.status).toBe(401);
    expect(JSON.parse(noKey.body).error.type).toBe('authentication_error');
    const noVersion = await raw(url(), { headers: { 'x-api-key': 'k' }, body: anthropicMsg() });
    expect(noVersion.status).toBe(400);
    expect(JSON.parse(noVersion.body).error.message).toMatch(/anthropic-version/);
    fleet.anthropic.behaviour.apiKey = 'right';
    try {
      const wrong = await raw(url(), { headers: AUTH.anthropic, body: anthropicMsg() });
      expect(wrong.status).toBe(401);
      expect(JSON.parse(wrong.body)).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
      expect(wrong.headers['x-should-retry']).toBe('false');
    } finally {
      fleet.anthropic.behaviour.apiKey = null;
    }
  });

  it('lists models in the real shape', async () => {
    const r = await raw(`${fleet.urls.anthropic}/v1/models?limit=2`, { headers: AUTH.anthropic });
    const j = JSON.parse(r.body);
    expect(j.data).toHaveLength(2);
    expect(j.has_more).toBe(true);
    expect(j.first_id).toBe(j.data[0].id);
    expect(Object.keys(j.data[0]).sort()).toEqual(['created_at', 'display_name', 'id', 'max_input_tokens', 'max_tokens', 'type']);
  });
});

describe('gemini', () => {
  const url = (m = 'gemini-2.5-flash', method = 'generateContent') => `${fleet.urls.gemini}/v1beta/models/${m}:${method}`;

  it('answers generateContent', async () => {
    const r = await raw(url(), { headers: AUTH.gemini, body: geminiBody() });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=UTF-8');
    const j = JSON.parse(r.body);
    expect(j.candidates[0].content).toEqual({ parts: [{ text: 'pong' }], role: 'model' });
    expect(j.candidates[0].finishReason).toBe('STOP');
    expect(j.modelVersion).toBe('gemini-2.5-flash');
    expect(j.usageMetadata.candidatesTokenCount).toBe(1);
    expect(j.usageMetadata.totalTokenCount).toBe(j.usageMetadata.promptTokenCount + 1);
  });

  it('accepts the key as ?key= and streams with CRLF framing', async () => {
    const r = await raw(`${url('gemini-2.5-flash', 'streamGenerateContent')}?alt=sse&key=AIza-test`, {
      body: geminiBody({ contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }] }),
    });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/event-stream');
    expect(r.body).toContain('\r\n\r\n');
    expect(r.body).not.toMatch(/[^\r]\n\n/);
    const chunks = parseSse(r.body).map((e) => JSON.parse(e.data));
    const text = chunks.map((c) => c.candidates[0].content.parts[0].text).join('');
    expect(text.length).toBeGreaterThan(5);
    expect(chunks.at(-1).candidates[0].finishReason).toBe('STOP');
    expect(chunks.at(-1).usageMetadata.candidatesTokenCount).toBe(chunks.length);
    for (const c of chunks.slice(0, -1)) expect(c.candidates[0].finishReason).toBeUndefined();
  });

  it('streams a JSON array without alt=sse', async () => {
    const r = await raw(url('gemini-2.5-flash', 'streamGenerateContent'), { headers: AUTH.gemini, body: geminiBody() });
    const arr = JSON.parse(r.body);
    expect(Array.isArray(arr)).toBe(true);
    expect(arr.at(-1).candidates[0].finishReason).toBe('STOP');
  });

  it('maps maxOutputTokens to MAX_TOKENS and reports modelStatus when configured', async () => {
    fleet.gemini.behaviour.modelStatus = { 'gemini-2.0-flash': { modelStage: 'LEGACY', retirementTime: '2026-06-17T00:00:00Z' } };
    try {
      const r = await raw(url('gemini-2.0-flash'), { headers: AUTH.gemini, body: geminiBody({ contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }], generationConfig: { maxOutputTokens: 2 } }) });
      const j = JSON.parse(r.body);
      expect(j.candidates[0].finishReason).toBe('MAX_TOKENS');
      expect(j.modelStatus).toEqual({ modelStage: 'LEGACY', retirementTime: '2026-06-17T00:00:00Z' });
    } finally {
      fleet.gemini.behaviour.modelStatus = {};
    }
  });

  it('requires a key; a wrong key gets API_KEY_INVALID', async () => {
    const none = await raw(url(), { body: geminiBody() });
    expect(none.status).toBe(403);
    expect(JSON.parse(none.body).error.status).toBe('PERMISSION_DENIED');
    fleet.gemini.behaviour.apiKey = 'right';
    try {
      const wrong = await raw(url(), { headers: AUTH.gemini, body: geminiBody() });
      expect(wrong.status).toBe(400);
      expect(JSON.parse(wrong.body).error.details[0].reason).toBe('API_KEY_INVALID');
    } finally {
      fleet.gemini.behaviour.apiKey = null;
    }
  });

  it('lists models', async () => {
    const r = await raw(`${fleet.urls.gemini}/v1beta/models`, { headers: AUTH.gemini });
    const j = JSON.parse(r.body);
    expect(j.models.map((m: { name: string }) => m.name)).toContain('models/gemini-2.5-flash');
    expect(j.models[0].supportedGenerationMethods).toContain('generateContent');
  });
});
