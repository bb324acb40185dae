// Conformance against real recorded traffic (../shared/data/transcripts): the simulator's bodies must have the
// same structure (key paths, key order where the recording is verbatim) and, where we reuse a message, the same bytes.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimFleet } from '../../src/sim/index.ts';
import { AUTH, anthropicMsg, fastFleet, geminiBody, openaiChat, parseSse, raw } from './helpers.ts';

const DIR = fileURLToPath(new URL('../../../shared/data/transcripts/', import.meta.url));
const HAVE = existsSync(DIR);
if (!HAVE) console.warn(`skipping transcript conformance: ${DIR} not found`);

const read = (f: string) => readFileSync(DIR + f, 'utf8');
const meta = (f: string) => JSON.parse(read(f.replace(/\.(json|sse)$/, '.meta.json')));

/** Every key path in a JSON value, arrays collapsed to `[]`: the structure a client parses. */
function paths(v: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) for (const x of v) paths(x, `${prefix}[]`, out);
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.add(`${prefix}.${k}`);
      paths(x, `${prefix}.${k}`, out);
    }
  }
  return out;
}
const sorted = (s: Set<string>, drop: string[] = []) => [...s].filter((p) => !drop.some((d) => p.startsWith(d))).sort();

describe.skipIf(!HAVE)('transcript conformance', () => {
  let fleet: SimFleet;
  beforeAll(async () => {
    fleet = await fastFleet();
  });
  afterAll(async () => {
    await fleet.close();
  });
  const oa = (body: unknown) => raw(`${fleet.urls.openai}/v1/chat/completions`, { headers: AUTH.openai, body });
  const an = (body: unknown) => raw(`${fleet.urls.anthropic}/v1/messages`, { headers: AUTH.anthropic, body });
  const ge = (method: string, body: unknown = geminiBody()) => raw(`${fleet.urls.gemini}/v1beta/models/gemini-2.5-flash:${method}`, { headers: AUTH.gemini, body });

  it('openai chat.completion: same keys in the same order, same header names', async () => {
    const want = JSON.parse(read('openai/chat-nonstream-length-gpt-4o.json'));
    const r = await oa(openaiChat());
    const got = JSON.parse(r.body);
    expect(sorted(paths(got))).toEqual(sorted(paths(want)));
    expect(Object.keys(got)).toEqual(Object.keys(want));
    expect(Object.keys(got.choices[0])).toEqual(Object.keys(want.choices[0]));
    expect(r.body.startsWith('{\n  "id"')).toBe(true);
    for (const h of Object.keys(meta('openai/chat-nonstream-length-gpt-4o.json').headers)) expect(r.headers).toHaveProperty(h);
  });

  it('openai stream chunks match the recorded include_usage stream', async () => {
    const want = parseSse(read('openai/chat-stream-ratelimit-headers.sse'));
    const r = await oa(openaiChat({ stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Say hello' }] }));
    const got = parseSse(r.body);
    expect(got.at(-1)!.data).toBe('[DONE]');
    const pick = (evs: typeof got) => {
      const j = evs.slice(0, -1).map((e) => JSON.parse(e.data));
      return [j[0], j[1], j.at(-2), j.at(-1)];
    };
    const [w, g] = [pick(want), pick(got)];
    for (let i = 0; i < 4; i++) {
      expect(sorted(paths(g[i]))).toEqual(sorted(paths(w[i])));
      expect(Object.keys(g[i])).toEqual(Object.keys(w[i]));
    }
    // The raw framing: `data: {...}\n\n`, compact JSON.
    expect(r.body.startsWith('data: {"id":"chatcmpl-')).toBe(true);
    expect(r.body.endsWith('\n\ndata: [DONE]\n\n')).toBe(true);
  });

  it('openai error bodies', async () => {
    fleet.openai.behaviour.apiKey = 'other';
    const auth = await oa(openaiChat());
    fleet.openai.behaviour.apiKey = null;
    const want401 = read('openai/chat-401-invalid-api-key.json');
    expect(sorted(paths(JSON.parse(auth.body)))).toEqual(sorted(paths(JSON.parse(want401))));
    expect(auth.body.split('\n').slice(0, 2)).toEqual(want401.split('\n').slice(0, 2)); // 4-space layout
    fleet.openai.addBurst({ kind: 'rate_limited', ratio: 1, count: 1 });
    const rl = JSON.parse((await oa(openaiChat())).body);
    const want429 = JSON.parse(read('openai/chat-429-rate-limit-exceeded.json'));
    expect(sorted(paths(rl))).toEqual(sorted(paths(want429)));
    expect([rl.error.type, rl.error.code]).toEqual([want429.error.type, want429.error.code]);
    fleet.openai.addBurst({ kind: 'context_length', ratio: 1, count: 1 });
    const cl = JSON.parse((await oa(openaiChat())).body);
    const wantCl = JSON.parse(read('openai/chat-400-context-length-exceeded.json'));
    expect({ ...cl.error, message: '' }).toEqual({ ...wantCl.error, message: '' });
  });

  it('anthropic message: same keys in the same order, same rate-limit header names', async () => {
    const want = JSON.parse(read('anthropic/messages-nonstream-max-tokens.json'));
    const r = await an(anthropicMsg({ max_tokens: 3, messages: [{ role: 'user', content: 'Say hello' }] }));
    const got = JSON.parse(r.body);
    expect(got.stop_reason).toBe('max_tokens');
    expect(sorted(paths(got))).toEqual(sorted(paths(want)));
    expect(Object.keys(got)).toEqual(Object.keys(want));
    expect(Object.keys(got.usage)).toEqual(Object.keys(want.usage));
    const names = Object.keys(meta('anthropic/messages-nonstream-max-tokens.json').headers).filter((h) => h.startsWith('anthropic-ratelimit') || h === 'request-id');
    for (const h of names) expect(r.headers).toHaveProperty(h);
  });

  it('anthropic streams: event sequence and payload keys as recorded, refusal included', async () => {
    const want = parseSse(read('anthropic/messages-stream-sonnet-4-5.sse'));
    const got = parseSse((await an(anthropicMsg({ stream: true, messages: [{ role: 'user', content: 'Say hello' }] }))).body);
    const seq = (evs: typeof got) => evs.map((e) => e.event).filter((e, i, a) => !(e === 'content_block_delta' && a[i - 1] === e));
    expect(seq(got)).toEqual(seq(want));
    for (const type of ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']) {
      const w = JSON.parse(want.find((e) => e.event === type)!.data);
      const g = JSON.parse(got.find((e) => e.event === type)!.data);
      expect(sorted(paths(g)), type).toEqual(sorted(paths(w)));
    }
    fleet.anthropic.patch({ refusalRate: 1, refusalStopReasonRatio: 1 });
    const refusal = parseSse((await an(anthropicMsg({ stream: true }))).body);
    fleet.anthropic.patch({ refusalRate: 0, refusalStopReasonRatio: 0.5 });
    const wantRefusal = parseSse(read('anthropic/messages-stream-refusal.sse'));
    expect(refusal.map((e) => e.event)).toEqual(wantRefusal.map((e) => e.event));
    const md = (evs: typeof got) => JSON.parse(evs.find((e) => e.event === 'message_delta')!.data);
    expect(sorted(paths(md(refusal)))).toEqual(sorted(paths(md(wantRefusal))));
  });

  it('anthropic error bodies', async () => {
    fleet.anthropic.addBurst({ kind: 'overloaded', ratio: 1, count: 1 });
    const r = await an(anthropicMsg());
    const { request_id, ...rest } = JSON.parse(r.body);
    expect(request_id).toBe(r.headers['request-id']);
    expect(JSON.stringify(rest)).toBe(read('anthropic/messages-529-overloaded.json').trim());
    fleet.anthropic.behaviour.apiKey = 'other';
    const auth = await an(anthropicMsg());
    fleet.anthropic.behaviour.apiKey = null;
    const want = JSON.parse(read('anthropic/messages-401-authentication-error.json'));
    expect(sorted(paths(JSON.parse(auth.body)))).toEqual(sorted(paths(want)));
    expect(JSON.parse(auth.body).error).toEqual(want.error);
  });

  it('gemini generateContent and its SSE chunks have the recorded structure and framing', async () => {
    const want = JSON.parse(read('gemini/generate-gemini-2.5-flash.json'));
    const got = JSON.parse((await ge('generateContent')).body);
    const extras = ['.usageMetadata.thoughtsTokenCount', '.usageMetadata.serviceTier'];
    expect(sorted(paths(got))).toEqual(sorted(paths(want), extras));
    const r = await ge('streamGenerateContent?alt=sse', geminiBody({ contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }] }));
    expect(r.body.startsWith('data: {"candidates": [{"content": {"parts": [{"text": ')).toBe(true);
    expect(r.body.endsWith('}\r\n\r\n')).toBe(true);
    const wantLast = JSON.parse(parseSse(read('gemini/stream-gemini-2.5-flash-usage.sse')).at(-1)!.data);
    const gotLast = JSON.parse(parseSse(r.body).at(-1)!.data);
    expect(sorted(paths(gotLast))).toEqual(sorted(paths(wantLast), extras));
  });

  it('gemini error bodies are byte-identical where the message is the same', async () => {
    fleet.gemini.addBurst({ kind: 'overloaded', ratio: 1, count: 1 });
    expect((await ge('generateContent')).body).toBe(read('gemini/generate-503-unavailable.json'));
    fleet.gemini.addBurst({ kind: 'auth', ratio: 1, count: 1 });
    expect((await ge('generateContent')).body).toBe(read('gemini/generate-403-permission-denied.json'));
    fleet.gemini.addBurst({ kind: 'rate_limited', ratio: 1, count: 1 });
    const rl = JSON.parse((await ge('generateContent')).body);
    const want = JSON.parse(read('gemini/generate-429-quota-retry-info.json'));
    for (const p of paths(want)) expect(paths(rl)).toContain(p);
    fleet.gemini.addBurst({ kind: 'content_filter', ratio: 1, count: 1 });
    const blocked = JSON.parse((await ge('generateContent')).body);
    for (const p of paths(JSON.parse(read('gemini/generate-prompt-blocked-safety.json')))) expect(paths(blocked)).toContain(p);
  });

  it('portkey translation and headers match the real gateway', async () => {
    const want = JSON.parse(read('gateway/portkey-anthropic-as-openai.json'));
    const r = await raw(`${fleet.urls.portkey}/v1/chat/completions`, { headers: { authorization: 'Bearer k' }, body: { model: 'x', messages: [{ role: 'user', content: 'hi' }] } });
    const got = JSON.parse(r.body);
    expect(sorted(paths(got))).toEqual(sorted(paths(want)));
    expect(Object.keys(got)).toEqual(Object.keys(want));
    const names = Object.keys(meta('gateway/portkey-fallback-529-anthropic-to-openai.json').headers).filter((h) => h.startsWith('x-portkey'));
    for (const h of names) expect(r.headers).toHaveProperty(h);
  });
});
