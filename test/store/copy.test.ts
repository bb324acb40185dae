// `vigil migrate --from sqlite --to postgres://…`: a single instance's history, table by table, into an empty
// PostgreSQL database: every row equal on both sides, identity counters past the copied ids, and a target that
// already holds data refused.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { copyStore } from '../../src/store/copy.ts';
import { HOUR_MS, Store } from '../../src/store/store.ts';
import { freshPgUrl, freshStoreTarget, pgAvailable } from '../pg/backends.ts';
import { makeResult } from './fixtures/gen.ts';

const run = promisify(execFile);
const NODE = new URL('../../node_modules/.bin/node', import.meta.url).pathname;
const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;

async function history(): Promise<string> {
  const path = await freshStoreTarget('sqlite');
  const s = await Store.connect(path, { location: 'eu-west' });
  const rs = Array.from({ length: 1_234 }, (_, i) => makeResult(i, { stepMs: 10_000 }));
  await s.insertResults(rs);
  await s.rollup(rs.at(-1)!.startedAt - HOUR_MS);
  // A late result for a rolled-up hour: queued in rollup_dirty.
  await s.insertResult(makeResult(5, { stepMs: 10_000 }));
  const q = (sql: string, p: (string | number | Uint8Array | null)[]) => s.sql.run(sql, p);
  await q(
    `INSERT INTO incidents (id, dedup_key, detector, key, state, severity, summary, labels, evidence, first_seen, last_seen, signal_status)
     VALUES (?, ?, ?, ?, 'firing', 'critical', ?, '{}', '{}', 1, 2, 'firing')`,
    ['inc-1', 'availability:p', 'availability', 'p', 'p is failing — ünïcödé'],
  );
  for (let i = 0; i < 3; i++) {
    await q(
      `INSERT INTO outbox (group_id, dedup_key, owner, receiver, action, reason, incident_id, payload, status, created_at, expires_at, next_attempt_at)
       VALUES ('g', 'k', 'o', 'slack', 'trigger', 'new', 'inc-1', '{}', 'sent', ?, ?, ?)`,
      [i, i + 10, i],
    );
  }
  await q(`INSERT INTO webhook_events (source, kind, event_id, received_at, headers, body, status) VALUES ('oa', 'generic', 'e1', 1, '{}', ?, 'processed')`, [
    new Uint8Array([0, 255, 10, 13]),
  ]);
  await q(`INSERT INTO provider_models (provider, model, present, first_seen, last_seen) VALUES ('openai', 'gpt-4o', 1, 1, 2)`, []);
  await q(`INSERT INTO detector_state (detector, key, state, updated_at) VALUES ('latency', 'p', '{"v":1}', 3)`, []);
  await s.close();
  return path;
}

const bytes = (v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v);
async function dump(s: Store, table: string): Promise<unknown[]> {
  const rows = await s.sql.all<Record<string, unknown>>(`SELECT * FROM ${table}`);
  return rows
    .map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, bytes(v)])))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

describe.skipIf(!pgAvailable())('vigil migrate (SQLite → PostgreSQL)', () => {
  it('copies every table row for row, and new rows continue after the copied ids', async () => {
    const from = await Store.connect(await history());
    const to = await Store.connect(await freshPgUrl());
    try {
      const r = await copyStore(from, to);
      expect(r.rows).toBeGreaterThan(1_234);
      for (const { table } of r.tables) expect(await dump(to, table), table).toEqual(await dump(from, table));
      expect((await to.results()).every((x) => x.location === 'eu-west')).toBe(true);
      expect(await to.latestResults()).toEqual(await from.latestResults());
      // The late result queued before the copy is recomputed on the target.
      expect(await to.sql.get('SELECT COUNT(*) AS n FROM rollup_dirty')).toEqual({ n: 1 });
      await to.rollup(Date.UTC(2030, 0, 1));
      await from.rollup(Date.UTC(2030, 0, 1));
      expect(await to.rollups()).toEqual(await from.rollups());
      const next = await to.sql.get<{ id: number }>(
        `INSERT INTO outbox (group_id, dedup_key, owner, receiver, action, reason, incident_id, payload, status, created_at, expires_at, next_attempt_at)
         VALUES ('g', 'k', 'o', 'slack', 'resolve', 'new', 'inc-1', '{}', 'queued', 5, 6, 5) RETURNING id`,
      );
      expect(next!.id).toBe(4);
      // A second copy into the same (now non-empty) database is refused.
      await expect(copyStore(from, to)).rejects.toThrow(/already holds .* rows; migrate into an empty database/);
    } finally {
      await from.close();
      await to.close();
    }
  });

  it('runs as `vigil migrate --from PATH --to URL`', async () => {
    const path = await history();
    const url = await freshPgUrl();
    const { stdout } = await run(NODE, [MAIN, 'migrate', '--from', path, '--to', url]);
    expect(stdout).toMatch(/copied \d+ rows in \d+ tables/);
    expect(stdout).toContain('probe_results: 1235 rows');
    const to = await Store.connect(url);
    expect(await to.countResults()).toBe(1_235);
    await to.close();
  }, 60_000);
});
