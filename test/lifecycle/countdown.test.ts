// Deprecation countdown on an injected clock: each lead time fires exactly once per owner, also across a
// restart; the previous notice resolves when the next fires; the table prints what the on-call needs.
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import type { Signal } from '../../src/domain.ts';
import { Countdown, daysLeft, dueLead } from '../../src/lifecycle/countdown.ts';
import { deprecationRows, formatDeprecations } from '../../src/lifecycle/format.ts';
import { buildInventory } from '../../src/lifecycle/inventory.ts';
import { DeprecationRegistry, effective } from '../../src/lifecycle/registry.ts';
import { Store } from '../../src/store/store.ts';
import { BACKENDS, freshStoreTarget, skipBackend } from '../pg/backends.ts';
import { endpoint, probe, removeTempDirs } from '../webhooks/helpers.ts';

afterAll(removeTempDirs);

const DAY = 86_400_000;
const SHUTDOWN = '2026-10-23';
const T = Date.parse(`${SHUTDOWN}T00:00:00Z`);

const endpoints = { 'provider:openai': endpoint('openai', 'openai', 'http://127.0.0.1:1') };
const users = buildInventory({
  probes: [
    probe({ id: 'openai-canary', owner: 'search-team', target: 'provider:openai', model: 'gpt-4o' }),
    probe({ id: 'openai-pinned', owner: 'search-team', target: 'provider:openai', model: 'gpt-4o-2024-05-13' }),
  ],
  endpoints,
  consumers: [{ id: 'rerank', owner: 'ml-team', models: ['gpt-4o-2024-*'], provider: null }],
  // The alias probe was last served the retiring snapshot.
  served: new Map([['openai-canary', 'gpt-4o-2024-05-13']]),
});

async function open(target: string, clock: ManualClock) {
  const store = await Store.connect(target, { clock });
  const registry = new DeprecationRegistry(store.sql, { now: () => clock.now(), includeShipped: false });
  const countdown = new Countdown(store.sql);
  const signals: Signal[] = [];
  const check = async () => countdown.check(await registry.effective(), users, clock.now(), (s) => signals.push(s));
  return { store, registry, countdown, signals, check };
}

describe('date arithmetic', () => {
  it('counts whole days to 00:00 UTC of the shutdown date and picks the most urgent lead reached', () => {
    expect(daysLeft(SHUTDOWN, T - 90 * DAY)).toBe(90);
    expect(daysLeft(SHUTDOWN, T - 89.5 * DAY)).toBe(90);
    expect(daysLeft(SHUTDOWN, T - 1)).toBe(1);
    expect(daysLeft(SHUTDOWN, T)).toBe(0);
    expect(dueLead(91, [90, 30, 7, 1])).toBeNull();
    expect(dueLead(90, [90, 30, 7, 1])).toBe(90);
    expect(dueLead(29, [90, 30, 7, 1])).toBe(30);
    expect(dueLead(1, [90, 30, 7, 1])).toBe(1);
    expect(dueLead(0, [90, 30, 7, 1])).toBe(0);
  });
});

