// The official `@anthropic-ai/sdk` against the simulator's Anthropic server. The SDK (1.x) sends its key as
// `Authorization: Bearer …` and a recent `anthropic-version`; the simulator accepts that, `x-api-key`, and any
// version date, as the real API does. Every simulated fault surfaces as the SDK's own error class for its status.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { anthropicError } from '../../src/sim/index.ts';
import type { SimFleet } from '../../src/sim/index.ts';
import { CALL_TIMEOUT_MS, HANG_TIMEOUT_MS, PROMPT, STATUS_FAULTS, drain, inject, loopback, startFleet, thrown } from './helpers.ts';
import type { ErrorClass } from './helpers.ts';

/** The SDK's status → error class table (anthropic-sdk-typescript README, "Handling errors", plus 503/529). */
function classFor(status: number): ErrorClass {
  if (status === 400) return Anthropic.BadRequestError;
  if (status === 401) return Anthropic.AuthenticationError;
  if (status === 403) return Anthropic.PermissionDeniedError;
  if (status === 404) return Anthropic.NotFoundError;
  if (status === 422) return Anthropic.UnprocessableEntityError;
  if (status === 429) return Anthropic.RateLimitError;
  if (status === 503) return Anthropic.ServiceUnavailableError;
  if (status === 529) return Anthropic.OverloadedError;
  if (status >= 500) return Anthropic.InternalServerError;
  return Anthropic.APIError;
}

let fleet: SimFleet;
let client: Anthropic;
let hasty: Anthropic;
const make = (opts: { timeout?: number; apiKey?: string | null; authToken?: string; defaultHeaders?: Record<string, string> } = {}) =>
  new Anthropic({
    apiKey: opts.apiKey === undefined ? 'sk-ant-test' : opts.apiKey,
    authToken: opts.authToken ?? null,
    baseURL: loopback(fleet.urls.anthropic),
    maxRetries: 0,
    timeout: opts.timeout ?? CALL_TIMEOUT_MS,
    defaultHeaders: opts.defaultHeaders,
  });

beforeAll(async () => {
  fleet = await startFleet();
  client = make();
  hasty = make({ timeout: HANG_TIMEOUT_MS });
});
afterAll(() => fleet?.close());
afterEach(() => fleet.reset());

const params = { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user' as const, content: PROMPT }] };
const unary = (c = client) => c.messages.create(params);
const stream = async (c = client) => {
  const events = await drain(await c.messages.create({ ...params, stream: true }));
  let text = '';
  let stop: string | null = null;
  for (const e of events) {
    if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
    if (e.type === 'message_delta') stop = e.delta.stop_reason;
  }
  return { text, stop, events };
};

describe('@anthropic-ai/sdk against vigil sim', () => {
  it('unary: typed message with the served snapshot and usage', async () => {
    const { data, response } = await unary().withResponse();
    expect(response.status).toBe(200);
    expect(data.type).toBe('message');
    expect(data.model).toBe('claude-sonnet-4-5-20250929');
    const text = data.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    expect(text.toLowerCase()).toContain('pong');
    expect(data.stop_reason).toBe('end_turn');
    expect(data.usage.output_tokens).toBeGreaterThan(0);
  });

  it('streaming: raw events in order, and the helper stream assembles the final message', async () => {
    const r = await stream();
    expect(r.events[0].type).toBe('message_start');
    expect(r.events.at(-1)?.type).toBe('message_stop');
    expect(r.text.toLowerCase()).toContain('pong');
    expect(r.stop).toBe('end_turn');
    const final = await client.messages.stream(params).finalMessage();
    expect(final.stop_reason).toBe('end_turn');
    expect(final.model).toBe('claude-sonnet-4-5-20250929');
  });

  it('accepts the key as Authorization: Bearer (SDK apiKey or authToken) and as x-api-key, and checks it', async () => {
    fleet.anthropic.behaviour.apiKey = 'sk-ant-right';
    expect((await unary(make({ apiKey: 'sk-ant-right' }))).stop_reason).toBe('end_turn');
    expect((await unary(make({ apiKey: null, authToken: 'sk-ant-right' }))).stop_reason).toBe('end_turn');
    const viaHeader = make({ apiKey: null, defaultHeaders: { 'x-api-key': 'sk-ant-right' } });
    expect((await unary(viaHeader)).stop_reason).toBe('end_turn');
    expect(await thrown(() => unary(make({ apiKey: 'sk-ant-wrong' })))).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(await thrown(() => unary(make({ apiKey: null, authToken: 'sk-ant-wrong' })))).toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('accepts any anthropic-version date (the SDK default, an old one, a future one)', async () => {
    for (const v of ['2023-06-01', '2026-10-21', '2031-01-01']) {
      const c = make({ defaultHeaders: { 'anthropic-version': v } });
      expect((await unary(c)).stop_reason).toBe('end_turn');
    }
  });

  it('lists models through the SDK paginator (after_id paging)', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list({ limit: 2 })) ids.push(m.id);
    expect(ids.length).toBeGreaterThan(2);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('claude-sonnet-4-5-20250929');
  });

  for (const kind of STATUS_FAULTS) {
    for (const mode of ['unary', 'stream'] as const) {
      if (kind === 'stream_error' && mode === 'stream') continue;
      it(`${kind} (${mode}) raises the SDK's error class for HTTP ${anthropicError(kind).status}`, async () => {
        inject(fleet.anthropic, kind);
        const err = await thrown(() => (mode === 'unary' ? unary() : stream()));
        const status = anthropicError(kind).status;
        expect(err).toBeInstanceOf(classFor(status));
        expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(status);
        expect((err as InstanceType<typeof Anthropic.APIError>).requestID).toMatch(/^req_/);
      });
    }
  }

  it('an in-stream overloaded_error raises APIError with the error type', async () => {
    inject(fleet.anthropic, 'stream_error');
    const err = await thrown(() => stream());
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(err).not.toBeInstanceOf(Anthropic.APIConnectionError);
    expect(String((err as Error).message)).toMatch(/overloaded/i);
  });

  for (const mode of ['unary', 'stream'] as const) {
    it(`timeout (${mode}) raises APIConnectionTimeoutError; reset and a cut body raise APIConnectionError`, async () => {
      inject(fleet.anthropic, 'timeout');
      expect(await thrown(() => (mode === 'unary' ? unary(hasty) : stream(hasty)))).toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
      for (const kind of ['reset', 'cut_stream'] as const) {
        inject(fleet.anthropic, kind);
        const err = await thrown(() => (mode === 'unary' ? unary() : stream()));
        expect(err).toBeInstanceOf(Anthropic.APIConnectionError);
        expect(err).not.toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
      }
    });
  }

  it('malformed JSON raises SyntaxError; a stream without message_stop is NOT an error for the SDK', async () => {
    inject(fleet.anthropic, 'malformed_json');
    expect(await thrown(() => unary())).toBeInstanceOf(SyntaxError);
    expect(await thrown(() => stream())).toBeInstanceOf(SyntaxError);
    inject(fleet.anthropic, 'malformed_sse');
    const r = await stream();
    expect(r.events.some((e) => e.type === 'message_stop')).toBe(false);
    expect(r.stop).toBeNull();
  });

  it('content_filter is a refusal stop reason; empty is an empty success', async () => {
    inject(fleet.anthropic, 'content_filter');
    expect((await unary()).stop_reason).toBe('refusal');
    expect((await stream()).stop).toBe('refusal');
    inject(fleet.anthropic, 'empty');
    expect((await unary()).content).toEqual([]);
    expect((await stream()).text).toBe('');
  });
});
