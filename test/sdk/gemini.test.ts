// The official `@google/genai` SDK against the simulator's Gemini server, on the SDK's default API version (v1
// since @google/genai 3) and on v1beta. Every simulated HTTP fault raises the SDK's ApiError with that status;
// the SDK has no types of its own for connection failures (fetch's TypeError, an AbortSignal DOMException).
import { ApiError, GoogleGenAI } from '@google/genai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { geminiError } from '../../src/sim/index.ts';
import type { SimFleet } from '../../src/sim/index.ts';
import { CALL_TIMEOUT_MS, HANG_TIMEOUT_MS, PROMPT, STATUS_FAULTS, drain, inject, loopback, startFleet, thrown } from './helpers.ts';

let fleet: SimFleet;
let client: GoogleGenAI;
let hasty: GoogleGenAI;
// No retryOptions: the SDK then makes exactly one attempt.
const make = (opts: { timeout?: number; apiVersion?: string; apiKey?: string } = {}) =>
  new GoogleGenAI({
    apiKey: opts.apiKey ?? 'AIza-test',
    apiVersion: opts.apiVersion,
    httpOptions: { baseUrl: loopback(fleet.urls.gemini), timeout: opts.timeout ?? CALL_TIMEOUT_MS },
  });

beforeAll(async () => {
  fleet = await startFleet();
  client = make();
  hasty = make({ timeout: HANG_TIMEOUT_MS });
});
afterAll(() => fleet?.close());
afterEach(() => fleet.reset());

const MODEL = 'gemini-2.5-flash';
const unary = (c = client) => c.models.generateContent({ model: MODEL, contents: PROMPT, config: { maxOutputTokens: 8 } });
const stream = async (c = client) => {
  const chunks = await drain(await c.models.generateContentStream({ model: MODEL, contents: PROMPT, config: { maxOutputTokens: 8 } }));
  return {
    text: chunks.map((c) => c.text ?? '').join(''),
    finish: chunks.map((c) => c.candidates?.[0]?.finishReason).find(Boolean) ?? null,
    chunks,
  };
};

describe('@google/genai against vigil sim', () => {
  for (const apiVersion of [undefined, 'v1beta']) {
    it(`unary and streaming on ${apiVersion ?? 'the SDK default version (v1)'}`, async () => {
      const c = make({ apiVersion });
      const r = await unary(c);
      expect(r.text?.toLowerCase()).toContain('pong');
      expect(r.candidates?.[0]?.finishReason).toBe('STOP');
      expect(r.modelVersion).toBe(MODEL);
      expect(r.usageMetadata?.candidatesTokenCount).toBeGreaterThan(0);
      const s = await stream(c);
      expect(s.text.toLowerCase()).toContain('pong');
      expect(s.finish).toBe('STOP');
      expect(fleet.gemini.requests().at(-1)?.stream).toBe(true);
    });
  }

  it('exposes modelStatus from the reply (the in-band lifecycle Vigil feeds to its deprecation registry)', async () => {
    fleet.gemini.behaviour.modelStatus[MODEL] = { modelStage: 'DEPRECATED', retirementTime: '2027-02-01T00:00:00Z', message: 'use gemini-3-flash' };
    const r = await unary();
    expect(r.modelStatus).toMatchObject({ modelStage: 'DEPRECATED', retirementTime: '2027-02-01T00:00:00Z' });
  });

  it('lists models through the SDK pager', async () => {
    const names: string[] = [];
    for await (const m of await client.models.list()) names.push(m.name ?? '');
    expect(names).toContain(`models/${MODEL}`);
  });

  it('a wrong key is ApiError 400 (API_KEY_INVALID), as Google answers', async () => {
    fleet.gemini.behaviour.apiKey = 'AIza-right';
    const err = await thrown(() => unary(make({ apiKey: 'AIza-wrong' })));
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(400);
    expect((err as ApiError).message).toMatch(/API_KEY_INVALID/);
    expect((await unary(make({ apiKey: 'AIza-right' }))).text?.toLowerCase()).toContain('pong');
  });

  for (const kind of STATUS_FAULTS) {
    for (const mode of ['unary', 'stream'] as const) {
      it(`${kind} (${mode}) raises ApiError with status ${geminiError(kind).code}`, async () => {
        inject(fleet.gemini, kind);
        const err = await thrown(() => (mode === 'unary' ? unary() : stream()));
        expect(err).toBeInstanceOf(ApiError);
        expect((err as ApiError).status).toBe(geminiError(kind).code);
        expect((err as ApiError).message).toContain(geminiError(kind).status);
      });
    }
  }

  for (const mode of ['unary', 'stream'] as const) {
    it(`timeout (${mode}) is an AbortSignal abort; reset and a cut body are fetch's TypeError`, async () => {
      inject(fleet.gemini, 'timeout');
      const t = await thrown(() => (mode === 'unary' ? unary(hasty) : stream(hasty)));
      expect(t).toBeInstanceOf(DOMException);
      expect((t as DOMException).name).toMatch(/AbortError|TimeoutError/);
      for (const kind of ['reset', 'cut_stream'] as const) {
        inject(fleet.gemini, kind);
        const err = await thrown(() => (mode === 'unary' ? unary() : stream()));
        expect(err).toBeInstanceOf(TypeError);
        expect(err).not.toBeInstanceOf(ApiError);
      }
    });
  }

  it('malformed bodies raise (SyntaxError, or the SSE reader\'s incomplete-segment Error)', async () => {
    inject(fleet.gemini, 'malformed_json');
    expect(await thrown(() => unary())).toBeInstanceOf(SyntaxError);
    expect(await thrown(() => stream())).toBeInstanceOf(SyntaxError);
    inject(fleet.gemini, 'malformed_sse');
    expect(String(((await thrown(() => stream())) as Error).message)).toMatch(/incomplete/i);
  });

  it('content_filter is a blocked prompt; empty is an empty success', async () => {
    inject(fleet.gemini, 'content_filter');
    const blocked = await unary();
    expect(blocked.promptFeedback?.blockReason).toBe('SAFETY');
    expect(blocked.text).toBeUndefined();
    inject(fleet.gemini, 'empty');
    expect((await stream()).text).toBe('');
  });
});
