import { describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../src/domain.ts';
import { HOUR_MS, Store, nearestRank } from '../../src/store/store.ts';
import { createRng } from '../../src/sim/rng.ts';
import { makeResult } from './fixtures/gen.ts';
import { BACKENDS, freshStoreTarget, skipBackend } from '../pg/backends.ts';

const H0 = Date.UTC(2026, 0, 5, 10); // an hour boundary

/** A result with just the fields rollups read set on top of a valid base. */
function res(probeId: string, startedAt: number, o: Partial<ProbeResult> & { ttft?: number | null; total?: number }) {
  const base = makeResult(1);
  delete base.drillId;
  const r: ProbeResult = {
    ...base,
    probeId,
    startedAt,
    outcome: o.outcome ?? 'ok',
    confirmed: o.confirmed ?? false,
    refusal: o.refusal ?? 'full_compliance',
    // `in`, not ??: an explicit null (a failed call has no usage) must stay null.
    tokensIn: 'tokensIn' in o ? o.tokensIn! : 10,
    tokensOut: 'tokensOut' in o ? o.tokensOut! : 2,
    costUsd: 'costUsd' in o ? o.costUsd! : 0.001,
    timings: { ...base.timings, ttftMs: o.ttft === undefined ? 1 : o.ttft, totalMs: o.total ?? 1 },
  };
  if (o.drillId) r.drillId = o.drillId;
  return r;
}

/** Fisher–Yates with a seeded PRNG: insertion order must not matter. */
function shuffle<T>(xs: T[], seed = 1): T[] {
  const r = createRng(seed);
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

describe('nearestRank', () => {
  it('matches the textbook definition', () => {
    const v = [15, 20, 35, 40, 50]; // Wikipedia's nearest-rank example
    expect(nearestRank(v, 5)).toBe(15);
    expect(nearestRank(v, 21)).toBe(20); // rank ceil(1.05) = 2: rounding would give 15
    expect(nearestRank(v, 30)).toBe(20);
    expect(nearestRank(v, 40)).toBe(20);
    expect(nearestRank(v, 50)).toBe(35);
    expect(nearestRank(v, 100)).toBe(50);
    expect(nearestRank([], 50)).toBeNull();
    expect(nearestRank([7], 99)).toBe(7);
    const ten = Array.from({ length: 10 }, (_, i) => i + 1);
    expect(nearestRank(ten, 91)).toBe(10); // rank ceil(9.1) = 10
    expect(nearestRank(ten, 90)).toBe(9);
    // No floating-point off-by-one: for 1..100 the p-th percentile is p.
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    for (let p = 1; p <= 100; p++) expect(nearestRank(hundred, p)).toBe(p);
  });
});

describe.each(BACKENDS)('store: hourly rollups (%s)', (backend) => {
  it.skipIf(skipBackend(backend))('computes counts, sums and exact percentiles for complete hours', async () => {
    const s = await Store.connect(await freshStoreTarget(backend));
    const rows: ProbeResult[] = [];
    // Hour 0, probe a: totals 1..100 ms (ok; 10 of them degraded), TTFT = 2×total.
    for (let v = 1; v <= 100; v++) {
      rows.push(res('a', H0 + v * 30_000, { total: v, ttft: 2 * v, outcome: v % 10 === 0 ? 'degraded' : 'ok' }));
    }
    // Five failures with huge times: counted, excluded from latency percentiles; two confirmed.
    for (let k = 0; k < 5; k++) {
      rows.push(res('a', H0 + 1000 + k, { outcome: 'failed', total: 30_000, ttft: null, confirmed: k < 2, tokensIn: null, tokensOut: null, costUsd: null }));
    }
    // Drill traffic in the same hour: excluded entirely.
    rows.push(res('a', H0 + 5000, { outcome: 'failed', total: 1, drillId: 'd1' }));
    // Three refusals.
    for (let k = 0; k < 3; k++) rows.push(res('a', H0 + 7000 + k, { refusal: k ? 'full_refusal' : 'partial_refusal', total: 50, ttft: 100 }));
    // Hour 1, probe a: totals 1..10.
    for (let v = 1; v <= 10; v++) rows.push(res('a', H0 + HOUR_MS + v, { total: v, ttft: null }));
    // Hour 0, probe b: one result.
    rows.push(res('b', H0 + HOUR_MS - 1, { total: 42, ttft: 7 }));
    // Hour 2 is incomplete at rollup time: must not be rolled up.
    rows.push(res('a', H0 + 2 * HOUR_MS + 5, { total: 1 }));
    await s.insertResults(shuffle(rows));

    const rep = await s.rollup(H0 + 2 * HOUR_MS + 30 * 60_000); // floors to H0+2h
    expect(rep.written).toBe(3);
    expect(await s.rollupWatermark()).toBe(H0 + 2 * HOUR_MS);

    const [a0, b0, a1, ...rest] = await s.rollups();
    expect(rest).toEqual([]);
    // Totals for a0: 100 values 1..100 plus three refusals at 50 → 103 samples.
    const tot = [...Array.from({ length: 100 }, (_, i) => i + 1), 50, 50, 50].sort((x, y) => x - y);
    expect(a0).toEqual({
      probeId: 'a',
      hourStart: H0,
      count: 108,
      failures: 5,
      degraded: 10,
      confirmedFailures: 2,
      refusals: 3,
      ttft: { n: 103, p50: 2 * nearestRank(tot, 50)!, p95: 2 * nearestRank(tot, 95)!, p99: 2 * nearestRank(tot, 99)! },
      total: { n: 103, p50: nearestRank(tot, 50), p95: nearestRank(tot, 95), p99: nearestRank(tot, 99) },
      tokensIn: 103 * 10,
      tokensOut: 103 * 2,
      costUsd: expect.closeTo(103 * 0.001, 9),
    });
    // Hand-checked: 1..49, then four 50s (ranks 50–53), then rank k holds k−3. Ranks ceil(.5×103)=52 → 50,
    // ceil(.95×103)=98 → 95, ceil(.99×103)=102 → 99.
    expect([a0.total.p50, a0.total.p95, a0.total.p99]).toEqual([50, 95, 99]);
    expect(b0).toMatchObject({ probeId: 'b', hourStart: H0, count: 1, ttft: { n: 1, p50: 7, p95: 7, p99: 7 } });
    // 1..10: p50 = 5th = 5, p95 = ceil(9.5)=10th = 10. No TTFT samples → nulls.
    expect(a1).toMatchObject({
      hourStart: H0 + HOUR_MS,
      count: 10,
      total: { n: 10, p50: 5, p95: 10, p99: 10 },
      ttft: { n: 0, p50: null, p95: null, p99: null },
    });

    // Filters.
    expect(await s.rollups({ probe: 'b' })).toHaveLength(1);
    expect((await s.rollups({ since: H0 + HOUR_MS })).map((r) => r.hourStart)).toEqual([H0 + HOUR_MS]);
    expect((await s.rollups({ until: H0 + HOUR_MS })).map((r) => r.probeId)).toEqual(['a', 'b']);
    await s.close();
  });

  it.skipIf(skipBackend(backend))('is idempotent and picks up late results for hours already rolled up', async () => {
    const path = await freshStoreTarget(backend);
    let s = await Store.connect(path);
    await s.insertResults([res('a', H0 + 1, { total: 10 }), res('a', H0 + 2, { total: 20 })]);
    await s.rollup(H0 + HOUR_MS);
    const first = await s.rollups();
    expect(first).toHaveLength(1);
    expect((await s.rollup(H0 + HOUR_MS)).written).toBe(0);
    expect(await s.rollups()).toEqual(first);

    // A probe that started at 10:59:59 finishes after the 11:00 rollup ran; across a restart too.
    await s.close();
    s = await Store.connect(path);
    await s.insertResult(res('a', H0 + HOUR_MS - 1000, { total: 30 }));
    // Drill results never dirty an hour.
    await s.insertResult(res('a', H0 + 3, { total: 99, drillId: 'd' }));
    const rep = await s.rollup(H0 + HOUR_MS);
    expect(rep).toMatchObject({ written: 1, recomputed: 1 });
    expect((await s.rollups())[0]).toMatchObject({ count: 3, total: { n: 3, p50: 20, p95: 30, p99: 30 } });
    expect((await s.rollup(H0 + HOUR_MS)).written).toBe(0);
    await s.close();
  });

  it.skipIf(skipBackend(backend))('a simulated day of random data matches a brute-force recomputation', async () => {
    const s = await Store.connect(await freshStoreTarget(backend));
    const r = createRng(42);
    const rows: ProbeResult[] = [];
    for (let t = 0; t < 24 * HOUR_MS; t += 20_000) {
      for (const p of ['p1', 'p2', 'p3']) {
        const failed = r() < 0.05;
        rows.push(res(p, H0 + t + Math.floor(r() * 1000), {
          outcome: failed ? 'failed' : r() < 0.1 ? 'degraded' : 'ok',
          ttft: r() < 0.1 ? null : Math.round(r() * 5000) / 10,
          total: Math.round(r() * 9000),
        }));
      }
    }
    // Inserted in chunks with rollups in between, the way the daemon would run them hourly.
    for (let h = 1; h <= 24; h++) {
      await s.insertResults(rows.filter((x) => x.startedAt >= H0 + (h - 1) * HOUR_MS && x.startedAt < H0 + h * HOUR_MS));
      await s.rollup(H0 + h * HOUR_MS);
    }
    const got = await s.rollups();
    expect(got).toHaveLength(72);
    for (const g of got) {
      const hour = rows.filter((x) => x.probeId === g.probeId && x.startedAt >= g.hourStart && x.startedAt < g.hourStart + HOUR_MS);
      const ok = hour.filter((x) => x.outcome !== 'failed');
      const tt = ok.map((x) => x.timings.ttftMs).filter((v): v is number => v !== null).sort((a, b) => a - b);
      const to = ok.map((x) => x.timings.totalMs).sort((a, b) => a - b);
      expect(g.count).toBe(hour.length);
      expect(g.failures).toBe(hour.length - ok.length);
      expect(g.ttft).toEqual({ n: tt.length, p50: nearestRank(tt, 50), p95: nearestRank(tt, 95), p99: nearestRank(tt, 99) });
      expect(g.total).toEqual({ n: to.length, p50: nearestRank(to, 50), p95: nearestRank(to, 95), p99: nearestRank(to, 99) });
    }
    await s.close();
  }, 60_000);
});

describe.each(BACKENDS)('store: interrupted rollup (%s)', (backend) => {
  it.skipIf(skipBackend(backend))('a rollup cut short by close (or a crash) is finished by the next run, with identical output', async () => {
    const rows: ProbeResult[] = [];
    const r = createRng(7);
    for (let p = 0; p < 60; p++) {
      for (let k = 0; k < 20; k++) rows.push(res(`p${p}`, H0 + Math.floor(r() * 3 * HOUR_MS), { total: Math.floor(r() * 1000) }));
    }
    // Reference: one uninterrupted run.
    const ref = await Store.connect(await freshStoreTarget(backend));
    await ref.insertResults(rows);
    await ref.rollup(H0 + 3 * HOUR_MS);
    const expected = await ref.rollups();
    await ref.close();
    expect(expected.length).toBeGreaterThan(150);

    const path = await freshStoreTarget(backend);
    let s = await Store.connect(path);
    await s.insertResults(rows);
    const run = s.rollup(H0 + 3 * HOUR_MS, { chunk: 1 });
    for (let i = 0; i < 20; i++) await new Promise((res) => setImmediate(res));
    const partial = (await s.rollups()).length;
    await s.close();
    await expect(run).rejects.toThrow();
    expect(partial).toBeLessThan(expected.length); // really interrupted half-way

    s = await Store.connect(path);
    await s.rollup(H0 + 3 * HOUR_MS);
    expect(await s.rollups()).toEqual(expected);
    await s.close();
  });
});

describe.each(BACKENDS)('store: retention (%s)', (backend) => {
  const DAY = 24 * HOUR_MS;
  const NOW = H0 + 10 * DAY + 15 * 60_000;
  const policy = { rawRetentionMs: 3 * DAY, rollupRetentionMs: 7 * DAY, batchSize: 50 };

  function tenDays(): ProbeResult[] {
    const rows: ProbeResult[] = [];
    for (let t = H0; t < NOW; t += 10 * 60_000) rows.push(res('a', t, { total: 5 }), res('b', t + 1, { total: 6 }));
    return rows;
  }

  it.skipIf(skipBackend(backend))('drops old raw rows, keeps their rollups, drops rollups past their own retention', async () => {
    const s = await Store.connect(await freshStoreTarget(backend));
    const rows = tenDays();
    await s.insertResults(rows);
    await s.rollup(NOW);
    const rollupsBefore = await s.rollups();

    const rep = await s.applyRetention(NOW, policy);
    const rawCut = Math.floor((NOW - 3 * DAY) / HOUR_MS) * HOUR_MS;
    const rollCut = Math.floor((NOW - 7 * DAY) / HOUR_MS) * HOUR_MS;
    expect(rep.rawCutoff).toBe(rawCut);
    expect(rep.rawDeleted).toBe(rows.filter((r) => r.startedAt < rawCut).length);
    expect(rep.rollupsDeleted).toBe(rollupsBefore.filter((r) => r.hourStart < rollCut).length);
    expect(rep.rawDeleted).toBeGreaterThan(policy.batchSize); // exercised several batches

    expect(await s.countResults()).toBe(rows.filter((r) => r.startedAt >= rawCut).length);
    expect(await s.countResults({ until: rawCut })).toBe(0);
    // Rollups for hours whose raw rows are gone are untouched (days 3–7 ago).
    expect(await s.rollups()).toEqual(rollupsBefore.filter((r) => r.hourStart >= rollCut));
    expect((await s.rollups({ until: rawCut })).length).toBeGreaterThan(0);

    // Re-running deletes nothing more.
    expect(await s.applyRetention(NOW, policy)).toMatchObject({ rawDeleted: 0, rollupsDeleted: 0 });
    await s.close();
  });

  it.skipIf(skipBackend(backend))('never deletes raw rows whose hour is not rolled up', async () => {
    const s = await Store.connect(await freshStoreTarget(backend));
    const rows = tenDays();
    await s.insertResults(rows);
    // No rollup yet: nothing raw may go.
    expect((await s.applyRetention(NOW, policy)).rawDeleted).toBe(0);
    // Rolled up only to 8 days ago: raw rows from then on stay even though they are past raw retention.
    const upTo = H0 + 2 * DAY;
    await s.rollup(upTo);
    const rep = await s.applyRetention(NOW, policy);
    expect(rep.rawDeleted).toBe(rows.filter((r) => r.startedAt < upTo).length);
    expect(await s.countResults({ since: upTo })).toBe(rows.filter((r) => r.startedAt >= upTo).length);

    // A late result for a rolled-up, expired hour waits for its recompute before it can be deleted.
    await s.insertResult(res('a', H0 + 5, { total: 1 }));
    expect((await s.applyRetention(NOW, policy)).rawDeleted).toBe(0);
    await s.rollup(upTo);
    expect((await s.applyRetention(NOW, policy)).rawDeleted).toBe(1);
    await s.close();
  });
});