describe.each(BACKENDS)('countdown signals (%s)', (backend) => {
  it.skipIf(skipBackend(backend))('fire at 90, 30, 7 and 1 days and on the day, each exactly once per owner, also across a restart', async () => {
    const dbPath = await freshStoreTarget(backend);
    const clock = new ManualClock(T - 120 * DAY);
    let a = await open(dbPath, clock);
    await a.registry.upsert({ model: 'gpt-4o-2024-05-13', provider: 'openai', shutdownAt: SHUTDOWN, replacement: 'gpt-4.1', url: 'https://developers.openai.com/api/docs/deprecations', origin: 'config' });
    const fired: [number, string, string, string][] = [];
    // Walk the clock day by day (and restart the process every 10 days), checking hourly near each lead.
    for (let day = 120; day >= -3; day--) {
      for (const hour of [0, 6, 12, 18]) {
        clock.set(T - day * DAY + hour * 3_600_000);
        await a.check();
      }
      for (const s of a.signals.splice(0)) fired.push([day, s.key, s.status, s.severity]);
      if (day % 10 === 0 || day === 1) {
        await a.store.close();
        a = await open(dbPath, clock);
        await a.check(); // a fresh process re-checks at once: nothing repeats
      }
    }
    const firing = fired.filter(([, , st]) => st === 'firing');
    expect(firing).toEqual([
      [90, 'gpt-4o-2024-05-13@ml-team:T-90d', 'firing', 'info'],
      [90, 'gpt-4o-2024-05-13@search-team:T-90d', 'firing', 'info'],
      [30, 'gpt-4o-2024-05-13@ml-team:T-30d', 'firing', 'warning'],
      [30, 'gpt-4o-2024-05-13@search-team:T-30d', 'firing', 'warning'],
      [7, 'gpt-4o-2024-05-13@ml-team:T-7d', 'firing', 'critical'],
      [7, 'gpt-4o-2024-05-13@search-team:T-7d', 'firing', 'critical'],
      [1, 'gpt-4o-2024-05-13@ml-team:T-1d', 'firing', 'critical'],
      [1, 'gpt-4o-2024-05-13@search-team:T-1d', 'firing', 'critical'],
      [0, 'gpt-4o-2024-05-13@ml-team:T-0d', 'firing', 'critical'],
      [0, 'gpt-4o-2024-05-13@search-team:T-0d', 'firing', 'critical'],
    ]);
    // Each new lead resolves the previous one; the day-0 notice stays open while the model is used.
    expect(fired.filter(([, , st]) => st === 'resolved').map(([d, k]) => `${d} ${k}`)).toEqual([
      '30 gpt-4o-2024-05-13@ml-team:T-90d',
      '30 gpt-4o-2024-05-13@search-team:T-90d',
      '7 gpt-4o-2024-05-13@ml-team:T-30d',
      '7 gpt-4o-2024-05-13@search-team:T-30d',
      '1 gpt-4o-2024-05-13@ml-team:T-7d',
      '1 gpt-4o-2024-05-13@search-team:T-7d',
      '0 gpt-4o-2024-05-13@ml-team:T-1d',
      '0 gpt-4o-2024-05-13@search-team:T-1d',
    ]);
    await a.store.close();
  });

  it.skipIf(skipBackend(backend))('names the replacement, the docs link and the users, and labels the owner', async () => {
    const clock = new ManualClock(T - 30 * DAY);
    const a = await open(await freshStoreTarget(backend), clock);
    await a.registry.upsert({ model: 'gpt-4o-2024-05-13', provider: 'openai', shutdownAt: SHUTDOWN, replacement: 'gpt-4.1', url: 'https://developers.openai.com/api/docs/deprecations', origin: 'webhook:notices' });
    await a.check();
    const s = a.signals.find((x) => x.labels.owner === 'search-team')!;
    expect(s).toMatchObject({ detector: 'deprecation', status: 'firing', severity: 'warning', labels: { owner: 'search-team', model: 'gpt-4o-2024-05-13', provider: 'openai' } });
    expect(s.summary).toBe(
      'gpt-4o-2024-05-13 shuts down on 2026-10-23 (30 days left), used by probe openai-canary, probe openai-pinned; move to gpt-4.1 — https://developers.openai.com/api/docs/deprecations',
    );
    expect(s.evidence).toMatchObject({ days_left: 30, lead_days: 30, replacement: 'gpt-4.1', sources: 'webhook:notices 2026-10-23' });
    // A 90-day notice never fires once the 30-day one is due (no burst of stale notices).
    expect(a.signals.map((x) => x.key).sort()).toEqual(['gpt-4o-2024-05-13@ml-team:T-30d', 'gpt-4o-2024-05-13@search-team:T-30d']);
    await a.store.close();
  });

  it.skipIf(skipBackend(backend))('restarts the countdown when the date moves, resolving the old notice, and stays silent for unused models', async () => {
    const clock = new ManualClock(T - 10 * DAY);
    const a = await open(await freshStoreTarget(backend), clock);
    await a.registry.replaceOrigin('config', [{ model: 'gpt-4o-2024-05-13', provider: 'openai', shutdownAt: SHUTDOWN, replacement: null, url: null }, { model: 'unused-model', provider: null, shutdownAt: SHUTDOWN, replacement: null, url: null }]);
    await a.check();
    expect(a.signals.map((s) => s.key).sort()).toEqual(['gpt-4o-2024-05-13@ml-team:T-30d', 'gpt-4o-2024-05-13@search-team:T-30d']);
    a.signals.length = 0;
    await a.registry.replaceOrigin('config', [{ model: 'gpt-4o-2024-05-13', provider: 'openai', shutdownAt: '2026-10-30', replacement: null, url: null }]);
    await a.check();
    expect(a.signals.map((s) => `${s.status} ${s.key}`).sort()).toEqual([
      'firing gpt-4o-2024-05-13@ml-team:T-30d',
      'firing gpt-4o-2024-05-13@search-team:T-30d',
      'resolved gpt-4o-2024-05-13@ml-team:T-30d',
      'resolved gpt-4o-2024-05-13@search-team:T-30d',
    ]);
    expect(a.signals.find((s) => s.status === 'firing')!.evidence.shutdown_at).toBe('2026-10-30');
    await a.store.close();
  });

  it.skipIf(skipBackend(backend))('a check that fails records nothing and signals nothing; the next check does both', async () => {
    const clock = new ManualClock(T - 5 * DAY);
    const a = await open(await freshStoreTarget(backend), clock);
    await a.registry.upsert({ model: 'gpt-4o-2024-05-13', provider: 'openai', shutdownAt: SHUTDOWN, replacement: null, url: null, origin: 'config' });
    const deps = await a.registry.effective();
    // The store fails mid-check: the notices of the first owner were written, the second's cannot be.
    let n = 0;
    const failing = new Proxy(a.store.sql, {
      get: (t, k) => (k === 'run' ? (q: string, p?: never[]) => (q.startsWith('INSERT') && ++n > 2 ? Promise.reject(new Error('disk full')) : t.run(q, p)) : Reflect.get(t, k)),
    });
    await expect(new Countdown(failing).check(deps, users, clock.now(), (s) => a.signals.push(s))).rejects.toThrow('disk full');
    expect(n).toBeGreaterThan(2);
    expect(a.signals).toEqual([]);
    expect(await a.store.sql.get('SELECT COUNT(*) AS n FROM deprecation_notices')).toEqual({ n: 0 });
    await a.check();
    expect(a.signals).toHaveLength(2);
    await a.store.close();
  });
});

