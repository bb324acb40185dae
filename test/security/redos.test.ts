// Issue 13, attack 1: a silence whose regex backtracks for ever. Patterns run on RE2 (linear time), so the
// one from the report is matched in bounded time; patterns RE2 can't run are refused at creation; and a
// poisonous row already in the database is skipped at start with an error, never a freeze.
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.ts';
import type { Signal } from '../../src/domain.ts';
import { compileMatcher, matches } from '../../src/incidents/matchers.ts';
import { ADMIN, TOKEN_ENV, bearer, memoryLog, secConfig, startDaemon } from './helpers.ts';

const REDOS = '(.*.*.*)*!';

const daemons: Daemon[] = [];
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop()));
});

const post = (url: string, body: unknown) =>
  fetch(`${url}/api/silences`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(ADMIN) }, body: JSON.stringify(body) });

const firing = (key: string, labels: Record<string, string> = {}): Signal => ({
  detector: 'availability',
  key,
  severity: 'critical',
  status: 'firing',
  summary: `${key} failing`,
  evidence: {},
  at: Date.now(),
  labels: { owner: 'platform', provider: 'openai', probe: key, ...labels },
});

async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ReDoS', () => {
  it('the pattern from the report is matched in bounded time (it took 13 s a match with backtracking)', () => {
    const m = compileMatcher({}, { detector: REDOS });
    const t0 = performance.now();
    for (const n of [12, 30, 1000, 20_000]) expect(matches(m, { detector: 'a'.repeat(n) })).toBe(false);
    expect(matches(m, { detector: 'availability!' })).toBe(true);
    // Generous bound: JavaScript's backtracking engine would not finish the 30-character case in a day.
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it('the daemon accepts the silence and its engine keeps ticking; patterns RE2 cannot run are a 400 naming why', async () => {
    const d = await startDaemon(secConfig(), TOKEN_ENV);
    daemons.push(d);
    const r = await post(d.url, { matchers_re: { detector: REDOS }, duration: '1h', comment: 'redos', created_by: 'mallory' });
    expect(r.status).toBe(201);
    await d.incidents.ingest(firing('p1', { detector_note: 'x'.repeat(5000) }));
    await until(async () => (await d.incidents.listIncidents({ state: 'firing', limit: 10 })).length === 1);
    const t0 = performance.now();
    expect((await fetch(`${d.url}/healthz`)).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(2_000);
    for (const bad of ['(?=a)b', '(a)\\1', '(?<!a)b', 'a'.repeat(1100)]) {
      const res = await post(d.url, { matchers_re: { probe: bad }, duration: '1h', comment: 'x', created_by: 'y' });
      expect(res.status, bad).toBe(400);
      expect(((await res.json()) as { message: string }).message, bad).toMatch(/lookahead|backreferences|longer than|invalid regular expression/);
    }
  });

  it('poisonous rows already in the store are skipped at start with an error; the daemon starts, ticks and can delete them', async () => {
    const dir = secConfig();
    const first = await startDaemon(dir, TOKEN_ENV);
    await first.stop();
    const db = new DatabaseSync(join(dir, 'vigil.db'));
    const insert = db.prepare('INSERT INTO silences (id, matchers, starts_at, ends_at, comment, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const now = Date.now();
    insert.run('sil-lookahead', JSON.stringify({ eq: {}, re: { detector: '(?=avail)' } }), now - 1000, now + 3_600_000, 'old', 'mallory', now);
    insert.run('sil-garbage', '{not json', now - 1000, now + 3_600_000, 'old', 'mallory', now);
    insert.run('sil-redos', JSON.stringify({ eq: {}, re: { detector: REDOS } }), now - 1000, now + 3_600_000, 'old', 'mallory', now);
    db.close();

    const mem = memoryLog();
    const d = await startDaemon(dir, TOKEN_ENV, { log: mem.log });
    daemons.push(d);
    await d.incidents.ingest(firing('p2'));
    await until(async () => (await d.incidents.listIncidents({ state: 'firing', limit: 10 })).length === 1);
    await until(() => mem.text().includes('sil-garbage'));
    // One line per event; the order of its JSON fields is the logger's business.
    const skipped = mem.text().split('\n').filter((l) => l.includes('stored silence skipped'));
    expect(skipped.some((l) => l.includes('sil-lookahead') && /lookahead and lookbehind/.test(l))).toBe(true);
    expect(skipped.some((l) => l.includes('sil-garbage'))).toBe(true);
    expect(skipped.some((l) => l.includes('sil-redos'))).toBe(false);
    expect((await fetch(`${d.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${d.url}/api/silences`)).status).toBe(200);
    expect((await fetch(`${d.url}/api/silences/sil-lookahead`, { method: 'DELETE', headers: bearer(ADMIN) })).status).toBe(200);
    expect((await fetch(`${d.url}/api/silences/sil-redos`, { method: 'DELETE', headers: bearer(ADMIN) })).status).toBe(200);
  });
});
