import { existsSync, statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.ts';
import { makeResult } from './fixtures/gen.ts';
import { tempDbPath } from './helpers.ts';

describe('store: results', () => {
  it('round-trips full ProbeResults across close and reopen', () => {
    const path = tempDbPath();
    const written = Array.from({ length: 500 }, (_, i) => makeResult(i));
    let s = Store.open(path);
    written.slice(0, 100).forEach((r) => s.insertResult(r));
    s.insertResults(written.slice(100));
    s.close();
    // close() checkpoints with TRUNCATE: everything is in the main file, the WAL is empty.
    expect(existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0).toBe(0);

    s = Store.open(path);
    const back = s.results();
    expect(back).toHaveLength(500);
    // Strict: same keys, no stray undefined, nulls preserved, drillId absent when not a drill.
    expect(back).toStrictEqual(written);
    expect(s.integrityCheck()).toEqual(['ok']);
    s.close();
  });

  it('filters by probe, time range, drills; orders and limits', () => {
    const s = Store.open(tempDbPath());
    const all = Array.from({ length: 200 }, (_, i) => makeResult(i, { probes: 4 }));
    s.insertResults(all);
    const t0 = all[0].startedAt;

    const p1 = s.results({ probe: 'probe-1' });
    expect(p1).toStrictEqual(all.filter((r) => r.probeId === 'probe-1'));

    const win = s.results({ since: t0 + 10_000, until: t0 + 20_000 });
    expect(win.map((r) => r.startedAt)).toEqual(Array.from({ length: 10 }, (_, k) => t0 + (10 + k) * 1000));

    const last3 = s.results({ probe: 'probe-2', order: 'desc', limit: 3 });
    expect(last3.map((r) => r.startedAt)).toEqual(
      all.filter((r) => r.probeId === 'probe-2').slice(-3).reverse().map((r) => r.startedAt),
    );

    expect(s.countResults()).toBe(200);
    expect(s.countResults({ probe: 'probe-3', since: t0 + 100_000 })).toBe(
      all.filter((r) => r.probeId === 'probe-3' && r.startedAt >= t0 + 100_000).length,
    );
    expect(s.countResults({ drills: 'only' })).toBe(all.filter((r) => r.drillId).length);
    expect(s.countResults({ drills: 'exclude' })).toBe(all.filter((r) => !r.drillId).length);
    expect(s.results({ drillId: 'primary-down-fallback' }).every((r) => r.drillId === 'primary-down-fallback')).toBe(true);
    s.close();
  });

  it('latestResults gives the newest non-drill result of each probe', () => {
    const s = Store.open(tempDbPath());
    const all = Array.from({ length: 300 }, (_, i) => makeResult(i, { probes: 7 }));
    // Insert out of order: latest is by startedAt, not insertion order.
    s.insertResults([...all].reverse());
    const latest = s.latestResults();
    expect([...latest.keys()].sort()).toEqual(Array.from({ length: 7 }, (_, k) => `probe-${k}`));
    for (const [id, r] of latest) {
      const expected = all.filter((x) => x.probeId === id && !x.drillId).at(-1);
      expect(r).toStrictEqual(expected);
    }
    s.close();
  });

  it('insertResults is all or nothing', () => {
    const s = Store.open(tempDbPath());
    const bad = makeResult(2);
    // A NOT NULL column left empty by a buggy caller makes the batch fail...
    (bad as any).probeId = null;
    expect(() => s.insertResults([makeResult(0), makeResult(1), bad])).toThrow();
    // ...and none of it is half-written.
    expect(s.countResults()).toBe(0);
    s.insertResult(makeResult(3));
    expect(s.countResults()).toBe(1);
    s.close();
  });

  it('opens in WAL with NORMAL sync, foreign keys and a busy timeout', () => {
    const s = Store.open(tempDbPath(), { busyTimeoutMs: 1234 });
    const p = (q: string) => Object.values(s.db.prepare(`PRAGMA ${q}`).get()!)[0];
    expect(p('journal_mode')).toBe('wal');
    expect(p('synchronous')).toBe(1); // NORMAL
    expect(p('foreign_keys')).toBe(1);
    expect(p('busy_timeout')).toBe(1234);
    s.close();
  });

  it('meta is a persistent key/value table', () => {
    const path = tempDbPath();
    let s = Store.open(path);
    expect(s.getMeta('x')).toBeUndefined();
    s.setMeta('x', '1');
    s.setMeta('x', '2');
    s.close();
    s = Store.open(path);
    expect(s.getMeta('x')).toBe('2');
    s.close();
  });

  it('waits for another connection holding the write lock instead of failing', () => {
    const path = tempDbPath();
    const s = Store.open(path, { busyTimeoutMs: 2000 });
    const other = new DatabaseSync(path);
    other.exec('BEGIN IMMEDIATE');
    // busy_timeout 0 on a second store: fails fast, proving the lock is really held...
    const impatient = Store.open(path, { busyTimeoutMs: 0 });
    expect(() => impatient.insertResult(makeResult(0))).toThrow(/locked|busy/i);
    other.exec('COMMIT');
    other.close();
    // ...and once released, writes go through.
    s.insertResult(makeResult(1));
    expect(impatient.countResults()).toBe(1);
    impatient.close();
    s.close();
  });
});

describe('store: other open modes', () => {
  it('works in memory (for other modules\' unit tests)', () => {
    const s = Store.open(':memory:');
    s.insertResult(makeResult(0));
    expect(s.results()).toStrictEqual([makeResult(0)]);
    s.close();
  });

  it('opens read-only next to a writer, and refuses a read-only open of an unmigrated file', () => {
    const path = tempDbPath();
    const w = Store.open(path);
    w.insertResult(makeResult(0));
    const r = Store.open(path, { readOnly: true });
    expect(r.countResults()).toBe(1);
    w.insertResult(makeResult(1));
    expect(r.countResults()).toBe(2); // sees the writer's commits
    expect(() => r.insertResult(makeResult(2))).toThrow(/readonly/i);
    r.close();
    w.close();

    const empty = tempDbPath();
    new DatabaseSync(empty).close();
    expect(() => Store.open(empty, { readOnly: true })).toThrow(/older than .*read-write once/);
  });
});
