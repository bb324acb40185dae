// The facade the daemon holds, from a real config directory: routes, start, tick, table.
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Signal } from '../../src/domain.ts';
import { createHttpClient } from '../../src/http/client.ts';
import { Lifecycle, deprecationsTable } from '../../src/lifecycle/index.ts';
import { createMetrics } from '../../src/metrics/index.ts';
import { startServer } from '../../src/server/index.ts';
import { startSimFleet } from '../../src/sim/index.ts';
import { Store } from '../../src/store/store.ts';
import { signGeneric } from '../../src/webhooks/hmac.ts';
import { cleanup, configDir } from '../config/helpers.ts';
import { post, removeTempDirs, tempDbPath } from '../webhooks/helpers.ts';

afterAll(() => {
  cleanup();
  removeTempDirs();
});

describe('Lifecycle', () => {
  it('wires intake, poller, registry and countdown from vigil.yaml', async () => {
    const fleet = await startSimFleet({ behaviour: { latency: { ttfbMs: 1, ttftMs: 1, perTokenMs: 0, jitter: 0, diurnal: null } } });
    const http = createHttpClient();
    const clock = new ManualClock(Date.parse('2026-10-20T09:00:00Z'));
    const dir = configDir({
      'vigil.yaml': `providers:
  openai: { kind: openai, base_url: "${fleet.urls.openai}", api_key: sk-test }
  anthropic: { kind: anthropic, base_url: "${fleet.urls.anthropic}", api_key: sk-ant-test }
webhooks:
  notices: { kind: generic, secret: "\${NOTICE_SECRET}", provider: anthropic }
consumers:
  - { id: summarizer, owner: docs-team, models: [claude-haiku-4-5-20251001] }
deprecations:
  - { model: gpt-4o-mini, shutdown_at: "2026-12-31", replacement: gpt-4.1-mini }
`,
      'probes/p.yaml': `probes:
  - { id: openai-canary, owner: search-team, target: provider:openai, model: gpt-4o-mini, prompt: hi }
`,
    });
    const { config, errors } = loadConfig(dir, { env: { NOTICE_SECRET: 'notice-secret-abcdef123456' } });
    expect(errors).toEqual([]);
    const store = Store.open(tempDbPath(), { clock });
    const signals: Signal[] = [];
    const lc = new Lifecycle({ sql: store.sql, clock, http, config: () => config!, sink: (s) => signals.push(s) });
    const server = await startServer({ port: 0, clock, deps: { metrics: createMetrics({ defaultMetrics: false }), readiness: () => [], listProbes: () => [], queryResults: () => [] } });
    for (const r of lc.routes()) server.addRoute(r.method, r.pattern, r.handler);
    try {
      // 72 days before the configured date: the 90-day notice goes to the probe's owner.
      const started = await lc.start();
      expect(started.countdown.fired.map((s) => s.key)).toEqual(['gpt-4o-mini@search-team:T-90d']);
      // A forwarded notice for a model a consumer uses, 3 days out: the 7-day notice fires at once.
      const notice = JSON.stringify({ model: 'claude-haiku-4-5-20251001', shutdown_at: '2026-10-23', replacement: 'claude-haiku-5' });
      const r = await post(`${server.url}/webhooks/notices`, notice, signGeneric('notice-secret-abcdef123456', notice));
      expect(r.status).toBe(200);
      expect(signals.at(-1)).toMatchObject({ key: 'claude-haiku-4-5-20251001@docs-team:T-7d', severity: 'critical', labels: { owner: 'docs-team', provider: 'anthropic' } });
      const t = await lc.tick();
      expect(t.polls?.map((p) => p.ok)).toEqual([true, true]);
      expect(await lc.tick().then((x) => x.polls)).toBeNull(); // not due again for 6 h
      expect(await lc.table()).toMatch(/claude-haiku-4-5-20251001 +retiring +2026-10-23 +retires in 3 days +docs-team +claude-haiku-5/);
      // Gemini's in-band modelStatus becomes a dated deprecation.
      expect(await lc.noteModelStatus('gemini', 'gemini-2.5-flash', { modelStage: 'DEPRECATED', retirementTime: '2026-11-30T00:00:00Z' })).toBe(true);
      expect(await lc.noteModelStatus('gemini', 'gemini-2.5-flash', { modelStage: 'DEPRECATED', retirementTime: '2026-11-30T00:00:00Z' })).toBe(false);
      const flash = (await lc.rows({ all: true })).find((x) => x.model === 'gemini-2.5-flash')!;
      expect(flash).toMatchObject({ shutdownAt: '2026-11-30', state: 'retiring' });
      expect(flash.sources).toContain('api:gemini:modelStatus 2026-11-30');
      // The CLI table without a daemon: vigil.yaml and shipped rows, plus what the store learnt.
      const fresh = await deprecationsTable({ sql: null, config: config!, now: clock.now() });
      expect(fresh).toMatch(/gpt-4o-mini +retiring +2026-12-31 +retires in 72 days +search-team +gpt-4.1-mini/);
      expect(fresh).not.toContain('claude-haiku-4-5-20251001');
      expect(await deprecationsTable({ sql: store.sql, config: config!, now: clock.now() })).toContain('claude-haiku-4-5-20251001');
    } finally {
      await server.close({ graceMs: 50 });
      store.close();
      await http.close();
      await fleet.close();
    }
  });
});
