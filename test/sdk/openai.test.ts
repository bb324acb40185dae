// The official `openai` SDK against the simulator's OpenAI server: unary and streaming calls succeed with the
// SDK's own types, and every simulated fault surfaces the way the SDK surfaces it against the real API (the
// typed error its README documents for that status; connection errors; what it does with a broken body).
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openaiError } from '../../src/sim/index.ts';
import type { SimFleet } from '../../src/sim/index.ts';
import { CALL_TIMEOUT_MS, HANG_TIMEOUT_MS, PROMPT, STATUS_FAULTS, drain, inject, loopback, startFleet, thrown } from './helpers.ts';
import type { ErrorClass } from './helpers.ts';

/** The SDK's documented status → error class table (openai-node README, "Handling errors"). */
function classFor(status: number): ErrorClass {
  if (status === 400) return OpenAI.BadRequestError;
  if (status === 401) return OpenAI.AuthenticationError;
  if (status === 403) return OpenAI.PermissionDeniedError;
  if (status === 404) return OpenAI.NotFoundError;
  if (status === 422) return OpenAI.UnprocessableEntityError;
  if (status === 429) return OpenAI.RateLimitError;
  if (status >= 500) return OpenAI.InternalServerError;
  return OpenAI.APIError;
}

let fleet: SimFleet;
let client: OpenAI;
let hasty: OpenAI;
const make = (timeout: number, apiKey = 'sk-test-key-123') =>
  new OpenAI({ apiKey, baseURL: loopback(`${fleet.urls.openai}/v1`), maxRetries: 0, timeout });

beforeAll(async () => {
  fleet = await startFleet();
  client = make(CALL_TIMEOUT_MS);
  hasty = make(HANG_TIMEOUT_MS);
});
afterAll(() => fleet?.close());
afterEach(() => fleet.reset());

const unary = (c = client) => c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }], max_tokens: 5 });
const stream = async (c = client) => {
  const s = await c.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: PROMPT }],
    max_tokens: 5,
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = await drain(s);
  return {
    text: chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''),
    finish: chunks.map((c) => c.choices[0]?.finish_reason).find(Boolean) ?? null,
    chunks,
  };
};

describe('openai SDK against vigil sim', () => {
  it('unary: typed completion with the served snapshot, fingerprint and usage', async () => {
    const { data, response } = await unary().withResponse();
    expect(response.status).toBe(200);
    expect(data.object).toBe('chat.completion');
    expect(data.model).toBe('gpt-4o-mini-2024-07-18');
    expect(data.system_fingerprint).toMatch(/^fp_/);
    expect(data.choices[0].message.content?.toLowerCase()).toContain('pong');
    expect(data.choices[0].finish_reason).toBe('stop');
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('streaming: deltas assemble to the answer, with a finish reason and a usage chunk', async () => {
    const r = await stream();
    expect(r.text.toLowerCase()).toContain('pong');
    expect(r.finish).toBe('stop');
    expect(r.chunks.at(-1)?.usage?.total_tokens).toBeGreaterThan(0);
    expect(r.chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
  });

  it('lists models and retrieves one', async () => {
    const ids = (await drain(client.models.list())).map((m) => m.id);
    expect(ids).toContain('gpt-4o-mini');
    expect((await client.models.retrieve('gpt-4o-mini')).id).toBe('gpt-4o-mini');
  });

  it('a wrong key is an AuthenticationError; an unknown model a NotFoundError', async () => {
    fleet.openai.behaviour.apiKey = 'sk-right';
    const err = await thrown(() => unary(make(CALL_TIMEOUT_MS, 'sk-wrong')));
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((await unary(make(CALL_TIMEOUT_MS, 'sk-right'))).choices[0].finish_reason).toBe('stop');
    fleet.openai.behaviour.apiKey = null;
    fleet.openai.behaviour.unknownModel = 'not_found';
    const nf = await thrown(() => client.chat.completions.create({ model: 'gpt-nope', messages: [{ role: 'user', content: PROMPT }] }));
    expect(nf).toBeInstanceOf(OpenAI.NotFoundError);
  });

  for (const kind of STATUS_FAULTS) {
    for (const mode of ['unary', 'stream'] as const) {
      // An in-stream error comes after a 200: no status, the SDK's base APIError.
      if (kind === 'stream_error' && mode === 'stream') continue;
      it(`${kind} (${mode}) raises the SDK's error class for HTTP ${openaiError(kind).status}`, async () => {
        inject(fleet.openai, kind);
        const err = await thrown(() => (mode === 'unary' ? unary() : stream()));
        const status = openaiError(kind).status;
        expect(err).toBeInstanceOf(classFor(status));
        expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(status);
        expect((err as InstanceType<typeof OpenAI.APIError>).requestID).toMatch(/^req_/);
      });
    }
  }

  it('stream_error mid-stream raises APIError carrying the provider message', async () => {
    inject(fleet.openai, 'stream_error');
    const err = await thrown(() => stream());
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err).not.toBeInstanceOf(OpenAI.APIConnectionError);
    expect(String((err as Error).message)).toMatch(/server had an error/);
  });

  for (const mode of ['unary', 'stream'] as const) {
    it(`timeout (${mode}) raises APIConnectionTimeoutError; reset raises APIConnectionError`, async () => {
      inject(fleet.openai, 'timeout');
      expect(await thrown(() => (mode === 'unary' ? unary(hasty) : stream(hasty)))).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
      inject(fleet.openai, 'reset');
      const reset = await thrown(() => (mode === 'unary' ? unary() : stream()));
      expect(reset).toBeInstanceOf(OpenAI.APIConnectionError);
      expect(reset).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    });
  }

  // Faults inside a 200 body: what the SDK does with them is why Vigil's adapters read the raw protocol.
  it('a broken body: malformed JSON raises SyntaxError; a cut body escapes as the HTTP client\'s TypeError', async () => {
    inject(fleet.openai, 'malformed_json');
    expect(await thrown(() => unary())).toBeInstanceOf(SyntaxError);
    expect(await thrown(() => stream())).toBeInstanceOf(SyntaxError);
    inject(fleet.openai, 'cut_stream');
    const cut = await thrown(() => stream());
    expect(cut).toBeInstanceOf(TypeError);
    expect(cut).not.toBeInstanceOf(OpenAI.APIError);
  });

  it('a stream ending without [DONE] or a finish reason is NOT an error for the SDK (Vigil classifies it malformed)', async () => {
    inject(fleet.openai, 'malformed_sse');
    const r = await stream();
    expect(r.finish).toBeNull();
  });

  it('content_filter and empty answers are successes carrying the finish reason', async () => {
    inject(fleet.openai, 'content_filter');
    expect((await unary()).choices[0].finish_reason).toBe('content_filter');
    expect((await stream()).finish).toBe('content_filter');
    inject(fleet.openai, 'empty');
    const empty = await unary();
    expect(empty.choices[0].message.content ?? '').toBe('');
    expect((await stream()).text).toBe('');
  });
});
