import { existsSync, statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.ts';
import { BACKENDS, freshStoreTarget, skipBackend } from '../pg/backends.ts';
import { makeResult } from './fixtures/gen.ts';
import { tempDbPath } from './helpers.ts';

describe.each(BACKENDS)('store: results (%s)', (backend) => {
  const open = async (target?: string) => Store.connect(target ?? (await freshStoreTarget(backend)));

  it.skipIf(skipBackend(backend))('round-trips full ProbeResults across close and reopen', async () => {
    const target = await freshStoreTarget(backend);
    const written = Array.from({ length: 500 }, (_, i) => makeResult(i));
    let s = await open(target);
    await Promise.all(written.slice(0, 100).map((r) => s.insertResult(r)));
    await s.insertResults(written.slice(100));
    await s.close();
    if (backend === 'sqlite') {
      // close() checkpoints with TRUNCATE: everything is in the main file, the WAL is empty.
      expect(existsSync(`${target}-wal`) ? statSync(`${target}-wal`).size : 0).toBe(0);
    }

    s = await open(target);
    const back = await s.results();
    expect(back).toHaveLength(500);
    // Strict: same keys, no stray undefined, nulls preserved, drillId absent when not a drill.
    expect(back).toStrictEqual(written);
    expect(s.integrityCheck()).toEqual(['ok']);
    await s.close();
  });

  it.skipIf(skipBackend(backend))('filters by probe, time range, drills; orders and limits', async () => {
    const s = await open();
    const all = Array.from({ length: 200 }, (_, i) => makeResult(i, { probes: 4 }));
    await s.insertResults(all);
    const t0 = all[0].startedAt;

    const p1 = await s.results({ probe: 'probe-1' });
    expect(p1).toStrictEqual(all.filter((r) => r.probeId === 'probe-1'));

    const win = await s.results({ since: t0 + 10_000, until: t0 + 20_000 });
    expect(win.map((r) => r.startedAt)).toEqual(Array.from({ length: 10 }, (_, k) => t0 + (10 + k) * 1000));

    const last3 = await s.results({ probe: 'probe-2', order: 'desc', limit: 3 });
    expect(last3.map((r) => r.startedAt)).toEqual(
      all.filter((r) => r.probeId === 'probe-2').slice(-3).reverse().map((r) => r.startedAt),
    );

    // What availability seeding reads at start: the same rows as the full query, four fields each.
    const lean = [];
    for (const probe of ['probe-0', 'probe-1', 'probe-2', 'probe-3']) {
      const rows = await s.recentOutcomes(probe, 30);
      expect(rows).toStrictEqual(
        (await s.results({ probe, order: 'desc', limit: 30 })).map((r) => ({
          startedAt: r.startedAt,
          outcome: r.outcome,
          confirmed: r.confirmed,
          ...(r.drillId ? { drillId: r.drillId } : {}),
        })),
      );
      lean.push(...rows);
    }
    expect(lean.some((r) => r.drillId)).toBe(true);
    expect(lean.some((r) => r.confirmed)).toBe(true);

    expect(await s.countResults()).toBe(200);
    expect(await s.countResults({ probe: 'probe-3', since: t0 + 100_000 })).toBe(
      all.filter((r) => r.probeId === 'probe-3' && r.startedAt >= t0 + 100_000).length,
    );
    expect(await s.countResults({ drills: 'only' })).toBe(all.filter((r) => r.drillId).length);
    expect(await s.countResults({ drills: 'exclude' })).toBe(all.filter((r) => !r.drillId).length);
    expect((await s.results({ drillId: 'primary-down-fallback' })).every((r) => r.drillId === 'primary-down-fallback')).toBe(true);
    await s.close();
  });

  it.skipIf(skipBackend(backend))('filters by location; follows rows by id after a given one', async () => {
    const s = await open();
    const all = Array.from({ length: 30 }, (_, i) => ({ ...makeResult(i), location: i % 3 === 0 ? 'eu-west' : 'us-east' }));
    await s.insertResults(all);
    expect(await s.results({ location: 'eu-west' })).toStrictEqual(all.filter((r) => r.location === 'eu-west'));
    expect(await s.maxResultId()).toBe(30);
    const page = await s.resultsAfter(25, 3);
    expect(page.map((p) => p.id)).toEqual([26, 27, 28]);
    expect(page.map((p) => p.result)).toStrictEqual(all.slice(25, 28));
    expect(await s.resultsAfter(30)).toEqual([]);
    await s.close();
  });

  it.skipIf(skipBackend(backend))('summarises per probe and location: counts, failures, mean time of answers, newest outcome', async () => {
    const s = await open();
    const t0 = 1_767_600_000_000;
    const r = (i: number, location: string, outcome: 'ok' | 'failed' | 'unknown', totalMs: number) => ({
      ...makeResult(i),
      probeId: 'p',
      drillId: undefined,
      startedAt: t0 + i * 1000,
      location,
      outcome,
      timings: { ...makeResult(i).timings, totalMs },
    });
    await s.insertResults([r(0, 'eu-west', 'ok', 100), r(1, 'eu-west', 'failed', 5), r(2, 'us-east', 'ok', 40), r(3, 'us-east', 'ok', 60), r(4, 'eu-west', 'failed', 7)]);
    const rows = await s.resultsByLocation(t0);
    expect(rows).toEqual([
      { probe: 'p', location: 'eu-west', results: 3, failed: 2, meanTotalMs: 100, lastAt: t0 + 4000, lastOutcome: 'failed' },
      { probe: 'p', location: 'us-east', results: 2, failed: 0, meanTotalMs: 50, lastAt: t0 + 3000, lastOutcome: 'ok' },
    ]);
    expect(await s.resultsByLocation(t0 + 3500)).toHaveLength(1);
    // Vigil's own fault (outcome unknown) counts as a result but not in the mean time of answers.
    await s.insertResults([r(5, 'us-east', 'unknown', 9_000)]);
    expect((await s.resultsByLocation(t0)).find((x) => x.location === 'us-east')).toEqual({ probe: 'p', location: 'us-east', results: 3, failed: 0, meanTotalMs: 50, lastAt: t0 + 5000, lastOutcome: 'unknown' });
    await s.close();
  });

  it.skipIf(skipBackend(backend))('latestResults gives the newest non-drill result of each probe', async () => {
    const s = await open();
    const all = Array.from({ length: 300 }, (_, i) => makeResult(i, { probes: 7 }));
    // Insert out of order: latest is by startedAt, not insertion order.
    await s.insertResults([...all].reverse());
    const latest = await s.latestResults();
    expect([...latest.keys()].sort()).toEqual(Array.from({ length: 7 }, (_, k) => `probe-${k}`));
    for (const [id, r] of latest) {
      const expected = all.filter((x) => x.probeId === id && !x.drillId).at(-1);
      expect(r).toStrictEqual(expected);
    }
    await s.close();
  });

  it.skipIf(skipBackend(backend))('insertResults is all or nothing', async () => {
    const s = await open();
    const bad = makeResult(2);
    // A NOT NULL column left empty by a buggy caller makes the batch fail...
    (bad as any).probeId = null;
    await expect(s.insertResults([makeResult(0), makeResult(1), bad])).rejects.toThrow();
    // ...and none of it is half-written.
    expect(await s.countResults()).toBe(0);
    await s.insertResult(makeResult(3));
    expect(await s.countResults()).toBe(1);
    await s.close();
  });

  it.skipIf(skipBackend(backend))('concurrent single inserts share commits, and one bad row fails alone', async () => {
    const s = await open();
    const bad = makeResult(5);
    (bad as any).probeId = null;
    const rs = Array.from({ length: 300 }, (_, i) => (i === 5 ? bad : makeResult(i)));
    const settled = await Promise.allSettled(rs.map((r) => s.insertResult(r)));
    expect(settled.filter((x) => x.status === 'rejected')).toHaveLength(1);
    expect(settled[5].status).toBe('rejected');
    expect(await s.countResults()).toBe(299);
    expect(await s.results()).toStrictEqual(rs.filter((r) => r !== bad));
    await s.close();
  });

  it.skipIf(skipBackend(backend))('meta is a persistent key/value table', async () => {
    const target = await freshStoreTarget(backend);
    let s = await open(target);
    expect(await s.getMeta('x')).toBeUndefined();
    await s.setMeta('x', '1');
    await s.setMeta('x', '2');
    await s.close();
    s = await open(target);
    expect(await s.getMeta('x')).toBe('2');
    await s.close();
  });
});

describe('store: SQLite specifics', () => {
  it('opens in WAL with NORMAL sync, foreign keys and a busy timeout', async () => {
    const s = await Store.connect(tempDbPath(), { busyTimeoutMs: 1234 });
    const p = (q: string) => Object.values(s.db.prepare(`PRAGMA ${q}`).get()!)[0];
    expect(p('journal_mode')).toBe('wal');
    expect(p('synchronous')).toBe(1); // NORMAL
    expect(p('foreign_keys')).toBe(1);
    expect(p('busy_timeout')).toBe(1234);
    await s.close();
  });

  it('waits for another connection holding the write lock instead of failing', async () => {
    const path = tempDbPath();
    const s = await Store.connect(path, { busyTimeoutMs: 2000 });
    const other = new DatabaseSync(path);
    other.exec('BEGIN IMMEDIATE');
    // busy_timeout 0 on a second store: fails fast, proving the lock is really held...
    const impatient = await Store.connect(path, { busyTimeoutMs: 0 });
    await expect(impatient.insertResult(makeResult(0))).rejects.toThrow(/locked|busy/i);
    other.exec('COMMIT');
    other.close();
    // ...and once released, writes go through.
    await s.insertResult(makeResult(1));
    expect(await impatient.countResults()).toBe(1);
    await impatient.close();
    await s.close();
  });

  it("works in memory (for other modules' unit tests)", async () => {
    const s = await Store.connect(':memory:');
    await s.insertResult(makeResult(0));
    expect(await s.results()).toStrictEqual([makeResult(0)]);
    await s.close();
  });

  it('opens read-only next to a writer, and refuses a read-only open of an unmigrated file', async () => {
    const path = tempDbPath();
    const w = await Store.connect(path);
    await w.insertResult(makeResult(0));
    const r = await Store.connect(path, { readOnly: true });
    expect(await r.countResults()).toBe(1);
    await w.insertResult(makeResult(1));
    expect(await r.countResults()).toBe(2); // sees the writer's commits
    await expect(r.insertResult(makeResult(2))).rejects.toThrow(/readonly/i);
    await r.close();
    await w.close();

    const empty = tempDbPath();
    new DatabaseSync(empty).close();
    await expect(Store.connect(empty, { readOnly: true })).rejects.toThrow(/older than .*read-write once/);
  });
});
