// Per-location hourly rollups (migration 11) and the heatmap's per-location queries, on both engines.
import { describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../src/domain.ts';
import { HOUR_MS, Store } from '../../src/store/store.ts';
import { hourlySince, locationsSince } from '../../src/ui/queries.ts';
import { makeResult } from './fixtures/gen.ts';
import { BACKENDS, freshStoreTarget, skipBackend } from '../pg/backends.ts';

const H0 = Date.UTC(2026, 0, 5, 10); // an hour boundary

function res(probeId: string, startedAt: number, location: string | undefined, total: number, outcome: ProbeResult['outcome'] = 'ok'): ProbeResult {
  const base = makeResult(1);
  delete base.drillId;
  const r: ProbeResult = { ...base, probeId, startedAt, outcome, confirmed: false, timings: { ...base.timings, ttftMs: total / 2, totalMs: total } };
  if (location === undefined) delete r.location;
  else r.location = location;
  return r;
}

describe.each(BACKENDS)('store: rollups per location (%s)', (backend) => {
  it.skipIf(skipBackend(backend))('rolls up each location beside all of them, replaces the set on a late result, keeps to retention', async () => {
    const s = await Store.connect(await freshStoreTarget(backend));
    const rows: ProbeResult[] = [];
    for (let k = 1; k <= 10; k++) {
      rows.push(res('a', H0 + k * 1000, 'eu-west', 100 * k)); // 100..1000
      rows.push(res('a', H0 + k * 1000 + 1, 'us-east', k)); // 1..10
    }
    rows.push(res('a', H0 + 50_000, 'us-east', 5_000, 'failed'));
    rows.push(res('a', H0 + 60_000, undefined, 7)); // no location (a lone instance, or from before migration 9)
    rows.push(res('b', H0 + HOUR_MS + 5, 'eu-west', 42));
    await s.insertResults(rows);
    await s.rollup(H0 + 2 * HOUR_MS);

    const [all] = await s.rollups({ probe: 'a' });
    expect(all).toMatchObject({ count: 22, failures: 1, total: { n: 21 } });
    const eu = await s.rollups({ probe: 'a', location: 'eu-west' });
    expect(eu).toHaveLength(1);
    expect(eu[0]).toMatchObject({ probeId: 'a', hourStart: H0, count: 10, failures: 0, total: { n: 10, p50: 500, p95: 1000 } });
    const us = await s.rollups({ probe: 'a', location: 'us-east' });
    expect(us[0]).toMatchObject({ count: 11, failures: 1, total: { n: 10, p50: 5, p95: 10 } });
    expect(await s.rollups({ location: 'ap-south' })).toEqual([]);
    expect((await s.rollups({ location: 'eu-west' })).map((r) => `${r.probeId}@${r.hourStart - H0}`)).toEqual(['a@0', `b@${HOUR_MS}`]);
    expect(await s.rollupLocations(H0, H0 + 2 * HOUR_MS)).toEqual(['eu-west', 'us-east']);
    expect(await s.rollupLocations(H0 + HOUR_MS, H0 + 2 * HOUR_MS)).toEqual(['eu-west']);

    // A late result from a third location: that probe-hour's locations are recomputed as a set.
    await s.insertResults([res('a', H0 + 70_000, 'ap-south', 77)]);
    await s.rollup(H0 + 2 * HOUR_MS);
    expect((await s.rollups({ probe: 'a', location: 'ap-south' }))[0]).toMatchObject({ count: 1, total: { p50: 77 } });
    expect((await s.rollups({ probe: 'a', location: 'eu-west' }))[0]).toMatchObject({ count: 10 });
    expect((await s.rollups({ probe: 'a' }))[0]).toMatchObject({ count: 23 });

    // Retention drops per-location rollups with the others.
    const rep = await s.applyRetention(H0 + 10 * 24 * HOUR_MS, { rawRetentionMs: 24 * HOUR_MS, rollupRetentionMs: 10 * 24 * HOUR_MS - 1.5 * HOUR_MS });
    expect(rep).toMatchObject({ rollupsDeleted: 1, locationRollupsDeleted: 3 });
    expect(await s.rollups({ location: 'eu-west' })).toHaveLength(1);
    await s.close();
  });

  it.skipIf(skipBackend(backend))('status page queries: the heatmap of one location, its choices, and per-location status', async () => {
    const s = await Store.connect(await freshStoreTarget(backend));
    const now = H0 + 3 * HOUR_MS + 30 * 60_000;
    const rows: ProbeResult[] = [];
    for (let h = 0; h < 4; h++) {
      for (let k = 1; k <= 3; k++) {
        rows.push(res('a', H0 + h * HOUR_MS + k * 1000, 'eu-west', 1000 * k));
        rows.push(res('a', H0 + h * HOUR_MS + k * 1000 + 1, 'us-east', 10 * k));
      }
    }
    rows.push(res('a', H0 + 3 * HOUR_MS + 20 * 60_000, 'us-east', 9_999, 'failed'));
    await s.insertResults(rows);
    await s.rollup(H0 + 2 * HOUR_MS); // hours 0–1 from rollups, 2–3 from raw rows

    const eu = await hourlySince(s, ['a'], H0, now, 'eu-west');
    expect(eu.map((r) => [r.hourStart - H0, r.count, r.total.p50])).toEqual([
      [0, 3, 2000],
      [HOUR_MS, 3, 2000],
      [2 * HOUR_MS, 3, 2000],
      [3 * HOUR_MS, 3, 2000],
    ]);
    const us = await hourlySince(s, ['a'], H0, now, 'us-east');
    expect(us.map((r) => r.total.p50)).toEqual([20, 20, 20, 20]);
    expect(us[3]).toMatchObject({ count: 4, failures: 1 });
    expect((await hourlySince(s, ['a'], H0, now)).map((r) => r.count)).toEqual([6, 6, 6, 7]);
    expect(await locationsSince(s, H0, now)).toEqual(['eu-west', 'us-east']);

    await s.close();
  });
});
