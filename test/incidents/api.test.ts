// The HTTP routes on a real loopback server.
import { afterEach, describe, expect, it } from 'vitest';
import { incidentRoutes } from '../../src/incidents/api.ts';
import { startServer } from '../../src/server/index.ts';
import type { VigilServer } from '../../src/server/index.ts';
import { BASE_ALERTS, MIN, T0, harness, signal } from './helpers.ts';
import type { Harness } from './helpers.ts';

const servers: VigilServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 50 })));
});

async function serve(h: Harness): Promise<string> {
  const server = await startServer({
    port: 0,
    clock: h.clock,
    log: { error: () => {}, warn: () => {} },
    auth: { adminTokens: [ADMIN], readTokens: [], publicRead: true },
    deps: {
      metrics: { contentType: 'text/plain', metrics: async () => '' },
      readiness: () => [],
      listProbes: () => [],
      queryResults: () => [],
    },
  });
  servers.push(server);
  for (const r of incidentRoutes(h.manager, () => h.clock.now())) server.addRoute(r.method, r.pattern, r.handler);
  return server.url;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = async (r: Response | Promise<Response>): Promise<any> => (await r).json();

const ADMIN = 'test-admin-token-0123456789';
const AUTHZ = { authorization: `Bearer ${ADMIN}` };
const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...AUTHZ }, body: JSON.stringify(body) });

describe('incidents API', () => {
  it('lists incidents (state filter, limit) and shows one with notifications and events', async () => {
    const h = harness(BASE_ALERTS.replace('group_wait: 30s', 'group_wait: 0s'));
    const url = await serve(h);
    await h.manager.ingest(signal('a', 'firing'));
    await h.manager.ingest(signal('b', 'firing', { labels: { provider: 'gemini' } }));
    await h.run(MIN);
    await h.manager.ingest(signal('b', 'resolved'));
    await h.run(6 * MIN);

    const all = await body(fetch(`${url}/api/incidents`));
    expect(all.count).toBe(2);
    const firing = await body(fetch(`${url}/api/incidents?state=firing`));
    expect(firing.incidents.map((i: { key: string }) => i.key)).toEqual(['a']);
    expect(firing.incidents[0].notifications.map((n: { receiver: string; status: string }) => `${n.receiver}:${n.status}`)).toEqual(['pagerduty:sent', 'slack:sent']);
    expect((await body(fetch(`${url}/api/incidents?limit=1`))).count).toBe(1);
    expect((await fetch(`${url}/api/incidents?state=burning`)).status).toBe(400);
    expect((await fetch(`${url}/api/incidents?limit=0`)).status).toBe(400);
    expect((await fetch(`${url}/api/incidents?stat=open`)).status).toBe(400);

    const id = firing.incidents[0].id;
    const detail = await body(fetch(`${url}/api/incidents/${id}`));
    expect(detail.incident.id).toBe(id);
    expect(detail.events.map((e: { kind: string }) => e.kind)).toEqual(['pending', 'firing', 'grouped']);
    expect(detail.notifications[0].attempts).toHaveLength(1);
    expect(detail.groups[0].dedupKey).toMatch(/^vigil-/);
    expect((await fetch(`${url}/api/incidents/nope`)).status).toBe(404);
    expect(JSON.stringify(detail)).not.toContain('xoxb-');
  });

  it('silences: create (validated), list, and delete; a silence stops new notifications', async () => {
    const h = harness(BASE_ALERTS.replace('group_wait: 30s', 'group_wait: 0s'));
    const url = await serve(h);

    const bad = await post(`${url}/api/silences`, { matchers: { provider: 'openai' }, duration: '2h' });
    expect(bad.status).toBe(400);
    expect((await body(bad)).message).toMatch(/comment: .*created_by: /s);
    expect((await post(`${url}/api/silences`, { matchers: {}, duration: '2h', comment: 'x', created_by: 'y' })).status).toBe(400);
    expect((await post(`${url}/api/silences`, { matchers: { provider: 'openai' }, comment: 'x', created_by: 'y' })).status).toBe(400);
    expect((await post(`${url}/api/silences`, { matchers: { provider: 'openai' }, ends_at: '2026-01-01T00:00:00Z', comment: 'x', created_by: 'y' })).status).toBe(400);
    expect((await post(`${url}/api/silences`, { matchers_re: { provider: '(' }, duration: '1h', comment: 'x', created_by: 'y' })).status).toBe(400);
    expect((await post(`${url}/api/silences`, { matchers: { provider: 'openai' }, duration: '1h', comment: 'x', created_by: 'y', extra: 1 })).status).toBe(400);
    const wrongType = await fetch(`${url}/api/silences`, { method: 'POST', headers: { 'content-type': 'text/plain', ...AUTHZ }, body: '{}' });
    expect(wrongType.status).toBe(415);

    const ok = await post(`${url}/api/silences`, { matchers: { provider: 'openai' }, duration: '2h', comment: 'provider incident, tracked', created_by: 'ana' });
    expect(ok.status).toBe(201);
    const { id, silence } = await body(ok);
    expect(silence).toMatchObject({ id, startsAt: T0, endsAt: T0 + 120 * MIN, active: true, createdBy: 'ana' });

    await h.manager.ingest(signal('openai-canary', 'firing'));
    await h.run(5 * MIN);
    expect(h.slack.attempts).toHaveLength(0);

    const list = await body(fetch(`${url}/api/silences`));
    expect(list.silences.map((s: { id: string }) => s.id)).toEqual([id]);

    expect((await fetch(`${url}/api/silences/${id}`, { method: 'DELETE', headers: AUTHZ })).status).toBe(200);
    expect((await fetch(`${url}/api/silences/${id}`, { method: 'DELETE', headers: AUTHZ })).status).toBe(404);
    await h.run(MIN);
    expect(h.slack.actions()).toEqual(['trigger:new']);
    const after = await body(fetch(`${url}/api/silences`));
    expect(after.silences[0]).toMatchObject({ id, active: false });
  });
});
