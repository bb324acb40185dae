// The official `openai` SDK (what applications point at LiteLLM and Portkey) against the simulator's two gateway
// flavours: unary and streaming answers, fallback across the ordered targets with the gateway's routing headers,
// the gateway's own faults and an exhausted fallback list as the SDK's typed errors.
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openaiError } from '../../src/sim/index.ts';
import type { SimFleet } from '../../src/sim/index.ts';
import { CALL_TIMEOUT_MS, HANG_TIMEOUT_MS, PROMPT, drain, inject, loopback, startFleet, thrown } from './helpers.ts';

let fleet: SimFleet;
beforeAll(async () => {
  fleet = await startFleet();
});
afterAll(() => fleet?.close());
afterEach(() => fleet.reset());

const GATEWAY_FAULTS = ['rate_limited', 'overloaded', 'server_error', 'auth', 'bad_request', 'context_length'] as const;

for (const flavour of ['litellm', 'portkey'] as const) {
  describe(`openai SDK against the ${flavour}-flavoured gateway`, () => {
    const make = (timeout = CALL_TIMEOUT_MS, defaultHeaders?: Record<string, string>) =>
      new OpenAI({ apiKey: 'sk-gateway', baseURL: loopback(`${fleet.urls[flavour]}/v1`), maxRetries: 0, timeout, defaultHeaders });
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: PROMPT }], max_tokens: 5 };
    const servedBy = (h: Headers) => (flavour === 'litellm' ? h.get('x-litellm-model-id') : h.get('x-portkey-last-used-option-index'));

    it('unary: the primary target answers and the routing headers say so', async () => {
      const { data, response } = await make().chat.completions.create(body).withResponse();
      expect(data.choices[0].message.content?.toLowerCase()).toContain('pong');
      expect(data.model).toBe('claude-sonnet-4-5-20250929');
      expect(servedBy(response.headers)).toBe(flavour === 'litellm' ? 'anthropic-claude' : 'config.targets[0]');
    });

    it('streaming: chunks assemble to the answer with a finish reason', async () => {
      const { data: s, response } = await make().chat.completions.create({ ...body, stream: true }).withResponse();
      const chunks = await drain(s);
      expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('').toLowerCase()).toContain('pong');
      expect(chunks.map((c) => c.choices[0]?.finish_reason).find(Boolean)).toBe('stop');
      expect(servedBy(response.headers)).toBeTruthy();
    });

    it('falls back when the primary is overloaded (Anthropic 529): the SDK sees a success from the next target', async () => {
      inject(fleet.anthropic, 'overloaded');
      for (const stream of [false, true]) {
        const { data, response } = await make().chat.completions.create({ ...body, stream }).withResponse();
        if (stream) await drain(data as AsyncIterable<unknown>);
        expect(servedBy(response.headers)).toBe(flavour === 'litellm' ? 'openai-gpt' : 'config.targets[1]');
        if (flavour === 'litellm') expect(response.headers.get('x-litellm-attempted-fallbacks')).toBe('1');
        else expect(response.headers.get('x-portkey-provider')).toBe('openai');
      }
    });

    it('every target rate-limited: the SDK raises RateLimitError', async () => {
      for (const s of [fleet.openai, fleet.anthropic, fleet.gemini]) inject(s, 'rate_limited');
      for (const stream of [false, true]) {
        const err = await thrown(async () => {
          const r = await make().chat.completions.create({ ...body, stream });
          if (stream) await drain(r as AsyncIterable<unknown>);
        });
        expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      }
    });

    for (const kind of GATEWAY_FAULTS) {
      it(`the gateway's own ${kind} raises the SDK's class for HTTP ${openaiError(kind).status}`, async () => {
        inject(fleet[flavour], kind);
        const err = await thrown(() => make().chat.completions.create(body));
        const status = openaiError(kind).status;
        expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(status);
        const cls = status === 429 ? OpenAI.RateLimitError : status === 401 ? OpenAI.AuthenticationError : status === 400 ? OpenAI.BadRequestError : OpenAI.InternalServerError;
        expect(err).toBeInstanceOf(cls);
      });
    }

    it('a hung gateway is APIConnectionTimeoutError; a reset one APIConnectionError', async () => {
      inject(fleet[flavour], 'timeout');
      expect(await thrown(() => make(HANG_TIMEOUT_MS).chat.completions.create(body))).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
      inject(fleet[flavour], 'reset');
      expect(await thrown(() => make().chat.completions.create(body))).toBeInstanceOf(OpenAI.APIConnectionError);
    });

    it('a missing gateway key is AuthenticationError', async () => {
      const c = new OpenAI({ apiKey: 'x', baseURL: loopback(`${fleet.urls[flavour]}/v1`), maxRetries: 0, timeout: CALL_TIMEOUT_MS, defaultHeaders: { authorization: null as unknown as string } });
      expect(await thrown(() => c.chat.completions.create(body))).toBeInstanceOf(OpenAI.AuthenticationError);
    });

    if (flavour === 'portkey') {
      it('takes a per-request x-portkey-config from SDK headers (single target)', async () => {
        const cfg = JSON.stringify({ provider: 'openai', override_params: { model: 'gpt-4o-mini' } });
        const { data, response } = await make(CALL_TIMEOUT_MS, { 'x-portkey-config': cfg }).chat.completions.create(body).withResponse();
        expect(data.model).toBe('gpt-4o-mini-2024-07-18');
        expect(response.headers.get('x-portkey-provider')).toBe('openai');
      });
    }
  });
}