describe('vigil deprecations table', () => {
  it('prints model, shutdown date, days left, owners and replacement, flags disagreeing sources', () => {
    const now = Date.parse('2026-09-23T12:00:00Z');
    const deps = effective([
      { model: 'gpt-4o-2024-05-13', provider: 'openai', shutdownAt: '2026-10-23', replacement: 'gpt-4.1', url: 'https://developers.openai.com/api/docs/deprecations', origin: 'api:openai' },
      { model: 'gpt-4o-2024-05-13', provider: 'openai', shutdownAt: '2026-11-01', replacement: null, url: null, origin: 'config' },
      { model: 'claude-3-opus-20240229', provider: 'anthropic', shutdownAt: '2026-01-05', replacement: null, url: null, origin: 'shipped:ottto-ai/ai-provider-watch' },
      { model: 'nobody-uses-me', provider: null, shutdownAt: '2026-12-01', replacement: null, url: null, origin: 'config' },
    ]);
    const rows = deprecationRows(deps, users, now);
    expect(rows.map((r) => r.model)).toEqual(['gpt-4o-2024-05-13', 'nobody-uses-me']); // shipped and unused: left out
    expect(formatDeprecations(rows)).toBe(
      [
        'MODEL              STATE     SHUTDOWN     WHEN                OWNERS                REPLACEMENT',
        'gpt-4o-2024-05-13  retiring  2026-10-23*  retires in 30 days  ml-team, search-team  gpt-4.1',
        'nobody-uses-me     retiring  2026-12-01   retires in 69 days  -                     -',
        '',
        '* sources disagree; the earliest date is shown:',
        '  gpt-4o-2024-05-13: config 2026-11-01; api:openai 2026-10-23',
        '',
        'Docs:',
        '  gpt-4o-2024-05-13: https://developers.openai.com/api/docs/deprecations',
        '',
      ].join('\n'),
    );
    expect(deprecationRows(deps, users, now, { all: true })).toHaveLength(3);
    expect(formatDeprecations([])).toBe('No known deprecations for the models in use.\n');
    // After the date: retired, distinct from retiring, and loud when still in use.
    const later = deprecationRows(deps, users, Date.parse('2026-10-25T12:00:00Z'));
    expect(later.map((r) => [r.model, r.state, r.daysLeft])).toEqual([['gpt-4o-2024-05-13', 'retired', -2], ['nobody-uses-me', 'retiring', 37]]);
    const text = formatDeprecations(later);
    expect(text.split('\n').slice(0, 3)).toEqual([
      '!! 1 retired model is still in use: requests to it fail or are answered by another model.',
      '!!   gpt-4o-2024-05-13 (retired 2 days ago) used by consumer rerank, probe openai-canary, probe openai-pinned; move to gpt-4.1',
      '',
    ]);
    expect(text).toContain('gpt-4o-2024-05-13  RETIRED   2026-10-23*  retired 2 days ago');
    expect(formatDeprecations(deprecationRows(deps, users, Date.parse('2026-10-23T08:00:00Z')))).toContain('retired today');
  });
});
