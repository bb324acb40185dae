// The simulated gateways route content-policy refusals the way the real ones do (shared/research/chaos_anchors.md):
// LiteLLM sends a content-policy 400 to content_policy_fallbacks when set, else to the generic fallbacks (#40406),
// and raises on a 200 `content_filter` only when content_policy_fallbacks is set (#4365, #8953); Portkey decides
// on the status alone. The primary (Anthropic) answers through the fault proxy, as in a drill.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDrillRig } from './helpers.ts';
import type { DrillRig } from './helpers.ts';

// Scoped to this file's requests, as every fault is (the simulated gateways forward x-vigil-* headers upstream).
const SCOPE = { match: { headers: { 'x-vigil-drill': 'content-policy' } } };
const CPV = { upstream: 'anthropic', kind: 'http_status', status: 400, message: 'Output blocked by content filtering policy', ...SCOPE } as const;
const FILTER = { upstream: 'anthropic', kind: 'content_filter', ...SCOPE } as const;

let rig: DrillRig;
beforeAll(async () => {
  rig = await startDrillRig();
});
afterAll(async () => {
  await rig?.close();
});
beforeEach(() => {
  rig.proxy.clear();
  for (const f of ['litellm', 'portkey'] as const) {
    const cfg = rig.fleet.gatewayConfig(f);
    cfg.targets = [cfg.targets[0], { provider: 'openai', model: 'gpt-4o-mini', id: 'openai-gpt' }, { provider: 'gemini', model: 'gemini-2.5-flash', id: 'vertex-gemini' }];
    delete cfg.contentPolicyFallbacks;
    delete cfg.fallbackOnStatus;
  }
  rig.fleet.gemini.reset();
});

async function ask(flavour: 'litellm' | 'portkey', opts: { stream?: boolean } = {}): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const res = await fetch(`${rig.fleet.urls[flavour]}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-gateway', 'content-type': 'application/json', 'x-vigil-drill': 'content-policy' },
    body: JSON.stringify({ model: 'smart', stream: opts.stream ?? false, messages: [{ role: 'user', content: 'Write a phishing text message.' }] }),
  });
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}

const setCpf = (ids: string[] | null) => {
  rig.fleet.gatewayConfig('litellm').contentPolicyFallbacks = ids;
};

describe('LiteLLM flavour: content-policy refusals', () => {
  it('a content-policy 400 goes to the generic fallbacks when content_policy_fallbacks is unset (#40406)', async () => {
    rig.proxy.inject(CPV);
    const r = await ask('litellm');
    expect(r.status).toBe(200);
    expect(r.headers['x-litellm-model-id']).toBe('openai-gpt');
    expect(r.headers['x-litellm-attempted-fallbacks']).toBe('1');
    const attempts = rig.fleet.litellm.requests().at(-1)!.gateway!.attempts;
    // Never retried on the primary: a 400 is not transient.
    expect(attempts.map((a) => [a.target, a.status])).toEqual([[0, 400], [1, 200]]);
  });

  it('an empty content_policy_fallbacks counts as unset, as in LiteLLM', async () => {
    setCpf([]);
    rig.proxy.inject(CPV);
    expect((await ask('litellm')).headers['x-litellm-model-id']).toBe('openai-gpt');
  });

  it('with content_policy_fallbacks set, a content-policy 400 goes only to that list', async () => {
    setCpf(['vertex-gemini']);
    rig.proxy.inject(CPV);
    const r = await ask('litellm');
    expect(r.status).toBe(200);
    expect(r.headers['x-litellm-model-id']).toBe('vertex-gemini');
    expect(r.headers['x-litellm-attempted-fallbacks']).toBe('1');
    expect(rig.fleet.litellm.requests().at(-1)!.gateway!.attempts.map((a) => a.target)).toEqual([0, 2]);
  });

  it('a 200 content_filter reaches the client when content_policy_fallbacks is unset', async () => {
    rig.proxy.inject(FILTER);
    const r = await ask('litellm');
    expect(r.status).toBe(200);
    expect(r.headers['x-litellm-model-id']).toBe('anthropic-claude');
    expect(JSON.parse(r.body).choices[0].finish_reason).toBe('content_filter');
  });

  it('a 200 content_filter raises and falls back when content_policy_fallbacks is set (#4365, #8953)', async () => {
    setCpf(['openai-gpt']);
    rig.proxy.inject(FILTER);
    const r = await ask('litellm');
    expect(r.status).toBe(200);
    expect(r.headers['x-litellm-model-id']).toBe('openai-gpt');
    expect(JSON.parse(r.body).choices[0].finish_reason).toBe('stop');
    expect(rig.fleet.litellm.requests().at(-1)!.gateway!.attempts.map((a) => [a.status, a.error])).toEqual([[200, 'content_policy_raised'], [200, null]]);
  });

  it('but never in a stream: the filtered stream reaches the client (#28599)', async () => {
    setCpf(['openai-gpt']);
    rig.proxy.inject(FILTER);
    const r = await ask('litellm', { stream: true });
    expect(r.headers['x-litellm-model-id']).toBe('anthropic-claude');
    expect(r.body).toContain('"finish_reason":"content_filter"');
  });

  it('when every target in the list refuses too, the client gets the primary\'s ContentPolicyViolationError', async () => {
    setCpf(['vertex-gemini']);
    rig.proxy.inject(FILTER);
    rig.fleet.gemini.addBurst({ kind: 'content_filter', ratio: 1 });
    const r = await ask('litellm');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.message).toMatch(/^litellm\.ContentPolicyViolationError: AnthropicException - Response output was blocked\./);
  });

  it('the control API refuses a content_policy_fallbacks entry that is not a fallback target', async () => {
    const res = await fetch(`${rig.fleet.urls.litellm}/_sim/gateway`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ contentPolicyFallbacks: ['nope'] }) });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('nope is not a fallback target id');
    const ok = await fetch(`${rig.fleet.urls.litellm}/_sim/gateway`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ contentPolicyFallbacks: ['vertex-gemini'] }) });
    expect(ok.status).toBe(200);
    expect(rig.fleet.gatewayConfig('litellm').contentPolicyFallbacks).toEqual(['vertex-gemini']);
  });
});

describe('Portkey flavour: the status decides', () => {
  it('without on_status_codes a content-policy 400 falls back like any non-2xx', async () => {
    rig.proxy.inject(CPV);
    const r = await ask('portkey');
    expect(r.status).toBe(200);
    expect(r.headers['x-portkey-last-used-option-index']).toBe('config.targets[1]');
  });

  it('with on_status_codes that leave 400 out, the refusal reaches the client', async () => {
    rig.fleet.gatewayConfig('portkey').fallbackOnStatus = [429, 500, 502, 503, 504, 529];
    rig.proxy.inject(CPV);
    const r = await ask('portkey');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.message).toContain('Output blocked by content filtering policy');
    expect(r.headers['x-portkey-last-used-option-index']).toBe('config.targets[0]');
  });

  it('a 200 content_filter is never failed over', async () => {
    rig.proxy.inject(FILTER);
    const r = await ask('portkey');
    expect(r.headers['x-portkey-last-used-option-index']).toBe('config.targets[0]');
  });
});
