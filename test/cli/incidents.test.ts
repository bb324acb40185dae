// `vigil incidents` after `npm run demo`: the read commands find the demo's store (and say which store they read),
// the table is one line per incident (notifications with --verbose or `show <id>`), and `routes test` says when an
// alert falls back to the console.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { incidentsCommand, routesCommand } from '../../src/cli/incidents.ts';
import { readStore } from '../../src/cli/store-path.ts';
import { UsageError } from '../../src/cli/args.ts';
import { formatIncidents, formatRoutesTest } from '../../src/incidents/format.ts';
import { routesTest } from '../../src/incidents/manager.ts';
import type { Incident } from '../../src/domain.ts';
import { BASE_ALERTS, ENV, MIN, T0, alertsFromYaml, harness, signal } from '../incidents/helpers.ts';

describe('which store a read command opens', () => {
  const cfg = { path: '/srv/vigil/data/vigil.db' };
  const has = (...paths: string[]) => (p: string) => paths.includes(p);

  it('the configured store when it exists, naming the demo store beside it', () => {
    expect(readStore(cfg, { exists: has(cfg.path), cwd: '/srv/vigil' })).toEqual({ target: cfg.path, note: 'store: data/vigil.db' });
    expect(readStore(cfg, { exists: has(cfg.path, '/srv/vigil/data/demo.db'), cwd: '/srv/vigil' })).toEqual({
      target: cfg.path,
      note: "store: data/vigil.db; the demo's is data/demo.db: --db data/demo.db",
    });
  });

  it("the demo's store when the configured one was never created; nothing, saying why, when neither exists", () => {
    expect(readStore(cfg, { exists: has('/srv/vigil/data/demo.db'), cwd: '/srv/vigil' })).toEqual({
      target: '/srv/vigil/data/demo.db',
      note: "store: data/demo.db (the demo's; data/vigil.db does not exist yet)",
    });
    const none = readStore(cfg, { exists: has(), cwd: '/elsewhere' });
    expect(none.target).toBeNull();
    expect(none.note).toBe('/srv/vigil/data/vigil.db does not exist yet: has the daemon run? (`vigil run`, or `npm run demo` which writes /srv/vigil/data/demo.db)');
  });

  it('--db wins, relative to the working directory; a database URL is never second-guessed (and its password never shown)', () => {
    expect(readStore(cfg, { db: 'x/my.db', exists: has('/home/me/x/my.db'), cwd: '/home/me' })).toEqual({ target: '/home/me/x/my.db', note: 'store: x/my.db (--db)' });
    expect(readStore(cfg, { db: 'nope.db', exists: has(), cwd: '/home/me' })).toEqual({ target: null, note: 'nope.db (--db) does not exist' });
    const pg = readStore({ ...cfg, url: 'postgres://vigil:s3cret@db:5432/vigil' }, { exists: has() });
    expect(pg.target).toBe('postgres://vigil:s3cret@db:5432/vigil');
    expect(pg.note).not.toContain('s3cret');
  });
});

