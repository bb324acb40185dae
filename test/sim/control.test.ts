// Control API round trips over HTTP, model swaps and model-list edits.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SimFleet } from '../../src/sim/index.ts';
import { AUTH, anthropicMsg, fastFleet, geminiBody, openaiChat, parseSse, raw } from './helpers.ts';

let fleet: SimFleet;
beforeAll(async () => {
  fleet = await fastFleet();
});
afterAll(async () => {
  await fleet.close();
});
beforeEach(() => fleet.reset());

const ctl = async (url: string, method: string, path: string, body?: unknown) => {
  const r = await raw(`${url}/_sim${path}`, { method, body });
  return { status: r.status, json: JSON.parse(r.body) };
};

describe('control API', () => {
  it('reads and merge-patches the behaviour; invalid patches change nothing', async () => {
    const url = fleet.urls.anthropic;
    const before = await ctl(url, 'GET', '/behaviour');
    expect(before.json.latency.ttftMs).toBe(4);
    const patched = await ctl(url, 'PATCH', '/behaviour', { latency: { ttftMs: 25 }, refusalRate: 0.5 });
    expect(patched.status).toBe(200);
    expect(patched.json.latency).toMatchObject({ ttftMs: 25, perTokenMs: 1 });
    expect(fleet.anthropic.behaviour.refusalRate).toBe(0.5);
    const bad = await ctl(url, 'PATCH', '/behaviour', { refusalRate: 2, latency: { bogus: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/refusalRate/);
    expect(bad.json.error).toMatch(/bogus/);
    expect(fleet.anthropic.behaviour.refusalRate).toBe(0.5);
    const badTz = await ctl(url, 'POST', '/latency', { diurnal: { timezone: 'Mars/Olympus', peakHour: 9, peakMultiplier: 3, widthHours: 1, weekdaysOnly: true } });
    expect(badTz.status).toBe(400);
    const reset = await ctl(url, 'POST', '/reset');
    expect(reset.json.refusalRate).toBe(0);
  });

  it('adds and clears error bursts, toggles an outage', async () => {
    const url = fleet.urls.openai;
    expect((await ctl(url, 'POST', '/errors', { kind: 'overloaded', ratio: 1, count: 1 })).status).toBe(200);
    expect((await ctl(url, 'POST', '/errors', { kind: 'nope', ratio: 1 })).status).toBe(400);
    const call = () => raw(`${url}/v1/chat/completions`, { headers: AUTH.openai, body: openaiChat() });
    expect((await call()).status).toBe(503);
    expect((await call()).status).toBe(200);
    await ctl(url, 'POST', '/errors', [{ kind: 'server_error', ratio: 1 }]);
    expect((await ctl(url, 'GET', '/errors')).json).toHaveLength(1);
    await ctl(url, 'DELETE', '/errors');
    expect((await call()).status).toBe(200);
    expect((await ctl(url, 'POST', '/outage', { down: true })).json).toEqual({ outage: true });
    expect((await call()).status).toBe(503);
    await ctl(url, 'POST', '/outage', { down: false });
    expect((await call()).status).toBe(200);
  });

  it('serves the truth log, info, gateway config and 404s unknown routes', async () => {
    const url = fleet.urls.gemini;
    await raw(`${url}/v1beta/models/gemini-2.5-flash:generateContent`, { headers: AUTH.gemini, body: geminiBody() });
    const reqs = await ctl(url, 'GET', '/requests?since=0');
    expect(reqs.json.requests[0]).toMatchObject({ provider: 'gemini', path: '/v1beta/models/gemini-2.5-flash:generateContent', status: 200, outputTokens: 1 });
    const one = await ctl(url, 'GET', `/requests/${reqs.json.requests[0].id}`);
    expect(one.json.seq).toBe(reqs.json.requests[0].seq);
    expect((await ctl(url, 'GET', '/requests/nope')).status).toBe(404);
    const info = await ctl(url, 'GET', '/info');
    expect(info.json).toMatchObject({ name: 'gemini', provider: 'gemini', url });
    expect((await ctl(url, 'GET', '/nope')).status).toBe(404);
    const gw = await ctl(fleet.urls.portkey, 'PATCH', '/gateway', { retries: 2 });
    expect(gw.json).toMatchObject({ flavour: 'portkey', retries: 2 });
    expect(fleet.gatewayConfig('portkey').retries).toBe(2);
    expect((await ctl(fleet.urls.portkey, 'PATCH', '/gateway', { targets: [] })).status).toBe(400);
    expect((await ctl(url, 'GET', '/gateway')).status).toBe(404);
  });
});

describe('served-model swaps', () => {
  it('re-points an alias to a new snapshot and fingerprint, stream and non-stream', async () => {
    const url = `${fleet.urls.openai}/v1/chat/completions`;
    const before = JSON.parse((await raw(url, { headers: AUTH.openai, body: openaiChat() })).body);
    expect([before.model, before.system_fingerprint]).toEqual(['gpt-4o-mini-2024-07-18', 'fp_4f5f0b399a']);
    const swap = await ctl(fleet.urls.openai, 'POST', '/models/swap', { alias: 'gpt-4o-mini', snapshot: 'gpt-4o-mini-2025-06-01', fingerprint: 'fp_b0b0b0b0b0' });
    expect(swap.status).toBe(200);
    const after = JSON.parse((await raw(url, { headers: AUTH.openai, body: openaiChat() })).body);
    expect([after.model, after.system_fingerprint]).toEqual(['gpt-4o-mini-2025-06-01', 'fp_b0b0b0b0b0']);
    const s = await raw(url, { headers: AUTH.openai, body: openaiChat({ stream: true }) });
    const first = JSON.parse(parseSse(s.body)[0].data);
    expect([first.model, first.system_fingerprint]).toEqual(['gpt-4o-mini-2025-06-01', 'fp_b0b0b0b0b0']);
    // A pinned snapshot is not affected.
    const pinned = JSON.parse((await raw(url, { headers: AUTH.openai, body: openaiChat({ model: 'gpt-4o-mini-2024-07-18' }) })).body);
    expect(pinned.model).toBe('gpt-4o-mini-2024-07-18');
  });

  it('swaps Anthropic and Gemini served models too', async () => {
    fleet.anthropic.swapModel('claude-sonnet-4-5', 'claude-sonnet-4-5-20260101');
    const a = JSON.parse((await raw(`${fleet.urls.anthropic}/v1/messages`, { headers: AUTH.anthropic, body: anthropicMsg() })).body);
    expect(a.model).toBe('claude-sonnet-4-5-20260101');
    fleet.gemini.swapModel('gemini-2.5-flash', 'gemini-2.5-flash-preview-09-2025');
    const g = JSON.parse((await raw(`${fleet.urls.gemini}/v1beta/models/gemini-2.5-flash:generateContent`, { headers: AUTH.gemini, body: geminiBody() })).body);
    expect(g.modelVersion).toBe('gemini-2.5-flash-preview-09-2025');
  });
});

describe('model list edits', () => {
  it('a removed model disappears from every list and can 404 when strict', async () => {
    const list = async (p: 'openai' | 'anthropic' | 'gemini') => {
      const url = p === 'gemini' ? `${fleet.urls.gemini}/v1beta/models` : `${fleet[p].url}/v1/models`;
      const j = JSON.parse((await raw(url, { headers: AUTH[p] })).body);
      return (p === 'gemini' ? j.models.map((m: { name: string }) => m.name.slice(7)) : j.data.map((m: { id: string }) => m.id)) as string[];
    };
    expect(await list('openai')).toContain('gpt-4o-2024-05-13');
    const rm = await ctl(fleet.urls.openai, 'POST', '/models/remove', { id: 'gpt-4o-2024-05-13' });
    expect(rm.json.removed).toBe(true);
    expect(await list('openai')).not.toContain('gpt-4o-2024-05-13');
    expect((await raw(`${fleet.urls.openai}/v1/models/gpt-4o-2024-05-13`, { headers: AUTH.openai })).status).toBe(404);
    expect((await ctl(fleet.urls.openai, 'POST', '/models/remove', { id: 'gpt-4o-2024-05-13' })).status).toBe(404);

    fleet.anthropic.removeModel('claude-3-5-haiku-20241022');
    expect(await list('anthropic')).not.toContain('claude-3-5-haiku-20241022');
    fleet.gemini.removeModel('gemini-2.0-flash');
    expect(await list('gemini')).not.toContain('gemini-2.0-flash');

    // Lenient by default; `unknownModel: not_found` makes a removed model 404 like a retired one.
    const call = () => raw(`${fleet.urls.openai}/v1/chat/completions`, { headers: AUTH.openai, body: openaiChat({ model: 'gpt-4o-2024-05-13' }) });
    expect((await call()).status).toBe(200);
    fleet.openai.patch({ unknownModel: 'not_found' });
    const gone = await call();
    expect(gone.status).toBe(404);
    expect(JSON.parse(gone.body).error.code).toBe('model_not_found');
    fleet.gemini.patch({ unknownModel: 'not_found' });
    const g = await raw(`${fleet.urls.gemini}/v1beta/models/gemini-2.0-flash:generateContent`, { headers: AUTH.gemini, body: geminiBody() });
    expect(g.status).toBe(404);
    expect(JSON.parse(g.body).error.status).toBe('NOT_FOUND');

    await ctl(fleet.urls.openai, 'POST', '/models/add', { id: 'gpt-5-mini', created: 1754000000, ownedBy: 'system', shutdownDate: null });
    expect(await list('openai')).toContain('gpt-5-mini');
  });
});
