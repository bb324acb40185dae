// Model-list polling against the simulated fleet (real HTTP through the project's client) and a paging stub.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import type { ProviderEndpoint, Signal } from '../../src/domain.ts';
import { createHttpClient } from '../../src/http/client.ts';
import type { HttpClient } from '../../src/http/types.ts';
import { buildInventory } from '../../src/lifecycle/inventory.ts';
import { DeprecationRegistry } from '../../src/lifecycle/registry.ts';
import { startSimFleet } from '../../src/sim/index.ts';
import type { SimFleet } from '../../src/sim/index.ts';
import { Store } from '../../src/store/store.ts';
import { fetchModelList } from '../../src/webhooks/model-lists.ts';
import { ModelListPoller } from '../../src/webhooks/poller.ts';
import { BACKENDS, freshStoreTarget, skipBackend } from '../pg/backends.ts';
import { endpoint, post, probe, removeTempDirs } from './helpers.ts';

const FAST = { latency: { ttfbMs: 1, ttftMs: 1, perTokenMs: 0, jitter: 0, diurnal: null } };

let fleet: SimFleet;
let client: HttpClient;
beforeEach(async () => {
  fleet = await startSimFleet({ behaviour: FAST });
  client = createHttpClient();
});
afterEach(async () => {
  await client.close();
  await fleet.close();
});
afterAll(removeTempDirs);

async function setup(target: string, clock = new ManualClock(Date.UTC(2026, 0, 5, 12))) {
  const store = await Store.connect(target, { clock });
  const providers: Record<string, ProviderEndpoint> = {
    openai: endpoint('openai', 'openai', fleet.urls.openai),
    anthropic: endpoint('anthropic', 'anthropic', fleet.urls.anthropic),
    gemini: endpoint('gemini', 'gemini', fleet.urls.gemini),
  };
  const endpoints = {
    ...Object.fromEntries(Object.entries(providers).map(([n, e]) => [`provider:${n}`, e])),
    gateway: endpoint('gateway', 'gateway', fleet.urls.gateway),
  };
  const probes = [
    probe({ id: 'openai-canary', owner: 'search-team', target: 'provider:openai', model: 'gpt-4o-mini' }),
    probe({ id: 'anthropic-canary', owner: 'platform', target: 'provider:anthropic', model: 'claude-haiku-4-5' }),
    probe({ id: 'gemini-canary', owner: 'platform', target: 'provider:gemini', model: 'gemini-2.0-flash' }),
    probe({ id: 'gateway-canary', owner: 'platform', target: 'gateway', model: 'gpt-4o-mini' }),
  ];
  const consumers = [{ id: 'rerank', owner: 'ml-team', models: ['gpt-4o-2024-05-13', 'gpt-4.1-*'], provider: 'openai' }];
  const signals: Signal[] = [];
  const registry = new DeprecationRegistry(store.sql, { now: () => clock.now() });
  const poller = new ModelListPoller({
    sql: store.sql,
    http: client,
    clock,
    providers: () => providers,
    users: () => buildInventory({ probes, endpoints, consumers }),
    registry,
    sink: (s) => signals.push(s),
  });
  return { store, poller, signals, registry, clock };
}

const control = (url: string, path: string, body: unknown) => post(`${url}/_sim${path}`, JSON.stringify(body));