describe('vigil incidents on the demo store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-incidents-'));
  const demoDb = join(dir, 'data', 'demo.db');
  let ids: string[] = [];
  const savedDb = process.env.VIGIL_DB;

  async function call(fn: typeof incidentsCommand, argv: string[], width = 120) {
    let out = '';
    let err = '';
    const code = await fn(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s), width });
    return { code, out, err };
  }

  beforeAll(async () => {
    delete process.env.VIGIL_DB; // the config's own default path, data/vigil.db, which is never created here
    mkdirSync(join(dir, 'alerts'), { recursive: true });
    writeFileSync(join(dir, 'vigil.yaml'), 'storage:\n  path: ./data/vigil.db\nproviders:\n  openai: { kind: openai, api_key: "${OPENAI_API_KEY}" }\n');
    writeFileSync(join(dir, 'alerts', 'routing.yaml'), BASE_ALERTS);
    mkdirSync(join(dir, 'data'));
    // What the demo leaves: incidents with notifications, in data/demo.db.
    const h = harness(BASE_ALERTS.replace('group_wait: 30s', 'group_wait: 0s'), { dbPath: demoDb });
    await h.manager.ingest(signal('openai-canary', 'firing', { summary: `openai-canary failing: rate_limited (HTTP 429) since 09:00 UTC; ${'a long explanation '.repeat(12)}` }));
    await h.manager.ingest(signal('gemini-canary', 'firing', { severity: 'warning' }));
    await h.run(10 * MIN, MIN);
    await h.manager.ingest(signal('gemini-canary', 'resolved', { severity: 'warning' }));
    await h.run(10 * MIN, MIN);
    ids = (await h.manager.listIncidents()).map((i) => i.id);
    h.store.close();
  });
  afterAll(() => {
    if (savedDb !== undefined) process.env.VIGIL_DB = savedDb;
    rmSync(dir, { recursive: true, force: true });
  });

  it("finds data/demo.db when data/vigil.db does not exist, and says which store it read", async () => {
    const r = await call(incidentsCommand, ['--config', dir]);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`store: ${demoDb} (the demo's; ${join(dir, 'data', 'vigil.db')} does not exist yet)`);
    expect(r.out).not.toContain('no incidents');
  });

  it('compact: a header and exactly one line per incident, within the width, notifications as receiver marks', async () => {
    // Still firing: FOR counts to the real now.
    const lines = (await call(incidentsCommand, ['--config', dir], 140)).out.trimEnd().split('\n');
    expect(lines).toHaveLength(1 + ids.length);
    expect(lines[0]).toMatch(/^ID +STATE +SEVERITY +KEY +STARTED +FOR +NOTIFIED +SUMMARY$/);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(140);
    const openai = lines.find((l) => l.includes('openai-canary'))!;
    expect(openai).toMatch(/FIRING +critical +openai-canary +2026-01-05 09:00Z +\d+[mhd]\S* +pagerduty✓ slack✓ +openai-canary failing: rate_limited/);
    expect(openai.endsWith('…')).toBe(true);
    expect(lines.find((l) => l.includes('gemini-canary'))).toMatch(/RESOLVED +warning +gemini-canary .* slack✓ /);
    // The Slack ts and PagerDuty dedup key are for --verbose and show.
    expect(lines.join('\n')).not.toMatch(/trigger sent|C123:/);
  });

  it('--verbose adds each notification; --json keeps stdout parseable (the store line is on stderr)', async () => {
    const v = await call(incidentsCommand, ['--config', dir, '--verbose']);
    expect(v.out).toMatch(/pagerduty trigger sent vigil-[0-9a-f]{32} {2}· {2}slack trigger sent C123:/);
    const j = await call(incidentsCommand, ['--config', dir, '--json', '--state', 'firing']);
    const list = JSON.parse(j.out) as Incident[];
    expect(list.map((i) => i.key)).toEqual(['openai-canary']);
    expect(list[0].notifications.length).toBeGreaterThan(0);
    expect(j.err).toContain('store: ');
  });

  it('show <id>: labels, timeline and every notification; a mistyped id gets the closest', async () => {
    const id = ids[ids.length - 1];
    const r = await call(incidentsCommand, ['show', id, '--config', dir]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`id ${id}`);
    expect(r.out).toMatch(/\nlabels {3}.*owner=search-team/);
    expect(r.out).toContain('\ntimeline\n');
    expect(r.out).toMatch(/\nnotifications\n {2}2026-01-05 \d\d:\d\dZ {2}\w+/);
    await expect(call(incidentsCommand, ['show', id.slice(0, -1) + 'z', '--config', dir])).rejects.toThrow(`did you mean "${id}"?`);
    await expect(call(incidentsCommand, ['stray', '--config', dir])).rejects.toThrow(UsageError);
  });

  it('the configured store, once it exists, is read first; --db picks another', async () => {
    const vigilDb = join(dir, 'data', 'vigil.db');
    copyFileSync(demoDb, vigilDb);
    try {
      expect((await call(incidentsCommand, ['--config', dir])).err).toContain(`store: ${vigilDb}; the demo's is ${demoDb}: --db ${demoDb}`);
      expect((await call(incidentsCommand, ['--config', dir, '--db', demoDb])).err).toContain(`store: ${demoDb} (--db)`);
    } finally {
      rmSync(vigilDb);
    }
  });

  it("routes test: an owner with no configured receiver falls back to the console, and says so", async () => {
    const r = await call(routesCommand, ['test', 'owner=ghost', 'severity=critical', '--config', dir]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('✗ pagerduty ghost/pagerduty');
    expect(r.out).toContain(`→ console   fallback: no receiver above is configured for owner "ghost", so this alert goes to Vigil's console log (stderr) instead`);
    // Unset receiver secrets make receivers unusable too (and the fallback says so); with them set, no fallback.
    const unset = await call(routesCommand, ['test', 'owner=search-team', 'severity=critical', '--config', dir]);
    expect(unset.out).toContain('→ console   fallback: no receiver above is configured for owner "search-team"');
    Object.assign(process.env, ENV);
    try {
      const ok = await call(routesCommand, ['test', 'owner=search-team', 'severity=critical', '--config', dir]);
      expect(ok.out).toContain('→ pagerduty search-team/pagerduty');
      expect(ok.out).not.toContain('fallback');
    } finally {
      for (const k of Object.keys(ENV)) delete process.env[k];
    }
  });
});

describe('formatting without a store', () => {
  it('routes test: the fallback only when every receiver of the route is unusable', () => {
    const c = alertsFromYaml(BASE_ALERTS);
    const ghost = routesTest(c, { owner: 'ghost', severity: 'warning' }, [], T0);
    expect(ghost.routes[0].fallback).toMatch(/^fallback: no receiver above is configured for owner "ghost"/);
    expect(formatRoutesTest(ghost)).toContain('→ console   fallback:');
    expect(routesTest(c, { owner: 'search-team', severity: 'warning' }, [], T0).routes[0].fallback).toBeNull();
  });

  it('an empty list says so in both forms', () => {
    expect(formatIncidents([], T0)).toBe('no incidents');
    expect(formatIncidents([], T0, { verbose: true })).toBe('no incidents');
  });
});