describe.each(BACKENDS)('model-list poller against the simulator (%s)', (backend) => {
  it.skipIf(skipBackend(backend))('records the lists, takes OpenAI shutdown_date into the registry, and stays quiet while nothing is missing', async () => {
    const { poller, signals, registry, store } = await setup(await freshStoreTarget(backend));
    const polls = await poller.poll();
    expect(polls.map((p) => [p.provider, p.ok, p.models > 0])).toEqual([
      ['openai', true, true],
      ['anthropic', true, true],
      ['gemini', true, true],
    ]);
    expect(signals).toEqual([]);
    expect((await poller.listed('openai')).find((m) => m.model === 'gpt-4o-2024-05-13')).toMatchObject({ present: true, shutdownDate: '2026-10-23' });
    expect((await registry.rows()).filter((d) => d.origin === 'api:openai')).toEqual([
      { model: 'gpt-4o-2024-05-13', provider: 'openai', shutdownAt: '2026-10-23', replacement: null, url: 'https://developers.openai.com/api/docs/deprecations', origin: 'api:openai' },
    ]);
    // The Anthropic alias is satisfied by its dated snapshot; the gateway probe is not checked against lists.
    const watch = await store.sql.all('SELECT provider, model, via FROM model_watch ORDER BY provider, model');
    expect(watch).toEqual([
      { provider: 'anthropic', model: 'claude-haiku-4-5', via: 'claude-haiku-4-5-20251001' },
      { provider: 'gemini', model: 'gemini-2.0-flash', via: 'gemini-2.0-flash' },
      { provider: 'openai', model: 'gpt-4.1-*', via: expect.stringMatching(/^gpt-4\.1-/) },
      { provider: 'openai', model: 'gpt-4o-2024-05-13', via: 'gpt-4o-2024-05-13' },
      { provider: 'openai', model: 'gpt-4o-mini', via: 'gpt-4o-mini' },
    ]);
    await store.close();
  });

  it.skipIf(skipBackend(backend))('raises a critical signal to the probe owner when a model disappears (confirmed on the 2nd poll) and resolves it when it returns', async () => {
    const dbPath = await freshStoreTarget(backend);
    const a = await setup(dbPath);
    await a.poller.poll();
    expect((await control(fleet.urls.openai, '/models/remove', { id: 'gpt-4o-mini' })).status).toBe(200);
    expect((await control(fleet.urls.anthropic, '/models/remove', { id: 'claude-haiku-4-5-20251001' })).status).toBe(200);
    await a.poller.poll();
    expect(a.signals).toEqual([]); // one missed poll is not enough
    await a.poller.poll();
    expect(a.signals.map((s) => [s.detector, s.key, s.severity, s.status, s.labels.owner, s.labels.provider])).toEqual([
      ['model_list', 'gpt-4o-mini@search-team', 'critical', 'firing', 'search-team', 'openai'],
      ['model_list', 'claude-haiku-4-5@platform', 'critical', 'firing', 'platform', 'anthropic'],
    ]);
    expect(a.signals[0].summary).toBe("gpt-4o-mini is gone from openai's model list (missing from 2 polls in a row); used by probe openai-canary");
    expect(a.signals[0].evidence).toMatchObject({ model: 'gpt-4o-mini', listed_as: 'gpt-4o-mini', missed_polls: 2, used_by: 'probe openai-canary' });
    await a.poller.poll();
    expect(a.signals).toHaveLength(2); // fires once
    await a.store.close();

    // After a restart the state is still there: no second page, and the return resolves it.
    const b = await setup(dbPath);
    await b.poller.poll();
    expect(b.signals).toEqual([]);
    await control(fleet.urls.openai, '/models/add', { id: 'gpt-4o-mini', created: 1721088000 });
    await b.poller.poll();
    expect(b.signals.map((s) => [s.key, s.status])).toEqual([['gpt-4o-mini@search-team', 'resolved']]);
    await b.store.close();
  });

  it.skipIf(skipBackend(backend))('counts nothing when a provider is down or answers an empty list', async () => {
    const { poller, signals, store } = await setup(await freshStoreTarget(backend));
    await poller.poll();
    await control(fleet.urls.gemini, '/outage', { down: true });
    await control(fleet.urls.openai, '/behaviour', { models: [] });
    for (let i = 0; i < 3; i++) {
      const polls = await poller.poll();
      expect(polls.find((p) => p.provider === 'gemini')).toMatchObject({ ok: false, error: 'model list answered HTTP 503' });
      expect(polls.find((p) => p.provider === 'openai')).toMatchObject({ ok: false, error: 'empty model list' });
    }
    expect(signals).toEqual([]);
    expect(await store.sql.get('SELECT SUM(missed) AS m FROM model_watch')).toEqual({ m: 0 });
    await store.close();
  });

  it.skipIf(skipBackend(backend))('pollIfDue polls once per interval on the injected clock, across restarts', async () => {
    const dbPath = await freshStoreTarget(backend);
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
    const a = await setup(dbPath, clock);
    expect(await a.poller.pollIfDue()).not.toBeNull();
    expect(await a.poller.pollIfDue()).toBeNull();
    await a.store.close();
    const b = await setup(dbPath, clock);
    expect(await b.poller.pollIfDue()).toBeNull();
    clock.set(clock.now() + 6 * 3_600_000);
    expect(await b.poller.pollIfDue()).not.toBeNull();
    await b.store.close();
  });
});

describe('pagination', () => {
  it('follows Anthropic has_more/after_id and Gemini nextPageToken, and fails whole on a bad page', async () => {
    const seen: string[] = [];
    let failGeminiPage2 = false;
    const server = http.createServer((req, res) => {
      const u = new URL(req.url!, 'http://x');
      seen.push(`${u.pathname}?${u.searchParams}`);
      res.setHeader('content-type', 'application/json');
      if (u.pathname === '/v1/models') {
        const after = u.searchParams.get('after_id');
        const page = after === null ? ['claude-a', 'claude-b'] : after === 'claude-b' ? ['claude-c'] : [];
        res.end(JSON.stringify({ data: page.map((id) => ({ id, type: 'model' })), has_more: after === null, first_id: page[0], last_id: page[page.length - 1] }));
      } else if (u.pathname === '/v1beta/models') {
        const token = u.searchParams.get('pageToken');
        if (token === 'p2' && failGeminiPage2) {
          res.statusCode = 500;
          res.end('{}');
          return;
        }
        // A real list holds an entry without `name` (see the data README): skipped.
        const body = token === null ? { models: [{ name: 'models/gemini-x' }, { displayName: 'no name' }], nextPageToken: 'p2' } : { models: [{ name: 'models/gemini-y' }] };
        res.end(JSON.stringify(body));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetchModelList(client, endpoint('a', 'anthropic', base))).map((m) => m.id)).toEqual(['claude-a', 'claude-b', 'claude-c']);
      expect((await fetchModelList(client, endpoint('g', 'gemini', base))).map((m) => m.id)).toEqual(['gemini-x', 'gemini-y']);
      expect(seen).toEqual(['/v1/models?limit=1000', '/v1/models?limit=1000&after_id=claude-b', '/v1beta/models?pageSize=1000', '/v1beta/models?pageSize=1000&pageToken=p2']);
      failGeminiPage2 = true;
      await expect(fetchModelList(client, endpoint('g', 'gemini', base))).rejects.toThrow('model list answered HTTP 500');
    } finally {
      server.close();
    }
  });
});
